// kiln's resources: images, build logs and workspace files, with templates and completion.
#include "mcptools/surface.h"
#include "oci/reference.h"

namespace kiln::mcptools {

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
         auto d = c.engine.Inspect(vars.at("ref"));
         if (!d.ok()) return Outcome::Fail(mcp::kResourceNotFound, d.status().message());
         Json j = {{"digest", d->digest}, {"manifest", oci::ToJson(d->manifest)}, {"config", oci::ToJson(d->config)},
                   {"size", d->size}};
         return Outcome::Ok({{"contents", {{{"uri", uri}, {"mimeType", "application/json"}, {"text", DumpLenient(j, 2)}}}}});
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
    for (auto& root : c.workspace.roots()) {
      c.workspace.Walk(root, {.max_depth = 4, .skip_names = {"node_modules", ".git", "build"}}, [&](const WalkEntry& e) {
        if (out.size() >= 100) return false;
        if (e.type == WalkEntry::Type::kFile && IsDockerfileName(e.name)) {
          out.push_back({{"uri", "file://" + e.path}, {"name", e.relative}, {"description", "Dockerfile in the workspace"},
                         {"mimeType", "text/x-dockerfile"}});
        }
        return true;
      });
    }
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

}  // namespace kiln::mcptools
