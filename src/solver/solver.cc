#include "solver/solver.h"

#include <chrono>
#include <memory>
#include <set>

#include "base/digest.h"
#include "base/fs.h"
#include "base/pattern.h"
#include "base/redact.h"
#include "oci/image.h"
#include "snapshot/unpack.h"
#include "solver/file_op.h"

namespace kiln::solver {
namespace {

using Clock = std::chrono::steady_clock;
using store::SnapshotId;

double Seconds(Clock::time_point from) {
  return std::chrono::duration<double>(Clock::now() - from).count();
}

/// What a solved vertex yields: a snapshot, or (for a local source) a host directory.
struct Output {
  SnapshotId snapshot = 0;
  std::string local_dir;
  std::shared_ptr<PatternMatcher> exclude;
  std::string key;
};

/// One solve: the state of a single Solve call.
class Job {
 public:
  Job(const graph::Graph& g, const SolveOptions& o, const store::ContentStore* content, store::Metadata* metadata,
      cache::Cache* cache, snapshot::Snapshotter* snapshotter, executor::Executor* executor)
      : g_(g), o_(o), content_(content), metadata_(metadata), cache_(cache), snapshotter_(snapshotter),
        executor_(executor), start_(Clock::now()) {}

  SolveReport Run(size_t target) {
    std::vector<bool> needed(g_.vertices().size(), false);
    needed[target] = true;
    for (size_t i = target + 1; i-- > 0;)
      if (needed[i])
        for (size_t in : g_.at(i).inputs) needed[in] = true;
    outputs_.resize(g_.vertices().size());
    // The steps progress will show: every op, and base images (scratch and the context are not shown).
    for (size_t i = 0; i <= target; i++) {
      if (!needed[i] || std::holds_alternative<graph::LocalSource>(g_.at(i).op)) continue;
      auto* img = std::get_if<graph::ImageSource>(&g_.at(i).op);
      if (!img || !img->manifest_digest.empty()) total_steps_++;
    }
    for (size_t i = 0; i <= target; i++) {
      if (!needed[i]) continue;
      if (o_.cancelled && o_.cancelled()) {
        report_.status = Status::Error("build cancelled");
        break;
      }
      Status st = SolveVertex(i);
      if (!st.ok()) {
        report_.status = st;
        break;
      }
      report_.results[i] = outputs_[i].snapshot;
    }
    if (o_.progress) o_.progress->Finish();
    return std::move(report_);
  }

 private:
  void Emit(progress::Event::Kind kind, int& number, const graph::Vertex& v, std::string data = "",
            double duration = 0, int stream = 1) {
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
    o_.progress->Emit(e);
  }

  std::string KeyOf(size_t i, const std::string& extra) {
    const graph::Vertex& v = g_.at(i);
    Json j = {{"op", graph::OpToJson(v.op)}, {"inputs", Json::array()}, {"content", extra}};
    // Local sources are keyed by what they hold, not where they are: drop the path.
    if (std::holds_alternative<graph::LocalSource>(v.op)) j["op"].erase("path");
    for (size_t in : v.inputs) j["inputs"].push_back(outputs_[in].key);
    return DigestOf(DigestText(j));
  }

  Status SolveVertex(size_t i) {
    const graph::Vertex& v = g_.at(i);
    Output& out = outputs_[i];
    int number = 0;  // given when the step is first shown
    auto t0 = Clock::now();

    if (auto* img = std::get_if<graph::ImageSource>(&v.op)) {
      out.key = KeyOf(i, "");
      if (img->manifest_digest.empty()) return Status::Ok();  // scratch: nothing to show or unpack
      bool extracted = false;
      auto unpacked = UnpackImage(img->manifest_digest, &extracted);
      if (!unpacked.ok()) return Fail(number, v, unpacked.status(), -1, "", t0);
      out.snapshot = *unpacked;
      if (extracted) {
        Emit(progress::Event::Kind::kStarted, number, v);
        Emit(progress::Event::Kind::kDone, number, v, "", Seconds(t0));
      } else {
        Emit(progress::Event::Kind::kCached, number, v, "", Seconds(t0));
      }
      return Status::Ok();
    }
    if (auto* local = std::get_if<graph::LocalSource>(&v.op)) {
      out.local_dir = local->path;
      auto m = PatternMatcher::FromPatterns(local->exclude_patterns);
      if (!m.ok()) return m.status().Prefixed(".dockerignore");
      out.exclude = std::make_shared<PatternMatcher>(std::move(*m));
      out.key = KeyOf(i, "");
      return Status::Ok();
    }

    // A COPY from the context is keyed by the content of the files it reads.
    std::string content;
    if (auto* file = std::get_if<graph::FileOp>(&v.op)) {
      for (auto& a : file->actions) {
        auto* copy = std::get_if<graph::CopyAction>(&a);
        if (!copy) continue;
        const Output& src = outputs_[v.inputs.at(copy->source_input)];
        if (src.local_dir.empty()) continue;
        auto sum = ChecksumSources(CopySource{src.local_dir, src.exclude.get()}, copy->sources);
        if (!sum.ok()) return Fail(number, v, sum.status(), -1, "", t0);
        content += *sum;
      }
    }
    out.key = KeyOf(i, content);

    StepReport step{v.name, v.digest, out.key, false, 0, ""};
    if (o_.no_cache) {
      step.miss_reason = "--no-cache";
    } else {
      KILN_ASSIGN(auto hit, cache_->Lookup(out.key));
      if (hit) {
        out.snapshot = *hit;
        step.cached = true;
        step.duration = Seconds(t0);
        report_.steps.push_back(step);
        Emit(progress::Event::Kind::kCached, number, v, "", step.duration);
        return Status::Ok();
      }
      step.miss_reason = "no cache record for this step with these inputs";
    }

    Emit(progress::Event::Kind::kStarted, number, v);
    SnapshotId parent = outputs_[v.inputs.at(0)].snapshot;
    KILN_ASSIGN(snapshot::ActiveSnapshot active, snapshotter_->Prepare(parent));
    std::string tail;
    int exit_code = -1;
    Status st = RunOp(v, active, number, tail, exit_code);
    if (!st.ok()) {
      (void)snapshotter_->Discard(active);
      return Fail(number, v, st, exit_code, tail, t0);
    }
    if (std::holds_alternative<graph::ExecOp>(v.op)) {
      Status trimmed = snapshotter_->TrimCopyUps(active);
      if (!trimmed.ok()) {
        (void)snapshotter_->Discard(active);
        return Fail(number, v, trimmed, -1, "", t0);
      }
    }
    // Kept even when nothing changed: BuildKit gives such a step an empty layer too (diff id sha256:5f70bf18...).
    KILN_TRY(snapshotter_->Commit(active));
    out.snapshot = active.id;
    KILN_TRY(cache_->Record(out.key, out.snapshot, v.name));
    step.duration = Seconds(t0);
    report_.steps.push_back(step);
    Emit(progress::Event::Kind::kDone, number, v, "", step.duration);
    return Status::Ok();
  }

  Status RunOp(const graph::Vertex& v, const snapshot::ActiveSnapshot& active, int& number, std::string& tail,
               int& exit_code) {
    if (auto* exec = std::get_if<graph::ExecOp>(&v.op)) return RunExec(v, *exec, active, number, tail, exit_code);
    return RunFileOp(v, active);
  }

  Status RunExec(const graph::Vertex& v, const graph::ExecOp& exec, const snapshot::ActiveSnapshot& active,
                 int& number, std::string& tail, int& exit_code) {
    KILN_ASSIGN(snapshot::Mount root, snapshotter_->MountActive(active));
    executor::ExecSpec spec;
    spec.args = exec.args;
    spec.env = exec.env;
    spec.cwd = exec.cwd;
    spec.user = exec.user;
    spec.network = exec.network;
    std::vector<std::string> used;  // the values this step is given, to mask in its output
    for (auto& m : exec.secrets) {
      auto it = o_.secrets.find(m.id);
      if (it == o_.secrets.end()) {
        // As BuildKit: a missing secret that is not required is simply not there.
        if (m.required) return Status::Error("secret \"" + m.id + "\" is required but was not provided (--secret id=" + m.id + ",...)");
        continue;
      }
      used.push_back(it->second);
      if (!m.target.empty()) spec.secrets.push_back({m.target, it->second, m.mode, m.uid, m.gid});
      if (!m.env.empty()) spec.secret_env.push_back(m.env + "=" + it->second);
    }
    Redactor redact[2] = {Redactor(used), Redactor(used)};  // stdout, stderr: text held back stays on its stream
    executor::ExecIO io;
    io.cancelled = o_.cancelled;
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
    if (o_.cancelled && o_.cancelled()) return Status::Error("build cancelled");
    if (code != 0) {
      exit_code = code;
      std::string cmd;
      for (auto& a : exec.args) cmd += (cmd.empty() ? "" : " ") + a;
      return Status::Error("process \"" + cmd + "\" did not complete successfully: exit code: " +
                           std::to_string(code));
    }
    return Status::Ok();
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
          KILN_ASSIGN(snapshot::Mount from, snapshotter_->MountReadOnly(src.snapshot));
          KILN_TRY(RunCopy(*copy, CopySource{from.path(), nullptr}, dest));
        }
      } else {
        KILN_TRY(RunMkdir(std::get<graph::MkdirAction>(a), dest));
      }
    }
    return Status::Ok();
  }

  Result<SnapshotId> UnpackImage(const std::string& manifest_digest, bool* extracted) {
    KILN_ASSIGN(std::string mtext, content_->Read(manifest_digest));
    KILN_ASSIGN(oci::Manifest m, oci::ManifestFromJson(mtext));
    KILN_ASSIGN(std::string ctext, content_->Read(m.config.digest));
    KILN_ASSIGN(oci::ImageConfig c, oci::ImageConfigFromJson(ctext));
    return snapshot::UnpackImage(m, c, *content_, *metadata_, *snapshotter_, extracted);
  }

  Status Fail(int& number, const graph::Vertex& v, const Status& st, int exit_code, const std::string& tail,
              Clock::time_point t0) {
    std::string where = v.location.empty() ? v.name : v.location + ": " + v.name.substr(v.name.find("] ") == std::string::npos ? 0 : v.name.find("] ") + 2);
    Emit(progress::Event::Kind::kError, number, v, st.message(), Seconds(t0));
    report_.failure = StepFailure{v.name, exit_code, tail};
    return Status::Error(where + ": " + st.message());
  }

  const graph::Graph& g_;
  const SolveOptions& o_;
  const store::ContentStore* content_;
  store::Metadata* metadata_;
  cache::Cache* cache_;
  snapshot::Snapshotter* snapshotter_;
  executor::Executor* executor_;
  Clock::time_point start_;
  std::vector<Output> outputs_;
  SolveReport report_;
  int step_number_ = 0;
  int total_steps_ = 0;
};

}  // namespace

SolveReport Solver::Solve(const graph::Graph& graph, size_t target, const SolveOptions& options) {
  Job job(graph, options, content_, metadata_, &cache_, snapshotter_, executor_);
  return job.Run(target);
}

}  // namespace kiln::solver
