// The image tools: listing, inspecting and reading images, diffing them, and running containers of them.
#include "mcptools/surface.h"

namespace kiln::mcptools {

std::vector<ToolRow> ImageTools(Context& c) {
  std::vector<ToolRow> rows;
  rows.push_back({.name = "list_images",
                 .title = "List images",
                 .description = "Images in kiln's local store.",
                 .input = ObjectSchema({{"filter", Str("Only names containing this text")}}),
                 .output = {{"type", "object"}, {"properties", {{"images", {{"type", "array"}}}}}},
                 .annotations = Annotations(true),
                 .quick = true,
                 .call = [&c](RequestContext&, const Json& a) {
        auto images = c.engine.Images();
        if (!images.ok()) return ToolError(images.status().message());
        std::string filter = a.value("filter", "");
        Json out = Json::array();
        for (auto& i : *images) {
          if (!filter.empty() && i.name.find(filter) == std::string::npos) continue;
          out.push_back({{"ref", i.name}, {"digest", i.digest}, {"size", i.size}, {"created", oci::FormatTime(i.created)},
                        {"platforms", i.platforms}});
        }
        return Structured({{"images", out}});
      }});

  rows.push_back({.name = "inspect_image",
                 .title = "Inspect an image",
                 .description = "An image's config (env, cmd, entrypoint, user, workdir, labels...), layers, platform, size "
                                "and attestations (SBOM, provenance).",
                 .input = ObjectSchema({{"ref", Str("Image name or digest")},
                                        {"platform", Str("For a multi-platform image, which platform's image "
                                                         "(os/arch[/variant]; default this host's)")}},
                                       {"ref"}),
                 .output = {{"type", "object"}, {"properties", {{"digest", {{"type", "string"}}}, {"config", {{"type", "object"}}},
                                                             {"layers", {{"type", "array"}}}, {"platform", {{"type", "string"}}},
                                                             {"size", {{"type", "integer"}}},
                                                             {"attestations", {{"type", "array"}}}}}},
                 .annotations = Annotations(true),
                 .quick = true,
                 .call = [&c](RequestContext&, const Json& a) {
        std::optional<oci::Platform> platform;
        if (a.contains("platform") && a["platform"].is_string()) {
          auto p = oci::Platform::Parse(a["platform"].get<std::string>());
          if (!p.ok()) return ToolError(p.status().message());
          platform = *p;
        }
        auto img = c.engine.FindImage(a["ref"].get<std::string>(), platform);
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
        // What is attested of it (kiln build --sbom/--provenance): the predicate types, with a word of each.
        // Statements that cannot be read (an index pulled without them) leave the list empty, not the call failed.
        auto attested = c.engine.AttestationsOf(a["ref"].get<std::string>(), img->descriptor.digest);
        Json attestations = Json::array();
        for (auto& at : std::move(attested).value_or(std::vector<exporter::Attestation>{})) {
          Json entry = {{"predicate_type", at.predicate_type}};
          if (at.predicate.contains("packages") && at.predicate["packages"].is_array())
            entry["packages"] = at.predicate["packages"].size();
          if (at.predicate.contains("builder") && at.predicate["builder"].is_object())
            entry["builder_id"] = at.predicate["builder"].value("id", "");
          attestations.push_back(entry);
        }
        return Structured({{"digest", img->descriptor.digest}, {"config", cfg}, {"layers", layers},
                           {"platform", img->config.platform.Normalized().ToString()}, {"size", size},
                           {"attestations", attestations}});
      }});

  rows.push_back({.name = "image_history",
                 .title = "Image history",
                 .description = "How an image was made: one entry per Dockerfile instruction, with whether it added a layer.",
                 .input = ObjectSchema({{"ref", Str("Image name or digest")}}, {"ref"}),
                 .output = {{"type", "object"}, {"properties", {{"history", {{"type", "array"}}}, {"truncated", {{"type", "boolean"}}}}}},
                 .annotations = Annotations(true),
                 .quick = true,
                 .call = [&c](RequestContext&, const Json& a) {
        auto img = c.engine.FindImage(a["ref"].get<std::string>());
        if (!img.ok()) return ToolError(img.status().message());
        Json h = FirstItems(img->config.history, kMaxListEntries, [](const oci::HistoryEntry& e) {
          return Json{{"created", e.created}, {"created_by", e.created_by}, {"empty_layer", e.empty_layer}};
        });
        return Structured({{"history", h}, {"truncated", img->config.history.size() > kMaxListEntries}});
      }});

  rows.push_back({.name = "list_image_files",
                 .title = "List files in an image",
                 .description = "The entries of a directory inside an image's file system, or (failed_build) inside the file "
                       "system a failed RUN step left.",
                 .input = ObjectSchema({{"ref", Str("Image name or digest")}, {"path", Str("Directory inside the image (default /)")},
                                     {"failed_build", Str(kFailedBuildHelp)},
                                     {"max_entries", {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxListEntries}}}}),
                 .output = {{"type", "object"}, {"properties", {{"entries", {{"type", "array"}}}, {"truncated", {{"type", "boolean"}}}}}},
                 .annotations = Annotations(true),
                 .call = [&c](RequestContext&, const Json& a) {
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
      }});

  rows.push_back({.name = "read_image_file",
                 .title = "Read a file in an image",
                 .description = "The content of a file inside an image, or (failed_build) inside the file system a failed RUN step "
                       "left (text, or base64 for binary files), bounded by max_bytes.",
                 .input = ObjectSchema({{"ref", Str("Image name or digest")}, {"path", Str("File inside the image")},
                                     {"failed_build", Str(kFailedBuildHelp)},
                                     {"max_bytes", {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxReadBytes}}}},
                                    {"path"}),
                 .output = {{"type", "object"}, {"properties", {{"content", {{"type", "string"}}}, {"encoding", {{"type", "string"}}},
                                                             {"size", {{"type", "integer"}}}, {"truncated", {{"type", "boolean"}}}}}},
                 .annotations = Annotations(true),
                 .call = [&c](RequestContext&, const Json& a) {
        if (a.contains("ref") == a.contains("failed_build")) return ToolError("give either ref or failed_build");
        size_t max = a.value("max_bytes", kDefaultReadBytes);
        auto f = a.contains("ref") ? c.engine.ReadImageFile(a["ref"].get<std::string>(), a["path"].get<std::string>(), max)
                                   : c.engine.ReadFailedStepFile(FailedBuild(a), a["path"].get<std::string>(), max);
        if (!f.ok()) return ToolError(f.status().message());
        bool text = IsText(f->data);
        return Structured({{"content", text ? f->data : Base64Encode(f->data)}, {"encoding", text ? "utf-8" : "base64"},
                           {"size", f->size}, {"truncated", f->truncated}});
      }});

  rows.push_back({.name = "diff_images",
                 .title = "Compare two images",
                 .description = "Files added, removed or modified (content, mode, owner or link target) from one image to another.",
                 .input = ObjectSchema({{"from", Str("The older image")}, {"to", Str("The newer image")},
                                     {"max_entries", {{"type", "integer"}, {"minimum", 1}, {"maximum", 5000}}}},
                                    {"from", "to"}),
                 .output = {{"type", "object"}, {"properties", {{"changes", {{"type", "array"}}}, {"truncated", {{"type", "boolean"}}}}}},
                 .annotations = Annotations(true),
                 .call = [&c](RequestContext&, const Json& a) {
        bool truncated = false;
        auto changes = c.engine.DiffImages(a["from"].get<std::string>(), a["to"].get<std::string>(),
                                           a.value("max_entries", kMaxListEntries), &truncated);
        if (!changes.ok()) return ToolError(changes.status().message());
        Json out = Json::array();
        for (auto& ch : *changes) out.push_back({{"path", ch.path}, {"kind", ch.kind}});
        return Structured({{"changes", out}, {"truncated", truncated}});
      }});

  rows.push_back({.name = "run_container",
                 .title = "Run a container",
                 .description = "Run a command in a new container of an image and return its exit code and output. No network "
                       "unless network is \"host\"; the container's file changes are discarded. Stopped after timeout_s.",
                 .input = ObjectSchema({{"ref", Str("Image name or digest")},
                      {"command", {{"type", "array"}, {"items", {{"type", "string"}}}, {"description", "Command and arguments (default: the image's)"}}},
                      {"env", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}},
                      {"network", {{"type", "string"}, {"enum", {"none", "host"}}}},
                      {"platform", Str("For a multi-platform image, which platform's image (os/arch[/variant]; "
                                       "another architecture runs under QEMU emulation)")},
                      {"timeout_s", {{"type", "integer"}, {"minimum", 1}, {"maximum", 600}}}},
                     {"ref"}),
                 .output = {{"type", "object"}, {"properties", {{"exit_code", {{"type", "integer"}}}, {"stdout", {{"type", "string"}}},
                                                             {"stderr", {{"type", "string"}}}, {"truncated", {{"type", "boolean"}}},
                                                             {"timed_out", {{"type", "boolean"}}},
                                                             {"limit_reached", {{"type", "string"}}}}}},
                 .annotations = Annotations(false, true),
                 .tasks = mcp::TaskSupport::kOptional,
                 .call = [&c](RequestContext& ctx, const Json& a) {
        api::RunRequest req;
        req.ref = a["ref"].get<std::string>();
        if (a.contains("command")) req.command = a["command"].get<std::vector<std::string>>();
        if (a.contains("env"))
          for (auto& [k, v] : a["env"].items()) req.env.push_back(k + "=" + v.get<std::string>());
        req.network = a.value("network", "none");
        req.platform = a.value("platform", "");
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
      }});

  rows.push_back({.name = "run_in_failed_step",
                 .title = "Run a command where a build failed",
                 .description = "Run a command in the file system a failed RUN step left (kept for the last few failed builds), "
                       "with the step's environment, working directory, user and cache mounts, and return its exit code "
                       "and output. What it changes is thrown away. Stopped after timeout_s.",
                 .input = ObjectSchema({{"build_id", Str("The failed build (default: the latest whose failed step is kept)")},
                      {"command", {{"type", "array"}, {"items", {{"type", "string"}}}, {"minItems", 1},
                                   {"description", "Command and arguments, e.g. [\"sh\", \"-c\", \"ls /app\"]"}}},
                      {"timeout_s", {{"type", "integer"}, {"minimum", 1}, {"maximum", 600}}}},
                     {"command"}),
                 .output = {{"type", "object"}, {"properties", {{"exit_code", {{"type", "integer"}}}, {"stdout", {{"type", "string"}}},
                                                             {"stderr", {{"type", "string"}}}, {"truncated", {{"type", "boolean"}}},
                                                             {"timed_out", {{"type", "boolean"}}},
                                                             {"not_mounted", {{"type", "array"}}}}}},
                 .annotations = Annotations(false, true),
                 .call = [&c](RequestContext& ctx, const Json& a) {
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
      }});
  return rows;
}

}  // namespace kiln::mcptools
