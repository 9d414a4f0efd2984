#include "progress/progress.h"

#include <unistd.h>

#include <map>
#include <vector>

#include "base/text.h"
#include "base/json.h"

namespace kiln::progress {
namespace {

std::string FormatSeconds(double s) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

/// BuildKit's plain output: "#N name", "#N 0.123 log line", "#N DONE 0.2s", "#N CACHED".
class PlainRenderer : public Sink {
 public:
  explicit PlainRenderer(FILE* out) : out_(out) {}
  void Emit(const Event& e) override {
    std::lock_guard l(mu_);
    switch (e.kind) {
      case Event::Kind::kStarted:
        fprintf(out_, "\n#%d %s\n", e.number, EscapeControl(e.name).c_str());
        break;
      case Event::Kind::kCached:
        fprintf(out_, "\n#%d %s\n#%d CACHED\n", e.number, EscapeControl(e.name).c_str(), e.number);
        break;
      case Event::Kind::kLog: {
        std::string& partial = partial_[e.number];
        partial += e.data;
        size_t nl;
        while ((nl = partial.find('\n')) != std::string::npos) {
          fprintf(out_, "#%d %.3f %s\n", e.number, e.elapsed, partial.substr(0, nl).c_str());
          partial.erase(0, nl + 1);
        }
        break;
      }
      case Event::Kind::kDone:
        FlushPartial(e);
        fprintf(out_, "#%d DONE %s\n", e.number, FormatSeconds(e.duration).c_str());
        break;
      case Event::Kind::kError:
        FlushPartial(e);
        fprintf(out_, "#%d ERROR: %s\n", e.number, EscapeControl(e.data).c_str());
        break;
      case Event::Kind::kCanceled:
        FlushPartial(e);
        fprintf(out_, "#%d CANCELED\n", e.number);
        break;
      case Event::Kind::kProgress: {
        // As BuildKit: a line when an item is done, and at most one a second while it moves.
        bool done = e.size > 0 && e.current >= e.size;
        Item& item = items_[std::to_string(e.number) + " " + e.id];
        if (item.done || (!done && item.shown >= 0 && e.elapsed - item.shown < 1.0)) return;
        item.shown = e.elapsed;
        item.done = done;
        fprintf(out_, "#%d %s %s / %s%s\n", e.number, EscapeControl(e.id).c_str(), FormatBytes(e.current).c_str(),
                FormatBytes(e.size).c_str(), done ? " done" : "");
        break;
      }
    }
    fflush(out_);
  }

 private:
  void FlushPartial(const Event& e) {
    auto it = partial_.find(e.number);
    if (it != partial_.end() && !it->second.empty()) fprintf(out_, "#%d %.3f %s\n", e.number, e.elapsed, it->second.c_str());
    partial_.erase(e.number);
  }
  FILE* out_;
  std::mutex mu_;
  std::map<int, std::string> partial_;
  struct Item {
    double shown = -1;  // when its last line was printed; -1: never
    bool done = false;
  };
  std::map<std::string, Item> items_;  // by step number and item id
};

/// A terminal view: one line per finished step, and a live line for the running one with its latest output.
class TtyRenderer : public Sink {
 public:
  explicit TtyRenderer(FILE* out) : out_(out) {}
  void Emit(const Event& e) override {
    std::lock_guard l(mu_);
    ClearLive();
    switch (e.kind) {
      case Event::Kind::kStarted:
        running_[e.number] = Running{e.name, "", {}, e.elapsed};
        break;
      case Event::Kind::kCached:
        fprintf(out_, " => CACHED %s\n", EscapeControl(e.name).c_str());
        break;
      case Event::Kind::kLog: {
        auto& r = RunningStep(e);
        r.tail += e.data;
        if (r.tail.size() > 4096) r.tail.erase(0, r.tail.size() - 4096);
        break;
      }
      case Event::Kind::kDone:
        fprintf(out_, " => %-60s %6s\n", EscapeControl(e.name).c_str(), FormatSeconds(e.duration).c_str());
        running_.erase(e.number);
        break;
      case Event::Kind::kError: {
        fprintf(out_, " => ERROR %s %s\n", EscapeControl(e.name).c_str(), FormatSeconds(e.duration).c_str());
        // The output of a failed step is what the user needs: show its last lines.
        auto& tail = running_[e.number].tail;
        std::vector<std::string> lines;
        size_t start = 0;
        while (start < tail.size()) {
          size_t nl = tail.find('\n', start);
          if (nl == std::string::npos) nl = tail.size();
          lines.push_back(tail.substr(start, nl - start));
          start = nl + 1;
        }
        size_t from = lines.size() > 20 ? lines.size() - 20 : 0;
        for (size_t i = from; i < lines.size(); i++) fprintf(out_, " > %s\n", EscapeControl(lines[i], true).c_str());
        fprintf(out_, "ERROR: %s\n", EscapeControl(e.data).c_str());
        running_.erase(e.number);
        break;
      }
      case Event::Kind::kCanceled:
        fprintf(out_, " => CANCELED %s %s\n", EscapeControl(e.name).c_str(), FormatSeconds(e.duration).c_str());
        running_.erase(e.number);
        break;
      case Event::Kind::kProgress: {
        auto& item = RunningStep(e).items[e.id];
        bool was_done = item.second > 0 && item.first >= item.second;
        item = {e.current, e.size};
        if (!was_done && e.size > 0 && e.current >= e.size)
          fprintf(out_, " => => %s %s\n", EscapeControl(e.id).c_str(), FormatBytes(e.size).c_str());
        break;
      }
    }
    DrawLive(e.elapsed);
    fflush(out_);
  }
  void Finish() override {
    std::lock_guard l(mu_);
    ClearLive();
    fflush(out_);
  }

 private:
  struct Running {
    std::string name;
    std::string tail;
    std::map<std::string, std::pair<int64_t, int64_t>> items;  // bytes done and in all, by item
    double started = 0;
  };
  /// The running step an event belongs to; one that shows output or moves bytes is running even if its start
  /// was not seen.
  Running& RunningStep(const Event& e) {
    auto [it, added] = running_.try_emplace(e.number);
    if (added) it->second = Running{e.name, "", {}, e.elapsed};
    return it->second;
  }
  /// Erases the live lines: back to the first, then clear to the end of the screen.
  void ClearLive() {
    if (live_lines_ > 0) fprintf(out_, "\r\033[%dA\033[J", live_lines_);
    live_lines_ = 0;
  }
  /// A live line per running step (as BuildKit's tty view), each with its latest output or bytes moved.
  void DrawLive(double elapsed) {
    for (auto& [number, r] : running_) {
      if (live_lines_ == kMaxLiveLines) break;
      std::string last = r.tail;
      while (!last.empty() && last.back() == '\n') last.pop_back();
      last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
      if (!r.items.empty()) {
        int64_t done = 0, size = 0;
        for (auto& [id, bytes] : r.items) {
          done += bytes.first;
          size += bytes.second;
        }
        last = FormatBytes(done) + " / " + FormatBytes(size);
      }
      std::string line = EscapeControl(" => " + r.name + "  " + FormatSeconds(elapsed - r.started) +
                                       (last.empty() ? "" : "  " + last));
      if (line.size() > 120) line = line.substr(0, 117) + "...";
      fprintf(out_, "%s\n", line.c_str());
      live_lines_++;
    }
  }
  static constexpr int kMaxLiveLines = 16;
  FILE* out_;
  std::mutex mu_;
  std::map<int, Running> running_;
  int live_lines_ = 0;  // lines drawn below the finished ones
};

/// One JSON object per line, shaped like BuildKit's SolveStatus: {"vertexes":[...]} or {"logs":[...]}.
class RawJsonRenderer : public Sink {
 public:
  explicit RawJsonRenderer(FILE* out) : out_(out) {}
  void Emit(const Event& e) override {
    Json j;
    if (e.kind == Event::Kind::kProgress) {
      Json status = {{"id", e.id}, {"vertex", e.digest}, {"name", e.id}, {"current", e.current},
                     {"timestamp", e.elapsed}};
      if (e.size > 0) status["total"] = e.size;
      if (e.size > 0 && e.current >= e.size) status["completed"] = e.elapsed;
      j["statuses"] = Json::array({status});
    } else if (e.kind == Event::Kind::kLog) {
      j["logs"] = Json::array({{{"vertex", e.digest}, {"stream", e.stream}, {"data", Base64Encode(e.data)},
                                {"timestamp", e.elapsed}}});
    } else {
      Json v = {{"digest", e.digest}, {"name", e.name}, {"started", e.elapsed}};
      if (e.kind == Event::Kind::kCached) v["cached"] = true;
      if (!e.changes.empty()) v["changes"] = e.changes;  // kiln's: why it missed the cache
      if (e.kind != Event::Kind::kStarted) {
        v["started"] = e.elapsed - e.duration;
        v["completed"] = e.elapsed;
      }
      if (e.kind == Event::Kind::kError) v["error"] = e.data;
      if (e.kind == Event::Kind::kCanceled) v["error"] = "context canceled";  // BuildKit's words
      j["vertexes"] = Json::array({v});
    }
    std::lock_guard l(mu_);
    fprintf(out_, "%s\n", j.dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
    fflush(out_);
  }

 private:
  FILE* out_;
  std::mutex mu_;
};

class QuietRenderer : public Sink {
 public:
  void Emit(const Event&) override {}
};

}  // namespace

std::string FormatBytes(int64_t n) {
  char buf[32];
  if (n < 1000) {
    snprintf(buf, sizeof buf, "%lldB", static_cast<long long>(n));
  } else if (n < 1000 * 1000) {
    snprintf(buf, sizeof buf, "%.2fkB", double(n) / 1e3);
  } else if (n < 1000LL * 1000 * 1000) {
    snprintf(buf, sizeof buf, "%.2fMB", double(n) / 1e6);
  } else {
    snprintf(buf, sizeof buf, "%.2fGB", double(n) / 1e9);
  }
  return buf;
}

Result<std::unique_ptr<Sink>> MakeRenderer(const std::string& mode, FILE* out) {
  std::string m = mode;
  if (m == "auto" || m.empty()) m = isatty(fileno(out)) ? "tty" : "plain";
  if (m == "plain") return std::unique_ptr<Sink>(new PlainRenderer(out));
  if (m == "tty") return std::unique_ptr<Sink>(new TtyRenderer(out));
  if (m == "rawjson") return std::unique_ptr<Sink>(new RawJsonRenderer(out));
  if (m == "quiet") return std::unique_ptr<Sink>(new QuietRenderer());
  return Status::Error("--progress: unknown mode \"" + mode + "\" (auto, plain, tty, rawjson, quiet)");
}

}  // namespace kiln::progress
