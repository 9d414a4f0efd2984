// Memory and process limits of a container (kiln build/run --memory, --pids-limit), held by a cgroup of kiln's
// own, /kiln/<container id>, with the container's cgroup inside it. The kernel counts there when a limit is
// reached (pids.events "max", OOM kills); runc removes the container's cgroup when it ends, but this one stays
// until kiln has read those counts, so a failed step can say which limit stopped it.
//
// Rootless, kiln may only write the cgroup v2 subtree systemd delegated to the user (user@UID.service, which
// delegates memory and pids): its cgroups go below that, as <subtree>/kiln/<container id>. The subtree is the
// highest cgroup above kiln's own that the user owns, so that kiln may move the container into it.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::executor {

class LimitCgroup {
 public:
  /// Creates /kiln/<id> (under `parent`, a cgroup path such as "/build.slice", when given) in each controller
  /// needed (cgroup v1 or v2) with the limits (0: none). Rootless, an error saying why no limit can be enforced:
  /// a limit is never dropped silently.
  static Result<std::unique_ptr<LimitCgroup>> Create(const std::string& id, int64_t memory_bytes, int64_t pids,
                                                     const std::string& parent = "");
  /// Whether limits can be enforced here: as root, yes; rootless, where a cgroup v2 subtree with the memory and
  /// pids controllers is delegated to the user.
  static bool Available();
  /// Removes the cgroup (the container in it must be gone).
  ~LimitCgroup();
  /// The container's cgroup path for the runtime spec (linux.cgroupsPath): inside this one.
  std::string ContainerPath() const { return base_ + "/kiln/" + id_ + "/c"; }
  /// Which limit the container reached, in words for the error ("" for none). `exit_code` 137 (SIGKILL) under a
  /// memory limit counts as an OOM kill even if the kernel's count is unavailable.
  std::string Reached(int exit_code) const;

  /// Removes the cgroups of containers whose kiln process is gone (kill -9).
  static void RemoveAbandoned(const std::function<bool(const std::string& id)>& abandoned);

 private:
  LimitCgroup(std::string id, int64_t memory_bytes, int64_t pids) : id_(std::move(id)), memory_(memory_bytes), pids_(pids) {}
  std::string base_;  // the cgroup kiln's go under: "" (the root) as root, the delegated subtree rootless
  std::string id_;
  int64_t memory_;
  int64_t pids_;
  std::vector<std::string> dirs_;  // made by us, removed in reverse
  std::string pids_events_, pids_peak_, memory_events_;
};

/// The delegated cgroup v2 subtree of a rootless kiln, as a path below the cgroup root ("/user.slice/.../user@1000
/// .service"): the highest cgroup above `self` (/proc/self/cgroup's text) owned by `owner` that has the memory and
/// pids controllers. Empty when there is none (cgroup v1, or a cgroup not delegated, such as a login session's).
/// `cgroup_root` is /sys/fs/cgroup but for tests.
std::string DelegatedCgroup(const std::string& cgroup_root, const std::string& self, uid_t owner);

}  // namespace kiln::executor
