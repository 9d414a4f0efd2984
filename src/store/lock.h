// The data root's lock between kiln processes: builds, runs and image reads hold it shared while they use
// snapshots and blobs; garbage collection holds it exclusively, so it never deletes what another process is
// about to use.
#pragma once
#include <functional>
#include <optional>
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

/// A lock on one cache key (or layer chain) of the store, between the threads of one build and between kiln
/// processes, so that two builds needing the same step run it once: the second waits for the first and then finds
/// its record. The lock file is removed by the holder that releases it.
class KeyLock {
 public:
  /// Waits while another holder has `key`, polling `cancelled` (may be empty). `*waited` says whether it had to.
  static Result<KeyLock> Acquire(const std::string& root, const std::string& key,
                                 const std::function<bool()>& cancelled, bool* waited = nullptr);
  /// The lock if nobody holds it now; nothing otherwise.
  static Result<std::optional<KeyLock>> TryAcquire(const std::string& root, const std::string& key);
  KeyLock(KeyLock&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
  KeyLock& operator=(KeyLock&&) = delete;
  ~KeyLock();

 private:
  KeyLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  /// One attempt: the lock, or nothing when another holder has it.
  static Result<std::optional<KeyLock>> Attempt(const std::string& path);
  int fd_;
  std::string path_;
};

}  // namespace kiln::store
