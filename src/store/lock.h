// The data root's lock between kiln processes: builds, runs and image reads hold it shared while they use
// snapshots and blobs; garbage collection holds it exclusively, so it never deletes what another process is
// about to use.
#pragma once
#include <string>

#include "base/status.h"

namespace kiln::store {

class StoreLock {
 public:
  /// Blocks while a collection runs.
  static Result<StoreLock> Shared(const std::string& root);
  /// Fails, saying so, while other kiln processes (or threads) hold the lock: at once, or when they still hold it
  /// after `wait_ms` (a build that was just cancelled is cleaning up).
  static Result<StoreLock> Exclusive(const std::string& root, int wait_ms = 0);
  StoreLock(StoreLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  StoreLock& operator=(StoreLock&&) = delete;
  ~StoreLock();

 private:
  explicit StoreLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace kiln::store
