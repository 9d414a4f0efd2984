#include "store/process_mark.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "base/fs.h"
#include "base/process.h"

namespace kiln::store {
namespace {

std::string BootId() {
  auto id = ReadFile("/proc/sys/kernel/random/boot_id");
  return id.ok() ? *id : "";
}

}  // namespace

Result<std::unique_ptr<ProcessMark>> ProcessMark::Open(const std::string& root, bool leave, bool& recover) {
  static std::atomic<int> count{0};
  std::string dir = JoinPath(root, "run/marks");
  recover = !IsDirectory(dir);
  if (recover) KILN_TRY(MakeDirs(dir, 0700));
  std::string mine;
  if (leave) {
    mine = std::to_string(getpid()) + "-" + ProcessStartTime(getpid()) + "-" + std::to_string(count++);
  }
  std::unique_ptr<ProcessMark> mark(new ProcessMark(dir, mine));

  std::string boot = BootId();
  auto recorded = ReadFile(JoinPath(dir, "boot"));
  if (!recorded.ok() || *recorded != boot) {
    recover = true;
    mark->boot_ = boot;
  }
  KILN_ASSIGN(auto names, ListDir(dir));
  for (auto& name : names) {
    size_t dash = name.find('-'), second = name.find('-', dash + 1);
    if (dash == std::string::npos || second == std::string::npos) continue;  // "boot"
    pid_t pid = pid_t(atol(name.c_str()));
    if (ProcessStartTime(pid) == name.substr(dash + 1, second - dash - 1)) continue;  // alive
    mark->gone_.push_back(name);
    recover = true;
  }
  if (leave) {
    int fd = open(JoinPath(dir, mine).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoError("create", JoinPath(dir, mine));
    close(fd);
  }
  return mark;
}

void ProcessMark::Recovered() {
  for (auto& name : gone_) unlink(JoinPath(dir_, name).c_str());
  gone_.clear();
  if (!boot_.empty()) (void)WriteFileAtomic(JoinPath(dir_, "boot"), boot_, 0600);
  boot_.clear();
}

ProcessMark::~ProcessMark() {
  if (!mine_.empty()) unlink(JoinPath(dir_, mine_).c_str());
}

}  // namespace kiln::store
