#include "solver/solver.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "base/digest.h"
#include "base/fs.h"
#include "base/pattern.h"
#include "base/redact.h"
#include "base/userns.h"
#include "cache/explain.h"
#include "cache/key.h"
#include "oci/image.h"
#include "snapshot/copy.h"
#include "snapshot/unpack.h"
#include "solver/stat_cache.h"
#include "store/lock.h"
#include "solver/file_op.h"
#include "solver/remote_source.h"

namespace kiln::solver {
namespace {

using Clock = std::chrono::steady_clock;
using store::SnapshotId;

double Seconds(Clock::time_point from) {
  return std::chrono::duration<double>(Clock::now() - from).count();
}

/// What a solved vertex yields: a snapshot, or (for a local source) a host directory, or (a hit in imported
/// cache) layers not unpacked yet.
struct Output {
  SnapshotId snapshot = 0;
  bool materialized = true;
  bool pending = false;  // missed the cache: runs if a later step or the target needs its result
  StepReport step;
  int number = 0;        // "#N" in progress, given when first shown
  Clock::time_point started;
  std::vector<cache::LayerRef> layers;
  cache::RemoteSource* source = nullptr;
  int64_t created = 0;  // of an imported record
  std::string local_dir;
  std::shared_ptr<PatternMatcher> exclude;
  std::shared_ptr<StatDigestCache> digests;  // the context's stat cache
  std::shared_ptr<TempDir> fetched;          // an ADD URL's download, a git checkout: local_dir is in it
  double fetch_seconds = 0;
  cache::Fingerprint fingerprint;            // of a step that missed: recorded once it ran
  std::vector<cache::Change> changes;        // from the step's previous record
  std::string key;
  bool reported = false;  // shown as a step (cached or run): part of SolveReport::steps
  /// Runs whatever the cache holds: --no-cache, its stage named by --no-cache-filter, or an input that runs again
  /// for that reason (a result made again would otherwise be followed by the old results of the steps after it).
  bool skip_cache = false;
};

/// One solve: the state of a single Solve call.
class Job {
 public:
  Job(const graph::Graph& g, const SolveOptions& o, const store::ContentStore* content, store::Metadata* metadata,
      cache::Cache* cache, snapshot::Snapshotter* snapshotter, executor::Runtime* executor,
      store::CacheMounts* cache_mounts)
      : g_(g), o_(o), content_(content), metadata_(metadata), cache_(cache), snapshotter_(snapshotter),
        executor_(executor), cache_mounts_(cache_mounts), start_(Clock::now()) {}

  /// Solves in two passes. First every needed vertex gets its cache key and is looked up (local records, then
  /// imported cache); nothing runs. Then the steps that missed run, but only those the target needs: a stage whose
  /// only use is a COPY --from that hit the cache never runs, as in BuildKit. Steps whose inputs are done run at
  /// once, up to max_parallelism of them.
  SolveReport Run(const std::vector<size_t>& targets) {
    size_t n = g_.vertices().size();
    std::vector<bool> needed(n, false);
    size_t last = 0;  // the highest target: nothing after it is needed
    for (size_t t : targets) {
      needed[t] = true;
      last = std::max(last, t);
    }
    for (size_t i = last + 1; i-- > 0;)
      if (needed[i])
        for (size_t in : g_.at(i).inputs) needed[in] = true;
    outputs_.resize(n);
    materialize_mu_ = std::make_unique<std::mutex[]>(n);
    for (size_t i = 0; i <= last && report_.status.ok(); i++) {
      if (!needed[i]) continue;
      if (Cancelled()) report_.status = Status::Error("build cancelled");
      if (report_.status.ok()) report_.status = Resolve(i);
    }
    // What must run: the target if it missed, and every missed input of a step that runs. Their inputs need
    // their file systems (unpacked base images, fetched imported layers); the rest stays as keys and layers.
    std::vector<bool> run(n, false), need_files(n, false);
    std::vector<size_t> stack;
    for (size_t t : targets)
      if (report_.status.ok() && outputs_[t].pending) stack.push_back(t);
    while (!stack.empty()) {
      size_t i = stack.back();
      stack.pop_back();
      if (run[i]) continue;
      run[i] = true;
      for (size_t in : g_.at(i).inputs) {
        need_files[in] = true;
        if (outputs_[in].pending) stack.push_back(in);
      }
    }
    std::vector<size_t> todo;
    for (size_t i = 0; i <= last; i++) {
      if (!needed[i] || (outputs_[i].pending && !run[i])) continue;
      todo.push_back(i);
      if (std::holds_alternative<graph::LocalSource>(g_.at(i).op)) continue;
      auto* img = std::get_if<graph::ImageSource>(&g_.at(i).op);
      if (!img || !img->manifest_digest.empty()) total_steps_++;
    }
    if (report_.status.ok()) report_.status = Schedule(todo, need_files);
    for (auto& o : outputs_) {
      if (!o.digests) continue;
      Status saved = o.digests->Save();
      if (report_.status.ok()) report_.status = saved;
    }
    for (size_t i = 0; i <= last; i++) {
      const Output& o = outputs_[i];
      if (o.reported) report_.steps.push_back(o.step);
      if (report_.status.ok() && needed[i] && !o.pending) {
        report_.results[i] = VertexOutput{o.key, o.snapshot, o.materialized, o.layers, o.source, o.created};
      }
    }
    if (o_.progress) o_.progress->Finish();
    return std::move(report_);
  }

 private:
  bool Cancelled() const { return failed_.load() || (o_.cancelled && o_.cancelled()); }

  /// Runs Execute on every vertex of `todo` (in graph order), each once its inputs in `todo` are done, on up to
  /// max_parallelism threads (the calling one included). The first failure stops new work and cancels what runs.
  Status Schedule(const std::vector<size_t>& todo, const std::vector<bool>& need_files) {
    size_t n = g_.vertices().size();
    std::vector<bool> in_todo(n, false);
    for (size_t i : todo) in_todo[i] = true;
    std::vector<int> unfinished_inputs(n, 0);
    std::vector<std::vector<size_t>> dependents(n);
    std::set<size_t> ready;  // ordered: the earliest step of the Dockerfile first, as a serial build would
    for (size_t i : todo) {
      std::set<size_t> inputs(g_.at(i).inputs.begin(), g_.at(i).inputs.end());
      for (size_t in : inputs)
        if (in_todo[in]) {
          unfinished_inputs[i]++;
          dependents[in].push_back(i);
        }
      if (unfinished_inputs[i] == 0) ready.insert(i);
    }
    std::mutex mu;
    std::condition_variable changed;
    size_t left = todo.size();
    Status first_error;
    auto work = [&] {
      std::unique_lock l(mu);
      while (true) {
        changed.wait(l, [&] { return !ready.empty() || left == 0 || !first_error.ok(); });
        if (left == 0 || !first_error.ok()) return;
        size_t i = *ready.begin();
        ready.erase(ready.begin());
        l.unlock();
        Status st = Cancelled() ? Status::Error("build cancelled") : Execute(i, need_files[i]);
        l.lock();
        left--;
        if (!st.ok() && first_error.ok()) {
          first_error = st;
          failed_ = true;  // running siblings stop (a Fail has set it already)
        }
        if (st.ok())
          for (size_t d : dependents[i])
            if (--unfinished_inputs[d] == 0) ready.insert(d);
        changed.notify_all();
      }
    };
    size_t threads = o_.max_parallelism > 0 ? size_t(o_.max_parallelism) : std::max(1u, std::thread::hardware_concurrency());
    // Only steps that run take time; the rest (cache hits, sources) are done at once by the calling thread, so a
    // warm build starts no thread.
    size_t runs = size_t(std::count_if(todo.begin(), todo.end(), [&](size_t i) { return outputs_[i].pending; }));
    threads = std::max<size_t>(1, std::min(threads, runs));
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; t++) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    // The failure that cancelled the rest, even if a cancelled sibling got to the queue first.
    std::lock_guard l(failure_mu_);
    return failure_.ok() ? first_error : failure_;
  }

  /// `number` belongs to the vertex, and only the thread running that vertex touches it.
  void Emit(progress::Event::Kind kind, int& number, const graph::Vertex& v, std::string data = "",
            double duration = 0, int stream = 1, std::vector<std::string> changes = {}) {
    if (number == 0) number = ++step_number_;
    if (!o_.progress) return;
    progress::Event e;
    e.kind = kind;
    e.number = number;
    e.total = total_steps_;
    e.digest = v.digest;
    e.name = v.name;
    e.data = std::move(data);
    e.stream = stream;
    e.elapsed = Seconds(start_);
    e.duration = duration;
    e.changes = std::move(changes);
    o_.progress->Emit(e);
  }

  std::string KeyOf(size_t i, const std::string& content) {
    std::vector<std::string> input_keys;
    for (size_t in : g_.at(i).inputs) input_keys.push_back(outputs_[in].key);
    return cache::StepKey(g_.at(i), input_keys, content);
  }

  /// Pass one: the vertex's cache key and where its result is (a local record, imported cache, or nowhere yet:
  /// pending). Sources are noted, nothing is unpacked or run.
  Status Resolve(size_t i) {
    const graph::Vertex& v = g_.at(i);
    Output& out = outputs_[i];
    out.started = Clock::now();
    if (auto* img = std::get_if<graph::ImageSource>(&v.op)) {
      out.key = KeyOf(i, "");
      if (img->manifest_digest.empty()) return Status::Ok();  // scratch: the empty file system
      // The base image's layers (in the store since it was pulled) stand for it until a step needs its files.
      KILN_ASSIGN(std::string mtext, content_->Read(img->manifest_digest));
      KILN_ASSIGN(oci::Manifest m, oci::ManifestFromJson(mtext));
      KILN_ASSIGN(std::string ctext, content_->Read(m.config.digest));
      KILN_ASSIGN(oci::ImageConfig c, oci::ImageConfigFromJson(ctext));
      if (m.layers.size() != c.diff_ids.size()) return Status::Error(v.name + ": the image's manifest and config disagree on its layers");
      out.materialized = false;
      for (size_t l = 0; l < m.layers.size(); l++) out.layers.push_back({m.layers[l], c.diff_ids[l]});
      return Status::Ok();
    }
    if (auto* local = std::get_if<graph::LocalSource>(&v.op)) {
      out.local_dir = local->path;
      auto m = PatternMatcher::FromPatterns(local->exclude_patterns);
      if (!m.ok()) return m.status().Prefixed(".dockerignore");
      out.exclude = std::make_shared<PatternMatcher>(std::move(*m));
      KILN_ASSIGN(out.digests, StatDigestCache::Load(metadata_, local->path));
      out.key = KeyOf(i, "");
      return Status::Ok();
    }
    if (std::holds_alternative<graph::HttpSource>(v.op) || std::holds_alternative<graph::GitSource>(v.op)) {
      return Fetch(i);
    }

    // The entitlement is checked before the cache: a step run once with it is not reused without it.
    if (auto* exec = std::get_if<graph::ExecOp>(&v.op); exec && exec->security == "insecure" && !o_.allow_insecure) {
      return Fail(out.number, v,
                  Status::Error("entitlement security.insecure is not allowed: RUN --security=insecure needs kiln "
                                "build --allow security.insecure"),
                  -1, "", out.started);
    }
    // A COPY from the context, or a RUN that binds part of it, is keyed by the content of the files it reads.
    auto content = ContextContent(i, nullptr);
    if (!content.ok()) return Fail(out.number, v, content.status(), -1, "", out.started);
    out.key = KeyOf(i, *content);

    out.step = StepReport{v.name, v.digest, out.key, false, 0, "", "", {}};
    bool input_skips = false;
    for (size_t in : v.inputs) input_skips = input_skips || outputs_[in].skip_cache;
    out.skip_cache = o_.no_cache || v.ignore_cache || input_skips;
    if (out.skip_cache) {
      out.step.miss_reason = o_.no_cache ? "--no-cache" : v.ignore_cache ? "--no-cache-filter" : "an input ran again (--no-cache-filter)";
      out.pending = true;
      return Status::Ok();
    }
    KILN_ASSIGN(auto hit, cache_->Lookup(out.key));
    if (hit) {
      out.snapshot = *hit;
      out.step.cached = true;
      return Status::Ok();
    }
    // Imported cache: the record's layers stand for the result until a later step needs its files.
    for (cache::RemoteSource* source : o_.remote_caches) {
      auto record = source->Lookup(out.key);
      if (!record) continue;
      out.materialized = false;
      out.layers = std::move(record->layers);
      out.created = record->created;
      out.source = source;
      out.step.cached = true;
      out.step.cache_source = source->Describe();
      return Status::Ok();
    }
    out.step.miss_reason = "no cache record for this step with these inputs";
    out.pending = true;
    return Explain(i);
  }

  /// ADD's remote sources are fetched in pass one: what they hold is part of the key of the copy that reads them,
  /// which then reads them as it reads the build context.
  Status Fetch(size_t i) {
    const graph::Vertex& v = g_.at(i);
    Output& out = outputs_[i];
    auto dir = snapshotter_->FetchDir();
    if (!dir.ok()) return Fail(out.number, v, dir.status(), -1, "", out.started);
    out.fetched = std::make_shared<TempDir>(std::move(*dir));
    auto cancelled = [this] { return Cancelled(); };
    auto* http = std::get_if<graph::HttpSource>(&v.op);
    std::string memo_dir = JoinPath(snapshotter_->root(), "downloads");
    auto fetched = http ? FetchHttp(*http, out.fetched->path(), *content_, memo_dir, cancelled)
                        : FetchGit(std::get<graph::GitSource>(v.op), out.fetched->path(), cancelled);
    if (!fetched.ok()) return Fail(out.number, v, fetched.status(), -1, "", out.started);
    out.local_dir = fetched->dir;
    out.key = KeyOf(i, fetched->identity);
    out.fetch_seconds = Seconds(out.started);
    return Status::Ok();
  }

  /// The digests of the local files step `i` reads (COPY sources, bind mounts of the context or a named context
  /// directory), one per read;
  /// with `entries`, also each file's own digest by its path.
  Result<std::string> ContextContent(size_t i, std::map<std::string, std::string>* entries) {
    const graph::Vertex& v = g_.at(i);
    std::string content;
    auto add = [&](size_t input, const std::vector<std::string>& paths, bool parents) -> Status {
      const Output& src = outputs_[v.inputs.at(input)];
      // A download or checkout is named by its own key already (its digest, its commit): not read twice.
      if (src.local_dir.empty() || src.fetched) return Status::Ok();
      KILN_ASSIGN(std::string sum, ChecksumSources(CopySource{src.local_dir, src.exclude.get(), src.digests.get()},
                                                   paths, entries, parents));
      content += sum;
      return Status::Ok();
    };
    if (auto* file = std::get_if<graph::FileOp>(&v.op)) {
      for (auto& a : file->actions)
        if (auto* copy = std::get_if<graph::CopyAction>(&a)) KILN_TRY(add(copy->source_input, copy->sources, copy->parents));
    } else if (auto* exec = std::get_if<graph::ExecOp>(&v.op)) {
      for (auto& m : exec->mounts)
        if (m.type == graph::ExecMount::Type::kBind && m.input) {
          KILN_TRY(add(*m.input, {m.source.empty() || m.source == "/" ? "." : m.source.substr(1)}, false));
        }
    }
    return content;
  }

  /// For a step that missed: what its key is made of, and what differs from the step's previous record. Only
  /// misses pay for this (the context files are listed again, through the stat cache).
  Status Explain(size_t i) {
    const graph::Vertex& v = g_.at(i);
    Output& out = outputs_[i];
    if (v.step_id.empty()) return Status::Ok();
    cache::Fingerprint& f = out.fingerprint;
    Json op = graph::OpToJson(v.op);
    if (auto* exec = std::get_if<graph::ExecOp>(&v.op)) {
      op.erase("env");
      for (auto& e : exec->env) {
        size_t eq = e.find('=');
        f.env[e.substr(0, eq)] = DigestOf(eq == std::string::npos ? "" : e.substr(eq + 1)).substr(7, 16);
      }
    }
    f.instruction = DigestOf(DigestText(op));
    f.arg_names = v.arg_names;
    for (size_t in : v.inputs) f.inputs.push_back(outputs_[in].key);
    KILN_TRY(ContextContent(i, &f.files).status());
    KILN_ASSIGN(auto before, metadata_->LatestStepHistory(v.step_id));
    if (!before) return Status::Ok();
    auto parsed = cache::Fingerprint::FromJson(Json::parse(*before, nullptr, false));
    if (parsed.ok()) out.changes = cache::Compare(*parsed, f);
    return Status::Ok();
  }

  /// "changed: ..." texts for a step about to run; its inputs have run, so they have their numbers.
  std::vector<std::string> DescribeChanges(size_t i) {
    const graph::Vertex& v = g_.at(i);
    return cache::Describe(outputs_[i].changes, 5, [&](size_t input) -> std::string {
      size_t in = v.inputs.at(input);
      if (auto* img = std::get_if<graph::ImageSource>(&g_.at(in).op)) return "base image " + img->manifest_digest;
      return "input step #" + std::to_string(outputs_[in].number);
    });
  }

  /// Pass two: shows a vertex and, when it missed the cache, runs it. `need_files`: a step that runs next uses its
  /// file system, so a base image is unpacked now.
  Status Execute(size_t i, bool need_files) {
    const graph::Vertex& v = g_.at(i);
    Output& out = outputs_[i];
    auto t0 = Clock::now();
    if (auto* img = std::get_if<graph::ImageSource>(&v.op)) {
      if (img->manifest_digest.empty()) return Status::Ok();
      bool extracted = false;
      if (need_files) {
        std::vector<oci::Descriptor> blobs;
        std::vector<std::string> diff_ids;
        for (auto& l : out.layers) {
          blobs.push_back(l.blob);
          diff_ids.push_back(l.diff_id);
        }
        auto unpacked = snapshot::UnpackLayers(blobs, diff_ids, *content_, *metadata_, *snapshotter_, &extracted);
        if (!unpacked.ok()) return Fail(out.number, v, unpacked.status(), -1, "", t0);
        out.snapshot = *unpacked;
        out.materialized = true;
      }
      if (extracted) {
        Emit(progress::Event::Kind::kStarted, out.number, v);
        Emit(progress::Event::Kind::kDone, out.number, v, "", Seconds(t0));
      } else {
        Emit(progress::Event::Kind::kCached, out.number, v, "", Seconds(t0));
      }
      return Status::Ok();
    }
    if (std::holds_alternative<graph::LocalSource>(v.op)) return Status::Ok();
    if (out.fetched) {  // fetched in pass one
      Emit(progress::Event::Kind::kStarted, out.number, v);
      Emit(progress::Event::Kind::kDone, out.number, v, "", out.fetch_seconds);
      return Status::Ok();
    }
    StepReport& step = out.step;
    out.reported = true;
    if (!out.pending) {
      step.duration = Seconds(out.started);
      Emit(progress::Event::Kind::kCached, out.number, v, "", step.duration);
      return Status::Ok();
    }

    step.changes = DescribeChanges(i);
    Emit(progress::Event::Kind::kStarted, out.number, v, "", 0, 1, step.changes);
    // Another build (or another vertex of this one with the same key) may be running this very step: wait for
    // it, then take its result instead of doing the work twice.
    bool waited = false;
    auto lock = store::KeyLock::Acquire(snapshotter_->root(), out.key, [this] { return Cancelled(); }, &waited);
    if (!lock.ok()) return Fail(out.number, v, lock.status(), -1, "", t0);
    if (waited && !out.skip_cache) {
      auto hit = cache_->Lookup(out.key);
      if (!hit.ok()) return Fail(out.number, v, hit.status(), -1, "", t0);
      if (*hit) {
        out.snapshot = **hit;
        out.pending = false;
        step.cached = true;
        step.miss_reason.clear();
        step.cache_source = "another build, run while this one waited";
        step.duration = Seconds(t0);
        Emit(progress::Event::Kind::kDone, out.number, v, "", step.duration);
        return Status::Ok();
      }
    }
    auto parent_snapshot = Materialize(v.inputs.at(0));
    if (!parent_snapshot.ok()) return Fail(out.number, v, parent_snapshot.status(), -1, "", t0);
    KILN_ASSIGN(snapshot::ActiveSnapshot active, snapshotter_->Prepare(*parent_snapshot));
    std::string tail;
    int exit_code = -1;
    // A failure returns with `active` uncommitted: it discards itself.
    Status st = RunOp(v, active, out.number, tail, exit_code);
    if (!st.ok()) {
      Status failed = Fail(out.number, v, st, exit_code, tail, t0);
      KeepFailedState(v, active, exit_code);
      return failed;
    }
    if (std::holds_alternative<graph::ExecOp>(v.op)) {
      Status trimmed = snapshotter_->TrimCopyUps(active);
      if (!trimmed.ok()) return Fail(out.number, v, trimmed, -1, "", t0);
    }
    // Kept even when nothing changed: BuildKit gives such a step an empty layer too (diff id sha256:5f70bf18...).
    KILN_TRY(snapshotter_->Commit(active));
    out.snapshot = active.id;
    out.pending = false;
    KILN_TRY(cache_->Record(out.key, out.snapshot, v.name));
    // Only a step whose miss was explained has its fingerprint (not under --no-cache).
    if (!v.step_id.empty() && !out.fingerprint.instruction.empty()) {
      KILN_TRY(metadata_->AddStepHistory(v.step_id, out.key, DumpLenient(out.fingerprint.ToJson())));
    }
    step.duration = Seconds(t0);
    Emit(progress::Event::Kind::kDone, out.number, v, "", step.duration);
    return Status::Ok();
  }

  /// A RUN that failed with an exit code (not cancelled) keeps its file system for `kiln debug`: committed, with no
  /// cache record, and handed to the caller in the failure. Only the build's own failure is kept.
  void KeepFailedState(const graph::Vertex& v, snapshot::ActiveSnapshot& active, int exit_code) {
    auto* exec = std::get_if<graph::ExecOp>(&v.op);
    if (!exec || exit_code < 0) return;
    std::lock_guard l(failure_mu_);
    if (!report_.failure || report_.failure->step != v.name || report_.failure->state != 0) return;
    if (!snapshotter_->Commit(active).ok()) return;  // then it is discarded as usual
    report_.failure->state = active.id;
    report_.failure->exec = *exec;
  }

  Status RunOp(const graph::Vertex& v, const snapshot::ActiveSnapshot& active, int& number, std::string& tail,
               int& exit_code) {
    if (auto* exec = std::get_if<graph::ExecOp>(&v.op)) return RunExec(v, *exec, active, number, tail, exit_code);
    if (std::holds_alternative<graph::MergeOp>(v.op)) return RunMerge(v, active);
    return RunFileOp(v, active);
  }

  Status RunExec(const graph::Vertex& v, const graph::ExecOp& exec, const snapshot::ActiveSnapshot& active,
                 int& number, std::string& tail, int& exit_code) {
    KILN_ASSIGN(snapshot::Mount root, snapshotter_->MountActive(active));
    executor::ExecSpec spec;
    spec.args = exec.args;
    spec.env = exec.env;
    spec.env.insert(spec.env.end(), exec.proxy_env.begin(), exec.proxy_env.end());
    if (!exec.hostname.empty()) spec.hostname = exec.hostname;
    spec.container = exec.container;
    spec.cwd = exec.cwd;
    spec.user = exec.user;
    spec.network = exec.network;
    spec.security = exec.security;
    spec.memory_limit = o_.memory_limit;
    spec.pids_limit = o_.pids_limit;
    spec.cgroup_parent = o_.cgroup_parent;
    spec.devices = exec.devices;
    spec.allow_devices = o_.allow_devices;
    std::vector<std::string> used;  // the values this step is given, to mask in its output
    for (auto& m : exec.secrets) {
      auto it = o_.secrets.find(m.id);
      if (it == o_.secrets.end()) {
        // As BuildKit: a missing secret that is not required is simply not there.
        if (m.required) {
          return Status::Error("secret " + m.id + ": not found: it is required; pass it with --secret id=" + m.id + ",...");
        }
        continue;
      }
      used.push_back(it->second);
      if (!m.target.empty()) spec.secrets.push_back({m.target, it->second, m.mode, m.uid, m.gid});
      if (!m.env.empty()) spec.secret_env.push_back(m.env + "=" + it->second);
    }
    MountResources resources;  // alive until the process is gone
    KILN_TRY(PrepareMounts(v, exec, spec, resources));
    Redactor redact[2] = {Redactor(used), Redactor(used)};  // stdout, stderr: text held back stays on its stream
    executor::ExecIO io;
    io.cancelled = [this] { return Cancelled(); };
    std::string limit;
    io.limit_reached = &limit;
    auto show = [&](int fd, const std::string& text) {
      if (text.empty()) return;
      tail.append(text);
      if (tail.size() > 8192) tail.erase(0, tail.size() - 8192);
      Emit(progress::Event::Kind::kLog, number, v, text, 0, fd);
    };
    io.on_output = [&](int fd, std::string_view data) { show(fd, redact[fd == 2].Feed(data)); };
    auto run = executor_->Run(root.path(), spec, io);
    show(1, redact[0].Flush());
    show(2, redact[1].Flush());
    KILN_ASSIGN(int code, std::move(run));
    KILN_TRY(root.Unmount());
    if (Cancelled()) return Status::Error("build cancelled");
    if (code != 0) {
      exit_code = code;
      std::string cmd;
      for (auto& a : exec.args) cmd += (cmd.empty() ? "" : " ") + a;
      // Rootless without subordinate ids, only id 0 exists in the container: a chown to any other fails there.
      std::string ids = InUserNamespace() && MappedIds() == 1 ? " (if it needed an id other than 0: it " + NoSubordinateIds() + ")" : "";
      return Status::Error("process \"" + cmd + "\" did not complete successfully: exit code: " +
                           std::to_string(code) + (limit.empty() ? "" : " (" + limit + ")") + ids);
    }
    return Status::Ok();
  }

  /// What a step's mounts hold while it runs: mounted file systems, writable copies thrown away afterwards, and
  /// cache directories in use. Destroyed in reverse: unmounted before the copies beneath them go.
  struct MountResources {
    std::vector<snapshot::ActiveSnapshot> scratch;
    std::vector<snapshot::Mount> mounts;
    std::vector<store::CacheMountLease> leases;
  };

  /// Turns the step's bind, cache, tmpfs and ssh mounts into what the runtime mounts.
  Status PrepareMounts(const graph::Vertex& v, const graph::ExecOp& exec, executor::ExecSpec& spec,
                       MountResources& res) {
    using Type = graph::ExecMount::Type;
    for (auto& m : exec.mounts) {
      switch (m.type) {
        case Type::kTmpfs:
          spec.tmpfs.push_back({m.target, m.size});
          break;
        case Type::kSsh: {
          auto it = o_.ssh_agents.find(m.id);
          if (it == o_.ssh_agents.end()) {
            // As BuildKit: an ssh mount that is not required is simply left out when the build has no such agent.
            if (m.required) return Status::Error("ssh agent \"" + m.id + "\" is required but was not given (kiln build --ssh " + m.id + "[=SOCKET|KEY])");
            continue;
          }
          spec.ssh.push_back({it->second, m.target, m.mode, m.uid, m.gid});
          break;
        }
        case Type::kBind: {
          KILN_ASSIGN(std::string root, MountSource(v.inputs.at(*m.input), m.source, m.readonly, res));
          auto host = snapshot::ResolveInRoot(root, m.source.empty() ? "/" : m.source);
          if (!host.ok() || !PathExists(*host)) {
            return Status::Error("--mount=type=bind: source " + (m.source.empty() ? "/" : m.source) + " not found in " +
                                 g_.at(v.inputs.at(*m.input)).name);
          }
          spec.binds.push_back({*host, m.target, m.readonly});
          break;
        }
        case Type::kCache: {
          if (!cache_mounts_) return Status::Error("cache mounts are not available here");
          store::CacheMounts::Request r;
          r.id = m.id;
          r.sharing = m.sharing;
          r.mode = m.mode;
          r.uid = m.uid;
          r.gid = m.gid;
          // As BuildKit: a step that skips the cache starts from an empty cache directory, which the steps after
          // it then share.
          r.fresh = outputs_[&v - g_.vertices().data()].skip_cache;
          if (m.input) {
            size_t in = v.inputs.at(*m.input);
            r.seed_key = outputs_[in].key + " " + m.source;
            r.seed = [&, in](const std::string& dir) -> Status {
              KILN_ASSIGN(std::string root, MountSource(in, m.source, true, res));
              KILN_ASSIGN(std::string from, snapshot::ResolveInRoot(root, m.source.empty() ? "/" : m.source));
              if (!IsDirectory(from)) return Status::Error("--mount=type=cache: from= source " + m.source + " is not a directory");
              // The cache's root is a copy of the source directory: its mode and owner too, as in BuildKit.
              struct stat st;
              if (stat(from.c_str(), &st) != 0) return ErrnoError("stat", from);
              if (chmod(dir.c_str(), st.st_mode & 07777) != 0 || chown(dir.c_str(), st.st_uid, st.st_gid) != 0)
                return ErrnoError("set owner and mode of", dir);
              return snapshot::CopyDirContents(from, dir, "", {});
            };
          }
          KILN_ASSIGN(store::CacheMountLease lease, cache_mounts_->Acquire(r, [this] { return Cancelled(); }));
          spec.binds.push_back({lease.dir(), m.target, m.readonly});
          res.leases.push_back(std::move(lease));
          break;
        }
      }
    }
    return Status::Ok();
  }

  /// A host directory showing vertex `i`'s file system (or, for the build context, `path` of it, .dockerignore
  /// applied), for a mount; writable copies when `!readonly`, thrown away with `res`.
  Result<std::string> MountSource(size_t i, const std::string& path, bool readonly, MountResources& res) {
    const Output& src = outputs_[i];
    if (!src.local_dir.empty() && readonly && (!src.exclude || src.exclude->empty())) return src.local_dir;
    if (!src.local_dir.empty()) {
      // The context: the files as BuildKit would send them, in a scratch layer that is discarded afterwards. The
      // path is kept, so the caller's lookup of `path` finds the copy.
      KILN_ASSIGN(snapshot::ActiveSnapshot copy, snapshotter_->Prepare(0));
      std::string dest = JoinPath(copy.diff_dir, CleanPath("/" + path));
      KILN_TRY(MakeDirs(DirName(dest)));
      KILN_TRY(CopySourcePath(CopySource{src.local_dir, src.exclude.get()}, path, dest));
      res.scratch.push_back(std::move(copy));
      return res.scratch.back().diff_dir;
    }
    KILN_ASSIGN(SnapshotId snapshot, Materialize(i));
    if (readonly) {
      KILN_ASSIGN(snapshot::Mount view, snapshotter_->MountReadOnly(snapshot));
      res.mounts.push_back(std::move(view));
      return res.mounts.back().path();
    }
    KILN_ASSIGN(snapshot::ActiveSnapshot copy, snapshotter_->Prepare(snapshot));
    KILN_ASSIGN(snapshot::Mount view, snapshotter_->MountActive(copy));
    res.scratch.push_back(std::move(copy));
    res.mounts.push_back(std::move(view));
    return res.mounts.back().path();
  }

  /// File ops write the new layer directly: an overlay mount would make every file creation much slower.
  Status RunFileOp(const graph::Vertex& v, const snapshot::ActiveSnapshot& active) {
    KILN_ASSIGN(snapshot::Mount lower, snapshotter_->MountReadOnly(active.parent));
    snapshot::LayerTarget dest{lower.path(), active.diff_dir};
    for (auto& a : std::get<graph::FileOp>(v.op).actions) {
      if (auto* copy = std::get_if<graph::CopyAction>(&a)) {
        const Output& src = outputs_[v.inputs.at(copy->source_input)];
        if (!src.local_dir.empty()) {
          KILN_TRY(RunCopy(*copy, CopySource{src.local_dir, src.exclude.get()}, dest));
        } else {
          KILN_ASSIGN(SnapshotId from_snapshot, Materialize(v.inputs.at(copy->source_input)));
          KILN_ASSIGN(snapshot::Mount from, snapshotter_->MountReadOnly(from_snapshot));
          KILN_TRY(RunCopy(*copy, CopySource{from.path(), nullptr}, dest));
        }
      } else if (auto* mkdir = std::get_if<graph::MkdirAction>(&a)) {
        KILN_TRY(RunMkdir(*mkdir, dest));
      } else {
        KILN_TRY(RunMkfile(std::get<graph::MkfileAction>(a), dest));
      }
    }
    return Status::Ok();
  }

  /// The layers of the second input (a COPY --link made on scratch) become this step's layer: linked, not copied,
  /// so that the step costs no file data and its layer has the same content whatever it lands on.
  Status RunMerge(const graph::Vertex& v, const snapshot::ActiveSnapshot& active) {
    KILN_ASSIGN(SnapshotId layer, Materialize(v.inputs.at(1)));
    KILN_ASSIGN(auto chain, snapshotter_->Chain(layer));
    snapshot::CopyOptions link;
    link.link_files = true;
    for (SnapshotId id : chain) KILN_TRY(snapshot::CopyDirContents(snapshotter_->DiffDir(id), active.diff_dir, "", link));
    return Status::Ok();
  }

  /// The snapshot of vertex `i`'s result: an imported cache record's layers are fetched and unpacked now (each
  /// layer chain once), and recorded locally so that the next build hits without the import.
  Result<SnapshotId> Materialize(size_t i) {
    Output& out = outputs_[i];
    std::lock_guard l(materialize_mu_[i]);  // two steps may need the same input at once
    if (out.materialized) return out.snapshot;
    std::vector<oci::Descriptor> blobs;
    std::vector<std::string> diff_ids;
    for (auto& layer : out.layers) {
      if (!content_->Has(layer.blob.digest)) {
        if (!out.source) return Status::Error("layer " + layer.blob.digest + " is missing from the store");
        KILN_TRY(out.source->Fetch(layer).Prefixed(out.source->Describe()));
      }
      blobs.push_back(layer.blob);
      diff_ids.push_back(layer.diff_id);
    }
    KILN_ASSIGN(out.snapshot, snapshot::UnpackLayers(blobs, diff_ids, *content_, *metadata_, *snapshotter_));
    out.materialized = true;
    // A record fetched from imported cache is kept locally: the next build hits without the import.
    if (out.source) KILN_TRY(cache_->Record(out.key, out.snapshot, g_.at(i).name));
    return out.snapshot;
  }

  Status Fail(int& number, const graph::Vertex& v, const Status& st, int exit_code, const std::string& tail,
              Clock::time_point t0) {
    std::string where = v.location.empty() ? v.name : v.location + ": " + v.name.substr(v.name.find("] ") == std::string::npos ? 0 : v.name.find("] ") + 2);
    {
      // The first failure is the build's; the steps it cancels fail too, but only as "cancelled".
      std::lock_guard l(failure_mu_);
      if (failed_) {
        Emit(progress::Event::Kind::kCanceled, number, v, "", Seconds(t0));
        return Status::Error(where + ": cancelled");
      }
      failed_ = true;
      report_.failure = StepFailure{v.name, exit_code, tail, 0, std::nullopt};
      failure_ = Status::Error(where + ": " + st.message());
    }
    Emit(progress::Event::Kind::kError, number, v, st.message(), Seconds(t0));
    return failure_;
  }

  const graph::Graph& g_;
  const SolveOptions& o_;
  const store::ContentStore* content_;
  store::Metadata* metadata_;
  cache::Cache* cache_;
  snapshot::Snapshotter* snapshotter_;
  executor::Runtime* executor_;
  store::CacheMounts* cache_mounts_;
  Clock::time_point start_;
  std::vector<Output> outputs_;
  std::unique_ptr<std::mutex[]> materialize_mu_;  // one per vertex
  SolveReport report_;
  std::mutex failure_mu_;
  Status failure_;  // the first step's failure
  std::atomic<bool> failed_{false};
  std::atomic<int> step_number_{0};
  int total_steps_ = 0;
};

}  // namespace

SolveReport Solver::Solve(const graph::Graph& graph, size_t target, const SolveOptions& options) {
  return Solve(graph, std::vector<size_t>{target}, options);
}

SolveReport Solver::Solve(const graph::Graph& graph, const std::vector<size_t>& targets, const SolveOptions& options) {
  Job job(graph, options, content_, metadata_, &cache_, snapshotter_, executor_, cache_mounts_);
  return job.Run(targets);
}

}  // namespace kiln::solver
