#include "base/userns.h"

#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <tuple>

#include "base/fs.h"
#include "base/process.h"
#include "base/text.h"

namespace kiln {
namespace {

pid_t g_child = 0;

void Forward(int sig) {
  if (g_child > 0) kill(g_child, sig);
}

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

}  // namespace

std::optional<SubordinateRange> FindSubordinateRange(const std::string& path, const std::string& user, uid_t id) {
  auto text = ReadFile(path);
  if (!text.ok()) return std::nullopt;
  for (const std::string& line : SplitString(*text, '\n')) {
    std::vector<std::string> f = SplitString(line, ':');
    if (f.size() != 3 || (f[0] != user && f[0] != std::to_string(id))) continue;
    auto start = ParseDecimal(f[1], UINT32_MAX), count = ParseDecimal(f[2], UINT32_MAX);
    if (start && count && *count > 0) return SubordinateRange{uint32_t(*start), uint32_t(*count)};
  }
  return std::nullopt;
}

bool InUserNamespace() {
  static const bool inside = [] {
    auto map = ReadFile("/proc/self/uid_map");
    if (!map.ok()) return false;
    std::vector<std::string> f;
    for (const std::string& w : SplitString(*map, ' '))
      if (!w.empty() && w != "\n") f.push_back(w);
    // The initial namespace maps every id to itself: "0 0 4294967295".
    return !(f.size() >= 3 && f[0] == "0" && f[1] == "0" && f[2].rfind("4294967295", 0) == 0);
  }();
  return inside;
}

std::string RootlessUser() {
  const char* user = InUserNamespace() ? getenv("KILN_ROOTLESS_USER") : nullptr;
  return user ? user : "";
}

std::string NoSubordinateIds() {
  // A free range: past every range /etc/subuid and /etc/subgid hand out, and never below 100000.
  uint64_t start = 100000;
  for (const char* path : {"/etc/subuid", "/etc/subgid"}) {
    auto text = ReadFile(path);
    for (const std::string& line : SplitString(text.ok() ? *text : "", '\n')) {
      std::vector<std::string> f = SplitString(line, ':');
      if (f.size() != 3) continue;
      uint64_t end = ParseDecimal(f[1], UINT32_MAX).value_or(0) + ParseDecimal(f[2], UINT32_MAX).value_or(0);
      start = std::max(start, end);
    }
  }
  std::string entry = RootlessUser() + ":" + std::to_string(start) + ":65536";
  return "needs subordinate ids, and " + RootlessUser() + " has none: add \"" + entry +
         "\" to /etc/subuid and /etc/subgid (as root: usermod --add-subuids " + std::to_string(start) + "-" +
         std::to_string(start + 65535) + " --add-subgids " + std::to_string(start) + "-" + std::to_string(start + 65535) +
         " " + RootlessUser() + ")";
}

uint32_t MappedIds() {
  if (!InUserNamespace()) return 0;
  auto map = ReadFile("/proc/self/uid_map");
  if (!map.ok()) return 0;
  uint64_t total = 0;
  for (const std::string& line : SplitString(*map, '\n')) {
    std::vector<std::string> f;
    for (const std::string& w : SplitString(line, ' '))
      if (!w.empty()) f.push_back(w);
    if (f.size() == 3) total += ParseDecimal(f[2], UINT32_MAX).value_or(0);
  }
  return uint32_t(std::min<uint64_t>(total, UINT32_MAX));
}

Status EnterUserNamespace() {
  if (geteuid() == 0) return Status::Ok();
  uid_t uid = getuid();
  gid_t gid = getgid();
  struct passwd* pw = getpwuid(uid);
  std::string name = pw ? pw->pw_name : std::to_string(uid);
  auto subuid = FindSubordinateRange("/etc/subuid", name, uid);
  auto subgid = FindSubordinateRange("/etc/subgid", name, uid);
  int unshared[2], mapped[2];
  if (pipe2(unshared, O_CLOEXEC) != 0 || pipe2(mapped, O_CLOEXEC) != 0) return ErrnoError("pipe", "user namespace");
  pid_t child = fork();
  if (child < 0) return ErrnoError("fork", "user namespace");
  if (child == 0) {
    close(unshared[0]);
    close(mapped[1]);
    // The work dies with the process the user started (kill -9 included): recovery finds what it left.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char ok = unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 ? 'u' : 'x';
    if (write(unshared[1], &ok, 1) != 1 || ok != 'u') _exit(125);
    char go = 0;
    if (read(mapped[0], &go, 1) != 1 || go != 'm') _exit(125);
    close(unshared[1]);
    close(mapped[0]);
    if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) {
      fprintf(stderr, "ERROR: user namespace: cannot become root in it: %s\n", strerror(errno));
      _exit(125);
    }
    // Mounts made here stay here.
    mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
    // Who the user is, for messages inside the namespace (where getpwuid says root).
    setenv("KILN_ROOTLESS_USER", name.c_str(), 1);
    return Status::Ok();
  }
  close(unshared[1]);
  close(mapped[0]);
  g_child = child;
  char ok = 0;
  Status st = read(unshared[0], &ok, 1) == 1 && ok == 'u'
                  ? MapIds(child, uid, gid, subuid, subgid)
                  : Status::Error("user namespaces are not available to this user (kernel.unprivileged_userns_clone, "
                                  "user.max_user_namespaces)");
  if (st.ok()) (void)!write(mapped[1], "m", 1);
  close(unshared[0]);
  close(mapped[1]);
  if (!st.ok()) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    return st;
  }
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) signal(sig, Forward);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    signal(WTERMSIG(status), SIG_DFL);
    raise(WTERMSIG(status));
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

}  // namespace kiln
