// Running a process in a container: OCI runtime spec generation and the runtime (runc, or crun) itself.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "graph/graph.h"

namespace kiln::executor {

/// A secret given to the process as a read-only file. Its data lives in a tmpfs for the process's lifetime only:
/// never on disk, never in the root file system.
struct SecretFile {
  std::string target;  // absolute, in the container
  std::string data;
  uint32_t mode = 0400;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

/// A host file or directory shown in the container: a RUN bind or cache mount.
struct BindSpec {
  std::string source;  // on the host
  std::string target;  // absolute, in the container
  bool readonly = true;
};

/// A RUN --mount=type=tmpfs: memory the step may write to, gone when it ends.
struct TmpfsSpec {
  std::string target;
  int64_t size = 0;  // bytes; 0 for the kernel's default (half the memory)
};

/// An ssh agent forwarded into the container (RUN --mount=type=ssh): a socket at `target`, with its own mode and
/// owner, that relays each connection to the agent's socket on the host, which the container never sees.
struct SshSpec {
  std::string agent;   // the host's agent socket
  std::string target;  // absolute, in the container
  uint32_t mode = 0600;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct ExecSpec {
  std::vector<std::string> args;
  std::vector<std::string> env;  // "K=V"
  std::string cwd = "/";
  std::string user;              // resolved against the rootfs' /etc/passwd
  std::string network = "host";  // "host" shares the host's network; "none" has only loopback
  std::string hostname = "buildkitsandbox";  // BuildKit's, so RUN steps see the same name under both
  std::vector<SecretFile> secrets;
  /// "K=V" environment entries that hold secrets: kept off the disk like secret files.
  std::vector<std::string> secret_env;
  std::vector<BindSpec> binds;
  std::vector<TmpfsSpec> tmpfs;
  std::vector<SshSpec> ssh;
  /// Keep the container's stdio attached to ours (kiln run) instead of capturing it.
  bool interactive = false;
  /// "sandbox": Docker's default capabilities, no new privileges, Docker's default seccomp profile, masked and
  /// read-only /proc paths (as BuildKit's runc). "insecure" (RUN --security=insecure): every capability, none of
  /// the rest.
  std::string security = "sandbox";
  int64_t memory_limit = 0;  // bytes; 0: none
  int64_t pids_limit = 0;    // processes; 0: none
  graph::ContainerSettings container;  // --add-host, --shm-size, --ulimit
  /// The cgroup the container goes under, as a path below the cgroup root ("build.slice/ci"; --cgroup-parent):
  /// its limits then hold for the container too. "" for kiln's own place. As root only.
  std::string cgroup_parent;
  /// CDI devices (RUN --device), and whether the build allows devices (--allow device).
  std::vector<graph::DeviceRequest> devices;
  bool allow_devices = false;
};

struct ExecIO {
  /// Output chunks: fd 1 stdout, fd 2 stderr.
  std::function<void(int fd, std::string_view data)> on_output;
  std::function<bool()> cancelled;
  /// Set when the process reached a limit of ExecSpec (memory, processes), to say so in the error.
  std::string* limit_reached = nullptr;
};

/// What runs a build step's process: the OCI runtime (Executor), or a fake in tests (src/testing).
class Runtime {
 public:
  virtual ~Runtime() = default;
  /// Runs spec in `rootfs` (a mounted, writable root file system) and returns the process's exit code.
  virtual Result<int> Run(const std::string& rootfs, const ExecSpec& spec, const ExecIO& io) = 0;
};

class Executor : public Runtime {
 public:
  /// `state_dir` holds bundles and the runtime's state; `runtime` is "runc" or "crun" (or a path to one).
  Executor(std::string state_dir, std::string runtime);
  /// Deletes containers and bundles (with their secret tmpfs) left by kiln processes that died (kill -9) before
  /// they could clean up.
  void Recover();
  /// Runs spec in `rootfs` (a mounted, writable root file system). Returns the process's exit code. Mount points
  /// that the runtime had to create in rootfs (/etc/hosts, /proc...) are removed again, so no layer holds them.
  Result<int> Run(const std::string& rootfs, const ExecSpec& spec, const ExecIO& io) override;
  const std::string& runtime() const { return runtime_; }

 private:
  std::string state_dir_;
  std::string runtime_;
};

}  // namespace kiln::executor
