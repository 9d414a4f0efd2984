// Memory and process limits of a container (kiln build/run --memory, --pids-limit), held by a cgroup of kiln's
// own, /kiln/<container id>, with the container's cgroup inside it. The kernel counts there when a limit is
// reached (pids.events "max", OOM kills); runc removes the container's cgroup when it ends, but this one stays
// until kiln has read those counts, so a failed step can say which limit stopped it.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::executor {

class LimitCgroup {
 public:
  /// Creates /kiln/<id> in each controller needed (cgroup v1 or v2) with the limits (0: none). Rootless, an error
  /// saying why no limit can be enforced: a limit is never dropped silently.
  static Result<std::unique_ptr<LimitCgroup>> Create(const std::string& id, int64_t memory_bytes, int64_t pids);
  /// Whether limits can be enforced here: as root, yes; rootless, not (see Create).
  static bool Available();
  /// Removes the cgroup (the container in it must be gone).
  ~LimitCgroup();
  /// The container's cgroup path for the runtime spec (linux.cgroupsPath): inside this one.
  std::string ContainerPath() const { return "/kiln/" + id_ + "/c"; }
  /// Which limit the container reached, in words for the error ("" for none). `exit_code` 137 (SIGKILL) under a
  /// memory limit counts as an OOM kill even if the kernel's count is unavailable.
  std::string Reached(int exit_code) const;

  /// Removes the cgroups of containers whose kiln process is gone (kill -9).
  static void RemoveAbandoned(const std::function<bool(const std::string& id)>& abandoned);

 private:
  LimitCgroup(std::string id, int64_t memory_bytes, int64_t pids) : id_(std::move(id)), memory_(memory_bytes), pids_(pids) {}
  std::string id_;
  int64_t memory_;
  int64_t pids_;
  std::vector<std::string> dirs_;  // made by us, removed in reverse
  std::string pids_events_, pids_peak_, memory_events_;
};

}  // namespace kiln::executor
