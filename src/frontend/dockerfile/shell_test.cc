#include "frontend/dockerfile/shell.h"

#include <gtest/gtest.h>

#include <map>

namespace kiln::dockerfile {
namespace {

class ShellTest : public ::testing::Test {
 protected:
  std::map<std::string, std::string> vars = {{"A", "apple"}, {"EMPTY", ""}, {"P", "dir/file.tar.gz"}};
  Lookup env = [this](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  std::string Word(const std::string& w) {
    auto r = ShellLex('\\').ProcessWord(w, env);
    EXPECT_TRUE(r.ok()) << w << ": " << r.status().message();
    return r.ok() ? *r : "<error>";
  }
};

TEST_F(ShellTest, Expansion) {
  EXPECT_EQ(Word("$A"), "apple");
  EXPECT_EQ(Word("${A}s"), "apples");
  EXPECT_EQ(Word("$UNSET-x"), "-x");
  EXPECT_EQ(Word("${UNSET:-dflt}"), "dflt");
  EXPECT_EQ(Word("${EMPTY:-dflt}"), "dflt");
  EXPECT_EQ(Word("${EMPTY-dflt}"), "");
  EXPECT_EQ(Word("${A:+set}"), "set");
  EXPECT_EQ(Word("${UNSET:+set}"), "");
  EXPECT_EQ(Word("${UNSET:-${A}}"), "apple");
  EXPECT_EQ(Word("${P#*/}"), "file.tar.gz");
  EXPECT_EQ(Word("${P%.*}"), "dir/file.tar");
  EXPECT_EQ(Word("${P%%.*}"), "dir/file");
  EXPECT_EQ(Word("${A/p/P}"), "aPple");
  EXPECT_EQ(Word("${A//p/P}"), "aPPle");
  EXPECT_EQ(Word("$"), "$");
}

TEST_F(ShellTest, Quoting) {
  EXPECT_EQ(Word("'$A'"), "$A");
  EXPECT_EQ(Word("\"$A b\""), "apple b");
  EXPECT_EQ(Word("\\$A"), "$A");
  EXPECT_EQ(Word("\"a\\\"b\""), "a\"b");
  EXPECT_EQ(Word("a\"\"b"), "ab");
}

TEST_F(ShellTest, Errors) {
  EXPECT_FALSE(ShellLex().ProcessWord("${UNSET:?must be set}", env).ok());
  EXPECT_FALSE(ShellLex().ProcessWord("'open", env).ok());
  EXPECT_FALSE(ShellLex().ProcessWord("${A", env).ok());
}

TEST_F(ShellTest, PatternOperators) {
  vars["V"] = "a/b/c.d.e";
  EXPECT_EQ(Word("${V#*/}"), "b/c.d.e");
  EXPECT_EQ(Word("${V##*/}"), "c.d.e");
  EXPECT_EQ(Word("${V%.*}"), "a/b/c.d");
  EXPECT_EQ(Word("${V%%.*}"), "a/b/c");
  EXPECT_EQ(Word("${V#x}"), "a/b/c.d.e");
  EXPECT_EQ(Word("${V%[de]}"), "a/b/c.d.");
  EXPECT_EQ(Word("${V/[.\\/]/_}"), "a_b/c.d.e");
  EXPECT_EQ(Word("${V//[.\\/]/_}"), "a_b_c_d_e");
  EXPECT_EQ(Word("${V/b*d/X}"), "a/X.e");
}

// Regression (issue 7): 30,000 nested ${a:-${a:-...}} overflowed the stack and killed kiln (and kiln mcp).
TEST_F(ShellTest, DeepNestingIsAnErrorNotACrash) {
  std::string word;
  for (int i = 0; i < 30000; i++) word += "${a:-";
  word += "x" + std::string(30000, '}');
  auto r = ShellLex().ProcessWord(word, env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "variable expansion nested deeper than 100");
  EXPECT_FALSE(ShellLex().ProcessWords(word, env).ok());
  EXPECT_EQ(ShellLex().Variables(word).size(), 100u) << "listing variables stops at the limit as well";
  std::string ok;
  for (int i = 0; i < 100; i++) ok += "${a:-";
  EXPECT_EQ(Word(ok + "x" + std::string(100, '}')), "x");
}

// Backtracking matchers take exponential time on such patterns; this one is bounded, and says so past the bound.
TEST_F(ShellTest, HostilePatternsFinishOrFailClearly) {
  vars["LONG"] = std::string(3000, 'a');
  std::string stars;
  for (int i = 0; i < 30; i++) stars += "*a";
  EXPECT_EQ(Word("${LONG#" + stars + "b}"), vars["LONG"]);
  vars["HUGE"] = std::string(1 << 20, 'a');
  auto r = ShellLex().ProcessWord("${HUGE//*b/x}", env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too costly"), std::string::npos) << r.status().message();
}

TEST_F(ShellTest, WordsAndVariables) {
  auto words = ShellLex().ProcessWords("a \"b c\" $A", env);
  ASSERT_TRUE(words.ok());
  EXPECT_EQ(*words, (std::vector<std::string>{"a", "b c", "apple"}));
  EXPECT_EQ(SplitWords("k=\"v 1\" x='y z'", '\\'), (std::vector<std::string>{"k=\"v 1\"", "x='y z'"}));
  EXPECT_EQ(ShellLex().Variables("$A ${B:-$C}"), (std::vector<std::string>{"A", "B", "C"}));
}

}  // namespace
}  // namespace kiln::dockerfile
