#include "store/metadata.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <memory>

#include "base/process.h"

namespace kiln::store {
namespace {

/// A prepared statement: taken from the connection's cache of them (and reset for the next use on scope exit),
/// or, without a cache, prepared here and finalized on scope exit. Preparing the same statements again was a
/// third of a warm build's work.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  /// `sql` is a string literal: its address is its key in `cache`.
  Stmt(Metadata::Prepared& cache, sqlite3* db, const char* sql) : db_(db), cached_(true) {
    auto [it, added] = cache.try_emplace(sql, nullptr);
    if (added) {
      rc_ = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &it->second, nullptr);
      if (rc_ != SQLITE_OK) {
        sqlite3_finalize(it->second);
        cache.erase(it);
        return;
      }
    }
    s_ = it->second;
  }
  ~Stmt() {
    if (!cached_) {
      sqlite3_finalize(s_);
    } else if (s_) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  /// SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return rc_ == SQLITE_OK ? sqlite3_step(s_) : rc_; }
  Status Run() {
    int rc = Step();
    return (rc == SQLITE_DONE || rc == SQLITE_ROW) ? Status::Ok() : Error();
  }
  std::string Text(int col) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, size_t(sqlite3_column_bytes(s_, col))) : std::string();
  }
  int64_t Int(int col) { return sqlite3_column_int64(s_, col); }
  bool IsNull(int col) { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  Status Error() {
    std::string message = std::string("metadata database: ") + sqlite3_errmsg(db_);
    return sqlite3_errcode(db_) == SQLITE_FULL ? Status::NoSpace(message) : Status::Error(message);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_OK;
  bool cached_ = false;
};

/// A row of "SELECT id, parent, committed, blob_digest, diff_id, blob_size, media_type, created FROM snapshots".
SnapshotRecord SnapshotOf(Stmt& s) {
  SnapshotRecord r{s.Int(0), s.Int(1), s.Int(2) != 0, std::nullopt, s.Int(7)};
  if (!s.IsNull(3)) r.layer = LayerRecord{s.Text(3), s.Text(4), s.Int(5), s.Text(6)};
  return r;
}

int64_t Now() { return int64_t(time(nullptr)); }

int64_t NowNanos() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS images (name TEXT PRIMARY KEY, digest TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (
  id INTEGER PRIMARY KEY AUTOINCREMENT, parent INTEGER NOT NULL, committed INTEGER NOT NULL DEFAULT 0,
  owner_pid INTEGER NOT NULL, created INTEGER NOT NULL,
  blob_digest TEXT, diff_id TEXT, blob_size INTEGER, media_type TEXT);
CREATE TABLE IF NOT EXISTS chains (chain_id TEXT PRIMARY KEY, snapshot INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cache (
  key TEXT PRIMARY KEY, snapshot INTEGER NOT NULL, description TEXT, created INTEGER NOT NULL,
  last_used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS builds (id TEXT PRIMARY KEY, created INTEGER NOT NULL, report TEXT NOT NULL, outcome TEXT);
CREATE TABLE IF NOT EXISTS step_history (
  step_id TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, created INTEGER NOT NULL,
  PRIMARY KEY (step_id, key));
CREATE TABLE IF NOT EXISTS file_digests (
  path TEXT PRIMARY KEY, dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, digest TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS debug_states (
  build_id TEXT PRIMARY KEY, snapshot INTEGER NOT NULL, step TEXT NOT NULL, spec TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS layer_variants (
  diff_id TEXT NOT NULL, media_type TEXT NOT NULL, blob_digest TEXT NOT NULL, blob_size INTEGER NOT NULL,
  PRIMARY KEY (diff_id, media_type));
CREATE TABLE IF NOT EXISTS blob_sources (
  digest TEXT NOT NULL, registry TEXT NOT NULL, repository TEXT NOT NULL, PRIMARY KEY (digest, registry, repository));
)";
/// PRAGMA user_version once kSchema is in place: a store at this version is not asked to create its tables again
/// (parsing kSchema was a tenth of what `kiln images` cost).
constexpr int kSchemaVersion = 2;  // 2: builds.outcome

/// The log (WAL) is checkpointed into the database and emptied once it holds this many pages. The first process
/// to open the store reads the whole log to rebuild its index, so every command pays for the log's length:
/// SQLite's default of 1,000 pages (4 MB) cost a warm build milliseconds; this many cost ~0.1 ms, and the
/// checkpoint's two fsyncs come once in several builds that changed something, never in one that did not.
constexpr int kLogPagesKept = 64;

int CheckpointLongLog(void*, sqlite3* db, const char* name, int pages) {
  // TRUNCATE, not PASSIVE: a log reset but kept at its length would still be read in full by the next process.
  if (pages >= kLogPagesKept) sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  return SQLITE_OK;
}

}  // namespace

Result<std::unique_ptr<Metadata>> Metadata::Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::Error("open metadata database " + path + ": " + msg);
  }
  std::unique_ptr<Metadata> m(new Metadata(db));
  // Other kiln processes may hold the write lock for a moment; wait rather than fail.
  sqlite3_busy_timeout(db, 30000);
  // The last connection to close does not checkpoint the log into the database (two fsyncs) nor delete it (and
  // the next process sync its new header): the log is checkpointed as it grows, after a write.
  sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  int persist = 1;
  sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  sqlite3_wal_hook(db, CheckpointLongLog, nullptr);
  KILN_TRY(m->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  int64_t version;
  {
    Stmt s(db, "PRAGMA user_version");
    if (s.Step() != SQLITE_ROW) return s.Error();
    version = s.Int(0);
  }
  if (version != kSchemaVersion) {
    KILN_TRY(m->Exec(std::string("BEGIN IMMEDIATE;") + kSchema));
    bool has_outcome = false;  // a builds table made before version 2 lacks the column
    {
      Stmt s(db, "SELECT 1 FROM pragma_table_info('builds') WHERE name = 'outcome'");
      has_outcome = s.Step() == SQLITE_ROW;
    }
    if (!has_outcome) KILN_TRY(m->Exec("ALTER TABLE builds ADD COLUMN outcome TEXT"));
    KILN_TRY(m->Exec("PRAGMA user_version=" + std::to_string(kSchemaVersion) + "; COMMIT;"));
    sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);  // a new store's log
  }
  return m;
}

Metadata::~Metadata() {
  if (!used_.empty() && Exec("BEGIN IMMEDIATE").ok()) {
    (void)(WriteUsedLocked().ok() ? Exec("COMMIT") : Exec("ROLLBACK"));
  }
  for (auto& [sql, statement] : prepared_) sqlite3_finalize(statement);
  sqlite3_close(db_);
}

Status Metadata::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::Error("metadata database: " + msg);
  }
  return Status::Ok();
}

Status Metadata::SetImage(const std::string& name, const std::string& digest) {
  std::lock_guard l(mu_);
  // A name that already has this digest is left as it is: a warm build writes nothing here.
  return Stmt(prepared_, db_, "INSERT INTO images(name, digest, created) VALUES(?, ?, ?) "
                   "ON CONFLICT(name) DO UPDATE SET digest=excluded.digest, created=excluded.created "
                   "WHERE images.digest != excluded.digest")
      .Bind(1, name).Bind(2, digest).Bind(3, Now()).Run();
}

Result<std::optional<ImageRecord>> Metadata::GetImage(const std::string& name) {
  std::lock_guard l(mu_);
  Stmt s(prepared_, db_, "SELECT name, digest, created FROM images WHERE name = ?");
  s.Bind(1, name);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<ImageRecord>();
  if (rc != SQLITE_ROW) return s.Error();
  return std::optional<ImageRecord>(ImageRecord{s.Text(0), s.Text(1), s.Int(2)});
}

Result<std::vector<ImageRecord>> Metadata::ListImages() {
  std::lock_guard l(mu_);
  Stmt s(prepared_, db_, "SELECT name, digest, created FROM images ORDER BY name");
  std::vector<ImageRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back({s.Text(0), s.Text(1), s.Int(2)});
  if (rc != SQLITE_DONE) return s.Error();
  return out;
}

Status Metadata::RemoveImage(const std::string& name) {
  std::lock_guard l(mu_);
  return Stmt(prepared_, db_, "DELETE FROM images WHERE name = ?").Bind(1, name).Run();
}

Result<SnapshotId> Metadata::CreateSnapshot(SnapshotId parent) {
  std::lock_guard l(mu_);
  Stmt s(prepared_, db_, "INSERT INTO snapshots(parent, owner_pid, created) VALUES(?, ?, ?)");
  KILN_TRY(s.Bind(1, parent).Bind(2, int64_t(getpid())).Bind(3, Now()).Run());
  return SnapshotId(sqlite3_last_insert_rowid(db_));
}

Status Metadata::CommitSnapshot(SnapshotId id) {
  std::lock_guard l(mu_);
  return Stmt(prepared_, db_, "UPDATE snapshots SET committed = 1 WHERE id = ?").Bind(1, id).Run();
}

Status Metadata::DeleteSnapshot(SnapshotId id) {
  std::lock_guard l(mu_);
  return Stmt(prepared_, db_, "DELETE FROM snapshots WHERE id = ?").Bind(1, id).Run();
}

Result<SnapshotRecord> Metadata::GetSnapshot(SnapshotId id) {
  std::lock_guard l(mu_);
  Stmt s(prepared_, db_, "SELECT id, parent, committed, blob_digest, diff_id, blob_size, media_type, created FROM snapshots "
              "WHERE id = ?");
  s.Bind(1, id);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return Status::Error("snapshot " + std::to_string(id) + " not found");
  if (rc != SQLITE_ROW) return s.Error();
  return SnapshotOf(s);
}

Status Metadata::SetLayer(SnapshotId id, const LayerRecord& layer) {
  std::lock_guard l(mu_);
  return Stmt(prepared_, db_, "UPDATE snapshots SET blob_digest = ?, diff_id = ?, blob_size = ?, media_type = ? WHERE id = ?")
      .Bind(1, layer.blob_digest).Bind(2, layer.diff_id).Bind(3, layer.size).Bind(4, layer.media_type).Bind(5, id)
      .Run();
}

Result<std::optional<LayerRecord>> Metadata::GetLayerVariant(const std::string& diff_id, const std::string& media_type) {
  std::lock_guard l(mu_);
  Stmt s(prepared_, db_, "SELECT blob_digest, blob_size FROM layer_variants WHERE diff_id = ? AND media_type = ?");
  s.Bind(1, diff_id).Bind(2, media_type);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<LayerRecord>();
  if (rc != SQLITE_ROW) return s.Error();
  return std::optional<LayerRecord>(LayerRecord{s.Text(0), diff_id, s.Int(1), media_type});
}

Status Metadata::SetLayerVariant(const LayerRecord& layer) {
  std::lock_guard l(mu_);
  return Stmt(prepared_, db_, "INSERT OR REPLACE INTO layer_variants(diff_id, media_type, blob_digest, blob_size) VALUES(?, ?, ?, ?)")
      .Bind(1, layer.diff_id).Bind(2, layer.media_type).Bind(3, layer.blob_digest).Bind(4, layer.size).Run();
}

Result<std::vector<LayerRecord>> Metadata::ListLayerVariants() {
  std::lock_guard l(mu_);
  Stmt s(prepared_, db_, "SELECT diff_id, media_type, blob_digest, blob_size FROM layer_variants");
  std::vector<LayerRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(LayerRecord{s.Text(2), s.Text(0), s.Int(3), s.Text(1)});
  if (rc != SQLITE_DONE) return s.Error();
  return out;
}

Result<std::vector<SnapshotId>> Metadata::AbandonedSnapshots() {
  std::lock_guard l(mu_);
  Stmt s(prepared_, db_, "SELECT id, owner_pid FROM snapshots WHERE committed = 0");
  std::vector<SnapshotId> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    if (ProcessIsGone(pid_t(s.Int(1)))) out.push_back(s.Int(0));
  }
  if (rc != SQLITE_DONE) return s.Error();
  return out;
}

Result<std::optional<SnapshotId>> Metadata::GetChain(const std::string& chain_id) {
  std::lock_guard l(mu_);
  Stmt s(prepared_, db_, "SELECT snapshot FROM chains WHERE chain_id = ?");
  s.Bind(1, chain_id);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<SnapshotId>();
  if (rc != SQLITE_ROW) return s.Error();
  return std::optional<SnapshotId>(s.Int(0));
}

Status Metadata::SetChain(const std::string& chain_id, SnapshotId id) {
  std::lock_guard l(mu_);
  return Stmt(prepared_, db_, "INSERT OR REPLACE INTO chains(chain_id, snapshot) VALUES(?, ?)").Bind(1, chain_id).Bind(2, id)
      .Run();
}

Result<std::optional<SnapshotId>> Metadata::GetCache(const std::string& key) {
  std::lock_guard l(mu_);
  Stmt s(prepared_, db_, "SELECT snapshot FROM cache WHERE key = ?");
  s.Bind(1, key);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<SnapshotId>();
  if (rc != SQLITE_ROW) return s.Error();
  SnapshotId id = s.Int(0);
  // Its last use is written with the build's record, in that one transaction, not one transaction per hit.
  used_.insert(key);
  return std::optional<SnapshotId>(id);
}

Status Metadata::WriteUsedLocked() {
  for (auto& key : used_) {
    // To the minute: collection orders by last use and keeps what was used within hours or days, and a rebuild
    // within the minute then writes nothing.
    KILN_TRY(Stmt(prepared_, db_, "UPDATE cache SET last_used = ?1 WHERE key = ?2 AND last_used < ?1 - 60")
                 .Bind(1, Now()).Bind(2, key).Run());
  }
  used_.clear();
  return Status::Ok();
}

Status Metadata::SetCache(const std::string& key, SnapshotId id, const std::string& description) {
  std::lock_guard l(mu_);
  return Stmt(prepared_, db_, "INSERT OR REPLACE INTO cache(key, snapshot, description, created, last_used) "
                   "VALUES(?, ?, ?, ?, ?)")
      .Bind(1, key).Bind(2, id).Bind(3, description).Bind(4, Now()).Bind(5, Now()).Run();
}

// Only the latest few records of a step are worth comparing with.
constexpr int kStepHistoryKept = 4;

Status Metadata::AddStepHistory(const std::string& step_id, const std::string& key, const std::string& fingerprint) {
  std::lock_guard l(mu_);
  KILN_TRY(Stmt(prepared_, db_, "INSERT OR REPLACE INTO step_history(step_id, key, fingerprint, created) VALUES(?, ?, ?, ?)")
               .Bind(1, step_id).Bind(2, key).Bind(3, fingerprint).Bind(4, NowNanos()).Run());
  return Stmt(prepared_, db_, "DELETE FROM step_history WHERE step_id = ? AND key NOT IN "
                   "(SELECT key FROM step_history WHERE step_id = ? ORDER BY created DESC LIMIT ?)")
      .Bind(1, step_id).Bind(2, step_id).Bind(3, int64_t(kStepHistoryKept)).Run();
}

Result<std::optional<std::string>> Metadata::LatestStepHistory(const std::string& step_id) {
  std::lock_guard l(mu_);
  Stmt s(prepared_, db_, "SELECT fingerprint FROM step_history WHERE step_id = ? ORDER BY created DESC LIMIT 1");
  s.Bind(1, step_id);
  int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<std::string>(s.Text(0));
  if (rc != SQLITE_DONE) return s.Error();
  return std::optional<std::string>();
}

Result<std::map<std::string, FileDigestRecord>> Metadata::FileDigestsUnder(const std::string& dir) {
  std::lock_guard l(mu_);
  // Every path that starts with "dir/": from "dir/" up to, not including, "dir0" ('0' follows '/').
  Stmt s(prepared_, db_, "SELECT path, dev, ino, size, mtime_ns, ctime_ns, digest FROM file_digests WHERE path >= ? AND path < ?");
  s.Bind(1, dir + "/").Bind(2, dir + "0");
  std::map<std::string, FileDigestRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out[s.Text(0)] = {s.Int(1), s.Int(2), s.Int(3), s.Int(4), s.Int(5), s.Text(6)};
  if (rc != SQLITE_DONE) return s.Error();
  return out;
}

Status Metadata::PutFileDigests(const std::map<std::string, FileDigestRecord>& records) {
  if (records.empty()) return Status::Ok();
  std::lock_guard l(mu_);
  KILN_TRY(Exec("BEGIN IMMEDIATE"));
  Status st;
  for (auto& [path, r] : records) {
    st = Stmt(prepared_, db_, "INSERT OR REPLACE INTO file_digests(path, dev, ino, size, mtime_ns, ctime_ns, digest) "
                   "VALUES(?, ?, ?, ?, ?, ?, ?)")
             .Bind(1, path).Bind(2, r.dev).Bind(3, r.ino).Bind(4, r.size).Bind(5, r.mtime_ns).Bind(6, r.ctime_ns)
             .Bind(7, r.digest).Run();
    if (!st.ok()) break;
  }
  if (!st.ok()) {
    (void)Exec("ROLLBACK");
    return st;
  }
  return Exec("COMMIT");
}

Result<std::vector<CacheRecord>> Metadata::ListCache() {
  std::lock_guard l(mu_);
  Stmt s(prepared_, db_, "SELECT key, snapshot, description, created, last_used FROM cache ORDER BY last_used, key");
  std::vector<CacheRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back({s.Text(0), s.Int(1), s.Text(2), s.Int(3), s.Int(4)});
  if (rc != SQLITE_DONE) return s.Error();
  return out;
}

Status Metadata::DeleteCache(const std::string& key) {
  std::lock_guard l(mu_);
  return Stmt(prepared_, db_, "DELETE FROM cache WHERE key = ?").Bind(1, key).Run();
}

Result<std::vector<SnapshotRecord>> Metadata::ListSnapshots() {
  std::lock_guard l(mu_);
  Stmt s(prepared_, db_, "SELECT id, parent, committed, blob_digest, diff_id, blob_size, media_type, created FROM snapshots "
              "WHERE committed = 1 ORDER BY id");
  std::vector<SnapshotRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(SnapshotOf(s));
  if (rc != SQLITE_DONE) return s.Error();
  return out;
}

Result<std::vector<std::pair<std::string, SnapshotId>>> Metadata::ListChains() {
  std::lock_guard l(mu_);
  Stmt s(prepared_, db_, "SELECT chain_id, snapshot FROM chains");
  std::vector<std::pair<std::string, SnapshotId>> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.emplace_back(s.Text(0), s.Int(1));
  if (rc != SQLITE_DONE) return s.Error();
  return out;
}

Status Metadata::DeleteChain(const std::string& chain_id) {
  std::lock_guard l(mu_);
  return Stmt(prepared_, db_, "DELETE FROM chains WHERE chain_id = ?").Bind(1, chain_id).Run();
}

Status Metadata::AddBlobSource(const std::string& digest, const std::string& registry, const std::string& repository) {
  std::lock_guard l(mu_);
  return Stmt(prepared_, db_, "INSERT OR IGNORE INTO blob_sources(digest, registry, repository) VALUES(?, ?, ?)")
      .Bind(1, digest).Bind(2, registry).Bind(3, repository).Run();
}

Result<std::vector<std::string>> Metadata::BlobSources(const std::string& digest, const std::string& registry) {
  std::lock_guard l(mu_);
  Stmt s(prepared_, db_, "SELECT repository FROM blob_sources WHERE digest = ? AND registry = ?");
  s.Bind(1, digest).Bind(2, registry);
  std::vector<std::string> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(s.Text(0));
  if (rc != SQLITE_DONE) return s.Error();
  return out;
}

Status Metadata::AddBuild(const BuildRecord& b) {
  std::lock_guard l(mu_);
  KILN_TRY(Exec("BEGIN IMMEDIATE"));
  Status st = WriteUsedLocked();
  if (st.ok()) {
    st = Stmt(prepared_, db_, "INSERT OR REPLACE INTO builds(id, created, report, outcome) VALUES(?, ?, ?, ?)")
             .Bind(1, b.id).Bind(2, b.created).Bind(3, b.json).Bind(4, b.outcome).Run();
  }
  if (st.ok()) {
    st = Stmt(prepared_, db_, "DELETE FROM builds WHERE rowid <= (SELECT max(rowid) FROM builds) - ?")
             .Bind(1, int64_t(kBuildsKept)).Run();
  }
  if (!st.ok()) {
    (void)Exec("ROLLBACK");
    return st;
  }
  return Exec("COMMIT");
}

Result<std::optional<BuildRecord>> Metadata::GetBuild(const std::string& id) {
  std::lock_guard l(mu_);
  // The last recorded is the last inserted (INSERT OR REPLACE gives a record a new rowid).
  Stmt s(prepared_, db_, id.empty() ? "SELECT id, created, report, outcome FROM builds ORDER BY rowid DESC LIMIT 1"
                                    : "SELECT id, created, report, outcome FROM builds WHERE id = ?");
  if (!id.empty()) s.Bind(1, id);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<BuildRecord>();
  if (rc != SQLITE_ROW) return s.Error();
  return std::optional<BuildRecord>(BuildRecord{s.Text(0), s.Int(1), s.Text(2), s.Text(3)});
}

// The file systems of the last few failed steps are kept; older ones go to the next collection.
constexpr int kDebugStatesKept = 5;

Status Metadata::AddDebugState(const DebugState& d) {
  std::lock_guard l(mu_);
  KILN_TRY(Stmt(prepared_, db_, "INSERT OR REPLACE INTO debug_states(build_id, snapshot, step, spec, created) VALUES(?, ?, ?, ?, ?)")
               .Bind(1, d.build_id).Bind(2, d.snapshot).Bind(3, d.step).Bind(4, d.spec).Bind(5, d.created).Run());
  return Stmt(prepared_, db_, "DELETE FROM debug_states WHERE build_id NOT IN "
                   "(SELECT build_id FROM debug_states ORDER BY created DESC, rowid DESC LIMIT ?)")
      .Bind(1, int64_t(kDebugStatesKept)).Run();
}

Result<std::optional<DebugState>> Metadata::GetDebugState(const std::string& build_id) {
  std::lock_guard l(mu_);
  Stmt s(prepared_, db_, build_id.empty()
                  ? "SELECT build_id, snapshot, step, spec, created FROM debug_states ORDER BY created DESC, rowid DESC LIMIT 1"
                  : "SELECT build_id, snapshot, step, spec, created FROM debug_states WHERE build_id = ?");
  if (!build_id.empty()) s.Bind(1, build_id);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<DebugState>();
  if (rc != SQLITE_ROW) return s.Error();
  return std::optional<DebugState>(DebugState{s.Text(0), s.Int(1), s.Text(2), s.Text(3), s.Int(4)});
}

Result<std::vector<DebugState>> Metadata::ListDebugStates() {
  std::lock_guard l(mu_);
  Stmt s(prepared_, db_, "SELECT build_id, snapshot, step, spec, created FROM debug_states ORDER BY created, rowid");
  std::vector<DebugState> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back({s.Text(0), s.Int(1), s.Text(2), s.Text(3), s.Int(4)});
  if (rc != SQLITE_DONE) return s.Error();
  return out;
}

Status Metadata::DeleteDebugState(const std::string& build_id) {
  std::lock_guard l(mu_);
  return Stmt(prepared_, db_, "DELETE FROM debug_states WHERE build_id = ?").Bind(1, build_id).Run();
}

}  // namespace kiln::store
