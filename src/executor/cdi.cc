#include "executor/cdi.h"

#include <yaml.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>

#include "base/fs.h"
#include "base/text.h"

namespace kiln::executor {
namespace {

Json FromYamlNode(yaml_document_t* doc, yaml_node_t* node, int depth) {
  if (!node || depth > 64) return nullptr;
  switch (node->type) {
    case YAML_SCALAR_NODE:
      return std::string(reinterpret_cast<const char*>(node->data.scalar.value), node->data.scalar.length);
    case YAML_SEQUENCE_NODE: {
      Json out = Json::array();
      for (yaml_node_item_t* i = node->data.sequence.items.start; i < node->data.sequence.items.top; i++) {
        out.push_back(FromYamlNode(doc, yaml_document_get_node(doc, *i), depth + 1));
      }
      return out;
    }
    case YAML_MAPPING_NODE: {
      Json out = Json::object();
      for (yaml_node_pair_t* p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
        Json key = FromYamlNode(doc, yaml_document_get_node(doc, p->key), depth + 1);
        if (key.is_string()) out[key.get<std::string>()] = FromYamlNode(doc, yaml_document_get_node(doc, p->value), depth + 1);
      }
      return out;
    }
    default:
      return nullptr;
  }
}

std::string Str(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

/// Adds a containerEdits object to `edits`; hooks are refused.
Status AddEdits(const Json& e, const std::string& what, DeviceEdits& edits) {
  if (!e.is_object()) return Status::Ok();
  if (e.contains("hooks")) return Status::Error(what + ": CDI hooks are not supported (kiln runs no OCI hooks)");
  for (auto& v : e.value("env", Json::array()))
    if (v.is_string()) edits.env.push_back(v.get<std::string>());
  for (auto& n : e.value("deviceNodes", Json::array())) {
    std::string path = Str(n, "path");
    if (path.empty() || path[0] != '/') return Status::Error(what + ": a device node needs an absolute path");
    edits.nodes.push_back({path, Str(n, "hostPath")});
  }
  for (auto& m : e.value("mounts", Json::array())) {
    DeviceEdits::Mount mount{Str(m, "hostPath"), Str(m, "containerPath"), {}};
    if (mount.host_path.empty() || mount.container_path.empty() || mount.container_path[0] != '/') {
      return Status::Error(what + ": a mount needs hostPath and an absolute containerPath");
    }
    for (auto& o : m.value("options", Json::array()))
      if (o.is_string()) mount.options.push_back(o.get<std::string>());
    edits.mounts.push_back(mount);
  }
  return Status::Ok();
}

}  // namespace

Result<Json> ParseYaml(const std::string& text, const std::string& what) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) return Status::Error(what + ": cannot start the YAML parser");
  std::unique_ptr<yaml_parser_t, decltype(&yaml_parser_delete)> parser_owner(&parser, yaml_parser_delete);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  yaml_document_t doc;
  if (!yaml_parser_load(&parser, &doc)) {
    return Status::Error(what + ": not YAML (line " + std::to_string(parser.problem_mark.line + 1) + ": " +
                         (parser.problem ? parser.problem : "?") + ")");
  }
  std::unique_ptr<yaml_document_t, decltype(&yaml_document_delete)> doc_owner(&doc, yaml_document_delete);
  return FromYamlNode(&doc, yaml_document_get_root_node(&doc), 0);
}

std::vector<std::string> CdiSpecDirs() {
  if (const char* dirs = getenv("KILN_CDI_SPEC_DIRS"); dirs && *dirs) return SplitString(dirs, ':');
  return {"/etc/cdi", "/var/run/cdi"};
}

Result<DeviceEdits> ResolveDevices(const std::vector<graph::DeviceRequest>& requests, const std::vector<std::string>& dirs,
                                   bool allowed) {
  DeviceEdits edits;
  if (requests.empty()) return edits;
  // Every spec, by kind ("vendor.com/class"); a later directory's spec of a device overrides an earlier one's, as CDI says.
  struct Found {
    Json device, spec;
    std::string file;
  };
  std::map<std::string, Found> devices;  // by qualified name
  for (auto& dir : dirs) {
    auto names = ListDir(dir);
    if (!names.ok()) continue;  // a directory that is not there names no device
    std::sort(names->begin(), names->end());
    for (auto& name : *names) {
      auto ends = [&](const std::string& suffix) {
        return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
      };
      if (!ends(".yaml") && !ends(".yml") && !ends(".json")) continue;
      std::string file = JoinPath(dir, name);
      KILN_ASSIGN(std::string text, ReadFile(file));
      KILN_ASSIGN(Json spec, ParseYaml(text, file));
      std::string kind = Str(spec, "kind");
      if (kind.empty() || kind.find('/') == std::string::npos) return Status::Error(file + ": a CDI spec needs kind: vendor.com/class");
      for (auto& d : spec.value("devices", Json::array())) {
        if (!Str(d, "name").empty()) devices[kind + "=" + Str(d, "name")] = {d, spec, file};
      }
    }
  }
  for (auto& r : requests) {
    auto it = devices.find(r.name);
    if (it == devices.end()) {
      std::string where;
      for (auto& d : dirs) where += (where.empty() ? "" : ", ") + d;
      if (r.required) return Status::Error("device " + r.name + " is required but no CDI spec names it (in " + where + ")");
      continue;
    }
    const Found& f = it->second;
    auto annotations = f.device.value("annotations", Json::object());
    std::string autoallow = annotations.is_object() && annotations.contains("org.mobyproject.buildkit.device.autoallow") &&
                                    annotations["org.mobyproject.buildkit.device.autoallow"].is_string()
                                ? annotations["org.mobyproject.buildkit.device.autoallow"].get<std::string>()
                                : "";
    if (!allowed && autoallow != "true") {
      return Status::Error("device " + r.name + " is not allowed: kiln build --allow device (or the spec's "
                           "org.mobyproject.buildkit.device.autoallow annotation) gives it");
    }
    KILN_TRY(AddEdits(f.spec.value("containerEdits", Json::object()), f.file, edits));
    KILN_TRY(AddEdits(f.device.value("containerEdits", Json::object()), f.file, edits));
  }
  return edits;
}

}  // namespace kiln::executor
