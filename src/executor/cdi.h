// CDI (Container Device Interface) devices for RUN --device=vendor.com/class=name, as BuildKit gives them: the
// specs in /etc/cdi and /var/run/cdi (YAML or JSON) say what a device adds to a container (environment, device
// nodes, mounts). KILN_CDI_SPEC_DIRS (colon-separated) names other directories.
#pragma once
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "graph/graph.h"

namespace kiln::executor {

/// What the devices asked for add to a container.
struct DeviceEdits {
  std::vector<std::string> env;  // "K=V"
  struct Node {
    std::string path, host_path;  // host_path: the node to copy the type and numbers from ("" is path)
  };
  std::vector<Node> nodes;
  struct Mount {
    std::string host_path, container_path;
    std::vector<std::string> options;
  };
  std::vector<Mount> mounts;
};

/// The CDI spec directories: KILN_CDI_SPEC_DIRS, else /etc/cdi and /var/run/cdi.
std::vector<std::string> CdiSpecDirs();

/// The edits of `requests` from the specs in `dirs`. A device no spec names is an error when required, and left
/// out otherwise; a device is given only with `allowed` (kiln build --allow device) or when its spec's annotation
/// org.mobyproject.buildkit.device.autoallow is true, as in BuildKit. Specs with hooks are refused (kiln runs none).
Result<DeviceEdits> ResolveDevices(const std::vector<graph::DeviceRequest>& requests, const std::vector<std::string>& dirs,
                                   bool allowed);

/// A YAML document (JSON is YAML too) as JSON: mappings, sequences and scalars (every scalar a string).
Result<Json> ParseYaml(const std::string& text, const std::string& what);

}  // namespace kiln::executor
