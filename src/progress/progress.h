// Build progress: the event stream the solver emits, and the renderers that show it (plain, tty, rawjson).
// The MCP server reads the same events.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"

namespace kiln::progress {

struct Event {
  enum class Kind { kStarted, kLog, kCached, kDone, kError };
  Kind kind = Kind::kStarted;
  int number = 0;           // "#N": the step's number in this build
  std::string digest;       // the vertex digest
  std::string name;         // "[stage 2/3] RUN make"
  std::string data;         // log bytes (kLog) or the error (kError)
  int stream = 1;           // 1 stdout, 2 stderr (kLog)
  double elapsed = 0;       // seconds since the build started
  double duration = 0;      // seconds the step took (kDone, kError)
  int total = 0;            // how many steps this build shows
};

/// Receives events; implementations are thread-safe.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void Emit(const Event& e) = 0;
  /// Called once when the build ends.
  virtual void Finish() {}
};

/// "auto" (tty when `out` is a terminal, else plain), "plain", "tty", "rawjson", or "quiet".
Result<std::unique_ptr<Sink>> MakeRenderer(const std::string& mode, FILE* out);

}  // namespace kiln::progress
