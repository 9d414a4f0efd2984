// A Runtime that starts no container, for tests of the solver and the engine that must run in milliseconds:
// each call is recorded, and what a step does (exit code, output, files it writes, time it takes) is scripted by
// its command line.
#pragma once
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "executor/executor.h"

namespace kiln::testing {

class FakeRuntime : public executor::Runtime {
 public:
  struct Script {
    int exit_code = 0;
    std::string output;                          // written to the step's stdout
    std::map<std::string, std::string> writes;   // files to create, by absolute path in the container
    int sleep_ms = 0;                            // cancellable
  };
  /// What a process whose command line (arguments joined by spaces) contains `needle` does. Unscripted
  /// commands succeed and do nothing.
  void On(const std::string& needle, Script script);
  Result<int> Run(const std::string& rootfs, const executor::ExecSpec& spec, const executor::ExecIO& io) override;
  /// The command lines run so far, in order.
  std::vector<std::string> calls() const;
  /// The most processes that ran at the same time.
  int peak_concurrency() const;
  /// How many processes were stopped by a cancellation.
  int cancelled_runs() const;

 private:
  mutable std::mutex mu_;
  int running_ = 0;
  int peak_ = 0;
  int cancelled_ = 0;
  std::vector<std::pair<std::string, Script>> scripts_;
  std::vector<std::string> calls_;
};

}  // namespace kiln::testing
