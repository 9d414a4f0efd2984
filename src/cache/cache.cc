#include "cache/cache.h"

namespace kiln::cache {

Result<std::optional<store::SnapshotId>> Cache::Lookup(const std::string& key) {
  KILN_ASSIGN(auto id, metadata_->GetCache(key));
  if (!id || *id == 0) return id;
  auto rec = metadata_->GetSnapshot(*id);
  if (!rec.ok() || !rec->committed) return std::optional<store::SnapshotId>();
  return id;
}

Status Cache::Record(const std::string& key, store::SnapshotId snapshot, const std::string& description) {
  return metadata_->SetCache(key, snapshot, description);
}

}  // namespace kiln::cache
