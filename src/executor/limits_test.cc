#include "executor/limits.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "base/fs.h"

namespace kiln::executor {
namespace {

/// A cgroup v2 tree as systemd lays it out: the user's slice is root's, user@1003.service and below the user's.
class DelegatedCgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (files of other owners)";
    auto d = TempDir::Create(::testing::TempDir(), "cgroup-test-");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<TempDir>(std::move(*d));
    Cgroup("/user.slice", 0, "cpu memory pids");
    Cgroup("/user.slice/user-1003.slice", 0, "cpu memory pids");
    Cgroup("/user.slice/user-1003.slice/session-4.scope", 0, "memory pids");
    Cgroup("/user.slice/user-1003.slice/user@1003.service", 1003, "memory pids");
    Cgroup("/user.slice/user-1003.slice/user@1003.service/app.slice", 1003, "memory pids");
    Cgroup("/user.slice/user-1003.slice/user@1003.service/app.slice/term.scope", 1003, "");
  }
  void Cgroup(const std::string& path, uid_t owner, const std::string& controllers) {
    std::string d = dir_->path() + path;
    ASSERT_TRUE(MakeDirs(d).ok());
    ASSERT_TRUE(WriteFile(d + "/cgroup.controllers", controllers + "\n").ok());
    ASSERT_EQ(chown(d.c_str(), owner, owner), 0);
  }
  std::string Find(const std::string& self, uid_t owner) { return DelegatedCgroup(dir_->path(), self, owner); }
  std::unique_ptr<TempDir> dir_;
};

TEST_F(DelegatedCgroupTest, TheUsersServiceIsTheSubtree) {
  EXPECT_EQ(Find("0::/user.slice/user-1003.slice/user@1003.service/app.slice/term.scope\n", 1003),
            "/user.slice/user-1003.slice/user@1003.service");
}

TEST_F(DelegatedCgroupTest, NoneFromALoginSessionOrForAnotherUser) {
  EXPECT_EQ(Find("0::/user.slice/user-1003.slice/session-4.scope\n", 1003), "");
  EXPECT_EQ(Find("0::/user.slice/user-1003.slice/user@1003.service/app.slice/term.scope\n", 1004), "");
}

TEST_F(DelegatedCgroupTest, NoneWithoutTheControllersOrOnCgroupV1) {
  Cgroup("/user.slice/user-1003.slice/user@1003.service", 1003, "cpu");
  Cgroup("/user.slice/user-1003.slice/user@1003.service/app.slice", 1003, "cpu");
  EXPECT_EQ(Find("0::/user.slice/user-1003.slice/user@1003.service/app.slice/term.scope\n", 1003), "");
  EXPECT_EQ(Find("12:pids:/user.slice\n1:name=systemd:/user.slice\n", 1003), "");
  EXPECT_EQ(Find("", 1003), "");
}

}  // namespace
}  // namespace kiln::executor
