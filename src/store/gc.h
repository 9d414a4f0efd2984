// What the store holds and what can go: disk usage by kind, and garbage collection of build cache records, the
// snapshots only they need, and the blobs no image or remaining snapshot references. Images are never
// collected: their blobs stay until the image is removed (kiln rmi) and a later collection runs.
#pragma once
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "store/cache_mounts.h"
#include "store/content.h"
#include "store/metadata.h"

namespace kiln::store {

struct CacheEntryUsage {
  std::string key;
  std::string description;
  int64_t bytes = 0;  // the snapshot's own layer, not the layers below it that others may share
  int64_t created = 0;
  int64_t last_used = 0;
};

struct Usage {
  int64_t images = 0;
  int64_t image_bytes = 0;          // blobs images reference (manifests, configs, layers)
  int64_t cache_records = 0;
  int64_t snapshots = 0;
  int64_t snapshot_bytes = 0;       // unpacked layers and step results
  int64_t cache_blob_bytes = 0;     // blobs no image references (layers computed for cached steps)
  int64_t debug_states = 0;         // failed steps' file systems kept for kiln debug (in snapshots)
  int64_t cache_mounts = 0;         // RUN --mount=type=cache directories
  int64_t cache_mount_bytes = 0;
  std::vector<CacheEntryUsage> entries;  // least recently used first
  std::vector<CacheMountUsage> mounts;
  /// What collecting everything would free: all snapshots, cache mounts and the blobs no image needs.
  int64_t reclaimable_bytes() const { return snapshot_bytes + cache_blob_bytes + cache_mount_bytes; }
  int64_t total_bytes() const { return image_bytes + reclaimable_bytes(); }
};

/// The counts and byte totals of `u` (not its entries), as `kiln du --json` and the disk_usage tool show them.
Json TotalsJson(const Usage& u);

struct GcPolicy {
  /// Records used at or after this time (Unix seconds) are kept; 0 keeps none on this account.
  int64_t keep_used_since = 0;
  /// The most recently used records are kept while the snapshots they need fit in this many bytes; -1: no limit
  /// of this kind (then only keep_used_since keeps anything).
  int64_t keep_bytes = -1;
  /// When not empty, only these records may go: every other record is kept, whatever the rules above say.
  std::set<std::string> only_keys;
  /// Cache mounts may go too (kiln prune --all, automatic collection).
  bool all = false;
};

struct GcResult {
  int64_t cache_records = 0;
  int64_t debug_states = 0;
  int64_t cache_mounts = 0;
  int64_t snapshots = 0;
  int64_t blobs = 0;
  int64_t reclaimed_bytes = 0;
};

class Collector {
 public:
  /// `snapshot_bytes` measures a snapshot's own layer on disk; `remove_snapshot` deletes its files and record.
  /// `cache_mounts` (may be null) are collected with the records.
  Collector(Metadata& metadata, const ContentStore& content, std::function<int64_t(SnapshotId)> snapshot_bytes,
            std::function<Status(SnapshotId)> remove_snapshot, CacheMounts* cache_mounts = nullptr);
  Result<Usage> DiskUsage();
  /// REQUIRES: the caller holds StoreLock::Exclusive, so that no other process uses what goes.
  Result<GcResult> Collect(const GcPolicy& policy);

 private:
  Result<std::vector<std::string>> ImageBlobs(int64_t* images);
  /// Removes the cache mounts `policy` does not keep; `kept_bytes`: what the kept records' snapshots hold.
  Status CollectCacheMounts(const GcPolicy& policy, int64_t kept_bytes, GcResult& result);
  Metadata& metadata_;
  const ContentStore& content_;
  std::function<int64_t(SnapshotId)> snapshot_bytes_;
  std::function<Status(SnapshotId)> remove_snapshot_;
  CacheMounts* cache_mounts_;
};

}  // namespace kiln::store
