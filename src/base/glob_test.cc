#include "base/glob.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

bool Matches(const std::string& pattern, const std::string& text, GlobSyntax syntax = GlobSyntax::kPath) {
  auto g = Glob::Compile(pattern, syntax);
  EXPECT_TRUE(g.ok()) << pattern << ": " << g.status().message();
  return g.ok() && g->Match(text);
}

TEST(GlobTest, PathSyntaxIsGoFilepathMatch) {
  EXPECT_TRUE(Matches("*.go", "main.go"));
  EXPECT_FALSE(Matches("*.go", "cmd/main.go"));
  EXPECT_TRUE(Matches("*/*.go", "cmd/main.go"));
  EXPECT_TRUE(Matches("a?c", "abc"));
  EXPECT_FALSE(Matches("a?c", "a/c"));
  EXPECT_TRUE(Matches("[a-c]x", "bx"));
  EXPECT_FALSE(Matches("[a-c]x", "dx"));
  EXPECT_TRUE(Matches("[^a-c]x", "dx"));
  EXPECT_TRUE(Matches("[!a-c]x", "dx"));
  EXPECT_TRUE(Matches("[]]", "]"));
  EXPECT_TRUE(Matches("\\*", "*"));
  EXPECT_FALSE(Matches("\\*", "x"));
  EXPECT_TRUE(Matches("", ""));
  EXPECT_FALSE(Matches("", "x"));
  EXPECT_TRUE(Matches("**", "abc"));
  EXPECT_FALSE(Glob::Compile("[abc", GlobSyntax::kPath).ok());
}

TEST(GlobTest, DockerignoreDoubleStar) {
  auto d = GlobSyntax::kDockerignore;
  EXPECT_TRUE(Matches("**/*.o", "a.o", d));
  EXPECT_TRUE(Matches("**/*.o", "x/y/a.o", d));
  EXPECT_FALSE(Matches("**/*.o", "x/y/a.c", d));
  EXPECT_TRUE(Matches("tmp/**", "tmp/a/b", d));
  EXPECT_TRUE(Matches("a/**/b", "a/b", d));
  EXPECT_TRUE(Matches("a/**/b", "a/x/y/b", d));
  EXPECT_FALSE(Matches("a/**/b", "a/xb", d));
  EXPECT_FALSE(Matches("*.o", "x/a.o", d));
}

TEST(GlobTest, ShellStarsCrossSlashesAndUnclosedBracketIsLiteral) {
  auto s = GlobSyntax::kShell;
  EXPECT_TRUE(Matches("*/", "dir/sub/", s));
  EXPECT_TRUE(Matches("?", "/", s));
  EXPECT_TRUE(Matches("a[b", "a[b", s));
}

TEST(GlobTest, PrefixesAndLongestMatch) {
  auto g = Glob::Compile("*.", GlobSyntax::kShell);
  ASSERT_TRUE(g.ok());
  std::vector<bool> p = g->MatchingPrefixes("a.b.c");
  EXPECT_EQ(p, (std::vector<bool>{false, false, true, false, true, false}));
  EXPECT_EQ(g->LongestMatchAt("a.b.c", 0), 4);
  EXPECT_EQ(g->LongestMatchAt("a.b.c", 4), -1);
  auto r = Glob::Compile(".c", GlobSyntax::kShell);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->Reversed().Match("c."));
}

// Patterns that make backtracking matchers (fnmatch, std::regex) take exponential time or overflow the stack
// finish at once here: the work is bounded by pattern length times text length.
TEST(GlobTest, HostilePatternsStayLinear) {
  std::string stars;
  for (int i = 0; i < 40; i++) stars += "*a";
  stars += "b";
  EXPECT_FALSE(Matches(stars, std::string(200, 'a'), GlobSyntax::kShell));
  std::string dirs;
  for (int i = 0; i < 2000; i++) dirs += "**/";
  dirs += "x";
  EXPECT_TRUE(Matches(dirs, "a/b/c/x", GlobSyntax::kDockerignore));
  std::string huge(200000, 'a');
  EXPECT_TRUE(Matches(huge, huge, GlobSyntax::kDockerignore));
}

}  // namespace
}  // namespace kiln
