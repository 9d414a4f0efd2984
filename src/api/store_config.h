// kiln.toml in the data root: the store's own settings. [gc] max_storage bounds the store (auto_gc.cc); [layers]
// bounds what a layer may unpack to (snapshot::LayerLimits); [snapshots] driver picks how layers are stacked
// (snapshot/snapshotter.h):
//
//   [gc]
//   max_storage = "10%"        # of the file system, or "20GB", or "0" for no automatic collection
//   [layers]
//   max_expansion = 100        # uncompressed bytes per byte of blob, on top of min_size
//   min_size = "1GB"
//   files_per_kib = 4          # files per KiB of blob, on top of min_files
//   min_files = 1000000
//   [snapshots]
//   driver = "auto"            # or "overlayfs", "fuse-overlayfs", "native" (copying); $KILN_SNAPSHOTTER overrides
#pragma once
#include <string>

#include "base/status.h"
#include "snapshot/layer.h"

namespace kiln::api {

struct StoreConfig {
  std::string max_storage = "10%";
  snapshot::LayerLimits layers;
  std::string snapshot_driver = "auto";
};

/// Reads <root>/kiln.toml: a missing file is the defaults; a malformed one, or a setting of the wrong type or out of
/// range, an error naming the file (and the line and column where toml++ can tell).
Result<StoreConfig> LoadStoreConfig(const std::string& root);

}  // namespace kiln::api
