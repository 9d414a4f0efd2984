// ADD's archives: a tar file of the build context (or of a download) extracted into the layer being written.
#pragma once
#include <sys/types.h>

#include <optional>
#include <string>

#include "base/status.h"
#include "snapshot/copy.h"

namespace kiln::snapshot {

/// Whether the file at `path` is a tar archive, plain or compressed with gzip, bzip2, xz or zstd: what ADD
/// extracts rather than copies, as BuildKit decides it (by content, never by name).
bool IsTarArchive(const std::string& path);

/// Extracts the tar archive at `path` into the directory `dest_dir` (absolute in the container) of the layer
/// `t`. Entries keep their modes, times and numeric owners (uid and gid replace the owners when given); the
/// archive's root entry leaves `dest_dir` as it is; directories an entry passes through that exist below are
/// copied up with their metadata, missing ones are made root-owned 0755. Nothing is written outside the layer.
Status ExtractArchiveInLayer(const std::string& path, const LayerTarget& t, const std::string& dest_dir,
                             std::optional<uid_t> uid, std::optional<gid_t> gid);

}  // namespace kiln::snapshot
