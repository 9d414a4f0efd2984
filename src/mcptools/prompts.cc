// kiln's prompts: writing, optimizing and debugging Dockerfiles, with what the store and the last builds hold.
#include "mcptools/surface.h"

namespace kiln::mcptools {

namespace {

std::string LastBuildSummary(api::Engine& engine, const std::string& id, api::BuildRecord* report_out) {
  auto report = engine.BuildReport(id);
  if (!report.ok()) return "";
  if (report_out) *report_out = *report;
  int cached = 0, ran = 0;
  for (auto& s : report->steps) (s.cached ? cached : ran)++;
  return "Last build " + report->id + ": " + std::to_string(cached) + " steps from cache, " +
         std::to_string(ran) + " steps ran.";
}

}  // namespace

void AddPrompts(Context& c) {
  auto user = [](const std::string& text) { return Json{{"role", "user"}, {"content", TextContent(text)}}; };
  auto dockerfiles = [&c](const std::string&, const std::string& prefix) {
    std::vector<std::string> out;
    c.workspace.Walk(c.workspace.roots()[0], {.max_depth = 4, .skip_names = {"node_modules", ".git", "build"}},
                     [&](const WalkEntry& e) {
                       if (out.size() >= 100) return false;
                       if (e.type == WalkEntry::Type::kFile && IsDockerfileName(e.name) && e.relative.rfind(prefix, 0) == 0) {
                         out.push_back(e.relative);
                       }
                       return true;
                     });
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
         api::BuildRecord report;
         std::string summary = LastBuildSummary(c.engine, id, &report);
         if (summary.empty()) return Outcome::Fail(mcp::kInvalidParams, id.empty() ? "no build has run yet" : "no build " + id);
         std::string build_id = report.id;
         std::string msg = "Build " + build_id + " of " + report.dockerfile + " ";
         if (report.ok) {
           msg += "succeeded; there is no failure to debug.";
         } else {
           msg += "failed:\n" + report.error + "\n";
           auto log = c.logs.Get(build_id);
           if (log) msg += "\nThe end of its log:\n```\n" + Tail(log->first, kLogTailBytes) + "\n```\n";
           if (report.debug_state) {
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

}  // namespace kiln::mcptools
