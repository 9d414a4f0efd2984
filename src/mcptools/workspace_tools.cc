// The workspace file tools, as the MCP reference filesystem server offers them: confined to the roots.
#include <fnmatch.h>

#include "mcptools/surface.h"

namespace kiln::mcptools {

std::vector<ToolRow> WorkspaceTools(Context& c) {
  std::vector<ToolRow> rows;
  rows.push_back({.name = "read_file",
                 .title = "Read a workspace file",
                 .description = "Read a text file inside the allowed workspace roots.",
                 .input = ObjectSchema({{"path", Str("File path, relative to the first root or absolute inside one")},
                                     {"max_bytes", {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxReadBytes}}}},
                                    {"path"}),
                 .output = {{"type", "object"}, {"properties", {{"content", {{"type", "string"}}}, {"truncated", {{"type", "boolean"}}}}}},
                 .annotations = Annotations(true),
                 .quick = true,
                 .call = [&c](RequestContext&, const Json& a) {
        auto path = c.workspace.Resolve(a["path"].get<std::string>());
        if (!path.ok()) return ToolError(path.status().message());
        if (IsDirectory(*path)) return ToolError(a["path"].get<std::string>() + ": is a directory");
        auto data = ReadFile(*path);
        if (!data.ok()) return ToolError(data.status().message());
        size_t max = a.value("max_bytes", kDefaultReadBytes);
        bool truncated = data->size() > max;
        if (truncated) data->resize(max);
        return Structured({{"content", *data}, {"truncated", truncated}});
      }});

  rows.push_back({.name = "write_file",
                 .title = "Write a workspace file",
                 .description = "Create or overwrite a file inside the allowed workspace roots (directories are created).",
                 .input = ObjectSchema({{"path", Str("File path")}, {"content", Str("The whole new content")}}, {"path", "content"}),
                 .output = {{"type", "object"}, {"properties", {{"path", {{"type", "string"}}}, {"bytes", {{"type", "integer"}}}}}},
                 .annotations = Annotations(false),
                 .call = [&c](RequestContext&, const Json& a) {
        const std::string& content = a["content"].get_ref<const std::string&>();
        if (content.size() > (16u << 20)) return ToolError("content larger than 16 MiB");
        auto path = c.workspace.ResolveForWrite(a["path"].get<std::string>());
        if (!path.ok()) return ToolError(path.status().message());
        Status st = WriteFileAtomic(*path, content);
        if (!st.ok()) return ToolError(st.message());
        return Structured({{"path", *path}, {"bytes", content.size()}});
      }});

  rows.push_back({.name = "list_directory",
                 .title = "List a workspace directory",
                 .description = "Entries of a directory inside the allowed roots, marked [DIR], [FILE] or [LINK] (links are not followed).",
                 .input = ObjectSchema({{"path", Str("Directory path (default: the first root)")}}),
                 .output = {{"type", "object"}, {"properties", {{"entries", {{"type", "array"}}}, {"truncated", {{"type", "boolean"}}}}}},
                 .annotations = Annotations(true),
                 .quick = true,
                 .call = [&c](RequestContext&, const Json& a) {
        auto path = c.workspace.Resolve(a.value("path", c.workspace.roots()[0]));
        if (!path.ok()) return ToolError(path.status().message());
        if (!IsDirectory(*path)) return ToolError(a.value("path", *path) + ": not a directory");
        Json entries = Json::array();
        std::string text;
        bool truncated = false;
        c.workspace.Walk(*path, {.max_depth = 0}, [&](const WalkEntry& e) {
          if (entries.size() >= kMaxListEntries) return !(truncated = true);
          const char* type = e.type == WalkEntry::Type::kDirectory ? "directory"
                             : e.type == WalkEntry::Type::kSymlink ? "symlink"
                                                                    : "file";
          entries.push_back({{"name", e.name}, {"type", type}});
          text += std::string(e.type == WalkEntry::Type::kDirectory ? "[DIR] " : e.type == WalkEntry::Type::kSymlink ? "[LINK] " : "[FILE] ") + e.name + "\n";
          return true;
        });
        Json structured = {{"entries", entries}, {"truncated", truncated}};
        return Outcome::Ok({{"content", {TextContent(text)}}, {"structuredContent", structured}});
      }});

  rows.push_back({.name = "search_files",
                 .title = "Find workspace files",
                 .description = "Recursively find files and directories whose name matches a glob pattern (e.g. \"Dockerfile*\").",
                 .input = ObjectSchema({{"path", Str("Directory to search from")}, {"pattern", Str("Glob on the name")}},
                                    {"pattern"}),
                 .output = {{"type", "object"}, {"properties", {{"matches", {{"type", "array"}}}, {"truncated", {{"type", "boolean"}}}}}},
                 .annotations = Annotations(true),
                 .call = [&c](RequestContext& ctx, const Json& a) {
        auto start = c.workspace.Resolve(a.value("path", c.workspace.roots()[0]));
        if (!start.ok()) return ToolError(start.status().message());
        std::string pattern = a["pattern"].get<std::string>();
        Json matches = Json::array();
        bool truncated = false;
        c.workspace.Walk(*start, {.cancelled = [&ctx] { return ctx.cancelled(); }}, [&](const WalkEntry& e) {
          if (fnmatch(pattern.c_str(), e.name.c_str(), FNM_CASEFOLD) != 0) return true;
          if (matches.size() >= kMaxSearchResults) return !(truncated = true);
          matches.push_back(e.path);
          return true;
        });
        return Structured({{"matches", matches}, {"truncated", truncated}});
      }});
  return rows;
}

}  // namespace kiln::mcptools
