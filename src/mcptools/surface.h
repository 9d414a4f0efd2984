// The parts kiln's MCP tools share: bounds on replies, result shapes, schema helpers, build logs, progress
// forwarding, the surface's state, and the table row every tool is declared as. Internal to src/mcptools.
#pragma once
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/engine.h"
#include "base/text.h"
#include "mcp/server.h"
#include "mcptools/tools.h"
#include "mcptools/workspace.h"

namespace kiln::mcptools {

using mcp::Outcome;
using mcp::RequestContext;

// Bounds on what a reply may carry: an agent's context is precious.
inline constexpr size_t kLogTailBytes = 8 << 10;
inline constexpr size_t kDefaultReadBytes = 64 << 10;
inline constexpr size_t kMaxReadBytes = 1 << 20;
inline constexpr size_t kMaxListEntries = 500;
inline constexpr size_t kMaxRunOutput = 64 << 10;
inline constexpr size_t kMaxSearchResults = 200;
inline constexpr size_t kMaxLogBytes = 1 << 20;  // per build, kept for the log resource
inline constexpr size_t kKeptBuildLogs = 20;
// prune's bounds: a century and an exabyte are "everything"; larger numbers would overflow the arithmetic on them.
inline constexpr int64_t kMaxKeepSeconds = int64_t(100) * 365 * 24 * 3600;
inline constexpr int64_t kMaxKeepBytes = int64_t(1) << 60;

inline constexpr const char* kFailedBuildHelp =
    "Instead of ref: a build id whose failed RUN step's file system is kept, or \"last\" for the latest";

/// The failed_build argument as the engine takes it ("" for the latest).
inline std::string FailedBuild(const Json& a) {
  std::string id = a.value("failed_build", "");
  return id == "last" ? "" : id;
}

inline Json TextContent(const std::string& t) { return {{"type", "text"}, {"text", t}}; }

/// A successful tool result: the structured value, and its JSON as text for clients without structured content.
inline Outcome Structured(Json value, bool is_error = false) {
  Json r = {{"content", {TextContent(value.dump(2, ' ', false, Json::error_handler_t::replace))}},
            {"structuredContent", value}};
  if (is_error) r["isError"] = true;
  return Outcome::Ok(r);
}

/// A failed tool call. Messages quote Dockerfile text, file names and arguments: terminal controls are escaped.
inline Outcome ToolError(const std::string& message) {
  return Outcome::Ok({{"content", {TextContent(EscapeControl(message, true))}}, {"isError", true}});
}

/// The output and time bounds of a command an agent runs (run_container, run_in_failed_step).
class BoundedRun {
 public:
  BoundedRun(RequestContext& ctx, int64_t timeout_s)
      : ctx_(ctx), deadline_(std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s)) {}
  std::function<void(int, std::string_view)> Output() {
    return [this](int fd, std::string_view d) {
      std::lock_guard l(mu_);
      std::string& s = fd == 1 ? out_ : err_;
      size_t room = kMaxRunOutput > s.size() ? kMaxRunOutput - s.size() : 0;
      if (d.size() > room) truncated_ = true;
      s.append(d.substr(0, room));
    };
  }
  std::function<bool()> Cancelled() {
    return [this] {
      if (std::chrono::steady_clock::now() > deadline_) timed_out_ = true;
      return timed_out_.load() || ctx_.cancelled();
    };
  }
  /// The tool's result; `extra` adds fields.
  Outcome Result(const kiln::Result<int>& code, Json extra = Json::object()) {
    if (!code.ok()) return ToolError(code.status().message());
    std::lock_guard l(mu_);
    Json result = {{"exit_code", code.value()}, {"stdout", out_}, {"stderr", err_}, {"truncated", truncated_},
                   {"timed_out", timed_out_.load()}};
    result.update(extra);
    return Structured(result, code.value() != 0);
  }

 private:
  RequestContext& ctx_;
  std::chrono::steady_clock::time_point deadline_;
  std::mutex mu_;
  std::string out_, err_;
  bool truncated_ = false;
  std::atomic<bool> timed_out_{false};
};


/// The first `limit` items of `items` as a JSON array, each through `to_json`; the caller flags the rest as
/// truncated. Replies stay bounded whatever an image or a Dockerfile holds.
template <typename Items, typename ToJson>
inline Json FirstItems(const Items& items, size_t limit, ToJson to_json) {
  Json out = Json::array();
  for (auto& item : items) {
    if (out.size() == limit) break;
    out.push_back(to_json(item));
  }
  return out;
}

inline std::string Tail(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(s.size() - n); }

inline bool IsText(const std::string& data) {
  for (unsigned char c : data)
    if (c == 0 || (c < 0x09)) return false;
  return true;
}

/// Dockerfile, Dockerfile.dev, app.Dockerfile: the names the resources and completions offer.
inline bool IsDockerfileName(const std::string& n) {
  return n == "Dockerfile" || n.rfind("Dockerfile.", 0) == 0 || (n.size() > 11 && n.compare(n.size() - 11, 11, ".Dockerfile") == 0);
}

inline Json Annotations(bool read_only, bool open_world = false) {
  Json a = {{"readOnlyHint", read_only}, {"openWorldHint", open_world}};
  if (!read_only) a["destructiveHint"] = true;
  return a;
}

inline Json ObjectSchema(Json properties, std::vector<std::string> required = {}) {
  return {{"type", "object"}, {"properties", std::move(properties)}, {"required", required},
          {"additionalProperties", false}};
}

inline Json Str(const std::string& description) { return {{"type", "string"}, {"description", description}}; }

/// Build logs kept for the kiln://builds/{id}/log resource, while and after builds run.
class BuildLogs {
 public:
  void Append(const std::string& id, const std::string& text) {
    std::lock_guard l(mu_);
    auto& log = logs_[id];
    log.text += text;
    if (log.text.size() > kMaxLogBytes) log.text.erase(0, log.text.size() - kMaxLogBytes);
  }
  void Start(const std::string& id) {
    std::lock_guard l(mu_);
    logs_[id] = {};
    order_.push_back(id);
    while (order_.size() > kKeptBuildLogs) {
      logs_.erase(order_.front());
      order_.pop_front();
    }
  }
  void Finish(const std::string& id, bool ok) {
    std::lock_guard l(mu_);
    logs_[id].running = false;
    logs_[id].ok = ok;
  }
  std::optional<std::pair<std::string, bool>> Get(const std::string& id) {
    std::lock_guard l(mu_);
    auto it = logs_.find(id);
    if (it == logs_.end()) return std::nullopt;
    return std::make_pair(it->second.text, it->second.running);
  }
  std::vector<std::string> Ids() {
    std::lock_guard l(mu_);
    return std::vector<std::string>(order_.begin(), order_.end());
  }

 private:
  struct Log {
    std::string text;
    bool running = true;
    bool ok = false;
  };
  std::mutex mu_;
  std::map<std::string, Log> logs_;
  std::deque<std::string> order_;
};

/// A pull's or push's bytes as MCP progress notifications: done of total over every blob, at most every 200 ms.
class TransferProgress : public progress::Sink {
 public:
  explicit TransferProgress(RequestContext& ctx) : ctx_(ctx) {}
  void Emit(const progress::Event& e) override {
    if (e.kind != progress::Event::Kind::kProgress) return;
    std::lock_guard l(mu_);
    auto& item = items_[e.id];
    item = {e.current, e.size};
    int64_t done = 0, size = 0;
    for (auto& [id, bytes] : items_) {
      done += bytes.first;
      size += bytes.second;
    }
    auto now = std::chrono::steady_clock::now();
    // Progress must rise: a blob restarting (a retry) does not take it back.
    if (double(done) <= last_done_ || now - last_sent_ < std::chrono::milliseconds(200)) return;
    last_done_ = double(done);
    last_sent_ = now;
    ctx_.Progress(last_done_, size > 0 ? std::optional<double>(double(size)) : std::nullopt,
                  progress::FormatBytes(done) + " / " + progress::FormatBytes(size));
  }

 private:
  RequestContext& ctx_;
  std::mutex mu_;
  std::map<std::string, std::pair<int64_t, int64_t>> items_;
  double last_done_ = 0;
  std::chrono::steady_clock::time_point last_sent_;
};

/// Turns the solver's progress events into MCP progress notifications and the build's log.
class ProgressForwarder : public progress::Sink {
 public:
  ProgressForwarder(RequestContext& ctx, BuildLogs& logs, std::string build_id, mcp::Server& server)
      : ctx_(ctx), logs_(logs), id_(std::move(build_id)), server_(server) {}
  void Emit(const progress::Event& e) override {
    std::string line;
    switch (e.kind) {
      case progress::Event::Kind::kStarted:
        line = "#" + std::to_string(e.number) + " " + e.name + "\n";
        Step(e, 1, e.name);
        break;
      case progress::Event::Kind::kCached:
        line = "#" + std::to_string(e.number) + " " + e.name + "\n#" + std::to_string(e.number) + " CACHED\n";
        Step(e, 2, e.name + " CACHED");
        break;
      case progress::Event::Kind::kDone:
        line = "#" + std::to_string(e.number) + " DONE " + std::to_string(e.duration).substr(0, 4) + "s\n";
        Step(e, 1, e.name + " DONE");
        break;
      case progress::Event::Kind::kError:
        line = "#" + std::to_string(e.number) + " ERROR: " + e.data + "\n";
        break;
      case progress::Event::Kind::kCanceled:
        line = "#" + std::to_string(e.number) + " CANCELED\n";
        break;
      case progress::Event::Kind::kLog:
        line = e.data;
        break;
      case progress::Event::Kind::kProgress:
        if (e.size <= 0 || e.current < e.size) return;  // the log says when a layer is done, not every chunk
        line = "#" + std::to_string(e.number) + " " + e.id + " " + progress::FormatBytes(e.size) + " done\n";
        break;
    }
    logs_.Append(id_, line);
    // Subscribers hear of new log text at most every 200 ms.
    auto now = std::chrono::steady_clock::now();
    std::lock_guard l(mu_);
    if (now - last_notify_ > std::chrono::milliseconds(200)) {
      last_notify_ = now;
      server_.NotifyResourceUpdated("kiln://builds/" + id_ + "/log");
    }
  }
  void Finish() override { server_.NotifyResourceUpdated("kiln://builds/" + id_ + "/log"); }

 private:
  /// Progress counts two units a step, one when it starts and one when it ends (both at once when cached), so
  /// it rises with every notification and ends at twice the number of steps: the total.
  void Step(const progress::Event& e, int units, const std::string& message) {
    int done = units_ += units;
    ctx_.Progress(double(done), e.total > 0 ? std::optional<double>(2.0 * e.total) : std::nullopt,
                  EscapeControl(message));
  }
  RequestContext& ctx_;
  BuildLogs& logs_;
  std::string id_;
  mcp::Server& server_;
  std::atomic<int> units_{0};
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_notify_{};
};

inline std::string NewBuildId() {
  static std::atomic<unsigned> n{0};
  auto t = std::chrono::system_clock::now().time_since_epoch().count();
  char buf[40];
  snprintf(buf, sizeof buf, "%012llx%04x", (unsigned long long)(t & 0xffffffffffffULL), unsigned(n++ & 0xffff));
  return buf;
}

struct Surface::State {
  mcp::Server& server;
  api::Engine& engine;
  Workspace workspace;
  BuildLogs logs;
  Options options;
};

using Context = Surface::State;

/// One tool, as the tables of build_tools.cc, image_tools.cc and workspace_tools.cc declare it.
struct ToolRow {
  std::string name, title, description;
  Json input;        // inputSchema
  Json output;       // outputSchema; null for none
  Json annotations;  // readOnlyHint says whether a read-only server offers the tool
  mcp::TaskSupport tasks = mcp::TaskSupport::kForbidden;
  bool task_after_input = false;
  bool quick = false;  // bounded work and output: answered on the thread that read it (see mcp::Tool::quick)
  std::function<Outcome(RequestContext&, const Json&)> call;
};

// The tables, and what else the surface offers.
std::vector<ToolRow> BuildTools(Context& c);
std::vector<ToolRow> ImageTools(Context& c);
std::vector<ToolRow> WorkspaceTools(Context& c);
void AddResources(Context& c);
void AddPrompts(Context& c);

}  // namespace kiln::mcptools
