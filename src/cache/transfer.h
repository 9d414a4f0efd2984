// Sharing build cache between machines (--cache-to / --cache-from): kiln's cache format (docs/cache-format.md), an
// OCI artifact any registry or image layout holds, and the imported sources a build consults.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "cache/cache.h"
#include "oci/reference.h"
#include "remote/registry.h"
#include "store/content.h"

namespace kiln::cache {

inline constexpr const char* kCacheConfigMediaType = "application/vnd.kiln.cache.config.v1+json";
inline constexpr const char* kCacheArtifactType = "application/vnd.kiln.cache.v1";
/// The image config field that carries inline cache (type=inline).
inline constexpr const char* kInlineCacheField = "kiln.cache.v1";

/// One --cache-to or --cache-from, as docker buildx writes them:
/// type=registry,ref=REF[,mode=min|max] | type=local,dest=DIR|src=DIR[,tag=T][,mode=...] | type=inline.
struct CacheSpec {
  std::string type;
  std::string ref;          // registry
  std::string dir;          // local: dest= (export) or src= (import)
  std::string tag = "latest";
  bool max = false;         // mode=max: every stage's steps; min: the final image's
  bool ignore_error = false;
  static Result<CacheSpec> Parse(const std::string& text, bool for_export);
};

/// A record to export: a step's key, the layers of its result, and when the step ran (0: unknown).
struct ExportRecord {
  std::string key;
  std::vector<LayerRef> layers;
  std::string description;
  int64_t created = 0;
};

/// The cache artifact of `records`: its config (the records, naming layers by position) and the manifest that
/// lists every layer once.
struct CacheArtifact {
  std::string config;
  oci::Descriptor config_descriptor;
  std::string manifest;
  oci::Descriptor manifest_descriptor;
  std::vector<oci::Descriptor> layers;
};
CacheArtifact EncodeCache(const std::vector<ExportRecord>& records);

/// The records of a cache config whose manifest lists `layers`, by key. An error names `what`.
Result<std::map<std::string, ImportedRecord>> DecodeCache(const std::string& config,
                                                          const std::vector<oci::Descriptor>& layers,
                                                          const std::string& what);

/// The inline cache of an image whose layers are `image_layers`: records whose results are a prefix of them.
Json InlineCache(const std::vector<ExportRecord>& records, const std::vector<LayerRef>& image_layers);
/// The records of an image config's inline cache (none when it has none).
std::map<std::string, ImportedRecord> DecodeInlineCache(const Json& config, const oci::Manifest& manifest);

/// Writes the artifact to an OCI image layout directory, tagged `tag` in its index.json (other tags kept).
Status ExportToDirectory(const std::string& dir, const std::string& tag, const std::vector<ExportRecord>& records,
                         const store::ContentStore& content);

/// Imported cache from a registry: a kiln cache artifact, or an image carrying inline cache.
Result<std::unique_ptr<RemoteSource>> ImportFromRegistry(remote::Registry& registry, const oci::Reference& ref,
                                                         const store::ContentStore& content);
/// Imported cache from an OCI image layout directory written by ExportToDirectory.
Result<std::unique_ptr<RemoteSource>> ImportFromDirectory(const std::string& dir, const std::string& tag,
                                                          const store::ContentStore& content);

}  // namespace kiln::cache
