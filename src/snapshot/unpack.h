// Unpacking an image's layers into snapshots, reusing every layer chain already unpacked (by OCI chainID).
#pragma once
#include <string>
#include <vector>

#include "base/status.h"
#include "oci/image.h"
#include "snapshot/snapshotter.h"
#include "store/content.h"

namespace kiln::snapshot {

/// OCI chainIDs of a list of diff_ids: chain[0] = diff[0], chain[n] = sha256(chain[n-1] + " " + diff[n]).
std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids);

/// The snapshot holding the file system of `layers` (base first, with their diff ids), unpacking only the layer
/// chains not unpacked before; each blob must be in the content store.
Result<SnapshotId> UnpackLayers(const std::vector<oci::Descriptor>& layers, const std::vector<std::string>& diff_ids,
                                const store::ContentStore& content, store::Metadata& metadata, Snapshotter& snapshotter,
                                bool* extracted = nullptr);

/// The snapshot holding the image's whole file system (0 for an image without layers). `extracted` (if given)
/// tells whether any layer had to be extracted, or all were there already.
Result<SnapshotId> UnpackImage(const oci::Manifest& manifest, const oci::ImageConfig& config,
                               const store::ContentStore& content, store::Metadata& metadata,
                               Snapshotter& snapshotter, bool* extracted = nullptr);

}  // namespace kiln::snapshot
