#include "api/store_config.h"

#include "base/fs.h"
#include "base/text.h"
#include "base/toml_file.h"
#include "snapshot/snapshotter.h"

namespace kiln::api {

Result<StoreConfig> LoadStoreConfig(const std::string& root) {
  StoreConfig config;
  std::string path = JoinPath(root, "kiln.toml");
  if (!PathExists(path)) return config;
  KILN_ASSIGN(toml::table conf, ParseTomlFile(path));
  auto bad = [&](const std::string& key, const std::string& expected) {
    return Status::Error(path + ": " + key + " must be " + expected);
  };
  if (auto v = conf["gc"]["max_storage"].value<std::string>()) {
    config.max_storage = *v;
  } else if (conf["gc"]["max_storage"]) {
    return bad("gc.max_storage", "a string: \"10%\", \"20GB\" or \"0\"");
  }
  toml::node_view layers = conf["layers"];
  if (layers && !layers.is_table()) return bad("layers", "a table");
  snapshot::LayerLimits& limits = config.layers;
  for (auto [key, target] : {std::pair{"max_expansion", &limits.max_expansion}, {"files_per_kib", &limits.files_per_kib}}) {
    if (!layers[key]) continue;
    auto v = layers[key].value<double>();  // an integer reads as a double too
    if (!v || !(*v >= 1 && *v <= 1e6)) return bad(std::string("layers.") + key, "a number from 1 to 1000000");
    *target = *v;
  }
  if (layers["min_size"]) {
    auto text = layers["min_size"].value<std::string>();
    auto bytes = text ? ParseRamSize(*text) : std::nullopt;
    if (!bytes || *bytes < (1 << 20)) return bad("layers.min_size", "a size of at least 1MB, such as \"1GB\"");
    limits.min_bytes = *bytes;
  }
  if (layers["min_files"]) {
    auto n = layers["min_files"].value<int64_t>();
    if (!n || *n < 1000) return bad("layers.min_files", "a whole number of at least 1000");
    limits.min_files = *n;
  }
  toml::node_view snapshots = conf["snapshots"];
  if (snapshots && !snapshots.is_table()) return bad("snapshots", "a table");
  if (snapshots["driver"]) {
    auto v = snapshots["driver"].value<std::string>();
    if (!v || !snapshot::Snapshotter::IsDriverName(*v)) {
      return bad("snapshots.driver", "\"auto\", \"overlayfs\", \"fuse-overlayfs\" or \"native\"");
    }
    config.snapshot_driver = *v;
  }
  return config;
}

}  // namespace kiln::api
