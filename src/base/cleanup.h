// Undo on every error path: a move-only owner of a cleanup action that runs unless the work was committed.
#pragma once
#include <functional>
#include <utility>

namespace kiln {

class Cleanup {
 public:
  explicit Cleanup(std::function<void()> undo) : undo_(std::move(undo)) {}
  Cleanup(Cleanup&& o) noexcept : undo_(std::exchange(o.undo_, nullptr)) {}
  Cleanup& operator=(Cleanup&&) = delete;
  ~Cleanup() {
    if (undo_) undo_();
  }
  /// The work succeeded: nothing to undo.
  void Dismiss() { undo_ = nullptr; }

 private:
  std::function<void()> undo_;
};

}  // namespace kiln
