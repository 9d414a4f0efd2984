#include "store/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "base/digest.h"
#include "base/fs.h"

namespace kiln::store {
namespace {

Result<int> OpenLockFile(const std::string& root) {
  std::string path = JoinPath(root, "lock");
  // A descriptor of its own per holder: flock locks belong to open file descriptions, so two holders in one
  // process exclude each other as two processes do.
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("open", path);
  return fd;
}

}  // namespace

Result<StoreLock> StoreLock::Shared(const std::string& root) {
  KILN_ASSIGN(int fd, OpenLockFile(root));
  while (flock(fd, LOCK_SH) != 0) {
    if (errno == EINTR) continue;
    Status st = ErrnoError("flock", JoinPath(root, "lock"));
    close(fd);
    return st;
  }
  return StoreLock(fd);
}

Result<StoreLock> StoreLock::Exclusive(const std::string& root, int wait_ms) {
  KILN_ASSIGN(int fd, OpenLockFile(root));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if ((err == EWOULDBLOCK || err == EINTR) && std::chrono::steady_clock::now() < deadline) {
      usleep(20000);  // flock cannot time out: poll
      continue;
    }
    close(fd);
    if (err == EWOULDBLOCK) {
      return Status::Error("the store at " + root + " is in use (a build or run is going on); try again when it ends");
    }
    errno = err;
    return ErrnoError("flock", JoinPath(root, "lock"));
  }
  return StoreLock(fd);
}

StoreLock::~StoreLock() {
  if (fd_ >= 0) close(fd_);
}

namespace {

Result<std::string> KeyLockPath(const std::string& root, const std::string& key) {
  std::string dir = JoinPath(root, "locks");
  KILN_TRY(MakeDirs(dir, 0700));
  // Named by a digest of the key: keys are digests already, but a layer chain or any other text is welcome too.
  return JoinPath(dir, DigestHex(DigestOf(key)));
}

}  // namespace

Result<std::optional<KeyLock>> KeyLock::Attempt(const std::string& path) {
  while (true) {
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoError("open", path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      close(fd);
      if (err == EWOULDBLOCK || err == EINTR) return std::optional<KeyLock>();
      errno = err;
      return ErrnoError("flock", path);
    }
    // The holder before us removes the file when it is done: a lock on a file no longer at `path` guards nothing.
    struct stat held, now;
    if (fstat(fd, &held) == 0 && stat(path.c_str(), &now) == 0 && held.st_ino == now.st_ino && held.st_dev == now.st_dev) {
      return std::optional<KeyLock>(KeyLock(fd, path));
    }
    close(fd);
  }
}

Result<KeyLock> KeyLock::Acquire(const std::string& root, const std::string& key,
                                 const std::function<bool()>& cancelled, bool* waited) {
  if (waited) *waited = false;
  KILN_ASSIGN(std::string path, KeyLockPath(root, key));
  while (true) {
    KILN_ASSIGN(auto lock, Attempt(path));
    if (lock) return std::move(*lock);
    if (waited) *waited = true;
    if (cancelled && cancelled()) return Status::Error("build cancelled");
    usleep(10000);  // flock cannot be interrupted by a cancellation: poll
  }
}

Result<std::optional<KeyLock>> KeyLock::TryAcquire(const std::string& root, const std::string& key) {
  KILN_ASSIGN(std::string path, KeyLockPath(root, key));
  return Attempt(path);
}

KeyLock::~KeyLock() {
  if (fd_ < 0) return;
  unlink(path_.c_str());  // while still held: a waiter that opened it re-opens a fresh one (see Acquire)
  close(fd_);
}

}  // namespace kiln::store
