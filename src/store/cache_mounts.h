// The directories behind RUN --mount=type=cache: kept between builds under <data root>/cache-mounts, never part
// of an image or a cache key, shown by kiln du and removed by kiln prune. BuildKit's sharing modes: "shared" lets
// every step use the directory at once, "locked" makes steps take turns, "private" gives a step a directory no
// running step uses (a new one if need be).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/lock.h"

namespace kiln::store {

struct CacheMountUsage {
  std::string name;  // the directory's name under cache-mounts/
  std::string id;    // the cache's id, as the Dockerfile gives it
  int64_t bytes = 0;
  int64_t last_used = 0;  // Unix seconds
};

/// A cache directory in use by one step; a private or locked one is free again when this goes.
class CacheMountLease {
 public:
  const std::string& dir() const { return dir_; }

 private:
  friend class CacheMounts;
  std::string dir_;
  std::optional<KeyLock> lock_;
};

class CacheMounts {
 public:
  /// `root`: the data root.
  explicit CacheMounts(std::string root);

  struct Request {
    std::string id;
    std::string sharing = "shared";  // shared, private or locked
    /// What seeds a new directory (a from= source); "" for none. Part of the cache's identity, as in BuildKit.
    std::string seed_key;
    /// Fills a new directory (from= source); when empty the directory is made with mode, uid and gid.
    std::function<Status(const std::string& dir)> seed;
    uint32_t mode = 0755;
    uint32_t uid = 0;
    uint32_t gid = 0;
    /// A new directory replaces the one the id has (which a running step may still use: it is removed once no
    /// build runs).
    bool fresh = false;
  };
  /// The directory for `r`, created on first use. Waits (polling `cancelled`) for a locked one.
  Result<CacheMountLease> Acquire(const Request& r, const std::function<bool()>& cancelled);

  Result<std::vector<CacheMountUsage>> List() const;
  /// REQUIRES (both): no build is running (StoreLock::Exclusive).
  Status Remove(const std::string& name);
  /// Removes what a process killed while making or removing a cache directory left.
  Status RemoveLeftovers();

 private:
  Result<std::string> Ensure(const std::string& name, const Request& r);
  /// Moves the directory `name` out of the way for a fresh one.
  Status Retire(const std::string& name);
  std::string root_;  // the data root
  std::string dir_;   // <root>/cache-mounts
};

}  // namespace kiln::store
