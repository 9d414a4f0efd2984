#include "snapshot/unpack.h"

#include "base/digest.h"
#include "snapshot/layer.h"
#include "store/lock.h"

namespace kiln::snapshot {

std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> out;
  for (auto& d : diff_ids) out.push_back(out.empty() ? d : DigestOf(out.back() + " " + d));
  return out;
}

Result<SnapshotId> UnpackImage(const oci::Manifest& manifest, const oci::ImageConfig& config,
                               const store::ContentStore& content, store::Metadata& metadata,
                               Snapshotter& snapshotter, bool* extracted) {
  if (manifest.layers.size() != config.diff_ids.size()) {
    return Status::Error("image manifest has " + std::to_string(manifest.layers.size()) + " layers but its config " +
                         std::to_string(config.diff_ids.size()) + " diff_ids");
  }
  return UnpackLayers(manifest.layers, config.diff_ids, content, metadata, snapshotter, extracted);
}

Result<SnapshotId> UnpackLayers(const std::vector<oci::Descriptor>& layers, const std::vector<std::string>& diff_ids,
                                const store::ContentStore& content, store::Metadata& metadata, Snapshotter& snapshotter,
                                bool* extracted) {
  if (extracted) *extracted = false;
  auto chains = ChainIds(diff_ids);
  SnapshotId parent = 0;
  auto unpacked = [&](size_t i) -> Result<std::optional<SnapshotId>> {
    KILN_ASSIGN(auto existing, metadata.GetChain(chains[i]));
    if (!existing) return existing;
    auto rec = metadata.GetSnapshot(*existing);
    if (rec.ok() && rec->committed) return existing;
    return std::optional<SnapshotId>();
  };
  for (size_t i = 0; i < chains.size(); i++) {
    KILN_ASSIGN(auto existing, unpacked(i));
    if (existing) {
      parent = *existing;
      continue;
    }
    // Two builds that need the same base image unpack each layer once: the second waits and takes the first's.
    bool waited = false;
    KILN_ASSIGN(store::KeyLock lock, store::KeyLock::Acquire(snapshotter.root(), "layer chain " + chains[i], {}, &waited));
    if (waited) {
      KILN_ASSIGN(existing, unpacked(i));
      if (existing) {
        parent = *existing;
        continue;
      }
    }
    const oci::Descriptor& layer = layers[i];
    if (extracted) *extracted = true;
    if (!content.Has(layer.digest)) return Status::Error("layer " + layer.digest + " is missing from the store");
    KILN_ASSIGN(ActiveSnapshot s, snapshotter.Prepare(parent));
    Status st = ApplyLayer(content.BlobPath(layer.digest), s.diff_dir, snapshotter.layer_limits());
    if (st.ok()) st = metadata.SetLayer(s.id, {layer.digest, diff_ids[i], layer.size, layer.media_type});
    if (st.ok()) st = snapshotter.Commit(s);
    if (st.ok()) st = metadata.SetChain(chains[i], s.id);
    if (!st.ok()) return st.Prefixed("unpack layer " + layer.digest);  // `s` discards itself
    parent = s.id;
  }
  return parent;
}

}  // namespace kiln::snapshot
