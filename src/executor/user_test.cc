#include "executor/user.h"

#include <gtest/gtest.h>

#include "base/fs.h"

namespace kiln::executor {
namespace {

class UserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create(::testing::TempDir(), "user-test-");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<TempDir>(std::move(*d));
    ASSERT_TRUE(MakeDirs(dir_->path() + "/etc").ok());
    ASSERT_TRUE(WriteFileAtomic(dir_->path() + "/etc/passwd",
                                "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n").ok());
    ASSERT_TRUE(WriteFileAtomic(dir_->path() + "/etc/group", "root:x:0:\napp:x:1001:\nstaff:x:50:app,other\n").ok());
  }
  std::unique_ptr<TempDir> dir_;
};

TEST_F(UserTest, ResolvesLikeDocker) {
  auto root = ResolveUser(dir_->path(), "");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->uid, 0u);
  EXPECT_EQ(root->additional_gids, std::vector<gid_t>{0});  // the primary group first, as BuildKit's
  auto app = ResolveUser(dir_->path(), "app");
  ASSERT_TRUE(app.ok());
  EXPECT_EQ(app->uid, 1000u);
  EXPECT_EQ(app->gid, 1001u);
  EXPECT_EQ(app->additional_gids, (std::vector<gid_t>{1001, 50}));
  EXPECT_EQ(app->home, "/home/app");
  auto numeric = ResolveUser(dir_->path(), "1000:50");
  ASSERT_TRUE(numeric.ok());
  EXPECT_EQ(numeric->gid, 50u);
  EXPECT_EQ(numeric->additional_gids, std::vector<gid_t>{50});  // a group given: no member groups
  auto unknown_uid = ResolveUser(dir_->path(), "4242");
  ASSERT_TRUE(unknown_uid.ok());  // numbers need no passwd entry
  EXPECT_EQ(unknown_uid->uid, 4242u);
  EXPECT_EQ(unknown_uid->gid, 0u);
  EXPECT_EQ(ResolveUser(dir_->path(), "app:staff")->gid, 50u);
  EXPECT_FALSE(ResolveUser(dir_->path(), "nobody").ok());
  EXPECT_FALSE(ResolveUser(dir_->path(), "app:nogroup").ok());
}

TEST_F(UserTest, FileOwnersFollowBuildKitsFileOps) {
  // A number is uid and gid at once, even where passwd gives the uid another primary group.
  EXPECT_EQ(ResolveFileOwner(dir_->path(), "1000")->gid, 1000u);
  EXPECT_EQ(ResolveFileOwner(dir_->path(), "4242")->gid, 4242u);
  EXPECT_EQ(ResolveFileOwner(dir_->path(), "4242:staff")->gid, 50u);
  EXPECT_EQ(ResolveFileOwner(dir_->path(), "4242:7")->gid, 7u);
  // A name is looked up as for processes.
  EXPECT_EQ(ResolveFileOwner(dir_->path(), "app")->gid, 1001u);
  // Names not there are 0, as BuildKit's file ops take them (a RUN's user would be an error).
  EXPECT_EQ(ResolveFileOwner(dir_->path(), "nobody-here")->uid, 0u);
  EXPECT_EQ(ResolveFileOwner(dir_->path(), "nobody-here")->gid, 0u);
  EXPECT_EQ(ResolveFileOwner(dir_->path(), "1000:no-group")->gid, 1000u);
  EXPECT_EQ(ResolveFileOwner(dir_->path(), "app:no-group")->gid, 1001u);
  EXPECT_FALSE(ResolveUser(dir_->path(), "nobody-here").ok());
}

}  // namespace
}  // namespace kiln::executor
