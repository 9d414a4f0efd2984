// kiln's metadata in SQLite (WAL mode, shared safely by concurrent kiln processes): image tags, snapshots and
// their layer blobs, cache records, layer chains, build records, and which registry repositories hold which blobs.
#pragma once
#include <cstdint>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace kiln::store {

using SnapshotId = int64_t;  // 0 means "no snapshot": the empty file system

struct ImageRecord {
  std::string name;
  std::string digest;  // manifest digest
  int64_t created = 0;
};

/// The layer blob computed from a snapshot's diff, kept so each diff is tarred once (uncompressed in the local
/// store; compressed when a layer leaves kiln, each compression of it once: a "variant").
struct LayerRecord {
  std::string blob_digest;
  std::string diff_id;
  int64_t size = 0;
  std::string media_type;
};

struct SnapshotRecord {
  SnapshotId id = 0;
  SnapshotId parent = 0;
  bool committed = false;
  std::optional<LayerRecord> layer;
  int64_t created = 0;  // when the step that made it ran (seconds since the epoch)
};

struct CacheRecord {
  std::string key;
  SnapshotId snapshot = 0;
  std::string description;  // the step, as progress named it
  int64_t created = 0;
  int64_t last_used = 0;
};

struct BuildRecord {
  std::string id;
  int64_t created = 0;
  std::string json;     // the build's step report
  std::string outcome;  // a digest of what the build came to, equal for builds that came out the same
};

/// The file system a failed RUN step left, kept for `kiln debug`: a committed snapshot no cache record points
/// at, and what the step ran (JSON: command, environment, working directory, user, network, mounts).
struct DebugState {
  std::string build_id;
  SnapshotId snapshot = 0;
  std::string step;
  std::string spec;
  int64_t created = 0;
};

/// What a file was when its digest was taken: while all of this is the same, so is the content.
struct FileDigestRecord {
  int64_t dev = 0;
  int64_t ino = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  std::string digest;
};

/// Thread-safe (one connection behind a mutex); several processes share the file through SQLite's locking.
class Metadata {
 public:
  /// Prepared statements by their SQL (a string literal's address).
  using Prepared = std::unordered_map<const char*, sqlite3_stmt*>;

  static Result<std::unique_ptr<Metadata>> Open(const std::string& path);
  ~Metadata();

  Status SetImage(const std::string& name, const std::string& digest);
  Result<std::optional<ImageRecord>> GetImage(const std::string& name);
  Result<std::vector<ImageRecord>> ListImages();
  Status RemoveImage(const std::string& name);

  /// A new, uncommitted snapshot owned by this process; recovery removes it if the process dies.
  Result<SnapshotId> CreateSnapshot(SnapshotId parent);
  Status CommitSnapshot(SnapshotId id);
  Status DeleteSnapshot(SnapshotId id);
  Result<SnapshotRecord> GetSnapshot(SnapshotId id);
  Status SetLayer(SnapshotId id, const LayerRecord& layer);
  /// The blob of the layer with this diff_id in another compression (media type), made when it left kiln.
  Result<std::optional<LayerRecord>> GetLayerVariant(const std::string& diff_id, const std::string& media_type);
  Status SetLayerVariant(const LayerRecord& layer);
  Result<std::vector<LayerRecord>> ListLayerVariants();
  /// Uncommitted snapshots whose owning process is gone: left by a crash or kill -9.
  Result<std::vector<SnapshotId>> AbandonedSnapshots();

  /// The snapshot holding a layer chain (OCI chainID), to reuse extracted layers.
  Result<std::optional<SnapshotId>> GetChain(const std::string& chain_id);
  Status SetChain(const std::string& chain_id, SnapshotId id);

  /// What a step's cache key was made of (cache/explain.h), by the step's place in its build.
  Status AddStepHistory(const std::string& step_id, const std::string& key, const std::string& fingerprint);
  /// The fingerprint of the step's most recent record.
  Result<std::optional<std::string>> LatestStepHistory(const std::string& step_id);

  /// Content digests of files by their stat (the context's stat cache): those of every path under `dir`.
  Result<std::map<std::string, FileDigestRecord>> FileDigestsUnder(const std::string& dir);
  /// Adds or replaces the records of these paths, in one transaction.
  Status PutFileDigests(const std::map<std::string, FileDigestRecord>& records);

  /// A cache record's snapshot; its last use is written with the next build record (or when this closes).
  Result<std::optional<SnapshotId>> GetCache(const std::string& key);
  Status SetCache(const std::string& key, SnapshotId id, const std::string& description);

  // For disk usage and garbage collection (store/gc.h).
  Result<std::vector<CacheRecord>> ListCache();
  Status DeleteCache(const std::string& key);
  Result<std::vector<SnapshotRecord>> ListSnapshots();  // committed ones
  Result<std::vector<std::pair<std::string, SnapshotId>>> ListChains();
  Status DeleteChain(const std::string& chain_id);

  /// Remembers that `registry`'s `repository` holds blob `digest` (pulled from or pushed there), so a push to
  /// another repository of that registry can mount it instead of uploading it.
  Status AddBlobSource(const std::string& digest, const std::string& registry, const std::string& repository);
  /// The repositories of `registry` known to hold blob `digest`.
  Result<std::vector<std::string>> BlobSources(const std::string& digest, const std::string& registry);

  /// A failed step's kept file system (kiln debug); only the latest few are kept.
  Status AddDebugState(const DebugState& d);
  Result<std::optional<DebugState>> GetDebugState(const std::string& build_id);  // "" means the latest
  Result<std::vector<DebugState>> ListDebugStates();  // oldest first
  Status DeleteDebugState(const std::string& build_id);

  /// Adds a build's record, and the last use of the cache records it found, in one transaction.
  /// Records a build; only the newest kBuildsKept records are kept.
  Status AddBuild(const BuildRecord& b);
  static constexpr int kBuildsKept = 500;
  Result<std::optional<BuildRecord>> GetBuild(const std::string& id);  // "" means the last

 private:
  explicit Metadata(sqlite3* db) : db_(db) {}
  Status Exec(const std::string& sql);
  /// Writes the last use of the cache records found since the last call (mu_ held, inside a transaction).
  Status WriteUsedLocked();
  sqlite3* db_;
  std::mutex mu_;
  Prepared prepared_;  // guarded by mu_
  std::set<std::string> used_;  // cache keys found, their last use not yet written
};

}  // namespace kiln::store
