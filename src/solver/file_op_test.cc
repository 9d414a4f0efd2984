#include "solver/file_op.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include "base/fs.h"

namespace kiln::solver {
namespace {

class FileOpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create(::testing::TempDir(), "fileop-test-");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<TempDir>(std::move(*d));
    ctx_ = dir_->path() + "/ctx";
    for (auto f : {"a.txt", "b.txt", "dir/x", "dir/sub/y", "skip/z"}) {
      ASSERT_TRUE(MakeDirs(DirName(ctx_ + "/" + f)).ok());
      ASSERT_TRUE(WriteFileAtomic(ctx_ + "/" + f, std::string(f) + "\n").ok());
    }
    auto m = PatternMatcher::FromPatterns({"skip"});
    ASSERT_TRUE(m.ok());
    ignore_ = std::move(*m);
  }
  std::string P(const std::string& rel) { return dir_->path() + "/" + rel; }
  std::unique_ptr<TempDir> dir_;
  std::string ctx_;
  PatternMatcher ignore_;
};

TEST_F(FileOpTest, MatchesGlobsAndHonoursIgnores) {
  CopySource src{ctx_, &ignore_};
  auto m = MatchSources(src, "*.txt");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0].rel, "a.txt");
  EXPECT_EQ(MatchSources(src, "/dir/../a.txt")->at(0).rel, "a.txt");
  EXPECT_FALSE(MatchSources(src, "skip/z").ok());  // ignored files are not there for COPY
  auto missing = MatchSources(src, "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "\"/nope\": not found");
  // "**": any number of directories in a --parents pattern (BuildKit's include patterns), one component elsewhere.
  auto deep = MatchSources(src, "**/y", /*any_depth=*/true);
  ASSERT_TRUE(deep.ok());
  ASSERT_EQ(deep->size(), 1u);
  EXPECT_EQ((*deep)[0].rel, "dir/sub/y");
  auto anywhere = MatchSources(src, "dir/**/x", true);
  ASSERT_TRUE(anywhere.ok());
  ASSERT_EQ(anywhere->size(), 1u) << "** may be no directory at all";
  auto one_level = MatchSources(src, "**/y");
  ASSERT_TRUE(one_level.ok());
  EXPECT_TRUE(one_level->empty()) << "outside --parents, ** is *";
  // --parents: a pattern before "./" gives roots of their own; the part after it is matched below each.
  auto parents = MatchCopySource(src, "d*/./**/y", /*parents=*/true);
  ASSERT_TRUE(parents.ok());
  ASSERT_EQ(parents->size(), 1u);
  EXPECT_EQ((*parents)[0].root, "dir");
  EXPECT_EQ((*parents)[0].match.rel, "dir/sub/y");
  auto no_match = MatchSources(src, "nope*");  // as BuildKit's AllowEmptyWildcard: nothing, and no error
  ASSERT_TRUE(no_match.ok());
  EXPECT_TRUE(no_match->empty());

  // An excluded directory is still there when an exception re-includes something below it, as in BuildKit.
  auto with_exception = PatternMatcher::FromPatterns({"dir", "!dir/sub/y"});
  ASSERT_TRUE(with_exception.ok());
  CopySource partly{ctx_, &*with_exception};
  ASSERT_TRUE(MatchSources(partly, "dir").ok());
  EXPECT_FALSE(MatchSources(partly, "dir/x").ok());
  EXPECT_NE(*ChecksumSources(partly, {"dir"}), *ChecksumSources(CopySource{ctx_, nullptr}, {"dir"}));
}

TEST_F(FileOpTest, ChecksumFollowsContentNotTimes) {
  CopySource src{ctx_, &ignore_};
  auto a = ChecksumSources(src, {"."});
  ASSERT_EQ(utime((ctx_ + "/a.txt").c_str(), nullptr), 0);
  auto b = ChecksumSources(src, {"."});
  ASSERT_TRUE(WriteFileAtomic(ctx_ + "/skip/z", "changed but ignored").ok());
  auto c = ChecksumSources(src, {"."});
  ASSERT_TRUE(WriteFileAtomic(ctx_ + "/dir/sub/y", "changed").ok());
  auto d = ChecksumSources(src, {"."});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *c);
  EXPECT_NE(*a, *d);
  ASSERT_EQ(chmod((ctx_ + "/b.txt").c_str(), 0600), 0);
  EXPECT_NE(*ChecksumSources(src, {"b.txt"}), *ChecksumSources(CopySource{ctx_, nullptr}, {"a.txt"}));
}

TEST_F(FileOpTest, CopySemanticsIntoALayer) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (files are chowned to 0:0)";
  std::string lower = P("lower"), upper = P("upper");
  ASSERT_TRUE(MakeDirs(lower + "/etc").ok());
  ASSERT_EQ(chmod((lower + "/etc").c_str(), 0700), 0);
  ASSERT_EQ(symlink("/etc", (lower + "/link").c_str()), 0);
  ASSERT_TRUE(MakeDirs(upper).ok());
  snapshot::LayerTarget dest{lower, upper};
  CopySource src{ctx_, &ignore_};

  graph::CopyAction file;
  file.sources = {"a.txt"};
  file.dest = "/link/renamed";  // through a symlink of the lower view, to a new name
  file.reset_owner = true;
  ASSERT_TRUE(RunCopy(file, src, dest).ok());
  EXPECT_EQ(*ReadFile(upper + "/etc/renamed"), "a.txt\n");
  struct stat st;
  ASSERT_EQ(stat((upper + "/etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);  // copied up with the lower directory's mode

  graph::CopyAction dir;
  dir.sources = {"."};
  dir.dest = "/app/";
  dir.reset_owner = true;
  dir.chmod = 0751;
  ASSERT_TRUE(RunCopy(dir, src, dest).ok());
  EXPECT_TRUE(PathExists(upper + "/app/dir/sub/y"));
  EXPECT_FALSE(PathExists(upper + "/app/skip"));  // .dockerignore applies inside copied directories
  ASSERT_EQ(stat((upper + "/app/a.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0751u);
  ASSERT_EQ(stat((upper + "/app").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0751u);  // a created destination takes --chmod, as in current BuildKit

  graph::CopyAction many;
  many.sources = {"*.txt"};
  many.dest = "/multi";  // several matches: the destination is a directory
  many.reset_owner = true;
  ASSERT_TRUE(RunCopy(many, src, dest).ok());
  EXPECT_TRUE(PathExists(upper + "/multi/a.txt"));
  EXPECT_TRUE(PathExists(upper + "/multi/b.txt"));

  // A symlink to a nested directory: every directory on the way is copied up.
  ASSERT_TRUE(MakeDirs(lower + "/real/dir").ok());
  ASSERT_EQ(chmod((lower + "/real").c_str(), 0710), 0);
  ASSERT_EQ(symlink("/real/dir", (lower + "/deep").c_str()), 0);
  graph::CopyAction deep;
  deep.sources = {"a.txt"};
  deep.dest = "/deep/";
  deep.reset_owner = true;
  ASSERT_TRUE(RunCopy(deep, src, dest).ok());
  EXPECT_EQ(*ReadFile(upper + "/real/dir/a.txt"), "a.txt\n");
  ASSERT_EQ(stat((upper + "/real").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0710u);
  EXPECT_FALSE(PathExists(upper + "/deep"));

  graph::MkdirAction wd{"/work/dir", ""};
  ASSERT_TRUE(RunMkdir(wd, dest).ok());
  EXPECT_TRUE(IsDirectory(upper + "/work/dir"));
}

}  // namespace
}  // namespace kiln::solver
