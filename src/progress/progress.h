// Build progress: the event stream the solver emits, and the renderers that show it (plain, tty, rawjson).
// The MCP server reads the same events.
#pragma once
#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::progress {

struct Event {
  /// kProgress: bytes of one item of a running step (a layer being pulled or pushed).
  enum class Kind { kStarted, kLog, kCached, kDone, kError, kCanceled, kProgress };
  Kind kind = Kind::kStarted;
  int number = 0;           // "#N": the step's number in this build
  std::string digest;       // the vertex digest
  std::string name;         // "[stage 2/3] RUN make"
  std::string data;         // log bytes (kLog) or the error (kError)
  int stream = 1;           // 1 stdout, 2 stderr (kLog)
  double elapsed = 0;       // seconds since the build started
  double duration = 0;      // seconds the step took (kDone, kError)
  int total = 0;            // how many steps this build shows
  std::string id;           // kProgress: the item ("sha256:...")
  int64_t current = 0;      // kProgress: bytes done
  int64_t size = 0;         // kProgress: bytes in all (0 when unknown)
  std::vector<std::string> changes;  // kStarted: why the step missed the cache ("file src/b.txt", "build-arg V")
};

/// Receives events; implementations are thread-safe.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void Emit(const Event& e) = 0;
  /// Called once when the build ends.
  virtual void Finish() {}
};

/// Passes events on with their step numbers (and totals) moved up by `offset`: steps shown before a solve (base
/// image pulls) come first, and the solver numbers its own from 1. Remembers the highest number passed on, so
/// steps shown after the solve (pushes) follow it.
class OffsetSink : public Sink {
 public:
  OffsetSink(Sink* next, int offset) : next_(next), offset_(offset), highest_(offset) {}
  void Emit(const Event& e) override {
    Event moved = e;
    moved.number += offset_;
    moved.total += offset_;
    {
      std::lock_guard l(mu_);
      highest_ = std::max(highest_, moved.number);
    }
    if (next_) next_->Emit(moved);
  }
  void Finish() override {
    if (next_) next_->Finish();
  }
  int highest() {
    std::lock_guard l(mu_);
    return highest_;
  }

 private:
  Sink* next_;
  int offset_;
  std::mutex mu_;
  int highest_;
};

/// "1.05MB", "512B": byte counts as BuildKit's progress shows them.
std::string FormatBytes(int64_t n);

/// "auto" (tty when `out` is a terminal, else plain), "plain", "tty", "rawjson", or "quiet".
Result<std::unique_ptr<Sink>> MakeRenderer(const std::string& mode, FILE* out);

}  // namespace kiln::progress
