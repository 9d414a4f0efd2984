#include "store/process_mark.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "base/fs.h"

namespace kiln::store {
namespace {

/// A process's start time (clock ticks since boot, /proc/PID/stat's 22nd field); empty when it is gone or a zombie.
std::string StartTimeOf(const std::string& pid) {
  auto stat = ReadFile("/proc/" + pid + "/stat");
  if (!stat.ok()) return "";
  size_t paren = stat->rfind(')');  // the command name may itself hold ')': the fields follow the last one
  if (paren == std::string::npos || paren + 2 >= stat->size() || (*stat)[paren + 2] == 'Z') return "";
  size_t at = paren + 2;  // field 3, the state
  for (int field = 3; field < 22 && at != std::string::npos; field++) {
    at = stat->find(' ', at);
    if (at != std::string::npos) at++;
  }
  if (at == std::string::npos) return "";
  return stat->substr(at, stat->find(' ', at) - at);
}

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
    std::string pid = std::to_string(getpid());
    mine = pid + "-" + StartTimeOf(pid) + "-" + std::to_string(count++);
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
    if (StartTimeOf(name.substr(0, dash)) == name.substr(dash + 1, second - dash - 1)) continue;  // alive
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
