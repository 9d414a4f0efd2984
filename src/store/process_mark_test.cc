#include "store/process_mark.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"

namespace kiln::store {
namespace {

class ProcessMarkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create(::testing::TempDir(), "mark-test-");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<TempDir>(std::move(*d));
  }
  /// Leaves a mark; returns whether recovery was due.
  bool Open(std::unique_ptr<ProcessMark>& mark, bool leave = true) {
    bool recover = false;
    auto m = ProcessMark::Open(dir_->path(), leave, recover);
    EXPECT_TRUE(m.ok()) << m.status().message();
    mark = std::move(*m);
    return recover;
  }
  size_t Marks() { return ListDir(dir_->path() + "/run/marks")->size() - 1; }  // less "boot"
  std::unique_ptr<TempDir> dir_;
};

TEST_F(ProcessMarkTest, RecoversANewStoreOnceThenNotWhileItsProcessesLive) {
  std::unique_ptr<ProcessMark> first, second;
  EXPECT_TRUE(Open(first));  // no marks yet: a new store, or one from before marks
  first->Recovered();
  EXPECT_FALSE(Open(second));  // the other mark is this live process's
  EXPECT_EQ(Marks(), 2u);
  second.reset();
  first.reset();
  EXPECT_EQ(Marks(), 0u);  // closed stores leave nothing
  EXPECT_FALSE(Open(first));
}

TEST_F(ProcessMarkTest, AProcessThatMakesNothingLeavesNoMarkButStillChecks) {
  std::unique_ptr<ProcessMark> reader;
  EXPECT_TRUE(Open(reader, false));  // a new store: recovery is due all the same
  reader->Recovered();
  EXPECT_EQ(Marks(), 0u);
  ASSERT_TRUE(WriteFileAtomic(dir_->path() + "/run/marks/999999999-1-0", "").ok());  // a dead process's
  std::unique_ptr<ProcessMark> another;
  EXPECT_TRUE(Open(another, false));
  another->Recovered();
  EXPECT_EQ(Marks(), 0u);
}

TEST_F(ProcessMarkTest, AMarkOfADeadProcessCallsForRecoveryOnce) {
  std::unique_ptr<ProcessMark> mark;
  ASSERT_TRUE(Open(mark));
  mark->Recovered();
  mark.reset();
  // A child opens the store and dies without closing it, as kill -9 would leave it.
  pid_t child = fork();
  if (child == 0) {
    bool recover;
    auto m = ProcessMark::Open(dir_->path(), true, recover);
    _exit(m.ok() && !recover ? 0 : 1);  // its mark stays: no destructor runs
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(Marks(), 1u);
  ASSERT_TRUE(Open(mark));
  mark->Recovered();  // the dead process's mark goes
  EXPECT_EQ(Marks(), 1u);
  std::unique_ptr<ProcessMark> again;
  EXPECT_FALSE(Open(again));
}

TEST_F(ProcessMarkTest, APidUsedAgainIsNotTakenForTheDeadProcess) {
  std::unique_ptr<ProcessMark> mark;
  ASSERT_TRUE(Open(mark));
  mark->Recovered();
  // This process's pid, with another start time: the process that made it is gone.
  ASSERT_TRUE(WriteFileAtomic(dir_->path() + "/run/marks/" + std::to_string(getpid()) + "-1-0", "").ok());
  std::unique_ptr<ProcessMark> other;
  EXPECT_TRUE(Open(other));
}

TEST_F(ProcessMarkTest, ABootSinceTheLastCheckCallsForRecovery) {
  std::unique_ptr<ProcessMark> mark;
  ASSERT_TRUE(Open(mark));
  mark->Recovered();
  ASSERT_TRUE(WriteFileAtomic(dir_->path() + "/run/marks/boot", "another boot\n").ok());
  std::unique_ptr<ProcessMark> other;
  EXPECT_TRUE(Open(other));
  other->Recovered();
  std::unique_ptr<ProcessMark> third;
  EXPECT_FALSE(Open(third));
}

}  // namespace
}  // namespace kiln::store
