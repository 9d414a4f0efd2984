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
  /// Fails at once, saying so, while other kiln processes (or threads) hold the lock.
  static Result<StoreLock> Exclusive(const std::string& root);
  StoreLock(StoreLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  StoreLock& operator=(StoreLock&&) = delete;
  ~StoreLock();

 private:
  explicit StoreLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace kiln::store
