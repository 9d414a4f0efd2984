// The build and cache tools: build_image (a task where the client allows), pull_image, push_image, explain_cache,
// disk_usage, prune_cache and lint_dockerfile.
#include <cstring>

#include "mcptools/surface.h"

namespace kiln::mcptools {

namespace {

/// Runs a build an agent asked for and reports it: steps, warnings, the failure, or the image.
Outcome RunBuild(Context& c, RequestContext& ctx, api::BuildRequest& req) {
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
    out["image"] = {{"digest", r.index ? r.index->digest : r.image->descriptor.digest}, {"tags", r.tags}, {"pushed", pushed}};
    if (r.index) {
      Json platforms = Json::object();
      for (auto& i : r.platform_images) platforms[i.config.platform.Normalized().ToString()] = i.descriptor.digest;
      out["image"]["platforms"] = platforms;
    }
  }
  return Structured(out);
}

/// The secrets the Dockerfile's target requires (RUN --mount=type=secret,required) that `req` lacks. For each, the
/// client chooses one of the server's configured secrets (those the request does not use already) to stand in for
/// it: an elicitation (legacy), an input-required round (2026-07-28) or a task's input request. The choice names
/// an id; the value never leaves the server. An error when the client declines.
Status SettleMissingSecrets(Context& c, RequestContext& ctx, api::BuildRequest& req) {
  Json choices = Json::array();
  for (auto& s : c.options.secrets)
    if (!req.secrets.count(s.id)) choices.push_back(s.id);
  // Nothing to choose from: the build itself says which secret is missing.
  if (choices.empty()) return Status::Ok();
  api::BuildRequest ask = req;
  ask.call = "outline";
  // The outline resolves base images from the store (pulling a missing one, which the build then finds there):
  // with --pull always, the registry is asked once, by the build.
  if (ask.pull == api::PullPolicy::kAlways) ask.pull = api::PullPolicy::kMissing;
  api::BuildResult outline = c.engine.Build(ask);
  if (!outline.status.ok() || !outline.outline) return Status::Ok();  // the build reports what is wrong
  Json requests = Json::object();
  for (auto& secret : outline.outline->secrets) {
    if (!secret.required || req.secrets.count(secret.id)) continue;
    Json schema = {{"type", "object"},
                   {"properties", {{"source", {{"type", "string"}, {"title", "Secret to use"}, {"enum", choices}}}}},
                   {"required", {"source"}}};
    requests["secret:" + secret.id] = {
        {"method", "elicitation/create"},
        {"params", {{"message", "The Dockerfile needs the secret \"" + secret.id + "\" (line " + std::to_string(secret.line) +
                                    "), which this build was not given. Which of the server's secrets should it use? "
                                    "Its value is never shown."},
                    {"requestedSchema", schema}}}};
  }
  if (requests.empty()) return Status::Ok();
  KILN_ASSIGN(Json answers, ctx.RequestInputs(requests));
  for (auto& [key, answer] : answers.items()) {
    std::string id = key.substr(strlen("secret:"));
    Json content = answer.value("content", Json::object());
    if (answer.value("action", "") != "accept" || !content.is_object() || !content.contains("source")) {
      return Status::Error("the build was not started: the secret \"" + id + "\" was not provided");
    }
    auto source = std::find_if(c.options.secrets.begin(), c.options.secrets.end(),
                               [&](const api::SecretSource& s) { return Json(s.id) == content["source"]; });
    if (source == c.options.secrets.end()) return Status::Error("no configured secret " + content["source"].dump());
    KILN_ASSIGN(std::string value, source->Read());
    req.secrets[id] = value;
  }
  return Status::Ok();
}

}  // namespace

std::vector<ToolRow> BuildTools(Context& c) {
  std::vector<ToolRow> rows;
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
       {"platforms", {{"type", "array"}, {"items", {{"type", "string"}}},
                      {"description", "Target platforms, os/arch[/variant] (default this host's); several make one "
                                      "multi-platform image (an index)"}}},
       {"sbom", {{"type", "boolean"}, {"description", "Attach an SPDX SBOM of each image's packages, as --sbom=true"}}},
       {"provenance", {{"type", "string"}, {"enum", {"min", "max"}},
                       {"description", "Attach SLSA provenance, as --provenance=mode=min|max (max also records the "
                                       "Dockerfile and steps)"}}},
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
      "its exit code and the end of its output. A client that takes tasks (MCP 2026-07-28) gets a task at once and "
      "polls it: tasks/get shows the step running.";
  if (!c.options.secrets.empty()) {
    Json ids = Json::array();
    for (auto& s : c.options.secrets) ids.push_back(s.id);
    build_input["properties"]["secrets"] = {
        {"type", "array"}, {"items", {{"type", "string"}, {"enum", ids}}}, {"uniqueItems", true},
        {"description", "Ids of server-side secrets to offer to RUN --mount=type=secret,id=ID (values are never shown)"}};
    description += " Secrets available by id for RUN --mount=type=secret,id=ID: " + ids.dump() +
                   "; their values are masked in all output.";
  }
  rows.push_back({.name = "build_image",
                 .title = "Build an image",
                 .description = description,
                 .input = build_input,
                 .output = {{"type", "object"},
         {"properties",
          {{"ok", {{"type", "boolean"}}},
           {"build_id", {{"type", "string"}}},
           {"image", {{"type", "object"}, {"properties", {{"digest", {{"type", "string"}}}, {"tags", {{"type", "array"}}},
                                                          {"pushed", {{"type", "array"}, {"description", "name and digest of each push (layers leave compressed, so the digest differs from the stored image's)"}}}}}}},
           {"steps", {{"type", "array"}}},
           {"warnings", {{"type", "array"}}},
           {"error", {{"type", "object"}}}}},
         {"required", {"ok", "build_id", "steps"}}},
                 .annotations = Annotations(false),
                 .tasks = mcp::TaskSupport::kOptional,
                 .task_after_input = true,
                 .call = [&c](RequestContext& ctx, const Json& a) {
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
        if (a.contains("platforms") && a["platforms"].is_array())
          for (auto& p : a["platforms"])
            if (p.is_string()) req.platforms.push_back(p.get<std::string>());
        req.sbom = a.value("sbom", false);
        req.provenance = a.value("provenance", "");
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
        // A required secret nobody gave: the client decides which of the server's secrets stands in for it.
        if (Status asked = SettleMissingSecrets(c, ctx, req); !asked.ok()) return ToolError(asked.message());
        // The build itself runs as a task where the client allows, answering at once with the task's handle.
        return ctx.RunAsTask([&c, req](RequestContext& run) mutable { return RunBuild(c, run, req); });
      }});

  Json transfer_output = {{"type", "object"},
                          {"properties", {{"name", {{"type", "string"}}}, {"digest", {{"type", "string"}}}}},
                          {"required", {"name", "digest"}}};
  rows.push_back({.name = "pull_image",
                 .title = "Pull an image",
                 .description = "Pull an image from its registry into kiln's store (Docker Hub names like alpine:3 work), "
                       "with the credentials of the user's docker config. Layers already held are not fetched again.",
                 .input = ObjectSchema({{"ref", Str("Image reference, e.g. alpine:3.20 or registry:5000/app:1")},
                                     {"platform", Str("Platform of a multi-platform image, os/arch[/variant] "
                                                      "(default this host's)")}},
                                    {"ref"}),
                 .output = transfer_output,
                 .annotations = Annotations(false, true),
                 .call = [&c](RequestContext& ctx, const Json& a) {
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
      }});

  rows.push_back({.name = "push_image",
                 .title = "Push an image",
                 .description = "Push a local image to a registry, under its own name or `dest`, with the credentials of the "
                       "user's docker config. Blobs the registry already has are not uploaded again.",
                 .input = ObjectSchema({{"ref", Str("Local image")},
                                     {"dest", Str("Where to push it, e.g. registry:5000/team/app:1 (default: its name)")}},
                                    {"ref"}),
                 .output = transfer_output,
                 .annotations = Annotations(false, true),
                 .call = [&c](RequestContext& ctx, const Json& a) {
        TransferProgress forward(ctx);
        api::PushRequest req;
        req.ref = a["ref"].get<std::string>();
        req.dest = a.value("dest", "");
        req.progress = &forward;
        req.cancelled = [&ctx] { return ctx.cancelled(); };
        auto pushed = c.engine.Push(req);
        if (!pushed.ok()) return ToolError(pushed.status().message());
        return Structured({{"name", pushed->name}, {"digest", pushed->digest}});
      }});

  rows.push_back({.name = "explain_cache",
                 .title = "Explain cache hits and misses",
                 .description = "For each step of a build (default: the last), whether it came from the cache and, if not, why it ran: "
                       "`changed` names what differs from the step's previous run (a context file, a build-arg, an env "
                       "variable, the base image, the instruction text, or an earlier step).",
                 .input = ObjectSchema({{"build_id", Str("Build id from build_image (default: the last build)")}}),
                 .output = {{"type", "object"}, {"properties", {{"build_id", {{"type", "string"}}}, {"ok", {{"type", "boolean"}}},
                                                             {"steps", {{"type", "array"}}}, {"truncated", {{"type", "boolean"}}}}}},
                 .annotations = Annotations(true),
                 .call = [&c](RequestContext&, const Json& a) {
        auto report = c.engine.BuildReport(a.value("build_id", ""));
        if (!report.ok()) return ToolError(report.status().message());
        Json steps = FirstItems(report->steps, kMaxListEntries, [](const solver::StepReport& s) {
          Json step = {{"name", EscapeControl(s.name)}, {"cached", s.cached},
                       {"reason", s.cached ? "cache hit: same step, same inputs" : EscapeControl(s.miss_reason)}};
          // What differs from the step's previous record: "file src/b.txt", "build-arg V", "input step #3"...
          if (!s.changes.empty()) {
            step["changed"] = Json::array();
            for (auto& c : s.changes) step["changed"].push_back(EscapeControl(c));
          }
          if (!s.cache_source.empty()) step["source"] = EscapeControl(s.cache_source);
          return step;
        });
        return Structured({{"build_id", report->id}, {"ok", report->ok}, {"steps", steps},
                           {"truncated", report->steps.size() > kMaxListEntries}});
      }});

  rows.push_back({.name = "disk_usage",
                 .title = "Disk usage of the store",
                 .description = "What kiln's store holds: images, build cache records and snapshots, cached layer blobs, and "
                       "what prune_cache would free. `records` lists the largest cache records.",
                 .input = ObjectSchema({{"records", {{"type", "integer"}, {"minimum", 0}, {"maximum", kMaxListEntries},
                                                  {"description", "How many cache records to list (default 20)"}}}}),
                 .output = {{"type", "object"}, {"properties", {{"images", {{"type", "integer"}}}, {"image_bytes", {{"type", "integer"}}},
                                                             {"cache_records", {{"type", "integer"}}}, {"snapshot_bytes", {{"type", "integer"}}},
                                                             {"reclaimable_bytes", {{"type", "integer"}}}, {"total_bytes", {{"type", "integer"}}},
                                                             {"records", {{"type", "array"}}}, {"truncated", {{"type", "boolean"}}}}}},
                 .annotations = Annotations(true),
                 .call = [&c](RequestContext&, const Json& a) {
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
      }});

  rows.push_back({.name = "prune_cache",
                 .title = "Prune the build cache",
                 .description = "Remove build cache (images stay): everything, or all but what was used recently "
                       "(keep_duration_s) or what fits in keep_storage_bytes, most recently used first. Refused while "
                       "a build or run is using the store.",
                 .input = ObjectSchema({{"keep_duration_s", {{"type", "integer"}, {"minimum", 0}, {"maximum", kMaxKeepSeconds},
                                                          {"description", "Keep cache used within this many seconds"}}},
                                     {"all", {{"type", "boolean"}, {"description", "Also the RUN cache-mount directories"}}},
                                     {"keep_storage_bytes", {{"type", "integer"}, {"minimum", 0}, {"maximum", kMaxKeepBytes},
                                                             {"description", "Keep the most recently used cache within this size"}}}}),
                 .output = {{"type", "object"}, {"properties", {{"cache_records", {{"type", "integer"}}}, {"snapshots", {{"type", "integer"}}},
                                                             {"blobs", {{"type", "integer"}}}, {"cache_mounts", {{"type", "integer"}}},
                                                             {"debug_states", {{"type", "integer"}}},
                                                             {"reclaimed_bytes", {{"type", "integer"}}}}}},
                 .annotations = Annotations(false),
                 .call = [&c](RequestContext&, const Json& a) {
        store::GcPolicy policy;
        if (a.contains("keep_duration_s")) policy.keep_used_since = int64_t(time(nullptr)) - a["keep_duration_s"].get<int64_t>();
        if (a.contains("keep_storage_bytes")) policy.keep_bytes = a["keep_storage_bytes"].get<int64_t>();
        policy.all = a.value("all", false);
        auto r = c.engine.Prune(policy);
        if (!r.ok()) return ToolError(r.status().message());
        return Structured({{"cache_records", r->cache_records}, {"snapshots", r->snapshots}, {"blobs", r->blobs},
                           {"debug_states", r->debug_states}, {"cache_mounts", r->cache_mounts},
                           {"reclaimed_bytes", r->reclaimed_bytes}});
      }});

  rows.push_back({.name = "lint_dockerfile",
                 .title = "Check a Dockerfile",
                 .description = "Ask about a Dockerfile without building it, as `docker buildx build --call`: call \"check\" (default) runs "
        "BuildKit's 22 build checks (same rule names; base images are looked up, as a build would), \"targets\" "
        "lists its stages with their descriptions, \"outline\" lists what the target takes: build args with "
        "their values and descriptions, secret and ssh ids.",
                 .input = ObjectSchema({{"dockerfile", Str("Dockerfile path, relative to the workspace root")},
                      {"context", Str("Build context directory (default: the Dockerfile's directory)")},
                      {"call", {{"type", "string"}, {"enum", {"check", "targets", "outline"}},
                                {"description", "What to ask (default: check)"}}},
                      {"target", Str("Stage to check or outline (default: every stage for check, the last for outline)")},
                      {"build_args", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}, {"description", "ARG values"}}}},
                     {"dockerfile"}),
                 .output = {{"type", "object"},
                         {"properties", {{"call", {{"type", "string"}}},
                                         {"findings", {{"type", "array"}}},
                                         {"truncated", {{"type", "boolean"}}},
                                         {"result", {{"type", "object"}}}}}},
                 .annotations = Annotations(true),
                 .call = [&c](RequestContext& ctx, const Json& a) {
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
        if (req.call != "check") {
          out["result"] = r.call_json;  // a check's answer is its findings, below
          out["result"].erase("sources");  // the Dockerfile itself, base64: the agent has it
        }
        if (req.call == "check") {
          out["findings"] = FirstItems(r.findings, kMaxListEntries, [](const dockerfile::Finding& f) {
            const dockerfile::Rule* rule = dockerfile::FindRule(f.rule);
            return Json{{"rule", f.rule}, {"line", f.line}, {"message", EscapeControl(f.message)},
                        {"description", rule ? rule->description : ""}, {"url", rule ? rule->url : ""}};
          });
          out["truncated"] = r.findings.size() > kMaxListEntries;
        }
        return Structured(out);
      }});
  return rows;
}

}  // namespace kiln::mcptools
