#include "executor/executor.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/process.h"
#include "base/userns.h"
#include "executor/cdi.h"
#include "executor/limits.h"
#include "executor/seccomp.h"
#include "executor/ssh_relay.h"
#include "executor/user.h"
#include "snapshot/copy.h"

namespace kiln::executor {
namespace {

const std::vector<std::string> kDefaultCaps = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",     "CAP_FOWNER",           "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID",     "CAP_SETFCAP",          "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"};

// Paths the runtime mounts over; if the image lacks them, the runtime creates them and we must take them away.
const std::vector<std::string> kMountTargets = {"/proc", "/sys", "/dev", "/etc", "/etc/hosts", "/etc/resolv.conf"};

/// The size option of /dev/shm: --shm-size, or BuildKit's 64 MiB.
std::string ShmSize(int64_t bytes) { return bytes > 0 ? std::to_string(bytes / 1024) + "k" : "65536k"; }

Json BindMount(const std::string& dest, const std::string& src, bool readonly) {
  Json options = {"rbind", "rprivate"};
  if (readonly) options.push_back("ro");
  return {{"destination", dest}, {"type", "bind"}, {"source", src}, {"options", options}};
}

/// A file or directory of the host bound into the container.
struct Bind {
  std::string source;
  std::string target;
  bool readonly = true;
};

size_t Depth(const std::string& path) { return size_t(std::count(path.begin(), path.end(), '/')); }

/// The capabilities by number, for RUN --security=insecure (as Docker's --privileged: all kiln itself holds).
const std::vector<std::string> kCapsByNumber = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
    "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"};

/// Every capability in kiln's own bounding set: what a privileged container can be given.
const std::vector<std::string>& AllCaps() {
  static const std::vector<std::string> caps = [] {
    std::vector<std::string> out;
    auto status = ReadFile("/proc/self/status");
    size_t at = status.ok() ? status->find("CapBnd:") : std::string::npos;
    uint64_t bounding = at == std::string::npos ? 0 : strtoull(status->c_str() + at + 7, nullptr, 16);
    for (size_t n = 0; n < kCapsByNumber.size(); n++)
      if (bounding & (uint64_t(1) << n)) out.push_back(kCapsByNumber[n]);
    return out;
  }();
  return caps;
}

/// The runtime spec. `cgroup`: the container's cgroup path, inside the one that holds its limits ("" for the
/// runtime's default).
Result<Json> MakeSpec(const std::string& rootfs, const ExecSpec& spec, const User& user, const std::string& bundle,
                      const std::vector<Bind>& binds, const std::string& cgroup) {
  bool insecure = spec.security == "insecure";
  const std::vector<std::string>& cap_names = insecure ? AllCaps() : kDefaultCaps;
  Json caps = cap_names;
  Json empty = Json::array();
  Json process = {
      {"terminal", false},
      {"user", {{"uid", user.uid}, {"gid", user.gid}}},
      {"args", spec.args},
      {"env", spec.env},
      {"cwd", spec.cwd.empty() ? "/" : spec.cwd},
      {"capabilities",
       {{"bounding", caps}, {"effective", user.uid == 0 ? caps : empty}, {"permitted", user.uid == 0 ? caps : empty}}},
      {"noNewPrivileges", !insecure}};
  for (auto& e : spec.secret_env) process["env"].push_back(e);
  for (auto& u : spec.container.ulimits) {
    auto value = [](int64_t v) { return v < 0 ? uint64_t(RLIM_INFINITY) : uint64_t(v); };
    process["rlimits"].push_back({{"type", graph::ContainerSettings::RlimitType(u.name)}, {"soft", value(u.soft)},
                                  {"hard", value(u.hard)}});
  }
  if (!user.additional_gids.empty()) process["user"]["additionalGids"] = user.additional_gids;
  // In a user namespace (rootless kiln), sysfs can only be mounted with a network namespace of its own, and
  // devpts's gid=5 only when group 5 is mapped: there /sys is bound from the host, and devpts keeps the
  // creator's group, as runc's rootless spec has them.
  const bool userns = InUserNamespace();
  Json devpts_options = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
  if (!userns || MappedIds() > 5) devpts_options.push_back("gid=5");
  Json sys = {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"},
              {"options", insecure ? Json{"nosuid", "noexec", "nodev"} : Json{"nosuid", "noexec", "nodev", "ro"}}};
  if (userns && spec.network != "none") sys = BindMount("/sys", "/sys", !insecure);
  Json mounts = Json::array({
      {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}, {"options", {"nosuid", "noexec", "nodev"}}},
      {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"},
       {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
      {{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"}, {"options", devpts_options}},
      {{"destination", "/dev/shm"}, {"type", "tmpfs"}, {"source", "shm"},
       {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=" + ShmSize(spec.container.shm_size)}}},
      {{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"},
       {"options", {"nosuid", "noexec", "nodev"}}},
      sys,
      BindMount("/etc/hosts", bundle + "/hosts", true),
      BindMount("/etc/resolv.conf", bundle + "/resolv.conf", true),
  });
  // The step's own mounts, parents before what is mounted inside them.
  std::vector<std::pair<std::string, Json>> extra;
  for (auto& b : binds) extra.emplace_back(b.target, BindMount(b.target, b.source, b.readonly));
  for (auto& t : spec.tmpfs) {
    Json options = {"nosuid", "nodev", "mode=1777"};
    if (t.size > 0) options.push_back("size=" + std::to_string(t.size));
    extra.emplace_back(t.target, Json{{"destination", t.target}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", options}});
  }
  std::stable_sort(extra.begin(), extra.end(), [](auto& a, auto& b) { return Depth(a.first) < Depth(b.first); });
  for (auto& [target, mount] : extra) mounts.push_back(mount);
  Json namespaces = Json::array({{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}});
  if (spec.network == "none") namespaces.push_back({{"type", "network"}});
  Json resources = {{"devices", Json::array({{{"allow", false}, {"access", "rwm"}}})}};
  Json linux_section = {{"namespaces", namespaces}, {"resources", resources}};
  if (!cgroup.empty()) linux_section["cgroupsPath"] = cgroup;
  if (!insecure) {
    linux_section["maskedPaths"] = {"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                                    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                                    "/sys/firmware", "/sys/devices/virtual/powercap"};
    linux_section["readonlyPaths"] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
    KILN_ASSIGN(linux_section["seccomp"], DefaultSeccomp(cap_names));
  }
  return Json{{"ociVersion", "1.0.2"}, {"process", process}, {"root", {{"path", rootfs}, {"readonly", false}}},
              {"hostname", spec.hostname}, {"mounts", mounts}, {"linux", linux_section}};
}

/// The CDI edits a spec gets beyond mounts: environment, and device nodes (with a cgroup rule allowing each).
Status AddDevices(Json& config, const DeviceEdits& devices) {
  for (auto& e : devices.env) config["process"]["env"].push_back(e);
  for (auto& n : devices.nodes) {
    std::string host = n.host_path.empty() ? n.path : n.host_path;
    struct stat st;
    if (stat(host.c_str(), &st) != 0) return ErrnoError("stat the device node", host);
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) return Status::Error(host + " is not a device node");
    std::string type = S_ISCHR(st.st_mode) ? "c" : "b";
    int64_t maj = major(st.st_rdev), min = minor(st.st_rdev);
    config["linux"]["devices"].push_back({{"path", n.path}, {"type", type}, {"major", maj}, {"minor", min},
                                          {"fileMode", st.st_mode & 0777}, {"uid", 0}, {"gid", 0}});
    config["linux"]["resources"]["devices"].push_back(
        {{"allow", true}, {"type", type}, {"major", maj}, {"minor", min}, {"access", "rwm"}});
  }
  return Status::Ok();
}

std::string HostsFile(const std::string& hostname, const std::vector<graph::ContainerSettings::Host>& extra) {
  std::string hosts = "127.0.0.1\tlocalhost " + hostname + "\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  for (auto& h : extra) hosts += h.ip + "\t" + h.name + "\n";
  return hosts;
}

std::string ResolvConf(const std::string& network) {
  if (network == "none") return "";
  // With host networking the host's resolvers, loopback ones included, are reachable as they are.
  auto host = ReadFile("/etc/resolv.conf");
  return host.ok() ? *host : "";
}

struct MissingTarget {
  std::string path;        // inside the container
  std::string parent_host; // host path of the parent, to restore its times
  struct timespec parent_times[2];
  bool parent_existed = false;
};

std::string NewId() {
  static std::atomic<unsigned> counter{0};
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return "kiln-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" + std::to_string(now % 1000000);
}

/// A tmpfs mounted over a directory while this lives: where the bundle of a process given secrets goes, so
/// that neither its secret files nor its config.json (which holds secret environment variables) touch the disk.
class TmpfsMount {
 public:
  static Result<std::unique_ptr<TmpfsMount>> Over(const std::string& dir, size_t bytes) {
    std::string options = "mode=0700,size=" + std::to_string(bytes);
    if (mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options.c_str()) != 0) {
      return ErrnoError("mount tmpfs for secrets", dir);
    }
    return std::unique_ptr<TmpfsMount>(new TmpfsMount(dir));
  }
  ~TmpfsMount() { umount2(dir_.c_str(), MNT_DETACH); }

 private:
  explicit TmpfsMount(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

Status WriteSecretFile(const std::string& path, const SecretFile& s) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("create secret file", path);
  size_t off = 0;
  bool ok = true;
  while (ok && off < s.data.size()) {
    ssize_t n = write(fd, s.data.data() + off, s.data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) off += size_t(n);
  }
  ok = ok && fchown(fd, s.uid, s.gid) == 0 && fchmod(fd, s.mode) == 0;
  close(fd);
  return ok ? Status::Ok() : ErrnoError("write secret file", path);
}

}  // namespace

Executor::Executor(std::string state_dir, std::string runtime)
    : state_dir_(std::move(state_dir)), runtime_(std::move(runtime)) {}

void Executor::Recover() {
  // Last, once their containers are gone: the limit cgroups of dead processes' containers.
  Cleanup limits([] {
    LimitCgroup::RemoveAbandoned([](const std::string& id) {
      return id.rfind("kiln-", 0) == 0 && ProcessIsGone(pid_t(atol(id.c_str() + 5)));
    });
  });
  std::string state = JoinPath(state_dir_, "runtime");
  auto ids = ListDir(state);
  if (!ids.ok()) return;
  for (auto& id : *ids) {
    // Container ids are "kiln-<pid>-..." (see NewId).
    if (id.rfind("kiln-", 0) != 0) continue;
    pid_t pid = pid_t(atol(id.c_str() + 5));
    if (!ProcessIsGone(pid)) continue;
    // runc's delete --force sends SIGKILL and returns: wait for the container's init to be gone, so that when
    // recovery is over nothing of the dead build still runs.
    pid_t init = 0;
    if (auto st = ReadFile(JoinPath(state, id + "/state.json")); st.ok()) {
      if (auto j = ParseJson(*st); j.ok() && j->contains("init_process_pid") && (*j)["init_process_pid"].is_number_integer()) {
        init = pid_t((*j)["init_process_pid"].get<int64_t>());
      }
    }
    ProcessOptions quiet;
    quiet.on_output = [](int, std::string_view) {};
    (void)RunProcess({runtime_, "--root", state, "delete", "--force", id}, quiet);
    for (int i = 0; i < 500 && init > 0 && !ProcessIsGone(init); i++) usleep(10'000);
  }
  // Bundles of dead processes: a secret's tmpfs would otherwise stay mounted, holding the value in memory.
  std::string bundles = JoinPath(state_dir_, "bundles");
  auto names = ListDir(bundles);
  if (!names.ok()) return;
  for (auto& name : *names) {
    if (name.rfind("b-", 0) != 0) continue;
    if (!ProcessIsGone(pid_t(atol(name.c_str() + 2)))) continue;
    std::string path = JoinPath(bundles, name);
    umount2(path.c_str(), MNT_DETACH);
    (void)RemoveAll(path);
  }
}

Result<int> Executor::Run(const std::string& rootfs, const ExecSpec& spec, const ExecIO& io) {
  if (spec.args.empty()) return Status::Error("no command to run");
  KILN_ASSIGN(User user, ResolveUser(rootfs, spec.user));
  if (InUserNamespace() && MappedIds() == 1 && (user.uid != 0 || user.gid != 0)) {
    return Status::Error("user " + std::to_string(user.uid) + ":" + std::to_string(user.gid) + " " + NoSubordinateIds());
  }
  // Named after this process, like containers, so that Recover can tell a dead process's bundle (and unmount the
  // tmpfs holding its secrets) from a live one's.
  KILN_ASSIGN(TempDir bundle,
              TempDir::Create(JoinPath(state_dir_, "bundles"), "b-" + std::to_string(getpid()) + "-"));
  std::unique_ptr<TmpfsMount> private_bundle;  // declared after `bundle`: unmounted before it is removed
  std::vector<Bind> binds;
  if (!spec.secrets.empty() || !spec.secret_env.empty()) {
    size_t bytes = 1 << 20;
    for (auto& s : spec.secrets) bytes += s.data.size() + 4096;
    for (auto& e : spec.secret_env) bytes += e.size();
    KILN_ASSIGN(private_bundle, TmpfsMount::Over(bundle.path(), bytes));
    for (size_t i = 0; i < spec.secrets.size(); i++) {
      std::string path = bundle.path() + "/secret-" + std::to_string(i);
      KILN_TRY(WriteSecretFile(path, spec.secrets[i]));
      binds.push_back({path, spec.secrets[i].target});
    }
  }
  for (auto& b : spec.binds) binds.push_back({b.source, b.target, b.readonly});
  KILN_ASSIGN(DeviceEdits devices, ResolveDevices(spec.devices, CdiSpecDirs(), spec.allow_devices));
  for (auto& m : devices.mounts) {
    bool readonly = std::find(m.options.begin(), m.options.end(), "ro") != m.options.end();
    binds.push_back({m.host_path, m.container_path, readonly});
  }
  std::vector<std::unique_ptr<SshRelay>> relays;  // after `bundle`: closed before their sockets are removed
  for (size_t i = 0; i < spec.ssh.size(); i++) {
    const SshSpec& s = spec.ssh[i];
    std::string path = bundle.path() + "/ssh-" + std::to_string(i) + ".sock";
    KILN_ASSIGN(auto relay, SshRelay::Start(path, s.agent, s.mode, s.uid, s.gid));
    relays.push_back(std::move(relay));
    binds.push_back({path, s.target, false});
  }
  // The bundle lives as long as the container: nothing in it needs to reach the disk.
  KILN_TRY(WriteFile(bundle.path() + "/hosts", HostsFile(spec.hostname, spec.container.extra_hosts)));
  KILN_TRY(WriteFile(bundle.path() + "/resolv.conf", ResolvConf(spec.network)));
  std::string id = NewId();
  std::unique_ptr<LimitCgroup> limits;  // its cgroup is removed when this goes, after runc has removed the container's
  std::string parent = spec.cgroup_parent.empty() ? "" : CleanPath("/" + spec.cgroup_parent);  // never above the root
  if (parent == "/") parent.clear();
  if (!parent.empty() && InUserNamespace()) {
    return Status::Error("--cgroup-parent needs a kiln run as root (a rootless kiln may only use its delegated subtree)");
  }
  if (spec.memory_limit > 0 || spec.pids_limit > 0) {
    KILN_ASSIGN(limits, LimitCgroup::Create(id, spec.memory_limit, spec.pids_limit, parent));
  }
  // The runtime makes the container's cgroup: inside the limits' one, else under the parent asked for, if any.
  std::string cgroup = limits ? limits->ContainerPath() : parent.empty() ? "" : parent + "/kiln-" + id;
  KILN_ASSIGN(Json config, MakeSpec(rootfs, spec, user, bundle.path(), binds, cgroup));
  KILN_TRY(AddDevices(config, devices));
  KILN_TRY(WriteFile(bundle.path() + "/config.json", DumpLenient(config)));

  // Remember which mount targets are missing, with their parents' times, to undo the runtime's mkdirs. A
  // target's missing ancestors are the runtime's doing too; parents come before children.
  std::vector<std::string> targets = kMountTargets;
  std::vector<std::string> extra_targets;
  for (auto& b : binds) extra_targets.push_back(b.target);
  for (auto& t : spec.tmpfs) extra_targets.push_back(t.target);
  for (auto& target : extra_targets) {
    std::vector<std::string> chain;
    for (std::string p = CleanPath(target); p != "/"; p = DirName(p)) chain.push_back(p);
    targets.insert(targets.end(), chain.rbegin(), chain.rend());
  }
  std::vector<MissingTarget> missing;
  for (auto& target : targets) {
    if (std::any_of(missing.begin(), missing.end(), [&](const MissingTarget& m) { return m.path == target; })) continue;
    auto host = snapshot::ResolveInRoot(rootfs, target, false);
    if (!host.ok() || PathExists(*host)) continue;
    MissingTarget m;
    m.path = target;
    m.parent_host = DirName(*host);
    struct stat st;
    if (stat(m.parent_host.c_str(), &st) == 0) {
      m.parent_existed = true;
      m.parent_times[0] = st.st_atim;
      m.parent_times[1] = st.st_mtim;
    }
    missing.push_back(m);
  }

  std::vector<std::string> argv = {runtime_, "--root", JoinPath(state_dir_, "runtime"), "run", "--bundle",
                                   bundle.path(), id};
  ProcessOptions po;
  po.inherit_stdio = spec.interactive;
  po.on_output = io.on_output;
  po.cancelled = io.cancelled;
  // A cancelled build step is killed at once (as BuildKit does); an interactive run gets the usual grace to
  // handle SIGTERM, which runc passes on. Either way `delete --force` below kills what is left in the container.
  if (!spec.interactive) po.kill_grace = std::chrono::milliseconds(0);
  auto code = RunProcess(argv, po);
  // A killed runtime may leave its state behind; delete is a no-op when it cleaned up itself.
  if (!code.ok() || (io.cancelled && io.cancelled())) {
    ProcessOptions quiet;
    quiet.on_output = [](int, std::string_view) {};
    (void)RunProcess({runtime_, "--root", JoinPath(state_dir_, "runtime"), "delete", "--force", id}, quiet);
  }

  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    auto host = snapshot::ResolveInRoot(rootfs, it->path, false);
    if (!host.ok()) continue;
    struct stat st;
    if (lstat(host->c_str(), &st) != 0) continue;
    // Only what the runtime made: an empty directory or an empty file.
    if (S_ISDIR(st.st_mode)) {
      rmdir(host->c_str());
    } else if (S_ISREG(st.st_mode) && st.st_size == 0) {
      unlink(host->c_str());
    }
    if (it->parent_existed) utimensat(AT_FDCWD, it->parent_host.c_str(), it->parent_times, 0);
  }
  if (!code.ok()) return code.status().Prefixed("run " + runtime_);
  if (limits && *code != 0 && io.limit_reached) *io.limit_reached = limits->Reached(*code);
  return code;
}

}  // namespace kiln::executor
