#include "base/userns.h"

#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <tuple>

#include "base/fs.h"
#include "base/process.h"
#include "base/text.h"

namespace kiln {
namespace {

/// Writes one of /proc/PID/{uid_map,gid_map,setgroups} for a namespace that maps one id alone (no helper needed).
Status WriteProc(pid_t pid, const char* file, const std::string& text) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  return WriteFile(path, text).Prefixed("user namespace");
}

/// Maps the child's namespace: the user as 0, its subordinate range as 1.. (newuidmap/newgidmap), or the user
/// alone.
Status MapIds(pid_t pid, uid_t uid, gid_t gid, const std::optional<SubordinateRange>& subuid,
              const std::optional<SubordinateRange>& subgid) {
  if (subuid && subgid) {
    ProcessOptions quiet;
    std::string err;
    quiet.on_output = [&](int, std::string_view d) { err.append(d); };
    for (auto& [helper, own, range] : {std::tuple{"newuidmap", uint32_t(uid), *subuid}, std::tuple{"newgidmap", uint32_t(gid), *subgid}}) {
      auto code = RunProcess({helper, std::to_string(pid), "0", std::to_string(own), "1", "1",
                              std::to_string(range.host), std::to_string(range.count)},
                             quiet);
      if (!code.ok()) return Status::Error(std::string(helper) + " is missing: install uidmap (apt-get install uidmap)");
      if (*code != 0) return Status::Error(std::string(helper) + " failed: " + EscapeControl(err));
    }
    return Status::Ok();
  }
  KILN_TRY(WriteProc(pid, "uid_map", "0 " + std::to_string(uid) + " 1\n"));
  KILN_TRY(WriteProc(pid, "setgroups", "deny"));
  return WriteProc(pid, "gid_map", "0 " + std::to_string(gid) + " 1\n");
}

/// A uid map (one "inside outside count" line per range): how many ids it maps, and whether it is the initial
/// namespace's identity map ("0 0 4294967295").
struct UidMap {
  uint64_t ids = 0;
  bool identity = false;
};
UidMap ReadUidMap(const std::string& path) {
  UidMap m;
  auto text = ReadFile(path);
  if (!text.ok()) return m;
  for (const std::string& line : SplitString(*text, '\n')) {
    std::vector<std::string> f;
    for (const std::string& w : SplitString(line, ' '))
      if (!w.empty()) f.push_back(w);
    if (f.size() != 3) continue;
    m.ids += ParseDecimal(f[2], UINT32_MAX).value_or(0);
    m.identity |= f[0] == "0" && f[1] == "0" && f[2] == "4294967295";
  }
  return m;
}

/// This process's map, read once: the namespace a process is in does not change once kiln has joined it.
const UidMap& OwnUidMap() {
  static const UidMap m = ReadUidMap("/proc/self/uid_map");
  return m;
}

/// The subordinate ranges of an /etc/subuid-style file: name (or id), start and count, malformed lines skipped.
struct RangeLine {
  std::string owner;
  uint64_t start = 0, count = 0;
};
std::vector<RangeLine> ReadRanges(const std::string& path) {
  std::vector<RangeLine> out;
  auto text = ReadFile(path);
  if (!text.ok()) return out;
  for (const std::string& line : SplitString(*text, '\n')) {
    std::vector<std::string> f = SplitString(line, ':');
    if (f.size() != 3) continue;
    auto start = ParseDecimal(f[1], UINT32_MAX), count = ParseDecimal(f[2], UINT32_MAX);
    if (start && count) out.push_back({f[0], *start, *count});
  }
  return out;
}

}  // namespace

std::optional<SubordinateRange> FindSubordinateRange(const std::string& path, const std::string& user, uid_t id) {
  for (const RangeLine& r : ReadRanges(path))
    if ((r.owner == user || r.owner == std::to_string(id)) && r.count > 0) return SubordinateRange{uint32_t(r.start), uint32_t(r.count)};
  return std::nullopt;
}

bool InUserNamespace() {
  const UidMap& m = OwnUidMap();
  return m.ids > 0 && !m.identity;
}

std::string RootlessUser() {
  const char* user = InUserNamespace() ? getenv("KILN_ROOTLESS_USER") : nullptr;
  return user ? user : "";
}

std::string PrivilegeDescription() {
  if (!InUserNamespace()) return geteuid() == 0 ? "root" : "a plain user without a user namespace";
  uint32_t ids = MappedIds();
  return "rootless (" + RootlessUser() + ": " +
         (ids > 1 ? "ids 0-" + std::to_string(ids - 1) : std::string("id 0 alone, no subordinate ids")) +
         " in a user namespace)";
}

std::string NoSubordinateIds() {
  // A free range: past every range /etc/subuid and /etc/subgid hand out, and never below 100000.
  uint64_t start = 100000;
  for (const char* path : {"/etc/subuid", "/etc/subgid"})
    for (const RangeLine& r : ReadRanges(path)) start = std::max(start, r.start + r.count);
  std::string entry = RootlessUser() + ":" + std::to_string(start) + ":65536";
  return "needs subordinate ids, and " + RootlessUser() + " has none: add \"" + entry +
         "\" to /etc/subuid and /etc/subgid (as root: usermod --add-subuids " + std::to_string(start) + "-" +
         std::to_string(start + 65535) + " --add-subgids " + std::to_string(start) + "-" + std::to_string(start + 65535) +
         " " + RootlessUser() + ")";
}

uint32_t MappedIds() { return InUserNamespace() ? uint32_t(std::min<uint64_t>(OwnUidMap().ids, UINT32_MAX)) : 0; }

namespace {

/// Where the user's pause process leaves its pid: $XDG_RUNTIME_DIR/kiln, else /tmp/kiln-UID (0700, the user's).
Result<std::string> PauseDir(uid_t uid) {
  const char* runtime = getenv("XDG_RUNTIME_DIR");
  std::string dir = runtime && *runtime ? JoinPath(runtime, "kiln") : "/tmp/kiln-" + std::to_string(uid);
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoError("create", dir);
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077)) {
    return Status::Error(dir + " is not a directory of this user's alone");
  }
  return dir;
}

/// Joins the namespaces of the pause process `pid` if it is the user's live one and maps `ids` ids (the user's
/// ranges may have changed since it started: then it is ended, and a new one made). False when it is not joined.
bool JoinPause(pid_t pid, uid_t uid, uint32_t ids) {
  std::string proc = "/proc/" + std::to_string(pid);
  auto comm = ReadFile(proc + "/comm");
  struct stat st;
  if (!comm.ok() || *comm != "kiln-pause\n" || stat(proc.c_str(), &st) != 0 || st.st_uid != uid) return false;
  if (ReadUidMap(proc + "/uid_map").ids != ids) {
    kill(pid, SIGKILL);
    return false;
  }
  int user = open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
  int mnt = open((proc + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC);
  bool joined = user >= 0 && mnt >= 0 && setns(user, CLONE_NEWUSER) == 0 && setns(mnt, CLONE_NEWNS) == 0;
  if (user >= 0) close(user);
  if (mnt >= 0) close(mnt);
  return joined;
}

/// Makes the user's namespace: a child unshares it and, once the ids are mapped, stays as its pause process.
/// Returns its pid.
Result<pid_t> StartPause(uid_t uid, gid_t gid, const std::optional<SubordinateRange>& subuid,
                         const std::optional<SubordinateRange>& subgid, const std::string& pid_file) {
  int unshared[2], mapped[2];
  if (pipe2(unshared, O_CLOEXEC) != 0 || pipe2(mapped, O_CLOEXEC) != 0) return ErrnoError("pipe", "user namespace");
  pid_t child = fork();
  if (child < 0) return ErrnoError("fork", "user namespace");
  if (child == 0) {
    close(unshared[0]);
    close(mapped[1]);
    setsid();
    char ok = unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 ? 'u' : 'x';
    if (write(unshared[1], &ok, 1) != 1 || ok != 'u') _exit(125);
    char go = 0;
    if (read(mapped[0], &go, 1) != 1 || go != 'm') _exit(125);
    // Mounts made in the namespace stay in it; the host's new mounts still show in it.
    mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr);
    prctl(PR_SET_NAME, "kiln-pause");
    // ps and pgrep show the command line, which is still the kiln command that made the namespace: over it (the
    // argument strings lie end to end from argv[0]) goes the pause process's own name.
    if (auto cmdline = ReadFile("/proc/self/cmdline"); cmdline.ok() && cmdline->size() > strlen("kiln-pause")) {
      memset(program_invocation_name, 0, cmdline->size());
      strcpy(program_invocation_name, "kiln-pause");
    }
    int null = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; fd++) dup2(null, fd);
    for (int fd = 3; fd < 1024; fd++) close(fd);
    if (chdir("/") != 0) _exit(125);
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, nullptr);  // only SIGKILL ends it
    for (;;) pause();
  }
  close(unshared[1]);
  close(mapped[0]);
  char ok = 0;
  Status st = read(unshared[0], &ok, 1) == 1 && ok == 'u'
                  ? MapIds(child, uid, gid, subuid, subgid)
                  : Status::Error("user namespaces are not available to this user (kernel.unprivileged_userns_clone, "
                                  "user.max_user_namespaces)");
  if (st.ok() && write(mapped[1], "m", 1) != 1) st = Status::Error("user namespace: the pause process is gone");
  close(unshared[0]);
  close(mapped[1]);
  if (st.ok()) st = WriteFileAtomic(pid_file, std::to_string(child) + "\n", 0600);
  if (!st.ok()) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    return st;
  }
  return child;
}

}  // namespace

Status EnterUserNamespace() {
  if (geteuid() == 0) return Status::Ok();
  uid_t uid = getuid();
  gid_t gid = getgid();
  struct passwd* pw = getpwuid(uid);
  std::string name = pw ? pw->pw_name : std::to_string(uid);
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) cwd[0] = '\0';
  KILN_ASSIGN(std::string dir, PauseDir(uid));
  std::string pid_file = JoinPath(dir, "pause.pid");
  auto pid_of = [&]() -> pid_t {
    auto text = ReadFile(pid_file);
    return text.ok() ? pid_t(ParseDecimal(text->substr(0, text->find('\n')), INT32_MAX).value_or(0)) : 0;
  };
  auto subuid = FindSubordinateRange("/etc/subuid", name, uid);
  auto subgid = FindSubordinateRange("/etc/subgid", name, uid);
  const uint32_t ids = subuid && subgid ? 1 + subuid->count : 1;
  bool joined = JoinPause(pid_of(), uid, ids);
  if (!joined) {
    // One kiln process makes the namespace; others starting at the same time wait for it and join.
    int lock = open(JoinPath(dir, "pause.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) return ErrnoError("lock", JoinPath(dir, "pause.lock"));
    joined = JoinPause(pid_of(), uid, ids);
    if (!joined) {
      auto pause = StartPause(uid, gid, subuid, subgid, pid_file);
      if (!pause.ok()) {
        close(lock);
        return pause.status();
      }
      joined = JoinPause(*pause, uid, ids);
    }
    close(lock);
    if (!joined) return Status::Error(std::string("cannot join the user namespace: ") + strerror(errno));
  }
  // Joining a mount namespace moves the working directory to its root: back to where the command was started.
  if (cwd[0] && chdir(cwd) != 0) return ErrnoError("chdir", cwd);
  if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) return ErrnoError("become root in", "the user namespace");
  // Who the user is, for messages inside the namespace (where getpwuid says root).
  setenv("KILN_ROOTLESS_USER", name.c_str(), 1);
  return Status::Ok();
}

}  // namespace kiln
