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
  Descriptor manifest;  // the manifest blob's descriptor, or a multi-platform image's index
  Manifest parsed;      // its content, for the config and layer digests (a manifest's)
  std::vector<std::string> names;  // full references, e.g. "docker.io/library/app:1"
  /// An index's images, each written with its blobs. Docker's manifest.json lists the first (`docker load`
  /// without the containerd store takes one image per name).
  std::vector<std::pair<Descriptor, Manifest>> platforms;
};

enum class ArchiveFormat { kOci, kDocker };

/// Writes `images` and every blob they reference to the tar at `path` (atomically; "-" is stdout), or with `tar`
/// false into the directory `path` as an OCI image layout. `blob_path` maps a digest to the file holding it.
Status WriteImageArchive(const std::string& path, ArchiveFormat format, const std::vector<ArchiveImage>& images,
                         const std::function<std::string(const std::string& digest)>& blob_path, bool tar = true);

/// Reads the bytes of one archive member: at most `size` into `buffer`, 0 at its end.
using MemberReader = std::function<Result<size_t>(char* buffer, size_t size)>;
/// Stores one blob-like member of an archive as it streams by; returns its descriptor (digest and size). When
/// `expected` is not empty (a member under blobs/sha256/), the content must hash to it.
using BlobStorer = std::function<Result<Descriptor>(const std::string& expected, const MemberReader& read)>;

/// An image found in an archive: its manifest (stored as a blob, or made for a legacy docker save) and names.
struct LoadedImage {
  std::string manifest_digest;
  std::string manifest_media_type;
  std::string manifest;  // the bytes, to store under manifest_digest
  std::vector<std::string> names;
  /// A multi-platform image: its index (the names are its), and every manifest of it the archive holds (the
  /// `platform` one above among them), digest and bytes.
  std::string index_digest, index_media_type, index;
  std::vector<std::pair<std::string, std::string>> index_manifests;
};

/// Reads an image archive (an OCI layout or docker save tar, plain or compressed, "-" for stdin) in one pass:
/// blobs stream through `store`, index.json / manifest.json are read, and the images found are returned (the
/// `platform` manifest of a nested index). A legacy docker save (layer.tar files, no index.json) gets manifests
/// made from its manifest.json.
Result<std::vector<LoadedImage>> ReadImageArchive(const std::string& path, const Platform& platform,
                                                  const BlobStorer& store,
                                                  const std::function<Result<std::string>(const std::string& digest)>& read_blob);

}  // namespace kiln::oci
