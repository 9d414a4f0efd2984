// Exporters: a solved build becomes an OCI image (layers, config, manifest in the content store), which is then
// tagged in the local store, written as an OCI or Docker archive, or copied out as a plain directory.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "cache/cache.h"
#include "oci/archive.h"
#include "oci/image.h"
#include "snapshot/layer.h"
#include "snapshot/snapshotter.h"
#include "store/content.h"
#include "store/metadata.h"

namespace kiln::exporter {

using store::SnapshotId;

/// A history line and, for a step that may have added a layer, how many layers its result's file system has.
struct HistoryStep {
  oci::HistoryEntry entry;
  std::optional<size_t> depth;
  /// When the step's result was made: the date of its history entry when the frontend left it unset.
  std::optional<int64_t> made;
};

struct ImageSpec {
  oci::ImageConfig config;        // without rootfs and history
  std::vector<HistoryStep> history;
  size_t base_depth = 0;          // layers of the base image's file system, where the history's steps start
  SnapshotId top = 0;             // the final file system
  /// Or its layers (blobs in the content store) when it was found in imported cache and never unpacked.
  std::optional<std::vector<cache::LayerRef>> top_layers;
  /// --cache-to type=inline: cache records carried in the image config (cache::kInlineCacheField).
  std::optional<Json> inline_cache;
  /// oci-mediatypes=false: a Docker v2 schema 2 manifest, config and layer types instead of OCI's.
  bool oci_mediatypes = true;
  /// Any blob a layer already has serves, whatever its compression (the local store's image); otherwise only the
  /// base image's layers keep theirs.
  bool reuse_blobs = false;
};

struct Image {
  oci::Descriptor descriptor;  // of the manifest
  oci::Manifest manifest;
  oci::ImageConfig config;
};

/// What a file output (type=local|tar) holds of one platform: its file system, under `dir` ("" for the top; a
/// platform's "linux_amd64" for each of several), with the files of `attestations` (a directory; "" for none).
struct FilesOfPlatform {
  SnapshotId root = 0;
  std::string dir;
  std::string attestations;
};

class Exporter {
 public:
  Exporter(const store::ContentStore* content, store::Metadata* metadata, snapshot::Snapshotter* snapshotter,
           snapshot::LayerOptions layer_options)
      : content_(content), metadata_(metadata), snapshotter_(snapshotter), layer_options_(layer_options) {}

  /// Computes the layers not computed before (each snapshot's diff is tarred once, then reused), and writes
  /// the config and manifest blobs.
  Result<Image> Commit(const ImageSpec& spec);
  /// The layer blob of one snapshot, computed on first use, and again when it was made with another compression
  /// than the options ask for, unless `keep_existing` (a base image's layer is pushed as it came, unless forced).
  Result<store::LayerRecord> Layer(SnapshotId id, bool keep_existing = false);
  /// The layers of a snapshot's whole file system, base first, each computed on first use; the first `base`
  /// layers keep the blob they have.
  Result<std::vector<cache::LayerRef>> Layers(SnapshotId top, size_t base = 0);
  /// The image as it leaves kiln (pushed, or written as an OCI/Docker archive): its uncompressed layers compressed
  /// as the options ask, each compression of a layer made once and kept; the config is the same. `image` itself
  /// when nothing changes.
  Result<Image> ForLeaving(const Image& image);
  /// One layer as it leaves kiln (a cache export's).
  Result<cache::LayerRef> ForLeaving(const cache::LayerRef& layer);
  /// An OCI or Docker archive (a tar, or with `tar` false an OCI layout directory).
  Status ExportArchive(const Image& image, const std::string& path, oci::ArchiveFormat format,
                       const std::vector<std::string>& names, bool tar = true);
  /// The same for a multi-platform image: `index` and the manifests it lists (images first).
  Status ExportIndexArchive(const oci::Descriptor& index, const std::vector<Image>& manifests, const std::string& path,
                            oci::ArchiveFormat format, const std::vector<std::string>& names, bool tar = true);
  /// The file systems of `platforms` as one tar (type=tar), each under its directory with its attestation files,
  /// file times clamped to `epoch` when given.
  Status ExportRootTar(const std::vector<FilesOfPlatform>& platforms, const std::string& dest, std::optional<int64_t> epoch);
  /// Copies the file systems of `platforms`, and their attestation files, into `dest` (created if missing).
  Status ExportLocal(const std::vector<FilesOfPlatform>& platforms, const std::string& dest);

 private:
  const store::ContentStore* content_;
  store::Metadata* metadata_;
  snapshot::Snapshotter* snapshotter_;
  /// `tar` (an uncompressed layer) in the options' compression: the kept variant, or made now.
  Result<store::LayerRecord> Compressed(const store::LayerRecord& tar);
  snapshot::LayerOptions layer_options_;
};

/// Dates the history entries left undated (no SOURCE_DATE_EPOCH, a step that added no layer) as BuildKit's
/// exporter does: by the new layers around them.
void DateHistory(std::vector<oci::HistoryEntry>& history);

/// Loads an image's manifest and config from the content store.
Result<Image> LoadImage(const store::ContentStore& content, const std::string& manifest_digest);
/// The same from the manifest's bytes, already read.
Result<Image> LoadImage(const store::ContentStore& content, const std::string& manifest_digest, const std::string& mtext);

/// The image a stored digest names for `platform`: the manifest itself (which must be for that platform when one
/// is asked for), or an index's manifest for the platform. Without a platform, an index gives this host's image,
/// or its only one. `what` names the image in errors.
Result<Image> LoadPlatformImage(const store::ContentStore& content, const std::string& digest,
                                const std::optional<oci::Platform>& platform, const std::string& what);

/// The platforms of the images an index holds (attestations left out), as stored.
std::vector<oci::Descriptor> IndexImages(const oci::Index& index);

}  // namespace kiln::exporter
