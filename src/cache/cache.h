// Cache records: a cache key (what a step is, given its inputs' contents) -> the snapshot it produced; and the
// sources of records kept elsewhere (a registry, a directory, an image's config) that a build may import.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "oci/image.h"
#include "store/metadata.h"

namespace kiln::cache {

class Cache {
 public:
  explicit Cache(store::Metadata* metadata) : metadata_(metadata) {}
  /// The snapshot recorded for `key`, if it is still whole (committed and not pruned).
  Result<std::optional<store::SnapshotId>> Lookup(const std::string& key);
  Status Record(const std::string& key, store::SnapshotId snapshot, const std::string& description);

 private:
  store::Metadata* metadata_;
};

/// One layer of a file system: the blob that holds it and the digest of its uncompressed tar.
struct LayerRef {
  oci::Descriptor blob;
  std::string diff_id;
};

/// A record of imported cache: the layers of a step's result, base first, and when the step ran (seconds since
/// the epoch; 0 when the record does not say). The image made of it is dated by that time, as BuildKit dates
/// layers by their cache's createdat, so that an image rebuilt from shared cache has the digest it had.
struct ImportedRecord {
  std::vector<LayerRef> layers;
  int64_t created = 0;
};

/// Imported cache records (--cache-from): a step's key -> the layers of the file system it produced, base first.
/// The records are read up front (metadata only); a layer's blob is fetched only when a build needs its content.
class RemoteSource {
 public:
  virtual ~RemoteSource() = default;
  /// The layers recorded for `key`, if this source has a record of it.
  virtual std::optional<ImportedRecord> Lookup(const std::string& key) const = 0;
  /// Brings the blob of `layer` into the content store (checked against its digest).
  virtual Status Fetch(const LayerRef& layer) = 0;
  /// Where the records come from, for messages: "registry 127.0.0.1:5000/app:cache".
  virtual std::string Describe() const = 0;
};

}  // namespace kiln::cache
