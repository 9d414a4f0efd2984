// Child processes: spawn, stream their output, wait; the only place kiln forks.
#pragma once
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kiln {

struct ProcessOptions {
  /// Working directory of the child; empty keeps ours.
  std::string cwd;
  /// When true, the child shares our stdin/stdout/stderr (kiln run); otherwise output goes to on_output.
  bool inherit_stdio = false;
  /// Called with chunks of the child's stdout (fd 1) and stderr (fd 2), from the calling thread.
  std::function<void(int fd, std::string_view data)> on_output;
  /// Checked between reads; when it returns true the child gets SIGTERM, then SIGKILL.
  std::function<bool()> cancelled;
  /// What the child reads on stdin (then end of file); without it, stdin is /dev/null. Not with inherit_stdio.
  std::string input;
  /// Once cancelled, the child gets SIGTERM and, this long after, SIGKILL; zero kills it at once.
  std::chrono::milliseconds kill_grace{2000};
};

/// Runs argv[0] (looked up in PATH) to completion. Returns the exit status, or 128+signal.
Result<int> RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});

/// Runs a command and returns its stdout; an error (with stderr's text) if it exits non-zero.
/// Whether `pid` (> 0) names no running process: it exited, or is a zombie waiting for whoever inherited it.
/// How kiln tells state left by a killed kiln process (named or recorded with its pid) from a live one's.
bool ProcessIsGone(pid_t pid);
/// When the running process `pid` started (clock ticks since boot, /proc/PID/stat's 22nd field): with its pid, a
/// name no later process has. Empty when it is gone, as ProcessIsGone says.
std::string ProcessStartTime(pid_t pid);

Result<std::string> CaptureProcess(const std::vector<std::string>& argv);

}  // namespace kiln
