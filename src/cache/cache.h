// Cache records: a cache key (what a step is, given its inputs' contents) -> the snapshot it produced.
#pragma once
#include <optional>
#include <string>

#include "base/status.h"
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

}  // namespace kiln::cache
