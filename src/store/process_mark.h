// Whether a kiln process may have died (a crash, kill -9, a power loss) while it had the store open, so that
// opening the store recovers only then. Recovery looks for what dead processes left (containers, cgroups, mounts,
// downloads, blobs being written, uncommitted snapshots); it walked directories and cgroups on every command,
// which cost more than `kiln images` itself.
//
// An open store has a mark per process in run/marks, named PID-START-N (START: the process's start time, so a
// pid used again is not taken for the dead one), removed when the store is closed. Recovery is due when a mark's
// process is gone, when the machine booted since the marks were last checked (run/marks/boot holds the boot id),
// or when the store has no marks directory yet (new, or from a kiln before marks).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::store {

class ProcessMark {
 public:
  /// Checks the marks under `root`, setting `recover` when recovery is due, and leaves this process's mark when
  /// `leave` (a process that makes nothing recovery would clean up need not).
  static Result<std::unique_ptr<ProcessMark>> Open(const std::string& root, bool leave, bool& recover);
  /// Once recovery is done: forgets the marks of gone processes that called for it, and the boot.
  void Recovered();
  ~ProcessMark();  // removes this process's mark, if it left one

 private:
  ProcessMark(std::string dir, std::string mine) : dir_(std::move(dir)), mine_(std::move(mine)) {}
  std::string dir_, mine_;
  std::vector<std::string> gone_;  // marks of processes that are gone
  std::string boot_;               // the boot id to record once recovered, when it changed
};

}  // namespace kiln::store
