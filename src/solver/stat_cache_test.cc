#include "solver/stat_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/digest.h"
#include "base/fs.h"

namespace kiln::solver {
namespace {

class StatCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create(::testing::TempDir(), "stat-cache-");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<TempDir>(std::move(*d));
    ctx_ = dir_->path() + "/ctx";
    ASSERT_TRUE(MakeDirs(ctx_).ok());
    file_ = ctx_ + "/big.bin";
    ASSERT_TRUE(WriteFileAtomic(file_, "the first content").ok());
    metadata_ = std::move(*store::Metadata::Open(dir_->path() + "/metadata.db"));
  }
  struct stat Stat() {
    struct stat st;
    EXPECT_EQ(lstat(file_.c_str(), &st), 0);
    return st;
  }
  std::unique_ptr<TempDir> dir_;
  std::string ctx_, file_;
  std::unique_ptr<store::Metadata> metadata_;
};

TEST_F(StatCacheTest, AnUnchangedFileIsNotReadAgain) {
  auto first = StatDigestCache::Load(metadata_.get(), ctx_, /*racy_ns=*/0);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*(*first)->Of(file_, Stat()), DigestOf("the first content"));
  ASSERT_TRUE((*first)->Save().ok());
  // What the store says is believed while the stat is the same: a record with another digest proves no read.
  auto known = metadata_->FileDigestsUnder(ctx_);
  ASSERT_TRUE(known.ok());
  ASSERT_EQ(known->size(), 1u);
  auto forged = *known;
  forged[file_].digest = "sha256:not-read-again";
  ASSERT_TRUE(metadata_->PutFileDigests(forged).ok());
  auto second = StatDigestCache::Load(metadata_.get(), ctx_, 0);
  EXPECT_EQ(*(*second)->Of(file_, Stat()), "sha256:not-read-again");
  // A change of the file changes its stat (size, times, ctime): read again.
  ASSERT_TRUE(WriteFileAtomic(file_, "the second content").ok());
  EXPECT_EQ(*(*second)->Of(file_, Stat()), DigestOf("the second content"));
}

TEST_F(StatCacheTest, AFileIsReadOncePerBuildEvenWhenRacy) {
  auto cache = StatDigestCache::Load(metadata_.get(), ctx_);  // the file was written just now: racy, not kept
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ(*(*cache)->Of(file_, Stat()), DigestOf("the first content"));
  // Its content changes behind a stat that claims nothing changed (same size, times put back): a second read
  // would see it; the digest of this build's first read is what the rest of the build uses.
  struct stat before = Stat();
  ASSERT_TRUE(WriteFileAtomic(file_ + ".new", "the other content").ok());
  ASSERT_EQ(rename((file_ + ".new").c_str(), file_.c_str()), 0);
  struct stat faked = before;  // the same stat as before, as if the file were untouched
  EXPECT_EQ(*(*cache)->Of(file_, faked), DigestOf("the first content"));
}

TEST_F(StatCacheTest, RacyFilesAreNotKept) {
  auto cache = StatDigestCache::Load(metadata_.get(), ctx_);  // the file was written just now
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ(*(*cache)->Of(file_, Stat()), DigestOf("the first content"));
  ASSERT_TRUE((*cache)->Save().ok());
  EXPECT_TRUE(metadata_->FileDigestsUnder(ctx_)->empty()) << "a file changed a moment ago may change again unseen";
}

TEST_F(StatCacheTest, OnlyPathsUnderTheDirectoryAreLoaded) {
  auto cache = StatDigestCache::Load(metadata_.get(), ctx_, 0);
  ASSERT_TRUE((*cache)->Of(file_, Stat()).ok());
  ASSERT_TRUE((*cache)->Save().ok());
  EXPECT_EQ(metadata_->FileDigestsUnder(ctx_)->size(), 1u);
  EXPECT_TRUE(metadata_->FileDigestsUnder(ctx_ + "2")->empty());
  EXPECT_TRUE(metadata_->FileDigestsUnder(ctx_ + "/big.bin")->empty());
}

}  // namespace
}  // namespace kiln::solver
