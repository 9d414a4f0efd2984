#include "frontend/dockerfile/sources.h"

#include <gtest/gtest.h>

namespace kiln::dockerfile {
namespace {

TEST(Sources, GitRefsAsBuildKitReadsThem) {
  auto https = ParseGitRef("https://example.com/org/repo.git#v1.2:docs");
  ASSERT_TRUE(https.ok() && *https);
  EXPECT_EQ((*https)->remote, "https://example.com/org/repo.git");
  EXPECT_EQ((*https)->ref, "v1.2");
  EXPECT_EQ((*https)->subdir, "docs");

  auto scp = ParseGitRef("git@example.com:org/repo.git#main");
  ASSERT_TRUE(scp.ok() && *scp);
  EXPECT_EQ((*scp)->remote, "git@example.com:org/repo.git");
  EXPECT_EQ((*scp)->ref, "main");

  auto query = ParseGitRef("https://example.com/repo.git?branch=dev&subdir=src&keep-git-dir&commit=abc1234");
  ASSERT_TRUE(query.ok() && *query);
  EXPECT_EQ((*query)->remote, "https://example.com/repo.git");
  EXPECT_EQ((*query)->ref, "refs/heads/dev");
  EXPECT_EQ((*query)->subdir, "src");
  EXPECT_EQ((*query)->checksum, "abc1234");
  EXPECT_TRUE((*query)->keep_git_dir.value_or(false));
  EXPECT_TRUE((*query)->submodules);
  EXPECT_FALSE((*ParseGitRef("https://example.com/repo.git?submodules=false"))->submodules);

  // Not git: a download, a local path, an unknown scheme.
  for (const char* other : {"https://example.com/file.tar.gz", "src/app.git", "ftp://example.com/x.git", "a:b"}) {
    auto r = ParseGitRef(other);
    ASSERT_TRUE(r.ok()) << other;
    EXPECT_FALSE(r->has_value()) << other;
  }
  EXPECT_FALSE(ParseGitRef("https://example.com/repo.git?tag=v1&branch=main").ok());  // branch conflicts with tag
  EXPECT_FALSE(ParseGitRef("https://example.com/repo.git?colour=blue").ok());
}

TEST(Sources, DownloadedFileNames) {
  EXPECT_EQ(UrlFileName("https://example.com/dl/tool-1.0.tar.gz?sig=x#frag"), "tool-1.0.tar.gz");
  EXPECT_EQ(UrlFileName("https://example.com/dir/"), "dir");
  EXPECT_EQ(UrlFileName("https://example.com"), "__unnamed__");
  EXPECT_EQ(UrlFileName("https://example.com/"), "__unnamed__");
  EXPECT_TRUE(IsHttpUrl("http://127.0.0.1:8080/x"));
  EXPECT_FALSE(IsHttpUrl("./http://x"));
}

}  // namespace
}  // namespace kiln::dockerfile
