#include "testing/fake_runtime.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "base/fs.h"

namespace kiln::testing {

void FakeRuntime::On(const std::string& needle, Script script) {
  std::lock_guard l(mu_);
  scripts_.emplace_back(needle, std::move(script));
}

std::vector<std::string> FakeRuntime::calls() const {
  std::lock_guard l(mu_);
  return calls_;
}

int FakeRuntime::peak_concurrency() const {
  std::lock_guard l(mu_);
  return peak_;
}

int FakeRuntime::cancelled_runs() const {
  std::lock_guard l(mu_);
  return cancelled_;
}

Result<int> FakeRuntime::Run(const std::string& rootfs, const executor::ExecSpec& spec, const executor::ExecIO& io) {
  std::string line;
  for (auto& a : spec.args) line += (line.empty() ? "" : " ") + a;
  Script script;
  {
    std::lock_guard l(mu_);
    calls_.push_back(line);
    for (auto& [needle, s] : scripts_)
      if (line.find(needle) != std::string::npos) script = s;
    peak_ = std::max(peak_, ++running_);
  }
  auto finish = [this] {
    std::lock_guard l(mu_);
    running_--;
  };
  for (int waited = 0; waited < script.sleep_ms; waited += 10) {
    if (io.cancelled && io.cancelled()) {
      std::lock_guard l(mu_);
      running_--;
      cancelled_++;
      return Status::Error("cancelled");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  finish();
  for (auto& [path, content] : script.writes) {
    std::string host = JoinPath(rootfs, path);
    KILN_TRY(MakeDirs(DirName(host)));
    KILN_TRY(WriteFileAtomic(host, content));
  }
  if (!script.output.empty() && io.on_output) io.on_output(1, script.output);
  return script.exit_code;
}

}  // namespace kiln::testing
