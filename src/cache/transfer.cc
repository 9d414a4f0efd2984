#include "cache/transfer.h"

#include <algorithm>

#include "base/digest.h"
#include "base/fs.h"
#include "base/text.h"
#include "oci/image.h"

namespace kiln::cache {
namespace {

Result<std::string> ReadBlobFile(const std::string& dir, const std::string& digest) {
  if (!IsValidDigest(digest)) return Status::Error("invalid digest " + EscapeControl(digest));
  return ReadFile(JoinPath(dir, "blobs/sha256/" + DigestHex(digest)));
}

/// A record's "created" (seconds since the epoch); 0 when absent or not a plausible time.
int64_t CreatedOf(const Json& record) {
  if (!record.contains("created") || !record["created"].is_number_integer()) return 0;
  int64_t t = record["created"].get<int64_t>();
  return t > 0 && t <= int64_t(INT32_MAX) * 4 ? t : 0;
}

/// A source whose records were read up front and whose blobs come from somewhere on demand.
class ImportedCache : public RemoteSource {
 public:
  ImportedCache(std::string what, std::map<std::string, ImportedRecord> records,
                std::function<Status(const LayerRef&)> fetch)
      : what_(std::move(what)), records_(std::move(records)), fetch_(std::move(fetch)) {}
  std::optional<ImportedRecord> Lookup(const std::string& key) const override {
    auto it = records_.find(key);
    if (it == records_.end()) return std::nullopt;
    return it->second;
  }
  Status Fetch(const LayerRef& layer) override { return fetch_(layer); }
  std::string Describe() const override { return what_; }

 private:
  std::string what_;
  std::map<std::string, ImportedRecord> records_;
  std::function<Status(const LayerRef&)> fetch_;
};

}  // namespace

Result<CacheSpec> CacheSpec::Parse(const std::string& text, bool for_export) {
  std::string flag = for_export ? "--cache-to" : "--cache-from";
  CacheSpec c;
  // buildx takes a bare reference as type=registry,ref=REF.
  if (text.find('=') == std::string::npos) {
    c.type = "registry";
    c.ref = text;
    return c;
  }
  KILN_ASSIGN(auto pairs, ParseAttributes(text, flag));
  for (auto& [k, v] : pairs) {
    if (k == "type") {
      c.type = v;
    } else if (k == "ref") {
      c.ref = v;
    } else if (k == (for_export ? "dest" : "src")) {
      c.dir = v;
    } else if (k == "tag") {
      c.tag = v;
    } else if (k == "mode") {
      if (v != "min" && v != "max") return Status::Error(flag + ": mode must be min or max, not \"" + v + "\"");
      c.max = v == "max";
    } else if (k == "ignore-error") {
      c.ignore_error = v == "true";
    } else if (k == "oci-mediatypes" || k == "image-manifest") {
      // What kiln's cache always is (an OCI image manifest): true is accepted, asking for the other is refused.
      if (v != "true") return Status::Error(flag + ": " + k + "=" + v + " is not supported: kiln's cache is an OCI image manifest");
    } else {
      return Status::Error(flag + ": unknown attribute \"" + k + "\"");
    }
  }
  if (c.type != "registry" && c.type != "local" && c.type != "inline")
    return Status::Error(flag + ": unknown type \"" + c.type + "\" (registry, local, inline)");
  if (c.type == "registry" && c.ref.empty()) return Status::Error(flag + " type=registry needs ref=");
  if (c.type != "local" && c.tag != "latest") return Status::Error(flag + ": tag= is for type=local (put the tag in ref=)");
  if (c.type == "inline" && c.max) return Status::Error("--cache-to type=inline holds the final image's steps only (mode=min)");
  if (c.type == "local" && c.dir.empty()) return Status::Error(flag + " type=local needs " + (for_export ? "dest=" : "src="));
  if (c.type == "inline" && !for_export) return Status::Error("--cache-from: inline cache is read with type=registry,ref=IMAGE");
  return c;
}

CacheArtifact EncodeCache(const std::vector<ExportRecord>& records) {
  CacheArtifact a;
  std::map<std::string, size_t> position;  // blob digest -> index in a.layers
  Json layers = Json::array();
  Json out_records = Json::array();
  for (auto& r : records) {
    Json chain = Json::array();
    for (auto& l : r.layers) {
      auto [it, added] = position.emplace(l.blob.digest, a.layers.size());
      if (added) {
        a.layers.push_back(l.blob);
        layers.push_back({{"digest", l.blob.digest}, {"diffID", l.diff_id}});
      }
      chain.push_back(it->second);
    }
    Json record = {{"key", r.key}, {"layers", chain}, {"description", r.description}};
    if (r.created > 0) record["created"] = r.created;
    out_records.push_back(std::move(record));
  }
  a.config = DumpLenient(Json{{"version", 1}, {"layers", layers}, {"records", out_records}});
  a.config_descriptor = {kCacheConfigMediaType, DigestOf(a.config), int64_t(a.config.size()), {}, {}};
  Json manifest = {{"schemaVersion", 2}, {"mediaType", oci::kMediaTypeManifest}, {"artifactType", kCacheArtifactType},
                   {"config", oci::ToJson(a.config_descriptor)}, {"layers", Json::array()}};
  for (auto& l : a.layers) manifest["layers"].push_back(oci::ToJson(l));
  a.manifest = DumpLenient(manifest);
  a.manifest_descriptor = {oci::kMediaTypeManifest, DigestOf(a.manifest), int64_t(a.manifest.size()), {}, {}};
  return a;
}

Result<std::map<std::string, ImportedRecord>> DecodeCache(const std::string& config,
                                                                 const std::vector<oci::Descriptor>& layers,
                                                                 const std::string& what) {
  auto bad = [&](const std::string& why) { return Status::Error(what + ": not kiln cache: " + why); };
  auto parsed = ParseJson(config);
  if (!parsed.ok() || !parsed->is_object()) return bad("the config is not a JSON object");
  const Json& j = *parsed;
  // is_number_unsigned first: a float such as 1e23 must be refused, not converted (undefined behaviour).
  if (!j.contains("version") || !j["version"].is_number_unsigned() || j["version"].get<uint64_t>() != 1) {
    return bad("unknown version");
  }
  const Json& layer_list = j.value("layers", Json::array());
  if (!layer_list.is_array() || layer_list.size() != layers.size()) return bad("its layers and the manifest's differ");
  std::vector<LayerRef> refs;
  for (size_t i = 0; i < layers.size(); i++) {
    const Json& l = layer_list[i];
    if (!l.is_object() || l.value("digest", "") != layers[i].digest) return bad("layer " + std::to_string(i) + " differs");
    refs.push_back({layers[i], l.value("diffID", "")});
    if (!IsValidDigest(refs.back().diff_id)) return bad("layer " + std::to_string(i) + " has no diffID");
  }
  std::map<std::string, ImportedRecord> records;
  const Json& list = j.value("records", Json::array());
  if (!list.is_array()) return bad("records is not a list");
  for (auto& r : list) {
    if (!r.is_object() || !r.contains("key") || !r["key"].is_string()) return bad("a record has no key");
    std::vector<LayerRef> chain;
    for (auto& index : r.value("layers", Json::array())) {
      if (!index.is_number_unsigned() || index.get<size_t>() >= refs.size()) return bad("a record names a missing layer");
      chain.push_back(refs[index.get<size_t>()]);
    }
    records[r["key"].get<std::string>()] = {std::move(chain), CreatedOf(r)};
  }
  return records;
}

Json InlineCache(const std::vector<ExportRecord>& records, const std::vector<LayerRef>& image_layers) {
  Json out = Json::array();
  for (auto& r : records) {
    if (r.layers.size() > image_layers.size()) continue;
    bool prefix = std::equal(r.layers.begin(), r.layers.end(), image_layers.begin(),
                             [](const LayerRef& a, const LayerRef& b) { return a.blob.digest == b.blob.digest; });
    if (!prefix) continue;
    Json record = {{"key", r.key}, {"depth", r.layers.size()}};
    if (r.created > 0) record["created"] = r.created;
    out.push_back(std::move(record));
  }
  return Json{{"version", 1}, {"records", out}};
}

std::map<std::string, ImportedRecord> DecodeInlineCache(const Json& config, const oci::Manifest& manifest) {
  std::map<std::string, ImportedRecord> out;
  if (!config.is_object() || !config.contains(kInlineCacheField)) return out;
  const Json& inline_cache = config[kInlineCacheField];
  const Json& diff_ids = config.value("rootfs", Json::object()).value("diff_ids", Json::array());
  if (!inline_cache.is_object() || !diff_ids.is_array() || diff_ids.size() != manifest.layers.size()) return out;
  for (auto& r : inline_cache.value("records", Json::array())) {
    if (!r.is_object() || !r.contains("key") || !r["key"].is_string() || !r.contains("depth") ||
        !r["depth"].is_number_unsigned() || r["depth"].get<size_t>() > manifest.layers.size()) {
      continue;
    }
    std::vector<LayerRef> chain;
    for (size_t i = 0; i < r["depth"].get<size_t>(); i++)
      chain.push_back({manifest.layers[i], diff_ids[i].is_string() ? diff_ids[i].get<std::string>() : ""});
    out[r["key"].get<std::string>()] = {std::move(chain), CreatedOf(r)};
  }
  return out;
}

Status ExportToDirectory(const std::string& dir, const std::string& tag, const std::vector<ExportRecord>& records,
                         const store::ContentStore& content) {
  CacheArtifact a = EncodeCache(records);
  KILN_TRY(MakeDirs(JoinPath(dir, "blobs/sha256")));
  auto put = [&](const std::string& digest, const std::string* data) -> Status {
    std::string dest = JoinPath(dir, "blobs/sha256/" + DigestHex(digest));
    if (PathExists(dest)) return Status::Ok();  // content-addressed: what is there is the same
    return data ? WriteFileAtomic(dest, *data) : CopyFileAtomic(content.BlobPath(digest), dest);
  };
  for (auto& l : a.layers) KILN_TRY(put(l.digest, nullptr));
  KILN_TRY(put(a.config_descriptor.digest, &a.config));
  KILN_TRY(put(a.manifest_descriptor.digest, &a.manifest));
  KILN_TRY(WriteFileAtomic(JoinPath(dir, "oci-layout"), R"({"imageLayoutVersion":"1.0.0"})"));
  // index.json: this tag now names the new artifact; other tags stay.
  oci::Index index;
  std::string index_path = JoinPath(dir, "index.json");
  if (PathExists(index_path)) {
    KILN_ASSIGN(std::string text, ReadFile(index_path));
    KILN_ASSIGN(index, oci::IndexFromJson(text));
  }
  index.manifests.erase(std::remove_if(index.manifests.begin(), index.manifests.end(),
                                       [&](const oci::Descriptor& d) {
                                         auto it = d.annotations.find("org.opencontainers.image.ref.name");
                                         return it != d.annotations.end() && it->second == tag;
                                       }),
                        index.manifests.end());
  oci::Descriptor entry = a.manifest_descriptor;
  entry.annotations["org.opencontainers.image.ref.name"] = tag;
  index.manifests.push_back(entry);
  return WriteFileAtomic(index_path, oci::Serialize(oci::ToJson(index)));
}

Result<std::unique_ptr<RemoteSource>> ImportFromRegistry(remote::Registry& registry, const oci::Reference& ref,
                                                         const store::ContentStore& content) {
  std::string what = "cache " + ref.Familiar();
  KILN_ASSIGN(remote::FetchedManifest fetched, registry.GetManifest(ref));
  // A cache artifact, an image with inline cache, or an index of such images (a multi-platform build's inline
  // cache is in each platform's image).
  std::vector<oci::Manifest> manifests;
  if (oci::IsIndexType(fetched.media_type)) {
    KILN_ASSIGN(oci::Index index, oci::IndexFromJson(fetched.data));
    for (auto& d : index.manifests) {
      if (!oci::IsManifestType(d.media_type) || (d.platform && d.platform->os == "unknown")) continue;  // attestations
      oci::Reference at = ref;
      at.digest = d.digest;
      KILN_ASSIGN(remote::FetchedManifest image, registry.GetManifest(at));
      KILN_ASSIGN(manifests.emplace_back(), oci::ManifestFromJson(image.data));
    }
  } else if (oci::IsManifestType(fetched.media_type)) {
    KILN_ASSIGN(manifests.emplace_back(), oci::ManifestFromJson(fetched.data));
  } else {
    return Status::Error(what + ": not a cache manifest, an image or an index");
  }
  std::map<std::string, ImportedRecord> records;
  for (const oci::Manifest& m : manifests) {
    // The config is small: read it now. Layers wait until a build needs one.
    std::string config;
    KILN_TRY(registry.GetBlob(ref, m.config, [&](std::string_view d) { config.append(d); return Status::Ok(); }, nullptr));
    if (m.config.media_type == kCacheConfigMediaType) {
      KILN_ASSIGN(records, DecodeCache(config, m.layers, what));
    } else if (auto j = ParseJson(config); j.ok()) {
      records.merge(DecodeInlineCache(*j, m));
    }
  }
  auto fetch = [&registry, ref, &content](const LayerRef& layer) -> Status {
    KILN_ASSIGN(store::BlobWriter writer, content.NewWriter());
    KILN_TRY(registry.GetBlob(ref, layer.blob, [&](std::string_view d) { return writer.Write(d.data(), d.size()); }, nullptr));
    return writer.Commit(layer.blob.digest);
  };
  return std::unique_ptr<RemoteSource>(new ImportedCache(what, std::move(records), fetch));
}

Result<std::unique_ptr<RemoteSource>> ImportFromDirectory(const std::string& dir, const std::string& tag,
                                                          const store::ContentStore& content) {
  std::string what = "cache " + dir;
  std::string index_path = JoinPath(dir, "index.json");
  if (!PathExists(index_path)) return Status::Error(what + ": no cache there yet (no " + index_path + ")");
  KILN_ASSIGN(std::string index_text, ReadFile(index_path));
  auto parsed = oci::IndexFromJson(index_text);
  if (!parsed.ok()) return Status::Error(index_path + ": corrupt: " + parsed.status().message());
  const oci::Index& index = *parsed;
  const oci::Descriptor* entry = nullptr;
  for (auto& d : index.manifests) {
    auto it = d.annotations.find("org.opencontainers.image.ref.name");
    if (it != d.annotations.end() && it->second == tag) entry = &d;
  }
  if (!entry) return Status::Error(what + ": no cache tagged \"" + tag + "\" in index.json");
  KILN_ASSIGN(std::string manifest_text, ReadBlobFile(dir, entry->digest));
  if (DigestOf(manifest_text) != entry->digest) return Status::Error(what + ": its manifest does not match its digest");
  KILN_ASSIGN(oci::Manifest m, oci::ManifestFromJson(manifest_text));
  KILN_ASSIGN(std::string config, ReadBlobFile(dir, m.config.digest));
  if (DigestOf(config) != m.config.digest) return Status::Error(what + ": its config does not match its digest");
  KILN_ASSIGN(auto records, DecodeCache(config, m.layers, what));
  auto fetch = [dir, &content](const LayerRef& layer) -> Status {
    return content.Adopt(JoinPath(dir, "blobs/sha256/" + DigestHex(layer.blob.digest)), layer.blob.digest);
  };
  return std::unique_ptr<RemoteSource>(new ImportedCache(what, std::move(records), fetch));
}

}  // namespace kiln::cache
