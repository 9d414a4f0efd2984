// The solver: walks the build graph, computes each vertex's cache key from its op and its inputs' keys (and the
// content of the files a COPY reads), reuses cached results, runs the misses, and reports progress.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "cache/cache.h"
#include "executor/executor.h"
#include "graph/graph.h"
#include "progress/progress.h"
#include "snapshot/snapshotter.h"
#include "store/cache_mounts.h"
#include "store/content.h"
#include "store/metadata.h"

namespace kiln::solver {

struct SolveOptions {
  bool no_cache = false;
  /// Secret values by id, for RUN --mount=type=secret. They are not part of any cache key, and are masked in
  /// every step's output.
  std::map<std::string, std::string> secrets;
  progress::Sink* progress = nullptr;
  std::function<bool()> cancelled;
  /// Imported cache (--cache-from), consulted in order when the local store has no record of a step.
  std::vector<cache::RemoteSource*> remote_caches;
  /// How many steps may run at once (--max-parallelism); 0: one per core.
  int max_parallelism = 0;
  /// ssh agent sockets by id (kiln build --ssh), for RUN --mount=type=ssh.
  std::map<std::string, std::string> ssh_agents;
  /// RUN --security=insecure is refused unless allowed (kiln build --allow security.insecure).
  bool allow_insecure = false;
  bool allow_devices = false;  // --allow device: RUN --device may use any CDI device
  /// Limits of every RUN step's container (kiln build --memory, --pids-limit); 0: none.
  int64_t memory_limit = 0;
  /// The cgroup RUN steps' containers go under (kiln build --cgroup-parent); "" for kiln's own.
  std::string cgroup_parent;
  int64_t pids_limit = 0;
};

/// What happened to one vertex.
struct StepReport {
  std::string name;
  std::string digest;
  std::string cache_key;
  bool cached = false;
  double duration = 0;       // seconds
  std::string miss_reason;   // why it ran: "no cache record", "--no-cache"
  std::string cache_source;  // a hit from imported cache (or from another build run meanwhile): where it came from
  std::vector<std::string> changes;  // a miss: what differs from the step's previous record ("file src/b.txt")
};

/// The failing step of a failed build.
struct StepFailure {
  std::string step;
  int exit_code = -1;  // -1 when the step failed without a process exit
  std::string log_tail;
  /// A RUN whose process failed: its file system as the process left it (a committed snapshot no cache record
  /// points at: the caller keeps it as the build's debug state, or removes it), and what it ran.
  store::SnapshotId state = 0;
  std::optional<graph::ExecOp> exec;
};

/// What a solved vertex produced: a snapshot (0 is the empty file system), or, for a step found in imported cache
/// whose content no later step needed, the layers of its file system, fetched and unpacked only when needed.
struct VertexOutput {
  std::string key;
  store::SnapshotId snapshot = 0;
  bool materialized = true;
  std::vector<cache::LayerRef> layers;      // when not materialized
  cache::RemoteSource* source = nullptr;    // where those layers come from
  int64_t created = 0;                      // when an imported record's step ran (0: its snapshot says)
};

struct SolveReport {
  Status status;
  std::vector<StepReport> steps;
  std::optional<StepFailure> failure;
  /// What each solved vertex produced.
  std::map<size_t, VertexOutput> results;
};

class Solver {
 public:
  Solver(const store::ContentStore* content, store::Metadata* metadata, snapshot::Snapshotter* snapshotter,
         executor::Runtime* executor, store::CacheMounts* cache_mounts)
      : content_(content), metadata_(metadata), cache_(metadata), snapshotter_(snapshotter), executor_(executor),
        cache_mounts_(cache_mounts) {}
  /// Solves every vertex `target` depends on, independent steps at once. Other Solves (in this process or
  /// another) that need a step this one is running wait for it and take its result. REQUIRES: one Solve at a time
  /// per Solver.
  SolveReport Solve(const graph::Graph& graph, size_t target, const SolveOptions& options);
  /// The same for several targets at once (the images of a multi-platform build): a step they share runs once.
  SolveReport Solve(const graph::Graph& graph, const std::vector<size_t>& targets, const SolveOptions& options);

 private:
  const store::ContentStore* content_;
  store::Metadata* metadata_;
  cache::Cache cache_;
  snapshot::Snapshotter* snapshotter_;
  executor::Runtime* executor_;
  store::CacheMounts* cache_mounts_;
};

}  // namespace kiln::solver
