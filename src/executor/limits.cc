#include "executor/limits.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <cstdlib>
#include <functional>
#include <optional>

#include "base/fs.h"
#include "base/userns.h"

namespace kiln::executor {
namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

bool Unified() { return PathExists(std::string(kCgroupRoot) + "/cgroup.controllers"); }

/// The cgroup (below the root) kiln's cgroups go under: the root as root; rootless, the delegated subtree, or
/// nothing. Found once.
const std::optional<std::string>& Base() {
  static const std::optional<std::string> base = []() -> std::optional<std::string> {
    if (!InUserNamespace()) return std::string();
    if (!Unified()) return std::nullopt;
    auto self = ReadFile("/proc/self/cgroup");
    std::string delegated = self.ok() ? DelegatedCgroup(kCgroupRoot, *self, geteuid()) : "";
    if (delegated.empty()) return std::nullopt;
    return delegated;
  }();
  return base;
}

bool HasControllers(const std::string& dir) {
  auto text = ReadFile(dir + "/cgroup.controllers");
  if (!text.ok()) return false;
  std::string words = " " + *text + " ";
  for (char& c : words) c = c == '\n' ? ' ' : c;
  return words.find(" memory ") != std::string::npos && words.find(" pids ") != std::string::npos;
}

/// cgroup files are written in place (a cgroup directory takes no new files): open, write, close.
Status Write(const std::string& file, const std::string& value) {
  FILE* f = fopen(file.c_str(), "w");
  bool ok = f && fputs(value.c_str(), f) >= 0;
  if (f) ok = fclose(f) == 0 && ok;
  return ok ? Status::Ok() : ErrnoError("set cgroup limit", file);
}

int64_t Counter(const std::string& file, const std::string& name) {
  auto text = ReadFile(file);
  if (!text.ok()) return 0;
  size_t at = text->find(name + " ");
  return at == std::string::npos ? 0 : atoll(text->c_str() + at + name.size() + 1);
}

}  // namespace

std::string DelegatedCgroup(const std::string& cgroup_root, const std::string& self, uid_t owner) {
  // cgroup v2's line: "0::/user.slice/user-1000.slice/user@1000.service/app.slice/kiln.scope".
  size_t at = self.find("0::");
  if (at == std::string::npos || (at > 0 && self[at - 1] != '\n')) return "";
  std::string path = self.substr(at + 3, self.find('\n', at) - at - 3);
  std::string found;
  for (std::string p = path; p.size() > 1; p = DirName(p)) {
    struct stat st;
    std::string dir = cgroup_root + p;
    if (stat(dir.c_str(), &st) != 0 || st.st_uid != owner) break;
    if (HasControllers(dir)) found = p;
  }
  return found;
}

bool LimitCgroup::Available() { return Base().has_value(); }

Result<std::unique_ptr<LimitCgroup>> LimitCgroup::Create(const std::string& id, int64_t memory_bytes, int64_t pids,
                                                         const std::string& parent) {
  if (!Available()) {
    return Status::Error(std::string("--memory and --pids-limit cannot be enforced for a rootless kiln here (") +
                         (Unified() ? "no cgroup v2 subtree with the memory and pids controllers is delegated to " +
                                          RootlessUser() + ": run kiln from a process of systemd's user@.service"
                                    : "this machine has cgroup v1 controllers, which are never delegated to a user") +
                         "): leave them out, or run kiln as root");
  }
  std::unique_ptr<LimitCgroup> g(new LimitCgroup(id, memory_bytes, pids));
  g->base_ = parent.empty() ? *Base() : parent;
  std::string root = kCgroupRoot + g->base_;
  auto make = [&](const std::string& dir) -> Status {
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoError("create cgroup", dir);
    return Status::Ok();
  };
  if (Unified()) {
    // Controllers must be enabled for the children of each level down to the container's.
    KILN_TRY(make(root + "/kiln"));
    std::string mine = root + "/kiln/" + id;
    KILN_TRY(make(mine));
    g->dirs_.push_back(mine);
    // (Rootless, the subtree's own root already has them, and kiln may not write its parent's.)
    for (auto& level : {root, root + "/kiln", mine}) (void)Write(level + "/cgroup.subtree_control", "+pids +memory");
    if (pids > 0) KILN_TRY(Write(mine + "/pids.max", std::to_string(pids)));
    if (memory_bytes > 0) {
      KILN_TRY(Write(mine + "/memory.max", std::to_string(memory_bytes)));
      (void)Write(mine + "/memory.swap.max", "0");  // as Docker with --memory-swap equal to --memory
    }
    g->pids_events_ = mine + "/pids.events";
    g->pids_peak_ = mine + "/pids.peak";
    g->memory_events_ = mine + "/memory.events";
    return g;
  }
  // cgroup v1: a hierarchy per controller, each with the same path below it.
  if (pids > 0) {
    KILN_TRY(make(std::string(kCgroupRoot) + "/pids" + g->base_ + "/kiln"));
    std::string mine = std::string(kCgroupRoot) + "/pids" + g->base_ + "/kiln/" + id;
    KILN_TRY(make(mine));
    g->dirs_.push_back(mine);
    KILN_TRY(Write(mine + "/pids.max", std::to_string(pids)));
    g->pids_events_ = mine + "/pids.events";
    g->pids_peak_ = mine + "/pids.peak";
  }
  if (memory_bytes > 0) {
    KILN_TRY(make(std::string(kCgroupRoot) + "/memory" + g->base_ + "/kiln"));
    std::string mine = std::string(kCgroupRoot) + "/memory" + g->base_ + "/kiln/" + id;
    KILN_TRY(make(mine));
    g->dirs_.push_back(mine);
    KILN_TRY(Write(mine + "/memory.limit_in_bytes", std::to_string(memory_bytes)));
    (void)Write(mine + "/memory.memsw.limit_in_bytes", std::to_string(memory_bytes));  // when swap accounting is on
    g->memory_events_ = mine + "/memory.oom_control";
  }
  return g;
}

LimitCgroup::~LimitCgroup() {
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    rmdir((*it + "/c").c_str());  // normally runc's to remove; gone already
    rmdir(it->c_str());
  }
}

std::string LimitCgroup::Reached(int exit_code) const {
  // Forks refused at the limit are counted in the forking process's own cgroup on older kernels (runc's, removed by
  // now), so the peak of this one tells too: it got to the limit.
  auto peak = ReadFile(pids_peak_);
  if (pids_ > 0 && (Counter(pids_events_, "max") > 0 || (peak.ok() && atoll(peak->c_str()) >= pids_))) {
    return "the step reached its limit of " + std::to_string(pids_) + " processes (--pids-limit)";
  }
  if (memory_ > 0 && (Counter(memory_events_, "oom_kill") > 0 || exit_code == 137)) {
    return "the step was killed for using more than its " + std::to_string(memory_) + " bytes of memory (--memory)";
  }
  return "";
}

void LimitCgroup::RemoveAbandoned(const std::function<bool(const std::string& id)>& abandoned) {
  if (!Base()) return;
  std::string root = kCgroupRoot + *Base();
  std::vector<std::string> parents = Unified() ? std::vector<std::string>{root + "/kiln"}
                                               : std::vector<std::string>{root + "/pids/kiln", root + "/memory/kiln"};
  for (auto& parent : parents) {
    auto ids = ListDir(parent);
    if (!ids.ok()) continue;
    for (auto& id : *ids) {
      std::string dir = parent + "/" + id;
      if (!IsDirectory(dir) || !abandoned(id)) continue;
      rmdir((dir + "/c").c_str());
      rmdir(dir.c_str());
    }
  }
}

}  // namespace kiln::executor
