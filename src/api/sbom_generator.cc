#include "api/sbom_generator.h"

namespace kiln::api {

Result<size_t> AddSbomGenerator(graph::Graph& graph, const dockerfile::BuildDefinition& def, const std::string& generator,
                                const dockerfile::ResolvedImage& image, const std::string& platform) {
  const oci::ContainerConfig& config = image.config.config;
  std::vector<std::string> args = config.entrypoint.value_or(std::vector<std::string>{});
  for (auto& a : config.cmd.value_or(std::vector<std::string>{})) args.push_back(a);
  if (args.empty()) return Status::Error("SBOM generator " + generator + " has no ENTRYPOINT or CMD to run");

  size_t base = graph.Add(graph::ImageSource{generator, image.manifest_digest}, {}, "[internal] image " + generator);
  graph::FileOp out_dir;
  out_dir.actions.push_back(graph::MkdirAction{"/run/out", ""});
  size_t prepared = graph.Add(out_dir, {base}, "[internal] SBOM output directory");

  graph::ExecOp scan;
  scan.args = args;
  scan.env = config.env;
  scan.env.push_back("BUILDKIT_SCAN_DESTINATION=/run/out/");
  scan.env.push_back("BUILDKIT_SCAN_SOURCE=/run/src/core/sbom");
  if (!def.sbom_extras.empty()) scan.env.push_back("BUILDKIT_SCAN_SOURCE_EXTRAS=/run/src/extras/");
  scan.cwd = config.working_dir.empty() ? "/" : config.working_dir;
  scan.user = config.user;
  std::vector<size_t> inputs = {prepared, def.result};
  auto bind = [&](size_t input, const std::string& target) {
    graph::ExecMount m;
    m.type = graph::ExecMount::Type::kBind;
    m.target = target;
    m.input = input;
    m.source = "/";
    m.readonly = true;
    scan.mounts.push_back(m);
  };
  bind(1, "/run/src/core/sbom");
  for (auto& [name, vertex] : def.sbom_extras) {
    inputs.push_back(vertex);
    bind(inputs.size() - 1, "/run/src/extras/sbom-" + name);
  }
  graph::ExecMount tmp;
  tmp.type = graph::ExecMount::Type::kTmpfs;
  tmp.target = "/tmp";
  tmp.readonly = false;
  scan.mounts.push_back(tmp);
  return graph.Add(scan, inputs, "[" + platform + "] generating sbom using " + generator);
}

}  // namespace kiln::api
