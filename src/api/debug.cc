// kiln debug: the file system a failed RUN step left, kept with what the step ran, to step into afterwards (a
// shell, or one command) or to look at from an agent (list and read its files).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <ctime>

#include "api/engine.h"
#include "api/engine_state.h"
#include "base/fs.h"
#include "snapshot/copy.h"
#include "store/lock.h"

namespace kiln::api {
namespace {

/// What a failed step ran, to run again in its file system: its command line, environment, working directory,
/// user, network and the mounts that can be made again (cache and tmpfs); the rest (bind, secret, ssh) are named
/// in "left_out". Secret values are never part of it.
Json SpecOf(const graph::ExecOp& op) {
  Json mounts = Json::array(), left_out = Json::array();
  for (auto& m : op.mounts) {
    if (m.type == graph::ExecMount::Type::kCache || m.type == graph::ExecMount::Type::kTmpfs) {
      mounts.push_back({{"type", graph::MountTypeName(m.type)}, {"target", m.target}, {"id", m.id},
                        {"sharing", m.sharing}, {"mode", m.mode}, {"uid", m.uid}, {"gid", m.gid},
                        {"readonly", m.readonly}, {"size", m.size}});
    } else {
      left_out.push_back(std::string(graph::MountTypeName(m.type)) + " " + m.target);
    }
  }
  for (auto& s : op.secrets) left_out.push_back("secret " + (s.target.empty() ? "env " + s.env : s.target));
  return {{"args", op.args}, {"env", op.env}, {"cwd", op.cwd}, {"user", op.user}, {"network", op.network},
          {"security", op.security}, {"mounts", mounts}, {"left_out", left_out}};
}

}  // namespace

bool Engine::KeepDebugState(const std::string& build_id, const solver::StepFailure& failure) {
  if (failure.state == 0 || !failure.exec) return false;
  // A step that failed because it filled the disk must not keep it full: its state goes when little room is left.
  struct statvfs fs;
  if (statvfs(s_->root.c_str(), &fs) == 0) {
    double free_bytes = double(fs.f_bavail) * double(fs.f_frsize), total = double(fs.f_blocks) * double(fs.f_frsize);
    if (free_bytes < 64.0 * (1 << 20) || free_bytes < total * 0.05) {
      (void)s_->snapshotter->Remove(failure.state);
      return false;
    }
  }
  store::DebugState d{build_id, failure.state, failure.step, DumpLenient(SpecOf(*failure.exec)), int64_t(time(nullptr))};
  // Without its record the snapshot is garbage: remove it now rather than at the next collection.
  if (s_->metadata->AddDebugState(d).ok()) return true;
  (void)s_->snapshotter->Remove(failure.state);
  return false;
}

Result<store::DebugState> Engine::FindDebugState(const std::string& build_id) {
  KILN_ASSIGN(auto d, s_->metadata->GetDebugState(build_id));
  if (!d) {
    return Status::Error(build_id.empty() ? "no failed step is kept: a RUN step that fails keeps its file system for kiln debug"
                                          : "build " + build_id + " has no failed step kept (only the last 5 are)");
  }
  auto rec = s_->metadata->GetSnapshot(d->snapshot);
  if (!rec.ok() || !rec->committed) return Status::Error("the kept state of build " + d->build_id + " was collected");
  return *d;
}

Result<int> Engine::Debug(const DebugRequest& req) {
  KILN_ASSIGN(store::StoreLock in_use, store::StoreLock::Shared(s_->root));  // no collection meanwhile
  KILN_ASSIGN(store::DebugState state, FindDebugState(req.build_id));
  Json spec_json = Json::parse(state.spec, nullptr, false);
  if (!spec_json.is_object()) return Status::Error("the kept state of build " + state.build_id + " is unreadable");
  executor::ExecSpec spec;
  spec.args = req.command.empty() ? std::vector<std::string>{"/bin/sh"} : req.command;
  spec.env = spec_json.value("env", std::vector<std::string>{});
  spec.cwd = spec_json.value("cwd", "/");
  spec.user = spec_json.value("user", "");
  spec.network = spec_json.value("network", "none");
  spec.security = spec_json.value("security", "sandbox");
  spec.interactive = req.interactive;
  spec.memory_limit = req.memory_limit;
  spec.pids_limit = req.pids_limit;
  std::vector<store::CacheMountLease> leases;
  for (auto& m : spec_json.value("mounts", Json::array())) {
    if (m.value("type", "") == "tmpfs") {
      spec.tmpfs.push_back({m.value("target", ""), m.value("size", int64_t(0))});
      continue;
    }
    store::CacheMounts::Request r;
    r.id = m.value("id", "");
    r.sharing = m.value("sharing", "shared");
    r.mode = m.value("mode", 0755u);
    r.uid = m.value("uid", 0u);
    r.gid = m.value("gid", 0u);
    KILN_ASSIGN(store::CacheMountLease lease, s_->cache_mounts->Acquire(r, req.cancelled));
    spec.binds.push_back({lease.dir(), m.value("target", ""), m.value("readonly", false)});
    leases.push_back(std::move(lease));
  }
  if (req.left_out) {
    for (auto& l : spec_json.value("left_out", Json::array())) req.left_out->push_back(l.get<std::string>());
  }
  // The kept state is not changed: the command runs on a writable layer thrown away afterwards.
  KILN_ASSIGN(snapshot::ActiveSnapshot scratch, s_->snapshotter->Prepare(state.snapshot));
  KILN_ASSIGN(snapshot::Mount root, s_->snapshotter->MountActive(scratch));
  executor::ExecIO io;
  io.on_output = req.on_output;
  io.cancelled = req.cancelled;
  return s_->executor->Run(root.path(), spec, io);
}

Result<std::vector<FileEntry>> Engine::ListFailedStepFiles(const std::string& build_id, const std::string& path,
                                                           size_t limit, bool* truncated) {
  KILN_ASSIGN(store::StoreLock in_use, store::StoreLock::Shared(s_->root));
  KILN_ASSIGN(store::DebugState state, FindDebugState(build_id));
  KILN_ASSIGN(snapshot::Mount root, s_->snapshotter->MountReadOnly(state.snapshot));
  return ListDirIn(root.path(), "the failed step of build " + state.build_id, path, limit, truncated);
}

Result<FileContent> Engine::ReadFailedStepFile(const std::string& build_id, const std::string& path,
                                               size_t max_bytes) {
  KILN_ASSIGN(store::StoreLock in_use, store::StoreLock::Shared(s_->root));
  KILN_ASSIGN(store::DebugState state, FindDebugState(build_id));
  KILN_ASSIGN(snapshot::Mount root, s_->snapshotter->MountReadOnly(state.snapshot));
  return ReadFileIn(root.path(), "the failed step of build " + state.build_id, path, max_bytes);
}

}  // namespace kiln::api
