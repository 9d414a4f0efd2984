// Image archives: an OCI image layout in a tar (type=oci) and Docker's `docker save` format (type=docker), which
// kiln writes as one tar that is both, as Docker 25+ does.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "oci/image.h"

namespace kiln::oci {

struct ArchiveImage {
  Descriptor manifest;  // the manifest blob's descriptor
  Manifest parsed;      // its content, for the config and layer digests
  std::vector<std::string> names;  // full references, e.g. "docker.io/library/app:1"
};

enum class ArchiveFormat { kOci, kDocker };

/// Writes `image` and every blob it references to the tar at `path` (atomically; "-" is stdout), or with `tar`
/// false into the directory `path` as an OCI image layout. `blob_path` maps a digest to the file holding it.
Status WriteImageArchive(const std::string& path, ArchiveFormat format, const ArchiveImage& image,
                         const std::function<std::string(const std::string& digest)>& blob_path, bool tar = true);

}  // namespace kiln::oci
