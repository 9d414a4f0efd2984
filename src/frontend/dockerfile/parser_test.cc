#include "frontend/dockerfile/parser.h"

#include <gtest/gtest.h>

namespace kiln::dockerfile {
namespace {

TEST(Parser, DirectivesCommentsAndContinuations) {
  auto df = Parse(
      "# syntax=docker/dockerfile:1\n"
      "# escape=`\n"
      "\n"
      "# a comment\n"
      "FROM busybox AS base\n"
      "RUN echo a `\n"
      "  # dropped comment\n"
      "\n"
      "  && echo b\n"
      "copy --from=base --chown=1:2 a b/\n",
      "Dockerfile");
  ASSERT_TRUE(df.ok()) << df.status().message();
  EXPECT_EQ(df->escape, '`');
  EXPECT_EQ(df->directives.at("syntax"), "docker/dockerfile:1");
  ASSERT_EQ(df->instructions.size(), 3u);
  EXPECT_EQ(df->instructions[0].keyword, "from");
  EXPECT_EQ(df->instructions[0].line, 5);
  EXPECT_EQ(df->instructions[1].args, "echo a   && echo b");
  EXPECT_EQ(df->instructions[1].line, 6);
  EXPECT_EQ(df->instructions[1].end_line, 9);
  const Instruction& copy = df->instructions[2];
  EXPECT_EQ(copy.keyword, "copy");
  ASSERT_EQ(copy.flags.size(), 2u);
  EXPECT_EQ(*FlagValue(copy, "from"), "base");
  EXPECT_EQ(*FlagValue(copy, "chown"), "1:2");
  EXPECT_EQ(copy.args, "a b/");
}

TEST(Parser, DirectivesOnlyAtTheTop) {
  auto df = Parse("FROM a\n# escape=`\nRUN x \\\n y\n", "Dockerfile");
  ASSERT_TRUE(df.ok());
  EXPECT_EQ(df->escape, '\\');
  EXPECT_EQ(df->instructions[1].args, "x  y");
}

TEST(Parser, JsonForm) {
  auto df = Parse("FROM a\nCMD [\"echo\", \"hi there\"]\nRUN [not json\n", "Dockerfile");
  ASSERT_TRUE(df.ok());
  EXPECT_TRUE(df->instructions[1].json_form);
  EXPECT_EQ(df->instructions[1].json_args, (std::vector<std::string>{"echo", "hi there"}));
  EXPECT_FALSE(df->instructions[2].json_form);  // falls back to shell form, as BuildKit does
}

TEST(Parser, Heredocs) {
  auto df = Parse("FROM a\nRUN <<EOF\necho one\necho two\nEOF\nRUN cat <<-'END' > f\n\tx $y\n\tEND\nCMD z\n",
                  "Dockerfile");
  ASSERT_TRUE(df.ok()) << df.status().message();
  ASSERT_EQ(df->instructions.size(), 4u);
  ASSERT_EQ(df->instructions[1].heredocs.size(), 1u);
  EXPECT_EQ(df->instructions[1].heredocs[0].content, "echo one\necho two\n");
  EXPECT_TRUE(df->instructions[1].heredocs[0].expand);
  const Heredoc& h = df->instructions[2].heredocs.at(0);
  EXPECT_EQ(h.name, "END");
  EXPECT_FALSE(h.expand);
  EXPECT_TRUE(h.strip_tabs);
  EXPECT_EQ(h.content, "\tx $y\n");      // as written: the shell strips the tabs of a RUN's <<-
  EXPECT_EQ(ChompedContent(h), "x $y\n");  // as a document (COPY, RUN's sole script)
  EXPECT_EQ(df->instructions[3].line, 9);
}

// BuildKit's parser/testfiles-negative (v0.24.0), which its TestParseErrorCases requires to fail.
TEST(Parser, BuildKitsNegativeCasesAreErrors) {
  struct Case {
    const char* name;
    const char* text;
    const char* error;
  };
  for (const Case& c : {Case{"empty_dockerfile", "", "Dockerfile:1: file with no instructions"},
                        Case{"only_comments", "# Hello\n# These are just comments\n\n", "Dockerfile:3: file with no instructions"},
                        Case{"env_no_value", "FROM busybox\n\nENV PATH\n", "Dockerfile:3:5: ENV must have two arguments"},
                        Case{"shykes-nested-json", "CMD [ \"echo\", [ \"nested json\" ] ]\n",
                             "Dockerfile:1:5: when using JSON array syntax, arrays must be comprised of strings only"}}) {
    auto df = Parse(c.text, "Dockerfile");
    ASSERT_FALSE(df.ok()) << c.name;
    EXPECT_EQ(df.status().message(), c.error) << c.name;
  }
  // What they are near to stays valid: the old and new ENV forms, a JSON array of strings, LABEL with "=".
  EXPECT_TRUE(Parse("FROM a\nENV PATH /bin\nENV A=1 B=\"2 3\"\nLABEL x=y\nCMD [\"a\"]\n", "Dockerfile").ok());
  auto missing_eq = Parse("FROM a\nLABEL a=1 b\n", "Dockerfile");
  ASSERT_FALSE(missing_eq.ok());
  EXPECT_EQ(missing_eq.status().message(),
            "Dockerfile:2:7: syntax error - can't find = in \"b\". Must be of the form: name=value");
}

TEST(Parser, ErrorsNameFileAndLine) {
  auto bad = Parse("FROM a\n\nFOO bar\n", "path/Dockerfile");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "path/Dockerfile:3:1: dockerfile parse error on line 3: unknown instruction: FOO (did you mean FROM?)");
  auto typo = Parse("FROM a\nrunn true\n", "Dockerfile");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().message(), "Dockerfile:2:1: dockerfile parse error on line 2: unknown instruction: runn (did you mean run?)");
  auto far = Parse("FROM a\nFROBNICATE x\n", "Dockerfile");
  ASSERT_FALSE(far.ok());
  EXPECT_EQ(far.status().message(), "Dockerfile:2:1: dockerfile parse error on line 2: unknown instruction: FROBNICATE");
  auto empty = Parse("FROM a\nRUN\n", "Dockerfile");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("Dockerfile:2:"), std::string::npos);
  auto unterminated = Parse("FROM a\nRUN <<EOF\necho\n", "Dockerfile");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_NE(unterminated.status().message().find("unterminated heredoc"), std::string::npos);
  EXPECT_FALSE(Parse("# escape=x\nFROM a\n", "Dockerfile").ok());
}

}  // namespace
}  // namespace kiln::dockerfile

namespace kiln::dockerfile {
namespace {

TEST(Parser, ByteOrderMarkCrlfAndComments) {
  auto df = Parse("\xEF\xBB\xBF# a\r\n#\r\n# stage the description\r\nFROM x AS stage\r\nRUN a \\\r\n\r\n  b\r\n", "Dockerfile");
  ASSERT_TRUE(df.ok()) << df.status().message();
  ASSERT_EQ(df->instructions.size(), 2u);
  EXPECT_EQ(df->instructions[0].comments, std::vector<std::string>{"stage the description"});  // "#" cleared "a"
  EXPECT_TRUE(df->instructions[1].empty_continuation);
  EXPECT_EQ(df->instructions[1].args, "a   b");
}

}  // namespace
}  // namespace kiln::dockerfile
