#include "mcptools/tools.h"

#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>

#include "base/text.h"
#include "base/fs.h"
#include "mcptools/workspace.h"
#include "oci/reference.h"

namespace kiln::mcptools {
namespace {

using mcp::Outcome;
using mcp::RequestContext;

// Bounds on what a reply may carry: an agent's context is precious.
constexpr size_t kLogTailBytes = 8 << 10;
constexpr size_t kDefaultReadBytes = 64 << 10;
constexpr size_t kMaxReadBytes = 1 << 20;
constexpr size_t kMaxListEntries = 500;
constexpr size_t kMaxRunOutput = 64 << 10;
constexpr size_t kMaxSearchResults = 200;
constexpr size_t kMaxLogBytes = 1 << 20;  // per build, kept for the log resource
constexpr size_t kKeptBuildLogs = 20;
// prune's bounds: a century and an exabyte are "everything"; larger numbers would overflow the arithmetic on them.
constexpr int64_t kMaxKeepSeconds = int64_t(100) * 365 * 24 * 3600;
constexpr int64_t kMaxKeepBytes = int64_t(1) << 60;

constexpr const char* kFailedBuildHelp =
    "Instead of ref: a build id whose failed RUN step's file system is kept, or \"last\" for the latest";

/// The failed_build argument as the engine takes it ("" for the latest).
std::string FailedBuild(const Json& a) {
  std::string id = a.value("failed_build", "");
  return id == "last" ? "" : id;
}

Json TextContent(const std::string& t) { return {{"type", "text"}, {"text", t}}; }

/// A successful tool result: the structured value, and its JSON as text for clients without structured content.
Outcome Structured(Json value, bool is_error = false) {
  Json r = {{"content", {TextContent(value.dump(2, ' ', false, Json::error_handler_t::replace))}},
            {"structuredContent", value}};
  if (is_error) r["isError"] = true;
  return Outcome::Ok(r);
}

/// A failed tool call. Messages quote Dockerfile text, file names and arguments: terminal controls are escaped.
Outcome ToolError(const std::string& message) {
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
Json FirstItems(const Items& items, size_t limit, ToJson to_json) {
  Json out = Json::array();
  for (auto& item : items) {
    if (out.size() == limit) break;
    out.push_back(to_json(item));
  }
  return out;
}

std::string Tail(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(s.size() - n); }

bool IsText(const std::string& data) {
  for (unsigned char c : data)
    if (c == 0 || (c < 0x09)) return false;
  return true;
}

Json Annotations(bool read_only, bool open_world = false) {
  Json a = {{"readOnlyHint", read_only}, {"openWorldHint", open_world}};
  if (!read_only) a["destructiveHint"] = true;
  return a;
}

Json ObjectSchema(Json properties, std::vector<std::string> required = {}) {
  return {{"type", "object"}, {"properties", std::move(properties)}, {"required", required},
          {"additionalProperties", false}};
}

Json Str(const std::string& description) { return {{"type", "string"}, {"description", description}}; }

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

std::string NewBuildId() {
  static std::atomic<unsigned> n{0};
  auto t = std::chrono::system_clock::now().time_since_epoch().count();
  char buf[40];
  snprintf(buf, sizeof buf, "%012llx%04x", (unsigned long long)(t & 0xffffffffffffULL), unsigned(n++ & 0xffff));
  return buf;
}

}  // namespace

struct Surface::State {
  mcp::Server& server;
  api::Engine& engine;
  Workspace workspace;
  BuildLogs logs;
  Options options;
};

namespace {

using Context = Surface::State;

void Add(Context& c, bool read_only, Json definition, std::function<Outcome(RequestContext&, const Json&)> call) {
  if (c.options.read_only && !read_only) return;
  // A stable $id lets clients compile each output schema once rather than on every tools/list (the TypeScript
  // SDK's validator caches by $id: without one, listing kiln's tools cost its client twice as much).
  if (definition.contains("outputSchema")) {
    definition["outputSchema"]["$id"] = "urn:kiln:mcp:tool:" + definition["name"].get<std::string>() + ":output";
  }
  c.server.AddTool({std::move(definition), std::move(call)});
}

// --- build and cache ---

void AddBuildTools(Context& c) {
  Json build_input = ObjectSchema(
      {{"context", Str("Build context directory, relative to the workspace root")},
       {"dockerfile", Str("Dockerfile path (default <context>/Dockerfile)")},
       {"tags", {{"type", "array"}, {"items", {{"type", "string"}}}, {"description", "Names for the image, e.g. app:1"}}},
       {"build_args", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}, {"description", "ARG values"}}},
       {"build_contexts", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}},
                           {"description", "Named contexts for FROM NAME, COPY --from=NAME and RUN --mount=from=NAME: "
                                           "a directory (relative to the workspace root), docker-image://REF or "
                                           "oci-layout://DIR[:TAG|@DIGEST]"}}},
       {"target", Str("Stage to build (default: the last)")},
       {"no_cache", {{"type", "boolean"}, {"description", "Run every step again"}}},
       {"max_parallelism", {{"type", "integer"}, {"minimum", 1}, {"maximum", 64},
                            {"description", "Steps run at once at most (default: one per core)"}}},
       {"pull", {{"type", "string"}, {"enum", {"missing", "always", "never"}},
                 {"description", "When base images are pulled from their registry (default: missing)"}}},
       {"push", {{"type", "boolean"}, {"description", "Push every tag to its registry once built"}}},
       {"cache_from", {{"type", "array"}, {"items", {{"type", "string"}}},
                       {"description", "Build cache to import, as --cache-from: type=registry,ref=REF or type=local,src=DIR"}}},
       {"cache_to", {{"type", "array"}, {"items", {{"type", "string"}}},
                     {"description", "Where to export build cache, as --cache-to: type=registry,ref=REF[,mode=max], "
                                     "type=local,dest=DIR or type=inline"}}}},
      {"context"});
  std::string description =
      "Build a container image from a Dockerfile, as `kiln build` does. Steps already built are reused from the "
      "cache. Sends a progress notification per step; cancellable. On failure the result names the failing step, "
      "its exit code and the end of its output.";
  if (!c.options.secrets.empty()) {
    Json ids = Json::array();
    for (auto& s : c.options.secrets) ids.push_back(s.id);
    build_input["properties"]["secrets"] = {
        {"type", "array"}, {"items", {{"type", "string"}, {"enum", ids}}}, {"uniqueItems", true},
        {"description", "Ids of server-side secrets to offer to RUN --mount=type=secret,id=ID (values are never shown)"}};
    description += " Secrets available by id for RUN --mount=type=secret,id=ID: " + ids.dump() +
                   "; their values are masked in all output.";
  }
  Add(c, false,
      {{"name", "build_image"},
       {"title", "Build an image"},
       {"description", description},
       {"inputSchema", build_input},
       {"outputSchema",
        {{"type", "object"},
         {"properties",
          {{"ok", {{"type", "boolean"}}},
           {"build_id", {{"type", "string"}}},
           {"image", {{"type", "object"}, {"properties", {{"digest", {{"type", "string"}}}, {"tags", {{"type", "array"}}},
                                                          {"pushed", {{"type", "array"}, {"description", "name and digest of each push (layers leave compressed, so the digest differs from the stored image's)"}}}}}}},
           {"steps", {{"type", "array"}}},
           {"warnings", {{"type", "array"}}},
           {"error", {{"type", "object"}}}}},
         {"required", {"ok", "build_id", "steps"}}}},
       {"annotations", Annotations(false)}},
      [&c](RequestContext& ctx, const Json& a) {
        api::BuildRequest req;
        auto context = c.workspace.Resolve(a["context"].get<std::string>());
        if (!context.ok()) return ToolError(context.status().message());
        req.context = *context;
        if (a.contains("dockerfile")) {
          auto df = c.workspace.Resolve(a["dockerfile"].get<std::string>());
          if (!df.ok()) return ToolError(df.status().message());
          req.dockerfile = *df;
        }
        if (a.contains("tags")) req.tags = a["tags"].get<std::vector<std::string>>();
        if (a.contains("build_args"))
          for (auto& [k, v] : a["build_args"].items()) req.build_args[k] = v.get<std::string>();
        if (a.contains("build_contexts")) {
          for (auto& [name, v] : a["build_contexts"].items()) {
            std::string value = v.get<std::string>();
            // Directories and layouts are paths like any other: they must lie inside the workspace.
            bool image = value.rfind("docker-image://", 0) == 0;
            bool layout = value.rfind("oci-layout://", 0) == 0;
            if (!image) {
              api::LayoutSpec spec = api::LayoutSpec::Parse(layout ? value.substr(strlen("oci-layout://")) : value);
              std::string path = layout ? spec.dir : value;
              std::string suffix = layout ? spec.Suffix() : "";
              auto resolved = c.workspace.Resolve(path);
              if (!resolved.ok()) return ToolError("build_contexts." + name + ": " + resolved.status().message());
              value = (layout ? "oci-layout://" : "") + *resolved + suffix;
            }
            req.build_contexts[name] = value;
          }
        }
        req.target = a.value("target", "");
        req.no_cache = a.value("no_cache", false);
        req.memory_limit = c.options.memory_limit;
        req.pids_limit = c.options.pids_limit;
        if (a.contains("max_parallelism")) req.max_parallelism = int(a["max_parallelism"].get<int64_t>());
        req.push = a.value("push", false);
        auto pull = api::ParsePullPolicy(a.value("pull", "missing"));
        if (!pull.ok()) return ToolError(pull.status().message());
        req.pull = *pull;
        for (auto [field, list] : {std::pair{"cache_from", &req.cache_from}, std::pair{"cache_to", &req.cache_to}}) {
          for (auto& spec : a.value(field, Json::array())) {
            auto parsed = cache::CacheSpec::Parse(spec.get<std::string>(), list == &req.cache_to);
            if (!parsed.ok()) return ToolError(parsed.status().message());
            // A cache directory is a path like any other: it must lie inside the workspace.
            if (parsed->type == "local") {
              auto dir = c.workspace.Resolve(parsed->dir);
              if (!dir.ok()) return ToolError(dir.status().message());
              parsed->dir = *dir;
            }
            list->push_back(*parsed);
          }
        }
        for (auto& id : a.value("secrets", Json::array())) {
          auto source = std::find_if(c.options.secrets.begin(), c.options.secrets.end(),
                                     [&](const api::SecretSource& s) { return s.id == id.get<std::string>(); });
          auto value = source->Read();  // the schema's enum admits configured ids only
          if (!value.ok()) return ToolError(value.status().message());
          req.secrets[source->id] = *value;
        }
        req.build_id = NewBuildId();
        c.logs.Start(req.build_id);
        ProgressForwarder forward(ctx, c.logs, req.build_id, c.server);
        req.progress = &forward;
        req.cancelled = [&ctx] { return ctx.cancelled(); };
        api::BuildResult r = c.engine.Build(req);
        c.logs.Finish(req.build_id, r.status.ok());
        forward.Finish();
        Json steps = Json::array();
        for (auto& s : r.steps) {
          steps.push_back(
              {{"name", EscapeControl(s.name)}, {"cached", s.cached}, {"duration_ms", int64_t(s.duration * 1000)}});
        }
        Json out = {{"ok", r.status.ok()}, {"build_id", r.build_id}, {"steps", steps}, {"warnings", Json::array()}};
        for (auto& w : r.warnings) out["warnings"].push_back(EscapeControl(w));
        if (!r.status.ok()) {
          Json err = {{"message", EscapeControl(r.status.message())}};
          if (r.failure) {
            err["step"] = EscapeControl(r.failure->step);
            err["exit_code"] = r.failure->exit_code;
            err["log_tail"] = EscapeControl(Tail(r.failure->log_tail, kLogTailBytes), true);
          }
          out["error"] = err;
          return Structured(out, true);
        }
        if (r.image) {
          Json pushed = Json::array();
          for (auto& p : r.pushed) pushed.push_back({{"name", p.name}, {"digest", p.digest}});
          out["image"] = {{"digest", r.image->descriptor.digest}, {"tags", r.tags}, {"pushed", pushed}};
        }
        return Structured(out);
      });

  Json transfer_output = {{"type", "object"},
                          {"properties", {{"name", {{"type", "string"}}}, {"digest", {{"type", "string"}}}}},
                          {"required", {"name", "digest"}}};
  Add(c, false,
      {{"name", "pull_image"},
       {"title", "Pull an image"},
       {"description", "Pull an image from its registry into kiln's store (Docker Hub names like alpine:3 work), "
                       "with the credentials of the user's docker config. Layers already held are not fetched again."},
       {"inputSchema", ObjectSchema({{"ref", Str("Image reference, e.g. alpine:3.20 or registry:5000/app:1")},
                                     {"platform", Str("Platform of a multi-platform image, os/arch[/variant] "
                                                      "(default this host's)")}},
                                    {"ref"})},
       {"outputSchema", transfer_output},
       {"annotations", Annotations(false, true)}},
      [&c](RequestContext& ctx, const Json& a) {
        TransferProgress forward(ctx);
        api::PullRequest req;
        req.ref = a["ref"].get<std::string>();
        req.platform = a.value("platform", "");
        req.progress = &forward;
        req.cancelled = [&ctx] { return ctx.cancelled(); };
        auto image = c.engine.Pull(req);
        if (!image.ok()) return ToolError(image.status().message());
        auto ref = oci::ParseReference(req.ref);
        return Structured({{"name", ref.ok() ? ref->String() : req.ref}, {"digest", image->descriptor.digest}});
      });

  Add(c, false,
      {{"name", "push_image"},
       {"title", "Push an image"},
       {"description", "Push a local image to a registry, under its own name or `dest`, with the credentials of the "
                       "user's docker config. Blobs the registry already has are not uploaded again."},
       {"inputSchema", ObjectSchema({{"ref", Str("Local image")},
                                     {"dest", Str("Where to push it, e.g. registry:5000/team/app:1 (default: its name)")}},
                                    {"ref"})},
       {"outputSchema", transfer_output},
       {"annotations", Annotations(false, true)}},
      [&c](RequestContext& ctx, const Json& a) {
        TransferProgress forward(ctx);
        api::PushRequest req;
        req.ref = a["ref"].get<std::string>();
        req.dest = a.value("dest", "");
        req.progress = &forward;
        req.cancelled = [&ctx] { return ctx.cancelled(); };
        auto pushed = c.engine.Push(req);
        if (!pushed.ok()) return ToolError(pushed.status().message());
        return Structured({{"name", pushed->name}, {"digest", pushed->digest}});
      });

  Add(c, true,
      {{"name", "explain_cache"},
       {"title", "Explain cache hits and misses"},
       {"description", "For each step of a build (default: the last), whether it came from the cache and, if not, why it ran: "
                       "`changed` names what differs from the step's previous run (a context file, a build-arg, an env "
                       "variable, the base image, the instruction text, or an earlier step)."},
       {"inputSchema", ObjectSchema({{"build_id", Str("Build id from build_image (default: the last build)")}})},
       {"outputSchema", {{"type", "object"}, {"properties", {{"build_id", {{"type", "string"}}}, {"ok", {{"type", "boolean"}}},
                                                             {"steps", {{"type", "array"}}}, {"truncated", {{"type", "boolean"}}}}}}},
       {"annotations", Annotations(true)}},
      [&c](RequestContext&, const Json& a) {
        auto report = c.engine.BuildReport(a.value("build_id", ""));
        if (!report.ok()) return ToolError(report.status().message());
        Json steps = FirstItems((*report)["steps"], kMaxListEntries, [](const Json& s) {
          Json step = {{"name", EscapeControl(s["name"].get<std::string>())}, {"cached", s["cached"]},
                       {"reason", s["cached"].get<bool>() ? "cache hit: same step, same inputs"
                                                          : EscapeControl(s["reason"].get<std::string>())}};
          // What differs from the step's previous record: "file src/b.txt", "build-arg V", "input step #3"...
          if (s.contains("changes")) {
            step["changed"] = Json::array();
            for (auto& c : s["changes"]) step["changed"].push_back(EscapeControl(c.get<std::string>()));
          }
          if (s.contains("source")) step["source"] = EscapeControl(s["source"].get<std::string>());
          return step;
        });
        return Structured({{"build_id", (*report)["id"]}, {"ok", report->value("ok", false)}, {"steps", steps},
                           {"truncated", (*report)["steps"].size() > kMaxListEntries}});
      });

  Add(c, true,
      {{"name", "disk_usage"},
       {"title", "Disk usage of the store"},
       {"description", "What kiln's store holds: images, build cache records and snapshots, cached layer blobs, and "
                       "what prune_cache would free. `records` lists the largest cache records."},
       {"inputSchema", ObjectSchema({{"records", {{"type", "integer"}, {"minimum", 0}, {"maximum", kMaxListEntries},
                                                  {"description", "How many cache records to list (default 20)"}}}})},
       {"outputSchema", {{"type", "object"}, {"properties", {{"images", {{"type", "integer"}}}, {"image_bytes", {{"type", "integer"}}},
                                                             {"cache_records", {{"type", "integer"}}}, {"snapshot_bytes", {{"type", "integer"}}},
                                                             {"reclaimable_bytes", {{"type", "integer"}}}, {"total_bytes", {{"type", "integer"}}},
                                                             {"records", {{"type", "array"}}}, {"truncated", {{"type", "boolean"}}}}}}},
       {"annotations", Annotations(true)}},
      [&c](RequestContext&, const Json& a) {
        auto u = c.engine.DiskUsage();
        if (!u.ok()) return ToolError(u.status().message());
        auto entries = u->entries;
        std::stable_sort(entries.begin(), entries.end(), [](auto& x, auto& y) { return x.bytes > y.bytes; });
        size_t limit = a.value("records", size_t(20));
        Json out = store::TotalsJson(*u);
        out["records"] = FirstItems(entries, limit, [](const store::CacheEntryUsage& e) {
          return Json{{"step", e.description}, {"bytes", e.bytes}, {"last_used", oci::FormatTime(e.last_used)}};
        });
        out["truncated"] = entries.size() > limit;
        return Structured(out);
      });

  Add(c, false,
      {{"name", "prune_cache"},
       {"title", "Prune the build cache"},
       {"description", "Remove build cache (images stay): everything, or all but what was used recently "
                       "(keep_duration_s) or what fits in keep_storage_bytes, most recently used first. Refused while "
                       "a build or run is using the store."},
       {"inputSchema", ObjectSchema({{"keep_duration_s", {{"type", "integer"}, {"minimum", 0}, {"maximum", kMaxKeepSeconds},
                                                          {"description", "Keep cache used within this many seconds"}}},
                                     {"all", {{"type", "boolean"}, {"description", "Also the RUN cache-mount directories"}}},
                                     {"keep_storage_bytes", {{"type", "integer"}, {"minimum", 0}, {"maximum", kMaxKeepBytes},
                                                             {"description", "Keep the most recently used cache within this size"}}}})},
       {"outputSchema", {{"type", "object"}, {"properties", {{"cache_records", {{"type", "integer"}}}, {"snapshots", {{"type", "integer"}}},
                                                             {"blobs", {{"type", "integer"}}}, {"cache_mounts", {{"type", "integer"}}},
                                                             {"debug_states", {{"type", "integer"}}},
                                                             {"reclaimed_bytes", {{"type", "integer"}}}}}}},
       {"annotations", Annotations(false)}},
      [&c](RequestContext&, const Json& a) {
        store::GcPolicy policy;
        if (a.contains("keep_duration_s")) policy.keep_used_since = int64_t(time(nullptr)) - a["keep_duration_s"].get<int64_t>();
        if (a.contains("keep_storage_bytes")) policy.keep_bytes = a["keep_storage_bytes"].get<int64_t>();
        policy.all = a.value("all", false);
        auto r = c.engine.Prune(policy);
        if (!r.ok()) return ToolError(r.status().message());
        return Structured({{"cache_records", r->cache_records}, {"snapshots", r->snapshots}, {"blobs", r->blobs},
                           {"debug_states", r->debug_states}, {"cache_mounts", r->cache_mounts},
                           {"reclaimed_bytes", r->reclaimed_bytes}});
      });

  Add(c, true,
      {{"name", "lint_dockerfile"},
       {"title", "Check a Dockerfile"},
       {"description",
        "Ask about a Dockerfile without building it, as `docker buildx build --call`: call \"check\" (default) runs "
        "BuildKit's 22 build checks (same rule names; base images are looked up, as a build would), \"targets\" "
        "lists its stages with their descriptions, \"outline\" lists what the target takes: build args with "
        "their values and descriptions, secret and ssh ids."},
       {"inputSchema",
        ObjectSchema({{"dockerfile", Str("Dockerfile path, relative to the workspace root")},
                      {"context", Str("Build context directory (default: the Dockerfile's directory)")},
                      {"call", {{"type", "string"}, {"enum", {"check", "targets", "outline"}},
                                {"description", "What to ask (default: check)"}}},
                      {"target", Str("Stage to check or outline (default: every stage for check, the last for outline)")},
                      {"build_args", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}, {"description", "ARG values"}}}},
                     {"dockerfile"})},
       {"outputSchema", {{"type", "object"},
                         {"properties", {{"call", {{"type", "string"}}},
                                         {"findings", {{"type", "array"}}},
                                         {"truncated", {{"type", "boolean"}}},
                                         {"result", {{"type", "object"}}}}}}},
       {"annotations", Annotations(true)}},
      [&c](RequestContext& ctx, const Json& a) {
        auto path = c.workspace.Resolve(a["dockerfile"].get<std::string>());
        if (!path.ok()) return ToolError(path.status().message());
        api::BuildRequest req;
        req.dockerfile = *path;
        req.context = DirName(*path);
        if (a.contains("context")) {
          auto context = c.workspace.Resolve(a["context"].get<std::string>());
          if (!context.ok()) return ToolError(context.status().message());
          req.context = *context;
        }
        req.call = a.value("call", "check");
        req.target = a.value("target", "");
        if (a.contains("build_args"))
          for (auto& [k, v] : a["build_args"].items()) req.build_args[k] = v.get<std::string>();
        req.cancelled = [&ctx] { return ctx.cancelled(); };
        api::BuildResult r = c.engine.Build(req);
        if (!r.status.ok()) return ToolError(r.status.message());
        Json out = {{"call", req.call}};
        if (req.call != "check") out["result"] = r.call_json;  // a check's answer is its findings, below
        if (req.call == "check") {
          out["findings"] = FirstItems(r.findings, kMaxListEntries, [](const dockerfile::Finding& f) {
            const dockerfile::Rule* rule = dockerfile::FindRule(f.rule);
            return Json{{"rule", f.rule}, {"line", f.line}, {"message", EscapeControl(f.message)},
                        {"description", rule ? rule->description : ""}, {"url", rule ? rule->url : ""}};
          });
          out["truncated"] = r.findings.size() > kMaxListEntries;
        }
        return Structured(out);
      });
}

// --- images ---

void AddImageTools(Context& c) {
  Add(c, true,
      {{"name", "list_images"},
       {"title", "List images"},
       {"description", "Images in kiln's local store."},
       {"inputSchema", ObjectSchema({{"filter", Str("Only names containing this text")}})},
       {"outputSchema", {{"type", "object"}, {"properties", {{"images", {{"type", "array"}}}}}}},
       {"annotations", Annotations(true)}},
      [&c](RequestContext&, const Json& a) {
        auto images = c.engine.Images();
        if (!images.ok()) return ToolError(images.status().message());
        std::string filter = a.value("filter", "");
        Json out = Json::array();
        for (auto& i : *images) {
          if (!filter.empty() && i.name.find(filter) == std::string::npos) continue;
          out.push_back({{"ref", i.name}, {"digest", i.digest}, {"size", i.size}, {"created", oci::FormatTime(i.created)}});
        }
        return Structured({{"images", out}});
      });

  Add(c, true,
      {{"name", "inspect_image"},
       {"title", "Inspect an image"},
       {"description", "An image's config (env, cmd, entrypoint, user, workdir, labels...), layers, platform and size."},
       {"inputSchema", ObjectSchema({{"ref", Str("Image name or digest")}}, {"ref"})},
       {"outputSchema", {{"type", "object"}, {"properties", {{"digest", {{"type", "string"}}}, {"config", {{"type", "object"}}},
                                                             {"layers", {{"type", "array"}}}, {"platform", {{"type", "string"}}},
                                                             {"size", {{"type", "integer"}}}}}}},
       {"annotations", Annotations(true)}},
      [&c](RequestContext&, const Json& a) {
        auto img = c.engine.FindImage(a["ref"].get<std::string>());
        if (!img.ok()) return ToolError(img.status().message());
        Json layers = Json::array();
        int64_t size = img->manifest.config.size;
        for (size_t i = 0; i < img->manifest.layers.size(); i++) {
          auto& l = img->manifest.layers[i];
          size += l.size;
          layers.push_back({{"digest", l.digest}, {"size", l.size}, {"media_type", l.media_type},
                            {"diff_id", i < img->config.diff_ids.size() ? img->config.diff_ids[i] : ""}});
        }
        Json cfg = oci::ToJson(img->config)["config"];
        return Structured({{"digest", img->descriptor.digest}, {"config", cfg}, {"layers", layers},
                           {"platform", img->config.platform.ToString()}, {"size", size}});
      });

  Add(c, true,
      {{"name", "image_history"},
       {"title", "Image history"},
       {"description", "How an image was made: one entry per Dockerfile instruction, with whether it added a layer."},
       {"inputSchema", ObjectSchema({{"ref", Str("Image name or digest")}}, {"ref"})},
       {"outputSchema", {{"type", "object"}, {"properties", {{"history", {{"type", "array"}}}, {"truncated", {{"type", "boolean"}}}}}}},
       {"annotations", Annotations(true)}},
      [&c](RequestContext&, const Json& a) {
        auto img = c.engine.FindImage(a["ref"].get<std::string>());
        if (!img.ok()) return ToolError(img.status().message());
        Json h = FirstItems(img->config.history, kMaxListEntries, [](const oci::HistoryEntry& e) {
          return Json{{"created", e.created}, {"created_by", e.created_by}, {"empty_layer", e.empty_layer}};
        });
        return Structured({{"history", h}, {"truncated", img->config.history.size() > kMaxListEntries}});
      });

  Add(c, true,
      {{"name", "list_image_files"},
       {"title", "List files in an image"},
       {"description", "The entries of a directory inside an image's file system, or (failed_build) inside the file "
                       "system a failed RUN step left."},
       {"inputSchema", ObjectSchema({{"ref", Str("Image name or digest")}, {"path", Str("Directory inside the image (default /)")},
                                     {"failed_build", Str(kFailedBuildHelp)},
                                     {"max_entries", {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxListEntries}}}})},
       {"outputSchema", {{"type", "object"}, {"properties", {{"entries", {{"type", "array"}}}, {"truncated", {{"type", "boolean"}}}}}}},
       {"annotations", Annotations(true)}},
      [&c](RequestContext&, const Json& a) {
        bool truncated = false;
        if (a.contains("ref") == a.contains("failed_build")) return ToolError("give either ref or failed_build");
        size_t limit = a.value("max_entries", kMaxListEntries);
        auto entries = a.contains("ref")
                           ? c.engine.ListImageFiles(a["ref"].get<std::string>(), a.value("path", "/"), limit, &truncated)
                           : c.engine.ListFailedStepFiles(FailedBuild(a), a.value("path", "/"), limit, &truncated);
        if (!entries.ok()) return ToolError(entries.status().message());
        Json out = Json::array();
        for (auto& e : *entries) {
          Json j = {{"name", e.name}, {"type", e.type}, {"size", e.size}, {"mode", e.mode}, {"uid", e.uid}, {"gid", e.gid}};
          if (!e.link_target.empty()) j["link_target"] = e.link_target;
          out.push_back(j);
        }
        return Structured({{"entries", out}, {"truncated", truncated}});
      });

  Add(c, true,
      {{"name", "read_image_file"},
       {"title", "Read a file in an image"},
       {"description", "The content of a file inside an image, or (failed_build) inside the file system a failed RUN step "
                       "left (text, or base64 for binary files), bounded by max_bytes."},
       {"inputSchema", ObjectSchema({{"ref", Str("Image name or digest")}, {"path", Str("File inside the image")},
                                     {"failed_build", Str(kFailedBuildHelp)},
                                     {"max_bytes", {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxReadBytes}}}},
                                    {"path"})},
       {"outputSchema", {{"type", "object"}, {"properties", {{"content", {{"type", "string"}}}, {"encoding", {{"type", "string"}}},
                                                             {"size", {{"type", "integer"}}}, {"truncated", {{"type", "boolean"}}}}}}},
       {"annotations", Annotations(true)}},
      [&c](RequestContext&, const Json& a) {
        if (a.contains("ref") == a.contains("failed_build")) return ToolError("give either ref or failed_build");
        size_t max = a.value("max_bytes", kDefaultReadBytes);
        auto f = a.contains("ref") ? c.engine.ReadImageFile(a["ref"].get<std::string>(), a["path"].get<std::string>(), max)
                                   : c.engine.ReadFailedStepFile(FailedBuild(a), a["path"].get<std::string>(), max);
        if (!f.ok()) return ToolError(f.status().message());
        bool text = IsText(f->data);
        return Structured({{"content", text ? f->data : Base64Encode(f->data)}, {"encoding", text ? "utf-8" : "base64"},
                           {"size", f->size}, {"truncated", f->truncated}});
      });

  Add(c, true,
      {{"name", "diff_images"},
       {"title", "Compare two images"},
       {"description", "Files added, removed or modified (content, mode, owner or link target) from one image to another."},
       {"inputSchema", ObjectSchema({{"from", Str("The older image")}, {"to", Str("The newer image")},
                                     {"max_entries", {{"type", "integer"}, {"minimum", 1}, {"maximum", 5000}}}},
                                    {"from", "to"})},
       {"outputSchema", {{"type", "object"}, {"properties", {{"changes", {{"type", "array"}}}, {"truncated", {{"type", "boolean"}}}}}}},
       {"annotations", Annotations(true)}},
      [&c](RequestContext&, const Json& a) {
        bool truncated = false;
        auto changes = c.engine.DiffImages(a["from"].get<std::string>(), a["to"].get<std::string>(),
                                           a.value("max_entries", kMaxListEntries), &truncated);
        if (!changes.ok()) return ToolError(changes.status().message());
        Json out = Json::array();
        for (auto& ch : *changes) out.push_back({{"path", ch.path}, {"kind", ch.kind}});
        return Structured({{"changes", out}, {"truncated", truncated}});
      });

  Add(c, false,
      {{"name", "run_container"},
       {"title", "Run a container"},
       {"description", "Run a command in a new container of an image and return its exit code and output. No network "
                       "unless network is \"host\"; the container's file changes are discarded. Stopped after timeout_s."},
       {"inputSchema",
        ObjectSchema({{"ref", Str("Image name or digest")},
                      {"command", {{"type", "array"}, {"items", {{"type", "string"}}}, {"description", "Command and arguments (default: the image's)"}}},
                      {"env", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}},
                      {"network", {{"type", "string"}, {"enum", {"none", "host"}}}},
                      {"timeout_s", {{"type", "integer"}, {"minimum", 1}, {"maximum", 600}}}},
                     {"ref"})},
       {"outputSchema", {{"type", "object"}, {"properties", {{"exit_code", {{"type", "integer"}}}, {"stdout", {{"type", "string"}}},
                                                             {"stderr", {{"type", "string"}}}, {"truncated", {{"type", "boolean"}}},
                                                             {"timed_out", {{"type", "boolean"}}},
                                                             {"limit_reached", {{"type", "string"}}}}}}},
       {"annotations", Annotations(false, true)}},
      [&c](RequestContext& ctx, const Json& a) {
        api::RunRequest req;
        req.ref = a["ref"].get<std::string>();
        if (a.contains("command")) req.command = a["command"].get<std::vector<std::string>>();
        if (a.contains("env"))
          for (auto& [k, v] : a["env"].items()) req.env.push_back(k + "=" + v.get<std::string>());
        req.network = a.value("network", "none");
        req.interactive = false;
        req.memory_limit = c.options.memory_limit;
        req.pids_limit = c.options.pids_limit;
        std::string limit;
        req.limit_reached = &limit;
        BoundedRun run(ctx, a.value("timeout_s", 60));
        req.on_output = run.Output();
        req.cancelled = run.Cancelled();
        auto code = c.engine.Run(req);
        return run.Result(code, limit.empty() ? Json::object() : Json{{"limit_reached", limit}});
      });

  Add(c, false,
      {{"name", "run_in_failed_step"},
       {"title", "Run a command where a build failed"},
       {"description", "Run a command in the file system a failed RUN step left (kept for the last few failed builds), "
                       "with the step's environment, working directory, user and cache mounts, and return its exit code "
                       "and output. What it changes is thrown away. Stopped after timeout_s."},
       {"inputSchema",
        ObjectSchema({{"build_id", Str("The failed build (default: the latest whose failed step is kept)")},
                      {"command", {{"type", "array"}, {"items", {{"type", "string"}}}, {"minItems", 1},
                                   {"description", "Command and arguments, e.g. [\"sh\", \"-c\", \"ls /app\"]"}}},
                      {"timeout_s", {{"type", "integer"}, {"minimum", 1}, {"maximum", 600}}}},
                     {"command"})},
       {"outputSchema", {{"type", "object"}, {"properties", {{"exit_code", {{"type", "integer"}}}, {"stdout", {{"type", "string"}}},
                                                             {"stderr", {{"type", "string"}}}, {"truncated", {{"type", "boolean"}}},
                                                             {"timed_out", {{"type", "boolean"}}},
                                                             {"not_mounted", {{"type", "array"}}}}}}},
       {"annotations", Annotations(false, true)}},
      [&c](RequestContext& ctx, const Json& a) {
        api::DebugRequest req;
        req.build_id = a.value("build_id", "");
        req.command = a["command"].get<std::vector<std::string>>();
        req.interactive = false;
        req.memory_limit = c.options.memory_limit;
        req.pids_limit = c.options.pids_limit;
        std::vector<std::string> left_out;
        req.left_out = &left_out;
        BoundedRun run(ctx, a.value("timeout_s", 60));
        req.on_output = run.Output();
        req.cancelled = run.Cancelled();
        auto code = c.engine.Debug(req);
        return run.Result(code, {{"not_mounted", left_out}});
      });
}

// --- workspace files, as the MCP reference filesystem server offers them ---

void AddFileTools(Context& c) {
  Add(c, true,
      {{"name", "read_file"},
       {"title", "Read a workspace file"},
       {"description", "Read a text file inside the allowed workspace roots."},
       {"inputSchema", ObjectSchema({{"path", Str("File path, relative to the first root or absolute inside one")},
                                     {"max_bytes", {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxReadBytes}}}},
                                    {"path"})},
       {"outputSchema", {{"type", "object"}, {"properties", {{"content", {{"type", "string"}}}, {"truncated", {{"type", "boolean"}}}}}}},
       {"annotations", Annotations(true)}},
      [&c](RequestContext&, const Json& a) {
        auto path = c.workspace.Resolve(a["path"].get<std::string>());
        if (!path.ok()) return ToolError(path.status().message());
        if (IsDirectory(*path)) return ToolError(a["path"].get<std::string>() + ": is a directory");
        auto data = ReadFile(*path);
        if (!data.ok()) return ToolError(data.status().message());
        size_t max = a.value("max_bytes", kDefaultReadBytes);
        bool truncated = data->size() > max;
        if (truncated) data->resize(max);
        return Structured({{"content", *data}, {"truncated", truncated}});
      });

  Add(c, false,
      {{"name", "write_file"},
       {"title", "Write a workspace file"},
       {"description", "Create or overwrite a file inside the allowed workspace roots (directories are created)."},
       {"inputSchema", ObjectSchema({{"path", Str("File path")}, {"content", Str("The whole new content")}}, {"path", "content"})},
       {"outputSchema", {{"type", "object"}, {"properties", {{"path", {{"type", "string"}}}, {"bytes", {{"type", "integer"}}}}}}},
       {"annotations", Annotations(false)}},
      [&c](RequestContext&, const Json& a) {
        const std::string& content = a["content"].get_ref<const std::string&>();
        if (content.size() > (16u << 20)) return ToolError("content larger than 16 MiB");
        auto path = c.workspace.ResolveForWrite(a["path"].get<std::string>());
        if (!path.ok()) return ToolError(path.status().message());
        Status st = WriteFileAtomic(*path, content);
        if (!st.ok()) return ToolError(st.message());
        return Structured({{"path", *path}, {"bytes", content.size()}});
      });

  Add(c, true,
      {{"name", "list_directory"},
       {"title", "List a workspace directory"},
       {"description", "Entries of a directory inside the allowed roots, marked [DIR] or [FILE]."},
       {"inputSchema", ObjectSchema({{"path", Str("Directory path (default: the first root)")}})},
       {"outputSchema", {{"type", "object"}, {"properties", {{"entries", {{"type", "array"}}}, {"truncated", {{"type", "boolean"}}}}}}},
       {"annotations", Annotations(true)}},
      [&c](RequestContext&, const Json& a) {
        auto path = c.workspace.Resolve(a.value("path", c.workspace.roots()[0]));
        if (!path.ok()) return ToolError(path.status().message());
        auto names = ListDir(*path);
        if (!names.ok()) return ToolError(names.status().message());
        Json entries = Json::array();
        std::string text;
        for (auto& n : *names) {
          if (entries.size() >= kMaxListEntries) break;
          bool dir = IsDirectory(JoinPath(*path, n));
          entries.push_back({{"name", n}, {"type", dir ? "directory" : "file"}});
          text += std::string(dir ? "[DIR] " : "[FILE] ") + n + "\n";
        }
        Json structured = {{"entries", entries}, {"truncated", names->size() > kMaxListEntries}};
        return Outcome::Ok({{"content", {TextContent(text)}}, {"structuredContent", structured}});
      });

  Add(c, true,
      {{"name", "search_files"},
       {"title", "Find workspace files"},
       {"description", "Recursively find files and directories whose name matches a glob pattern (e.g. \"Dockerfile*\")."},
       {"inputSchema", ObjectSchema({{"path", Str("Directory to search from")}, {"pattern", Str("Glob on the name")}},
                                    {"pattern"})},
       {"outputSchema", {{"type", "object"}, {"properties", {{"matches", {{"type", "array"}}}, {"truncated", {{"type", "boolean"}}}}}}},
       {"annotations", Annotations(true)}},
      [&c](RequestContext& ctx, const Json& a) {
        auto start = c.workspace.Resolve(a.value("path", c.workspace.roots()[0]));
        if (!start.ok()) return ToolError(start.status().message());
        std::string pattern = a["pattern"].get<std::string>();
        Json matches = Json::array();
        bool truncated = false;
        std::function<void(const std::string&, int)> walk = [&](const std::string& dir, int depth) {
          if (depth > 32 || truncated || ctx.cancelled()) return;
          auto names = ListDir(dir);
          if (!names.ok()) return;
          for (auto& n : *names) {
            std::string p = JoinPath(dir, n);
            if (fnmatch(pattern.c_str(), n.c_str(), FNM_CASEFOLD) == 0) {
              if (matches.size() >= kMaxSearchResults) {
                truncated = true;
                return;
              }
              matches.push_back(p);
            }
            struct stat st;
            if (lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) walk(p, depth + 1);  // symlinks not followed
          }
        };
        walk(*start, 0);
        return Structured({{"matches", matches}, {"truncated", truncated}});
      });
}

// --- resources ---

void AddResources(Context& c) {
  c.server.AddResourceLister([&c] {
    std::vector<Json> out;
    auto images = c.engine.Images();
    if (images.ok())
      for (auto& i : *images) {
        out.push_back({{"uri", "kiln://images/" + i.name}, {"name", i.name},
                       {"description", "Image " + i.name + " (" + i.digest.substr(0, 19) + ")"},
                       {"mimeType", "application/json"}});
      }
    for (auto& id : c.logs.Ids()) {
      out.push_back({{"uri", "kiln://builds/" + id + "/log"}, {"name", "build " + id + " log"},
                     {"description", "Progress output of build " + id}, {"mimeType", "text/plain"}});
    }
    return out;
  });
  c.server.AddResourceTemplate(
      {{{"uriTemplate", "kiln://images/{ref}"}, {"name", "image"}, {"description", "An image's manifest and config"},
        {"mimeType", "application/json"}},
       [&c](RequestContext&, const std::string& uri, const std::map<std::string, std::string>& vars) {
         auto j = c.engine.Inspect(vars.at("ref"));
         if (!j.ok()) return Outcome::Fail(mcp::kResourceNotFound, j.status().message());
         return Outcome::Ok({{"contents", {{{"uri", uri}, {"mimeType", "application/json"}, {"text", DumpLenient(*j, 2)}}}}});
       },
       [&c](const std::string&, const std::string& prefix) {
         std::vector<std::string> out;
         auto images = c.engine.Images();
         if (images.ok())
           for (auto& i : *images)
             if (i.name.rfind(prefix, 0) == 0) out.push_back(i.name);
         return out;
       }});
  c.server.AddResourceTemplate(
      {{{"uriTemplate", "kiln://builds/{id}/log"}, {"name", "build-log"},
        {"description", "A build's progress output; subscribe to hear of new output while it runs"},
        {"mimeType", "text/plain"}},
       [&c](RequestContext&, const std::string& uri, const std::map<std::string, std::string>& vars) {
         auto log = c.logs.Get(vars.at("id"));
         if (!log) return Outcome::Fail(mcp::kResourceNotFound, "no log for build " + vars.at("id"));
         return Outcome::Ok({{"contents", {{{"uri", uri}, {"mimeType", "text/plain"}, {"text", log->first}}}}});
       },
       [&c](const std::string&, const std::string& prefix) {
         std::vector<std::string> out;
         for (auto& id : c.logs.Ids())
           if (id.rfind(prefix, 0) == 0) out.push_back(id);
         return out;
       }});
  // The workspace's Dockerfiles, readable as file:// resources.
  c.server.AddResourceLister([&c] {
    std::vector<Json> out;
    std::function<void(const std::string&, int)> walk = [&](const std::string& dir, int depth) {
      if (depth > 4 || out.size() >= 100) return;
      auto names = ListDir(dir);
      if (!names.ok()) return;
      for (auto& n : *names) {
        if (n == "node_modules" || n == ".git" || n == "build") continue;
        std::string p = JoinPath(dir, n);
        struct stat st;
        if (lstat(p.c_str(), &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
          walk(p, depth + 1);
        } else if (S_ISREG(st.st_mode) && (n == "Dockerfile" || n.rfind("Dockerfile.", 0) == 0 ||
                                           (n.size() > 11 && n.substr(n.size() - 11) == ".Dockerfile"))) {
          out.push_back({{"uri", "file://" + p}, {"name", p.substr(c.workspace.roots()[0].size() + 1 > p.size() ? 0 : c.workspace.roots()[0].size() + 1)},
                         {"description", "Dockerfile in the workspace"}, {"mimeType", "text/x-dockerfile"}});
        }
      }
    };
    for (auto& r : c.workspace.roots()) walk(r, 0);
    return out;
  });
  c.server.AddResourceTemplate(
      {{{"uriTemplate", "file://{path}"}, {"name", "workspace-file"}, {"description", "A file inside the workspace roots"},
        {"mimeType", "text/plain"}},
       [&c](RequestContext&, const std::string& uri, const std::map<std::string, std::string>& vars) {
         auto path = c.workspace.Resolve(vars.at("path"));
         if (!path.ok()) return Outcome::Fail(mcp::kResourceNotFound, path.status().message());
         auto data = ReadFile(*path);
         if (!data.ok()) return Outcome::Fail(mcp::kResourceNotFound, data.status().message());
         if (data->size() > kMaxReadBytes) data->resize(kMaxReadBytes);
         return Outcome::Ok({{"contents", {{{"uri", uri}, {"mimeType", "text/plain"}, {"text", *data}}}}});
       },
       nullptr});
}

// --- prompts ---

std::string LastBuildSummary(api::Engine& engine, const std::string& id, Json* report_out) {
  auto report = engine.BuildReport(id);
  if (!report.ok()) return "";
  if (report_out) *report_out = *report;
  int cached = 0, ran = 0;
  for (auto& s : (*report)["steps"]) (s["cached"].get<bool>() ? cached : ran)++;
  return "Last build " + (*report)["id"].get<std::string>() + ": " + std::to_string(cached) + " steps from cache, " +
         std::to_string(ran) + " steps ran.";
}

void AddPrompts(Context& c) {
  auto user = [](const std::string& text) { return Json{{"role", "user"}, {"content", TextContent(text)}}; };
  auto dockerfiles = [&c](const std::string&, const std::string& prefix) {
    std::vector<std::string> out;
    std::function<void(const std::string&, const std::string&, int)> walk = [&](const std::string& dir, const std::string& rel, int depth) {
      if (depth > 4 || out.size() >= 100) return;
      auto names = ListDir(dir);
      if (!names.ok()) return;
      for (auto& n : *names) {
        if (n == "node_modules" || n == ".git") continue;
        std::string r = rel.empty() ? n : rel + "/" + n;
        if (IsDirectory(JoinPath(dir, n))) {
          walk(JoinPath(dir, n), r, depth + 1);
        } else if (n.find("Dockerfile") != std::string::npos && r.rfind(prefix, 0) == 0) {
          out.push_back(r);
        }
      }
    };
    walk(c.workspace.roots()[0], "", 0);
    return out;
  };

  c.server.AddPrompt(
      {{{"name", "write_dockerfile"},
        {"title", "Write a Dockerfile"},
        {"description", "Write a Dockerfile for a goal, using the base images available locally"},
        {"arguments", {{{"name", "goal"}, {"description", "What the image should do"}, {"required", true}},
                       {{"name", "base_image"}, {"description", "Base image to start from"}, {"required", false}}}}},
       [&c, user](RequestContext&, const std::map<std::string, std::string>& args) {
         std::string images;
         auto list = c.engine.Images();
         if (list.ok())
           for (auto& i : *list) images += "- " + i.name + "\n";
         std::string text = "Write a Dockerfile that does this: " + args.at("goal") + "\n\n";
         if (args.count("base_image")) text += "Start from the base image " + args.at("base_image") + ".\n";
         text += "Images available in kiln's local store (there is no registry access):\n" +
                 (images.empty() ? std::string("- none yet\n") : images) +
                 "\nUse a multi-stage build when there is a build step, copy only what is needed, order steps from "
                 "least to most often changed so the cache helps, use exec-form CMD/ENTRYPOINT and a non-root USER. "
                 "Write it with write_file, check it with lint_dockerfile, then build it with build_image.";
         return Outcome::Ok({{"description", "Write a Dockerfile"}, {"messages", {user(text)}}});
       },
       [&c](const std::string& arg, const std::string& prefix) {
         std::vector<std::string> out;
         if (arg != "base_image") return out;
         auto list = c.engine.Images();
         if (list.ok())
           for (auto& i : *list)
             if (i.name.rfind(prefix, 0) == 0) out.push_back(i.name);
         return out;
       }});

  c.server.AddPrompt(
      {{{"name", "optimize_dockerfile"},
        {"title", "Optimize a Dockerfile"},
        {"description", "Improve a Dockerfile, given its build-check findings and cache statistics of the last build"},
        {"arguments", {{{"name", "dockerfile"}, {"description", "Dockerfile path in the workspace"}, {"required", true}}}}},
       [&c, user](RequestContext&, const std::map<std::string, std::string>& args) {
         auto path = c.workspace.Resolve(args.at("dockerfile"));
         if (!path.ok()) return Outcome::Fail(mcp::kInvalidParams, path.status().message());
         auto text = ReadFile(*path);
         if (!text.ok()) return Outcome::Fail(mcp::kInvalidParams, text.status().message());
         std::string findings;
         auto lint = c.engine.Lint(*path);
         if (lint.ok())
           for (auto& f : *lint) findings += "- line " + std::to_string(f.line) + " " + f.rule + ": " + f.message + "\n";
         std::string stats = LastBuildSummary(c.engine, "", nullptr);
         std::string msg = "Optimize this Dockerfile (" + args.at("dockerfile") + ") for fast, cache-friendly "
                           "rebuilds and a small, safe image:\n\n```dockerfile\n" + Tail(*text, 32 << 10) + "```\n\n" +
                           "Build-check findings:\n" + (findings.empty() ? "- none\n" : findings) + "\n" +
                           (stats.empty() ? "No build has run yet.\n" : stats + "\n") +
                           "Explain each change, then write the result with write_file and rebuild with build_image.";
         return Outcome::Ok({{"description", "Optimize " + args.at("dockerfile")}, {"messages", {user(msg)}}});
       },
       dockerfiles});

  c.server.AddPrompt(
      {{{"name", "debug_build_failure"},
        {"title", "Debug a failed build"},
        {"description", "Find and fix why a build failed, from its failing step and log"},
        {"arguments", {{{"name", "build_id"}, {"description", "The failed build (default: the last)"}, {"required", false}}}}},
       [&c, user](RequestContext&, const std::map<std::string, std::string>& args) {
         std::string id = args.count("build_id") ? args.at("build_id") : "";
         Json report;
         std::string summary = LastBuildSummary(c.engine, id, &report);
         if (summary.empty()) return Outcome::Fail(mcp::kInvalidParams, id.empty() ? "no build has run yet" : "no build " + id);
         std::string build_id = report["id"].get<std::string>();
         std::string msg = "Build " + build_id + " of " + report.value("dockerfile", "") + " ";
         if (report.value("ok", false)) {
           msg += "succeeded; there is no failure to debug.";
         } else {
           msg += "failed:\n" + report.value("error", "") + "\n";
           auto log = c.logs.Get(build_id);
           if (log) msg += "\nThe end of its log:\n```\n" + Tail(log->first, kLogTailBytes) + "\n```\n";
           if (report.value("debug_state", false)) {
             msg += "\nThe failed step's file system is kept: look at it with list_image_files and read_image_file "
                    "(failed_build \"" + build_id + "\"), or run commands in it with run_in_failed_step.";
           }
           msg += "\nFind the cause, fix the Dockerfile (read_file, write_file) and build again with build_image.";
         }
         return Outcome::Ok({{"description", "Debug build " + build_id}, {"messages", {user(msg)}}});
       },
       [&c](const std::string&, const std::string& prefix) {
         std::vector<std::string> out;
         for (auto& id : c.logs.Ids())
           if (id.rfind(prefix, 0) == 0) out.push_back(id);
         return out;
       }});
}

}  // namespace

Surface::Surface(std::unique_ptr<State> s) : s_(std::move(s)) {}
Surface::~Surface() = default;

std::unique_ptr<Surface> Register(mcp::Server& server, api::Engine& engine, const Options& options) {
  std::unique_ptr<Surface::State> state(new Surface::State{server, engine, Workspace(options.roots), {}, options});
  AddBuildTools(*state);
  AddImageTools(*state);
  AddFileTools(*state);
  AddResources(*state);
  AddPrompts(*state);
  return std::make_unique<Surface>(std::move(state));
}

}  // namespace kiln::mcptools
