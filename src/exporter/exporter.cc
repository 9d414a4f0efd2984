#include "exporter/exporter.h"

#include "base/fs.h"
#include "cache/transfer.h"
#include "snapshot/compress.h"
#include "snapshot/copy.h"
#include "snapshot/unpack.h"

namespace kiln::exporter {

Result<store::LayerRecord> Exporter::Layer(SnapshotId id, bool keep_existing) {
  KILN_ASSIGN(store::SnapshotRecord rec, metadata_->GetSnapshot(id));
  if (rec.layer && content_->Has(rec.layer->blob_digest)) {
    auto kind = snapshot::CompressionOf(rec.layer->media_type);
    if (keep_existing || kind == layer_options_.compression.kind) return *rec.layer;
    // The tar is there: compress it rather than tar the diff again.
    if (kind == snapshot::Compression::kUncompressed && !layer_options_.force_compression) return Compressed(*rec.layer);
  }
  KILN_ASSIGN(store::LayerRecord layer, snapshot::WriteLayer(snapshotter_->DiffDir(id), *content_, layer_options_));
  KILN_TRY(metadata_->SetLayer(id, layer));
  return layer;
}

Result<store::LayerRecord> Exporter::Compressed(const store::LayerRecord& tar) {
  std::string media_type = snapshot::LayerMediaType(layer_options_.compression.kind);
  KILN_ASSIGN(auto known, metadata_->GetLayerVariant(tar.diff_id, media_type));
  if (known && content_->Has(known->blob_digest)) return *known;
  KILN_ASSIGN(store::LayerRecord made, snapshot::CompressLayerBlob(tar, *content_, layer_options_.compression));
  KILN_TRY(metadata_->SetLayerVariant(made));
  return made;
}

Result<cache::LayerRef> Exporter::ForLeaving(const cache::LayerRef& layer) {
  auto kind = snapshot::CompressionOf(layer.blob.media_type);
  // A layer of imported cache this build never fetched is not here to compress: it leaves as it came.
  if (kind != snapshot::Compression::kUncompressed || layer_options_.compression.kind == *kind ||
      !content_->Has(layer.blob.digest)) {
    return layer;
  }
  KILN_ASSIGN(store::LayerRecord made,
              Compressed({layer.blob.digest, layer.diff_id, layer.blob.size, layer.blob.media_type}));
  bool oci = layer.blob.media_type == snapshot::LayerMediaType(*kind, true);
  cache::LayerRef out = layer;
  out.blob.digest = made.blob_digest;
  out.blob.size = made.size;
  out.blob.media_type = snapshot::LayerMediaType(layer_options_.compression.kind, oci);
  return out;
}

Result<Image> Exporter::ForLeaving(const Image& image) {
  Image out = image;
  bool changed = false;
  for (size_t i = 0; i < out.manifest.layers.size(); i++) {
    if (i >= image.config.diff_ids.size()) return Status::Error("image " + image.descriptor.digest + ": fewer diff_ids than layers");
    KILN_ASSIGN(cache::LayerRef layer, ForLeaving(cache::LayerRef{image.manifest.layers[i], image.config.diff_ids[i]}));
    changed |= layer.blob.digest != image.manifest.layers[i].digest;
    out.manifest.layers[i] = layer.blob;
  }
  if (!changed) return image;
  std::string manifest_json = oci::Serialize(oci::ToJson(out.manifest));
  KILN_ASSIGN(out.descriptor, content_->Put(out.manifest.media_type, manifest_json));
  return out;
}

Result<std::vector<cache::LayerRef>> Exporter::Layers(SnapshotId top, size_t base) {
  KILN_ASSIGN(auto chain, snapshotter_->Chain(top));
  std::vector<cache::LayerRef> out;
  for (SnapshotId id : chain) {
    KILN_ASSIGN(store::LayerRecord layer, Layer(id, out.size() < base && !layer_options_.force_compression));
    out.push_back({{layer.media_type, layer.blob_digest, layer.size, {}, {}}, layer.diff_id});
  }
  // Remember which snapshot holds each chain, so running or building on this image never unpacks it again.
  std::vector<std::string> diff_ids;
  for (auto& l : out) diff_ids.push_back(l.diff_id);
  auto chain_ids = snapshot::ChainIds(diff_ids);
  for (size_t i = 0; i < chain.size(); i++) {
    KILN_ASSIGN(auto known, metadata_->GetChain(chain_ids[i]));
    if (!known) KILN_TRY(metadata_->SetChain(chain_ids[i], chain[i]));
  }
  return out;
}

void DateHistory(std::vector<oci::HistoryEntry>& history) {
  // As BuildKit's exporter does: an undated entry takes the date of the first dated one after the first undated
  // entry (the first new layer), and after that the date of the dated entry before it.
  std::string created;
  bool undated_seen = false;
  for (auto& h : history) {
    if (!h.created.empty()) {
      created = h.created;
      if (undated_seen) break;
    } else {
      undated_seen = true;
    }
  }
  undated_seen = false;
  for (auto& h : history) {
    if (!h.created.empty()) {
      if (undated_seen) created = h.created;
    } else {
      undated_seen = true;
      h.created = created;
    }
  }
}

Result<Image> Exporter::Commit(const ImageSpec& spec) {
  Image image;
  image.config = spec.config;
  image.config.diff_ids.clear();
  std::vector<cache::LayerRef> layers;
  if (spec.top_layers) {
    layers = *spec.top_layers;
  } else {
    KILN_ASSIGN(layers, Layers(spec.top, spec.reuse_blobs ? SIZE_MAX : spec.base_depth));
  }
  for (auto& l : layers) {
    oci::Descriptor d = l.blob;
    if (!spec.oci_mediatypes) {
      auto kind = snapshot::CompressionOf(d.media_type);
      if (kind) d.media_type = snapshot::LayerMediaType(*kind, false);
    }
    image.manifest.layers.push_back(d);
    image.config.diff_ids.push_back(l.diff_id);
  }
  // A step adds a layer exactly when its result has more layers than the file system before it.
  size_t current = spec.base_depth;
  image.config.history.clear();
  for (auto& h : spec.history) {
    oci::HistoryEntry e = h.entry;
    if (h.depth) {
      e.empty_layer = *h.depth == current;
      current = *h.depth;
    }
    if (e.created.empty() && !e.empty_layer && h.made) e.created = oci::FormatTime(*h.made);
    image.config.history.push_back(e);
  }
  DateHistory(image.config.history);
  if (image.config.created.empty() && !image.config.history.empty())
    image.config.created = image.config.history.back().created;
  Json config = oci::ToJson(image.config);
  if (spec.inline_cache) config[cache::kInlineCacheField] = *spec.inline_cache;
  KILN_ASSIGN(image.manifest.config, content_->Put(spec.oci_mediatypes ? oci::kMediaTypeConfig : oci::kDockerMediaTypeConfig,
                                                   oci::Serialize(config)));
  image.manifest.media_type = spec.oci_mediatypes ? oci::kMediaTypeManifest : oci::kDockerMediaTypeManifest;
  std::string manifest_json = oci::Serialize(oci::ToJson(image.manifest));
  KILN_ASSIGN(image.descriptor, content_->Put(image.manifest.media_type, manifest_json));
  return image;
}

Status Exporter::ExportArchive(const Image& image, const std::string& path, oci::ArchiveFormat format,
                               const std::vector<std::string>& names, bool tar) {
  std::vector<oci::ArchiveImage> images = {{image.descriptor, image.manifest, names, {}}};
  return oci::WriteImageArchive(path, format, images, [&](const std::string& d) { return content_->BlobPath(d); }, tar);
}

Status Exporter::ExportIndexArchive(const oci::Descriptor& index, const std::vector<Image>& images,
                                   const std::string& path, oci::ArchiveFormat format,
                                   const std::vector<std::string>& names, bool tar) {
  oci::ArchiveImage entry{index, {}, names, {}};
  for (auto& image : images) entry.platforms.push_back({image.descriptor, image.manifest});
  return oci::WriteImageArchive(path, format, {entry}, [&](const std::string& d) { return content_->BlobPath(d); }, tar);
}

Status Exporter::ExportRootTar(const std::vector<FilesOfPlatform>& platforms, const std::string& dest,
                               std::optional<int64_t> epoch) {
  std::vector<snapshot::Mount> roots;  // mounted while the tar is written
  std::vector<snapshot::TreeInTar> trees;
  for (auto& p : platforms) {
    KILN_ASSIGN(snapshot::Mount root, snapshotter_->MountReadOnly(p.root));
    trees.push_back({root.path(), p.dir, true});
    roots.push_back(std::move(root));
    if (!p.attestations.empty()) trees.push_back({p.attestations, p.dir, false});
  }
  return snapshot::WriteTrees(trees, dest, epoch);
}

Status Exporter::ExportLocal(const std::vector<FilesOfPlatform>& platforms, const std::string& dest) {
  for (auto& p : platforms) {
    std::string dir = JoinPath(dest, p.dir);
    KILN_TRY(MakeDirs(dir));
    KILN_ASSIGN(snapshot::Mount root, snapshotter_->MountReadOnly(p.root));
    KILN_TRY(snapshot::CopyDirContents(root.path(), dir, "", {}));
    if (!p.attestations.empty()) KILN_TRY(snapshot::CopyDirContents(p.attestations, dir, "", {}));
  }
  return Status::Ok();
}

Result<Image> LoadImage(const store::ContentStore& content, const std::string& manifest_digest) {
  KILN_ASSIGN(std::string mtext, content.Read(manifest_digest));
  return LoadImage(content, manifest_digest, mtext);
}

Result<Image> LoadImage(const store::ContentStore& content, const std::string& manifest_digest, const std::string& mtext) {
  Image image;
  KILN_ASSIGN(image.manifest, oci::ManifestFromJson(mtext));
  image.descriptor = {image.manifest.media_type, manifest_digest, int64_t(mtext.size()), {}, {}};
  KILN_ASSIGN(std::string ctext, content.Read(image.manifest.config.digest));
  KILN_ASSIGN(image.config, oci::ImageConfigFromJson(ctext));
  return image;
}

std::vector<oci::Descriptor> IndexImages(const oci::Index& index) {
  std::vector<oci::Descriptor> out;
  for (auto& m : index.manifests) {
    if (!m.platform || m.platform->os == "unknown" || !oci::IsManifestType(m.media_type)) continue;
    out.push_back(m);
  }
  return out;
}

Result<Image> LoadPlatformImage(const store::ContentStore& content, const std::string& digest,
                                const std::optional<oci::Platform>& platform, const std::string& what) {
  KILN_ASSIGN(std::string text, content.Read(digest));
  if (!oci::IsIndexDocument(text)) {
    KILN_ASSIGN(Image image, LoadImage(content, digest, text));
    if (platform) {
      oci::Platform want = platform->Normalized(), got = image.config.platform.Normalized();
      if (got.os != want.os || got.architecture != want.architecture ||
          (!want.variant.empty() && got.variant != want.variant)) {
        return Status::Error(what + " is an image for " + got.ToString() + ", not " + want.ToString());
      }
    }
    return image;
  }
  KILN_ASSIGN(oci::Index index, oci::IndexFromJson(text));
  std::vector<oci::Descriptor> images = IndexImages(index);
  auto chosen = oci::SelectPlatform(index, platform.value_or(oci::Platform::Host()), what);
  if (!chosen.ok() && !platform && images.size() == 1) chosen = images[0];
  if (!chosen.ok()) return chosen.status();
  if (!content.Has(chosen->digest)) {
    std::string p = chosen->platform ? chosen->platform->Normalized().ToString() : "?";
    return Status::Error(what + ": its " + p + " image is not in the local store (kiln pull --platform " + p + ")");
  }
  return LoadImage(content, chosen->digest);
}

}  // namespace kiln::exporter
