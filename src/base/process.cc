#include "base/process.h"

#include "base/fs.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

extern char** environ;

namespace kiln {
namespace {

/// Once the caller cancels: SIGTERM to the child (SIGKILL with no grace), then SIGKILL when the grace is over.
class CancelStop {
 public:
  CancelStop(pid_t pid, const ProcessOptions& options) : pid_(pid), options_(options) {}
  void CheckCancelled() {
    if (!options_.cancelled || !options_.cancelled()) return;
    auto now = std::chrono::steady_clock::now();
    if (!signalled_) {
      kill(pid_, options_.kill_grace.count() > 0 ? SIGTERM : SIGKILL);
      signalled_ = true;
      deadline_ = now + options_.kill_grace;
    } else if (now > deadline_) {
      kill(pid_, SIGKILL);
    }
  }

 private:
  pid_t pid_;
  const ProcessOptions& options_;
  bool signalled_ = false;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
};

/// write(2) to a pipe whose reader may be gone: EPIPE instead of the process-killing SIGPIPE.
ssize_t WriteWithoutSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_signal, old;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &old);
  ssize_t n = write(fd, data, size);
  int saved = errno;
  if (n < 0 && saved == EPIPE) {
    timespec none{};
    sigtimedwait(&pipe_signal, nullptr, &none);  // take the SIGPIPE this thread raised before unblocking it
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return n;
}

}  // namespace

Result<int> RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options) {
  if (argv.empty()) return Status::Error("empty command");
  int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  bool feed = !options.inherit_stdio && !options.input.empty();
  if (!options.inherit_stdio) {
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || (feed && pipe2(in, O_CLOEXEC) != 0)) {
      posix_spawn_file_actions_destroy(&fa);
      return ErrnoError("pipe", argv[0]);
    }
    if (feed) {
      posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    } else {
      posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  }
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, options.cwd.c_str());
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (!options.inherit_stdio) {
    close(out[1]);
    close(err[1]);
  }
  if (feed) {
    close(in[0]);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
  }
  if (rc != 0) {
    if (!options.inherit_stdio) {
      close(out[0]);
      close(err[0]);
    }
    if (feed) close(in[1]);
    return Status::Error("cannot run " + argv[0] + ": " + strerror(rc));
  }
  CancelStop stop(pid, options);
  if (!options.inherit_stdio) {
    // stdin is fed from the same loop that drains stdout and stderr, so neither side can block the other.
    pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {feed ? in[1] : -1, POLLOUT, 0}};
    size_t fed = 0;
    int open_fds = 2;
    char buf[1 << 15];
    while (open_fds > 0) {
      int n = poll(fds, 3, 100);
      if (n < 0 && errno != EINTR) break;
      if (fds[2].fd >= 0 && fds[2].revents) {
        ssize_t w = (fds[2].revents & POLLOUT) ? WriteWithoutSigpipe(fds[2].fd, options.input.data() + fed, options.input.size() - fed) : -1;
        if (w > 0) fed += size_t(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || fed == options.input.size()) {
          close(fds[2].fd);  // all written, or the child stopped reading: end of file for it
          fds[2].fd = -1;
        }
      }
      for (int i = 0; i < 2 && n > 0; i++) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t r = read(fds[i].fd, buf, sizeof buf);
        if (r > 0) {
          if (options.on_output) options.on_output(i + 1, std::string_view(buf, size_t(r)));
        } else if (r == 0 || errno != EINTR) {
          close(fds[i].fd);
          fds[i].fd = -1;
          open_fds--;
        }
      }
      stop.CheckCancelled();
    }
    for (auto& f : fds)
      if (f.fd >= 0) close(f.fd);
  }
  if (options.inherit_stdio && options.cancelled) {
    // Nothing to drain, but a kill of kiln (a signal, not a terminal's Ctrl-C) must still stop the child: wait on
    // a pidfd, waking to check for cancellation.
    int pidfd = int(syscall(SYS_pidfd_open, pid, 0));
    while (pidfd >= 0) {
      pollfd exited = {pidfd, POLLIN, 0};
      if (poll(&exited, 1, 100) > 0) break;
      stop.CheckCancelled();
    }
    if (pidfd >= 0) close(pidfd);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoError("waitpid", argv[0]);
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

namespace {

/// /proc/PID/stat from its third field (the state) on; none when the process is gone.
std::optional<std::string> StatFields(pid_t pid) {
  auto stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) return std::nullopt;
  size_t paren = stat->rfind(')');  // the command name may itself hold ')': the fields follow the last one
  if (paren == std::string::npos || paren + 2 >= stat->size()) return std::string();
  return stat->substr(paren + 2);
}

}  // namespace

bool ProcessIsGone(pid_t pid) {
  if (pid <= 0) return false;
  auto fields = StatFields(pid);
  return !fields || (!fields->empty() && (*fields)[0] == 'Z');
}

std::string ProcessStartTime(pid_t pid) {
  auto fields = pid > 0 ? StatFields(pid) : std::nullopt;
  if (!fields || fields->empty() || (*fields)[0] == 'Z') return "";
  size_t at = 0;  // the state, field 3; the start time is field 22
  for (int field = 3; field < 22 && at != std::string::npos; field++) {
    at = fields->find(' ', at);
    if (at != std::string::npos) at++;
  }
  return at == std::string::npos ? "" : fields->substr(at, fields->find(' ', at) - at);
}

Result<std::string> CaptureProcess(const std::vector<std::string>& argv) {
  std::string out, err;
  ProcessOptions o;
  o.on_output = [&](int fd, std::string_view d) { (fd == 1 ? out : err).append(d); };
  KILN_ASSIGN(int code, RunProcess(argv, o));
  if (code != 0) {
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return Status::Error(argv[0] + " exited with " + std::to_string(code) + (err.empty() ? "" : ": " + err));
  }
  return out;
}

}  // namespace kiln
