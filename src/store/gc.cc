#include "store/gc.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "oci/image.h"

namespace kiln::store {

Collector::Collector(Metadata& metadata, const ContentStore& content,
                     std::function<int64_t(SnapshotId)> snapshot_bytes,
                     std::function<Status(SnapshotId)> remove_snapshot, CacheMounts* cache_mounts)
    : metadata_(metadata),
      content_(content),
      snapshot_bytes_(std::move(snapshot_bytes)),
      remove_snapshot_(std::move(remove_snapshot)),
      cache_mounts_(cache_mounts) {}

Result<std::vector<std::string>> Collector::ImageBlobs(int64_t* images) {
  KILN_ASSIGN(auto records, metadata_.ListImages());
  *images = int64_t(records.size());
  std::vector<std::string> out;
  auto keep_manifest = [&](const std::string& digest) {
    out.push_back(digest);
    auto text = content_.Read(digest);
    if (!text.ok()) return;  // a broken image (or an index's platform never pulled) keeps nothing else alive
    auto m = oci::ManifestFromJson(*text);
    if (!m.ok()) return;
    out.push_back(m->config.digest);
    for (auto& l : m->layers) out.push_back(l.digest);
  };
  for (auto& r : records) {
    auto text = content_.Read(r.digest);
    if (text.ok() && oci::IsIndexDocument(*text)) {
      // A multi-platform image: the index, and each of its manifests held here (attestations too).
      out.push_back(r.digest);
      auto index = oci::IndexFromJson(*text);
      if (index.ok())
        for (auto& m : index->manifests) keep_manifest(m.digest);
      continue;
    }
    keep_manifest(r.digest);
  }
  return out;
}

namespace {

/// Every snapshot `roots` need: themselves and their parents.
std::set<SnapshotId> Closure(const std::vector<SnapshotId>& roots, const std::map<SnapshotId, SnapshotRecord>& snaps) {
  std::set<SnapshotId> live;
  for (SnapshotId id : roots) {
    while (id != 0 && live.insert(id).second) {
      auto it = snaps.find(id);
      if (it == snaps.end()) break;
      id = it->second.parent;
    }
  }
  return live;
}

}  // namespace

namespace {

// How a failed step's kept state appears among the records of a collection (a cache key never looks like this).
constexpr const char* kDebugKeyPrefix = "debug-state:";

}  // namespace

Result<Usage> Collector::DiskUsage() {
  Usage u;
  KILN_ASSIGN(auto image_blobs, ImageBlobs(&u.images));
  std::set<std::string> referenced(image_blobs.begin(), image_blobs.end());
  KILN_ASSIGN(auto blobs, content_.List());
  for (auto& b : blobs) (referenced.count(b.digest) ? u.image_bytes : u.cache_blob_bytes) += b.size;
  KILN_ASSIGN(auto snaps, metadata_.ListSnapshots());
  std::map<SnapshotId, int64_t> bytes;
  for (auto& s : snaps) {
    bytes[s.id] = snapshot_bytes_(s.id);
    u.snapshot_bytes += bytes[s.id];
  }
  u.snapshots = int64_t(snaps.size());
  KILN_ASSIGN(auto records, metadata_.ListCache());
  u.cache_records = int64_t(records.size());
  for (auto& r : records) {
    u.entries.push_back({r.key, r.description, bytes.count(r.snapshot) ? bytes[r.snapshot] : 0, r.created,
                         r.last_used});
  }
  KILN_ASSIGN(auto debug_states, metadata_.ListDebugStates());
  u.debug_states = int64_t(debug_states.size());
  if (cache_mounts_) {
    KILN_ASSIGN(u.mounts, cache_mounts_->List());
    u.cache_mounts = int64_t(u.mounts.size());
    for (auto& m : u.mounts) u.cache_mount_bytes += m.bytes;
  }
  return u;
}

Result<GcResult> Collector::Collect(const GcPolicy& policy) {
  GcResult result;
  KILN_ASSIGN(auto snap_list, metadata_.ListSnapshots());
  std::map<SnapshotId, SnapshotRecord> snaps;
  for (auto& s : snap_list) snaps[s.id] = s;
  std::map<SnapshotId, int64_t> sizes;  // measured once each: a measure walks the snapshot's files
  auto bytes_of = [&](SnapshotId id) {
    auto it = sizes.find(id);
    if (it == sizes.end()) it = sizes.emplace(id, snapshot_bytes_(id)).first;
    return it->second;
  };
  auto size_of = [&](const std::set<SnapshotId>& ids) {
    int64_t total = 0;
    for (SnapshotId id : ids) total += bytes_of(id);
    return total;
  };

  // Which records stay: the recently used ones, then, most recent first, those whose snapshots still fit. The
  // failed steps' kept file systems (kiln debug) are records here too, by the time they were made.
  KILN_ASSIGN(auto records, metadata_.ListCache());  // least recently used first
  KILN_ASSIGN(auto debug_states, metadata_.ListDebugStates());
  for (auto& d : debug_states) records.push_back({kDebugKeyPrefix + d.build_id, d.snapshot, d.step, d.created, d.created});
  std::stable_sort(records.begin(), records.end(), [](auto& a, auto& b) { return a.last_used < b.last_used; });
  std::vector<bool> keep(records.size(), false);
  std::vector<SnapshotId> kept_roots;
  for (size_t i = 0; i < records.size(); i++) {
    bool spared = !policy.only_keys.empty() && !policy.only_keys.count(records[i].key);
    if (spared || (policy.keep_used_since > 0 && records[i].last_used >= policy.keep_used_since)) {
      keep[i] = true;
      kept_roots.push_back(records[i].snapshot);
    }
  }
  if (policy.keep_bytes >= 0) {
    for (size_t i = records.size(); i-- > 0;) {
      if (keep[i]) continue;
      auto with = kept_roots;
      with.push_back(records[i].snapshot);
      if (size_of(Closure(with, snaps)) > policy.keep_bytes) break;
      keep[i] = true;
      kept_roots = std::move(with);
    }
  }
  std::set<SnapshotId> live = Closure(kept_roots, snaps);
  KILN_TRY(CollectCacheMounts(policy, size_of(live), result));

  for (size_t i = 0; i < records.size(); i++) {
    if (keep[i]) continue;
    const std::string& key = records[i].key;
    if (key.rfind(kDebugKeyPrefix, 0) == 0) {
      KILN_TRY(metadata_.DeleteDebugState(key.substr(strlen(kDebugKeyPrefix))));
      result.debug_states++;
    } else {
      KILN_TRY(metadata_.DeleteCache(key));
      result.cache_records++;
    }
  }
  // Unpacked base images are cache too: kept only where a kept step builds on them.
  KILN_ASSIGN(auto chains, metadata_.ListChains());
  for (auto& [chain_id, snapshot] : chains) {
    if (!live.count(snapshot)) KILN_TRY(metadata_.DeleteChain(chain_id));
  }
  // Children (higher ids) go before their parents, so an interrupted collection leaves no orphan chain.
  for (auto it = snaps.rbegin(); it != snaps.rend(); ++it) {
    if (live.count(it->first)) continue;
    int64_t bytes = bytes_of(it->first);
    KILN_TRY(remove_snapshot_(it->first));
    result.snapshots++;
    result.reclaimed_bytes += bytes;
  }

  int64_t images = 0;
  KILN_ASSIGN(auto image_blobs, ImageBlobs(&images));
  std::set<std::string> referenced(image_blobs.begin(), image_blobs.end());
  std::set<std::string> live_diff_ids;
  for (SnapshotId id : live) {
    if (!snaps[id].layer) continue;
    referenced.insert(snaps[id].layer->blob_digest);
    live_diff_ids.insert(snaps[id].layer->diff_id);
  }
  // A kept layer's compressed variants stay for its next push; a stored image's uncompressed layer is named by
  // its diff_id.
  KILN_ASSIGN(auto variants, metadata_.ListLayerVariants());
  for (auto& v : variants) {
    if (live_diff_ids.count(v.diff_id) || referenced.count(v.diff_id)) referenced.insert(v.blob_digest);
  }
  KILN_ASSIGN(auto blobs, content_.List());
  for (auto& b : blobs) {
    if (referenced.count(b.digest)) continue;
    KILN_TRY(content_.Remove(b.digest));
    result.blobs++;
    result.reclaimed_bytes += b.size;
  }
  return result;
}

Status Collector::CollectCacheMounts(const GcPolicy& policy, int64_t kept_bytes, GcResult& result) {
  if (!cache_mounts_) return Status::Ok();
  KILN_TRY(cache_mounts_->RemoveLeftovers());
  // Only a collection of everything (policy.all) takes cache mounts: a package cache is worth keeping. Then the
  // rules of records apply:
  // the recently used stay, then the most recently used while they fit in what the kept records leave.
  if (!policy.only_keys.empty() || !policy.all) return Status::Ok();
  KILN_ASSIGN(auto mounts, cache_mounts_->List());
  std::sort(mounts.begin(), mounts.end(), [](auto& a, auto& b) { return a.last_used > b.last_used; });
  for (auto& m : mounts) {
    bool recent = policy.keep_used_since > 0 && m.last_used >= policy.keep_used_since;
    bool fits = policy.keep_bytes >= 0 && kept_bytes + m.bytes <= policy.keep_bytes;
    if (recent || fits) {
      kept_bytes += m.bytes;
      continue;
    }
    KILN_TRY(cache_mounts_->Remove(m.name));
    result.cache_mounts++;
    result.reclaimed_bytes += m.bytes;
  }
  return Status::Ok();
}

Json TotalsJson(const Usage& u) {
  return {{"images", u.images},
          {"image_bytes", u.image_bytes},
          {"cache_records", u.cache_records},
          {"snapshots", u.snapshots},
          {"snapshot_bytes", u.snapshot_bytes},
          {"cache_blob_bytes", u.cache_blob_bytes},
          {"debug_states", u.debug_states},
          {"cache_mounts", u.cache_mounts},
          {"cache_mount_bytes", u.cache_mount_bytes},
          {"reclaimable_bytes", u.reclaimable_bytes()},
          {"total_bytes", u.total_bytes()}};
}

}  // namespace kiln::store
