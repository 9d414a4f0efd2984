#include "store/cache_mounts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "base/digest.h"
#include "base/fs.h"

namespace kiln::store {
namespace {

constexpr int kMaxPrivateCopies = 64;

}  // namespace

CacheMounts::CacheMounts(std::string root) : root_(std::move(root)), dir_(JoinPath(root_, "cache-mounts")) {}

Result<std::string> CacheMounts::Ensure(const std::string& name, const Request& r) {
  std::string dir = JoinPath(dir_, name);
  if (PathExists(dir)) return JoinPath(dir, "data");
  // Made once, by one build: the others wait for it, then use it.
  KILN_ASSIGN(KeyLock lock, KeyLock::Acquire(root_, "cache mount create " + name, {}));
  if (PathExists(dir)) return JoinPath(dir, "data");
  KILN_TRY(MakeDirs(dir_, 0700));
  KILN_ASSIGN(TempDir tmp, TempDir::Create(dir_, ".tmp-"));
  KILN_TRY(WriteFileAtomic(JoinPath(tmp.path(), "id"), r.id, 0600));
  std::string data = JoinPath(tmp.path(), "data");
  if (mkdir(data.c_str(), 0700) != 0) return ErrnoError("mkdir", data);
  if (r.seed) {
    KILN_TRY(r.seed(data));
  } else if (chown(data.c_str(), r.uid, r.gid) != 0 || chmod(data.c_str(), r.mode) != 0) {
    return ErrnoError("set owner and mode of", data);
  }
  if (rename(tmp.path().c_str(), dir.c_str()) != 0) return ErrnoError("rename", dir);
  (void)tmp.Release();
  return JoinPath(dir, "data");
}

Result<CacheMountLease> CacheMounts::Acquire(const Request& r, const std::function<bool()>& cancelled) {
  std::string base = DigestHex(DigestOf(r.id + "\n" + r.seed_key)).substr(0, 32);
  CacheMountLease lease;
  std::string name = base + "-0";
  if (r.sharing == "locked") {
    KILN_ASSIGN(KeyLock lock, KeyLock::Acquire(root_, "cache mount " + name, cancelled));
    lease.lock_.emplace(std::move(lock));
  } else if (r.sharing == "private") {
    for (int copy = 0; !lease.lock_; copy++) {
      if (copy == kMaxPrivateCopies) return Status::Error("cache mount " + r.id + ": every private copy is in use");
      name = base + "-" + std::to_string(copy);
      KILN_ASSIGN(auto lock, KeyLock::TryAcquire(root_, "cache mount " + name));
      if (lock) lease.lock_.emplace(std::move(*lock));
    }
  }
  if (r.fresh) KILN_TRY(Retire(name));
  KILN_ASSIGN(lease.dir_, Ensure(name, r));
  // Its time of last use, for prune's --keep-duration.
  utimensat(AT_FDCWD, JoinPath(dir_, name).c_str(), nullptr, 0);
  return lease;
}

Status CacheMounts::Retire(const std::string& name) {
  std::string dir = JoinPath(dir_, name);
  KILN_ASSIGN(KeyLock lock, KeyLock::Acquire(root_, "cache mount create " + name, {}));
  if (!PathExists(dir)) return Status::Ok();
  // A ".tmp-" name: the next collection (kiln prune, or the automatic one) removes it, when no build runs.
  KILN_ASSIGN(TempDir retired, TempDir::Create(dir_, ".tmp-retired-"));
  std::string to = JoinPath(retired.path(), "dir");
  if (rename(dir.c_str(), to.c_str()) != 0) return ErrnoError("rename", dir);
  (void)retired.Release();
  return Status::Ok();
}

Result<std::vector<CacheMountUsage>> CacheMounts::List() const {
  std::vector<CacheMountUsage> out;
  if (!PathExists(dir_)) return out;
  KILN_ASSIGN(auto names, ListDir(dir_));
  for (auto& name : names) {
    if (name.rfind(".tmp-", 0) == 0) continue;
    std::string dir = JoinPath(dir_, name);
    CacheMountUsage u;
    u.name = name;
    if (auto id = ReadFile(JoinPath(dir, "id")); id.ok()) u.id = *id;
    u.bytes = DiskUsage(JoinPath(dir, "data"));
    struct stat st;
    if (stat(dir.c_str(), &st) == 0) u.last_used = st.st_mtim.tv_sec;
    out.push_back(u);
  }
  return out;
}

Status CacheMounts::RemoveLeftovers() {
  if (!PathExists(dir_)) return Status::Ok();
  KILN_ASSIGN(auto names, ListDir(dir_));
  for (auto& name : names)
    if (name.rfind(".tmp-", 0) == 0) KILN_TRY(RemoveAll(JoinPath(dir_, name)));
  return Status::Ok();
}

Status CacheMounts::Remove(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return Status::Error("bad cache mount name \"" + name + "\"");
  }
  // Renamed away first: a half-removed cache is never found and used.
  std::string dir = JoinPath(dir_, name), doomed = JoinPath(dir_, ".tmp-removing-" + name);
  if (rename(dir.c_str(), doomed.c_str()) != 0) return ErrnoError("rename", dir);
  return RemoveAll(doomed);
}

}  // namespace kiln::store
