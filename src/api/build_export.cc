// The end of a build, once its graph is solved: the image (layers, config, names), its pushes, the cache
// exports, and the file outputs.
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "api/engine.h"
#include "api/engine_state.h"
#include "oci/reference.h"
#include "snapshot/compress.h"
#include "snapshot/unpack.h"

namespace kiln::api {
namespace {

/// A vertex that reads something rather than making a snapshot: no cache record of its own.
bool IsSource(const graph::Vertex& v) {
  return std::holds_alternative<graph::ImageSource>(v.op) || std::holds_alternative<graph::LocalSource>(v.op) ||
         std::holds_alternative<graph::HttpSource>(v.op) || std::holds_alternative<graph::GitSource>(v.op);
}

/// How the image's layers are made, from the outputs: one image per build, so its options may be given on any
/// output, but not two ways.
struct ImageOptions {
  snapshot::LayerOptions layers;  // as the layers leave kiln
  bool compression_given = false;
  bool oci_mediatypes = true;
};

Result<ImageOptions> ImageOptionsOf(const std::vector<OutputSpec>& outputs, std::optional<int64_t> epoch) {
  std::optional<std::string> compression;
  std::optional<int> level;
  std::optional<bool> force, oci;
  auto take = [](auto& mine, const auto& theirs, const char* name) -> Status {
    if (!theirs) return Status::Ok();
    if (mine && *mine != *theirs) return Status::Error(std::string("--output: two different ") + name + " for one image");
    mine = theirs;
    return Status::Ok();
  };
  for (auto& o : outputs) {
    KILN_TRY(take(compression, o.compression, "compression"));
    KILN_TRY(take(level, o.compression_level, "compression-level"));
    KILN_TRY(take(force, o.force_compression, "force-compression"));
    KILN_TRY(take(oci, o.oci_mediatypes, "oci-mediatypes"));
  }
  ImageOptions options;
  options.layers.source_date_epoch = epoch;
  if (compression) {
    KILN_ASSIGN(options.layers.compression.kind, snapshot::ParseCompression(*compression));
    options.compression_given = true;
  }
  if (level) options.layers.compression.level = *level;
  options.layers.force_compression = force.value_or(false);
  options.oci_mediatypes = oci.value_or(true);
  return options;
}

/// How many layers each result's file system has: an image's own, and one more for every step after it (each
/// step's result is a new snapshot on its parent's, even when nothing changed). Known without running a step the
/// target did not need.
class LayerDepths {
 public:
  LayerDepths(const dockerfile::BuildDefinition& def, const solver::SolveReport& report, snapshot::Snapshotter& snapshotter)
      : def_(def), report_(report), snapshotter_(snapshotter) {}
  Result<size_t> Of(size_t vertex) {
    // Iterative: a long Dockerfile is a long chain of parents.
    std::vector<size_t> chain;
    size_t v = vertex;
    while (!known_.count(v) && !std::holds_alternative<graph::ImageSource>(def_.graph.at(v).op)) {
      chain.push_back(v);
      v = def_.graph.at(v).inputs.at(0);
    }
    if (!known_.count(v)) {
      const solver::VertexOutput& out = report_.results.at(v);
      if (out.materialized) {
        KILN_ASSIGN(auto layers, snapshotter_.Chain(out.snapshot));
        known_[v] = layers.size();
      } else {
        known_[v] = out.layers.size();
      }
    }
    size_t n = known_[v];
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) known_[*it] = ++n;
    return known_[vertex];
  }

 private:
  const dockerfile::BuildDefinition& def_;
  const solver::SolveReport& report_;
  snapshot::Snapshotter& snapshotter_;
  std::map<size_t, size_t> known_;
};

}  // namespace

Status Engine::ExportBuild(const BuildRequest& req, const std::vector<dockerfile::BuildDefinition>& defs,
                           solver::SolveReport& report, const std::function<Result<remote::Registry*>()>& registry,
                           int steps_shown, std::optional<int64_t> epoch, const BuildSource& source,
                           BuildResult& result) {
  const dockerfile::BuildDefinition& def = defs.at(0);
  // Several platforms, or attestations beside the image: the image is an index.
  bool multi = defs.size() > 1 || req.sbom || !req.provenance.empty();
  // The names the image is stored under locally, and those it is pushed to.
  std::vector<std::string> local_names = result.tags, push_names;
  if (req.push) push_names = result.tags;
  bool wants_image = !result.tags.empty(), wants_files = false, inline_cache = false;
  for (auto& c : req.cache_to) inline_cache |= c.type == "inline";
  for (auto& o : req.outputs) {
    bool files = o.type == "local" || o.type == "tar";
    wants_image |= !files;
    wants_files |= files;
    for (auto& n : o.names) {
      auto r = oci::ParseReference(n);
      if (!r.ok()) return r.status().Prefixed("--output name");
      if (!r->digest.empty()) return Status::Error("--output name=" + r->Familiar() + ": a name cannot pin a digest (the build decides it)");
      if (o.type == "image") local_names.push_back(r->String());
      if (o.push) push_names.push_back(r->String());
    }
  }
  // The names an archive output records, normalized as BuildKit's ("docker.io/org/repo:tag"); the -t names without any.
  auto archive_names = [&](const OutputSpec& o) {
    if (o.names.empty()) return result.tags;
    std::vector<std::string> names;
    for (auto& n : o.names) names.push_back(oci::ParseReference(n)->String());  // checked above
    return names;
  };
  KILN_ASSIGN(ImageOptions options, ImageOptionsOf(req.outputs, epoch));
  // The local store keeps new layers uncompressed, any blob a layer already has serving: they are compressed only
  // when they leave kiln (an archive, a push, a cache export), once each, as BuildKit's lazy blobs are. An output
  // that names a compression makes every layer that way.
  snapshot::LayerOptions stored_layers = options.layers;
  if (!options.compression_given) stored_layers.compression.kind = snapshot::Compression::kUncompressed;
  exporter::Exporter stored(s_->content.get(), s_->metadata.get(), s_->snapshotter.get(), stored_layers);
  exporter::Exporter leaving(s_->content.get(), s_->metadata.get(), s_->snapshotter.get(), options.layers);
  // An image that is not stored is made in the compression it leaves in.
  bool store_image = !local_names.empty();
  exporter::Exporter& exp = store_image ? stored : leaving;
  // The layers of a vertex's result: computed from its snapshot, or those of the imported record it came from.
  // Each snapshot's layers are worked out once, however many records and the inline cache ask.
  std::map<store::SnapshotId, std::vector<cache::LayerRef>> layers_by_snapshot;
  auto layers_of = [&](const solver::VertexOutput& v) -> Result<std::vector<cache::LayerRef>> {
    if (!v.materialized) return v.layers;
    auto known = layers_by_snapshot.find(v.snapshot);
    if (known != layers_by_snapshot.end()) return known->second;
    // Any blob of a layer serves as cache: none is made twice.
    KILN_ASSIGN(auto layers, exp.Layers(v.snapshot, SIZE_MAX));
    return layers_by_snapshot.emplace(v.snapshot, std::move(layers)).first->second;
  };

  // When a step's result was made: when it ran, as its snapshot or its imported record says (a cached step is
  // dated by when it ran, so that a build that changed nothing makes the same image, here or from shared cache).
  const int64_t now = time(nullptr);
  auto made_of = [&](const solver::VertexOutput& out) -> Result<int64_t> {
    if (out.created > 0) return out.created;
    if (!out.materialized || out.snapshot == 0) return now;
    KILN_ASSIGN(store::SnapshotRecord snapshot, s_->metadata->GetSnapshot(out.snapshot));
    return snapshot.created;
  };

  // Cache records to export: the final image's steps (mode=min), or every step of every stage (mode=max).
  std::vector<cache::ExportRecord> min_records, max_records;
  if (!req.cache_to.empty()) {
    std::set<size_t> final_steps;
    for (auto& d : defs)
      for (size_t v = d.result; !IsSource(d.graph.at(v)); v = d.graph.at(v).inputs.at(0)) final_steps.insert(v);
    for (auto& [v, out] : report.results) {
      if (IsSource(def.graph.at(v))) continue;
      KILN_ASSIGN(auto layers, layers_of(out));
      KILN_ASSIGN(int64_t made, made_of(out));
      cache::ExportRecord record{out.key, layers, def.graph.at(v).name, made};
      if (final_steps.count(v)) min_records.push_back(record);
      max_records.push_back(record);
    }
  }
  // Blobs of imported records, by digest: where to fetch those this build never needed.
  std::map<std::string, cache::RemoteSource*> remote_blobs;
  for (auto& [v, out] : report.results)
    for (auto& l : out.layers) remote_blobs.emplace(l.blob.digest, out.source);
  auto fetch_layers = [&](const std::vector<cache::LayerRef>& layers) -> Status {
    for (auto& l : layers) {
      if (s_->content->Has(l.blob.digest)) continue;
      cache::RemoteSource* source = remote_blobs.at(l.blob.digest);
      if (!source) return Status::Error("layer " + l.blob.digest + " is missing from the store");
      KILN_TRY(source->Fetch(l));
    }
    return Status::Ok();
  };

  // The snapshot of a vertex's result, unpacked first when it came from imported cache untouched.
  auto materialized = [&](size_t vertex) -> Result<store::SnapshotId> {
    solver::VertexOutput& out = report.results.at(vertex);
    if (!out.materialized) {
      std::vector<oci::Descriptor> blobs;
      std::vector<std::string> diff_ids;
      for (auto& l : out.layers) {
        blobs.push_back(l.blob);
        diff_ids.push_back(l.diff_id);
      }
      KILN_TRY(fetch_layers(out.layers).Prefixed("--output"));
      KILN_ASSIGN(out.snapshot, snapshot::UnpackLayers(blobs, diff_ids, *s_->content, *s_->metadata, *s_->snapshotter));
      out.materialized = true;
    }
    return out.snapshot;
  };

  int number = steps_shown;
  // The image of one platform's definition, committed to the content store.
  auto commit = [&](const dockerfile::BuildDefinition& d) -> Result<exporter::Image> {
    solver::VertexOutput& result_of_d = report.results.at(d.result);
    exporter::ImageSpec spec;
    spec.config = d.config;
    spec.oci_mediatypes = options.oci_mediatypes;
    LayerDepths depths(d, report, *s_->snapshotter);
    KILN_ASSIGN(spec.base_depth, depths.Of(d.base_vertex));
    spec.top = result_of_d.snapshot;
    spec.reuse_blobs = store_image && !options.compression_given;
    if (!result_of_d.materialized) {
      // Found in imported cache and never unpacked: the image is made of the record's layers, fetched now.
      KILN_TRY(fetch_layers(result_of_d.layers).Prefixed("export image"));
      spec.top_layers = result_of_d.layers;
    }
    for (auto& h : d.history) {
      std::optional<size_t> depth;
      std::optional<int64_t> made;
      if (h.vertex) {
        KILN_ASSIGN(depth, depths.Of(*h.vertex));
        auto out = report.results.find(*h.vertex);
        made = now;
        if (out != report.results.end()) {
          KILN_ASSIGN(made, made_of(out->second));
        }
      }
      spec.history.push_back({h.entry, depth, made});
    }
    if (inline_cache) {
      KILN_ASSIGN(auto image_layers, layers_of(result_of_d));
      spec.inline_cache = cache::InlineCache(min_records, image_layers);
    }
    auto committed = exp.Commit(spec);
    if (!committed.ok()) return committed.status().Prefixed("export image");
    return *committed;
  };
  // Each definition's attestations, made once for the image index and the file outputs alike.
  std::map<const dockerfile::BuildDefinition*, std::vector<exporter::Attestation>> attested;
  auto attestations_of = [&](const dockerfile::BuildDefinition& d) -> Result<std::vector<exporter::Attestation>> {
    auto known = attested.find(&d);
    if (known != attested.end()) return known->second;
    KILN_ASSIGN(store::SnapshotId root, materialized(d.result));
    std::optional<store::SnapshotId> scanned;
    if (d.sbom_scan) {
      KILN_ASSIGN(scanned, materialized(*d.sbom_scan));
    }
    KILN_ASSIGN(auto made, Attest(req, d, root, scanned, source, epoch, result.build_id));
    return attested.emplace(&d, std::move(made)).first->second;
  };
  if (wants_image && multi) {
    MultiImage made;
    made.media_type = options.oci_mediatypes ? oci::kMediaTypeIndex : oci::kDockerMediaTypeManifestList;
    made.subject_name = result.tags.empty() ? "" : "pkg:docker/" + result.tags[0];
    for (auto& d : defs) {
      KILN_ASSIGN(exporter::Image image, commit(d));
      made.images.push_back(image);
      if (req.sbom || !req.provenance.empty()) {
        KILN_ASSIGN(auto attestations, attestations_of(d));
        made.attestations.push_back(std::move(attestations));
      }
    }
    result.platform_images = made.images;
    result.image = made.images[0];
    KILN_ASSIGN(IndexParts stored_index, PutIndex(made));
    result.index = stored_index.index;
    for (auto& name : local_names) KILN_TRY(NameImage(name, stored_index.index.digest));
    // As it leaves kiln (archives, pushes): each image compressed, under an index of its own.
    std::optional<IndexParts> left;
    auto index_that_leaves = [&]() -> Result<IndexParts> {
      if (!left) {
        KILN_ASSIGN(left, LeavingIndex(leaving, made));
      }
      return *left;
    };
    for (auto& o : req.outputs) {
      if (o.type != "oci" && o.type != "docker") continue;
      auto format = o.type == "oci" ? oci::ArchiveFormat::kOci : oci::ArchiveFormat::kDocker;
      auto archived = index_that_leaves();
      if (!archived.ok()) return archived.status().Prefixed("--output type=" + o.type);
      KILN_TRY(exp.ExportIndexArchive(archived->index, archived->manifests, o.dest, format,
                                      archive_names(o), o.tar)
                   .Prefixed("--output type=" + o.type));
    }
    for (auto& name : push_names) {
      KILN_ASSIGN(remote::Registry * r, registry());
      KILN_ASSIGN(IndexParts pushed_index, index_that_leaves());
      KILN_ASSIGN(PushResult pushed, PushIndex(*r, pushed_index, name, req.progress, ++number));
      result.pushed.push_back(pushed);
    }
  } else if (wants_image) {
    KILN_ASSIGN(exporter::Image image, commit(def));
    result.image = image;
    for (auto& name : local_names) KILN_TRY(NameImage(name, image.descriptor.digest));
    std::optional<exporter::Image> leaving_image;
    auto image_that_leaves = [&]() -> Result<exporter::Image> {
      if (!leaving_image) {
        KILN_ASSIGN(leaving_image, leaving.ForLeaving(image));
      }
      return *leaving_image;
    };
    for (auto& o : req.outputs) {
      if (o.type != "oci" && o.type != "docker") continue;
      auto format = o.type == "oci" ? oci::ArchiveFormat::kOci : oci::ArchiveFormat::kDocker;
      auto archived = image_that_leaves();
      if (!archived.ok()) return archived.status().Prefixed("--output type=" + o.type);
      KILN_TRY(exp.ExportArchive(*archived, o.dest, format, archive_names(o), o.tar)
                   .Prefixed("--output type=" + o.type));
    }
    for (auto& name : push_names) {
      KILN_ASSIGN(remote::Registry * r, registry());
      KILN_ASSIGN(exporter::Image pushed_image, image_that_leaves());
      KILN_ASSIGN(PushResult pushed, PushImage(*r, pushed_image, name, req.progress, ++number));
      result.pushed.push_back(pushed);
    }
  }
  for (auto& c : req.cache_to) {
    if (c.type == "inline") continue;
    std::vector<cache::ExportRecord> records = c.max ? max_records : min_records;
    for (auto& r : records) {
      for (auto& l : r.layers) {
        KILN_ASSIGN(l, leaving.ForLeaving(l));
      }
    }
    Status st = ExportCache(c, records, registry, remote_blobs, req.progress, ++number);
    if (!st.ok() && !c.ignore_error) return st;
    if (!st.ok()) result.warnings.push_back(st.message());
  }
  if (req.progress && number > steps_shown) req.progress->Finish();

  if (!wants_files) return Status::Ok();
  // Each platform's file system, and its attestations as files beside it (provenance.json, sbom.spdx.json), as
  // BuildKit's local and tar exporters write them. Several platforms go into a directory each, named as BuildKit
  // names them ("linux_arm64"), unless platform-split=false; then the attestation files carry the name instead.
  struct PlatformFiles {
    store::SnapshotId root;
    std::string name;
    std::unique_ptr<TempDir> attestations;
  };
  std::vector<PlatformFiles> files;
  for (auto& d : defs) {
    PlatformFiles f;
    KILN_ASSIGN(f.root, materialized(d.result));
    f.name = d.config.platform.Normalized().ToString();
    std::replace(f.name.begin(), f.name.end(), '/', '_');
    if (req.sbom || !req.provenance.empty()) {
      KILN_ASSIGN(auto attestations, attestations_of(d));
      KILN_ASSIGN(TempDir dir, s_->snapshotter->FetchDir());
      f.attestations = std::make_unique<TempDir>(std::move(dir));
      int sboms = 0;
      for (auto& a : attestations) {
        // provenance.json; sbom.spdx.json, then sbom-1.spdx.json ... when a generator wrote several.
        bool provenance = a.predicate_type.find("slsa.dev/provenance") != std::string::npos;
        std::string name = provenance ? "provenance" : sboms++ == 0 ? "sbom" : "sbom-" + std::to_string(sboms - 1);
        KILN_TRY(WriteFileAtomic(JoinPath(f.attestations->path(), name + (provenance ? "" : ".spdx") + ".json"),
                                 a.predicate.dump(2), 0644));
      }
    }
    files.push_back(std::move(f));
  }
  for (auto& o : req.outputs) {
    if (o.type != "local" && o.type != "tar") continue;
    bool split = o.platform_split.value_or(defs.size() > 1);
    std::vector<exporter::FilesOfPlatform> outputs;
    std::vector<std::unique_ptr<TempDir>> renamed;  // attestation files named for an output without split
    for (auto& f : files) {
      exporter::FilesOfPlatform out{f.root, split ? f.name : "", f.attestations ? f.attestations->path() : ""};
      if (f.attestations && !split && defs.size() > 1) {
        // Together, each platform's provenance.json is provenance.linux_amd64.json.
        KILN_ASSIGN(TempDir dir, s_->snapshotter->FetchDir());
        KILN_ASSIGN(auto names, ListDir(f.attestations->path()));
        for (auto& name : names) {
          size_t dot = name.find('.');
          KILN_TRY(CopyFileAtomic(JoinPath(f.attestations->path(), name),
                                  JoinPath(dir.path(), name.substr(0, dot) + "." + f.name + name.substr(dot)), 0644));
        }
        out.attestations = dir.path();
        renamed.push_back(std::make_unique<TempDir>(std::move(dir)));
      }
      outputs.push_back(out);
    }
    if (o.type == "local") {
      KILN_TRY(exp.ExportLocal(outputs, o.dest).Prefixed("--output type=local"));
    } else {
      KILN_TRY(exp.ExportRootTar(outputs, o.dest, epoch).Prefixed("--output type=tar"));
    }
  }
  return Status::Ok();
}

Result<std::vector<exporter::Attestation>> Engine::Attest(const BuildRequest& req, const dockerfile::BuildDefinition& def,
                                                          store::SnapshotId top, std::optional<store::SnapshotId> scanned,
                                                          const BuildSource& source, std::optional<int64_t> epoch,
                                                          const std::string& build_id) {
  std::vector<exporter::Attestation> out;
  std::string platform = def.config.platform.Normalized().ToString();
  std::string now = oci::FormatTime(epoch.value_or(int64_t(time(nullptr))));
  if (req.sbom && scanned) {
    // What the generator wrote to /run/out: one in-toto statement per file, in name order.
    KILN_ASSIGN(snapshot::Mount root, s_->snapshotter->MountReadOnly(*scanned));
    std::string dir = JoinPath(root.path(), "run/out");
    KILN_ASSIGN(auto names, ListDir(dir));
    std::sort(names.begin(), names.end());
    for (auto& name : names) {
      std::string file = JoinPath(dir, name);
      struct stat st;
      if (lstat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      KILN_ASSIGN(std::string text, ReadFile(file));
      auto statement = ParseJson(text);
      if (!statement.ok() || !statement->is_object() || !(*statement)["predicateType"].is_string() ||
          !statement->contains("predicate")) {
        return Status::Error("SBOM generator " + req.sbom_generator + ": " + name + " is not an in-toto statement");
      }
      out.push_back({(*statement)["predicateType"].get<std::string>(), (*statement)["predicate"]});
    }
  } else if (req.sbom) {
    KILN_ASSIGN(snapshot::Mount root, s_->snapshotter->MountReadOnly(top));
    std::string name = (req.tags.empty() ? std::string("image") : req.tags[0]) + " " + platform;
    KILN_ASSIGN(Json sbom, exporter::ScanSbom(root.path(), name, now));
    out.push_back({exporter::kSpdxPredicateType, sbom});
  }
  if (!req.provenance.empty()) {
    exporter::ProvenanceInput in;
    in.max = req.provenance == "max";
    in.builder_id = req.provenance_builder_id;
    in.build_id = build_id;
    in.started = oci::FormatTime(source.started);
    in.finished = oci::FormatTime(int64_t(time(nullptr)));
    in.platform = platform;
    in.target = req.target;
    in.build_args = req.build_args;
    in.labels = req.labels;
    for (auto& m : def.outline.secrets) in.secrets.push_back({m.id, m.required});
    for (auto& m : def.outline.ssh) in.ssh.push_back({m.id, m.required});
    in.dockerfile_name = source.dockerfile_name;
    if (in.max) in.dockerfile = source.dockerfile;
    // The base images this platform's image was built from, and (max) every step.
    std::vector<bool> needed(def.graph.vertices().size(), false);
    needed[def.result] = true;
    for (size_t i = def.result + 1; i-- > 0;) {
      if (!needed[i]) continue;
      const graph::Vertex& v = def.graph.at(i);
      for (size_t input : v.inputs) needed[input] = true;
    }
    for (size_t i = 0; i < def.graph.vertices().size(); i++) {
      if (!needed[i]) continue;
      const graph::Vertex& v = def.graph.at(i);
      if (auto* img = std::get_if<graph::ImageSource>(&v.op); img && !img->manifest_digest.empty()) {
        auto ref = oci::ParseReference(img->ref);
        in.materials.push_back({ref.ok() ? ref->String() : img->ref, img->manifest_digest, img->oci_layout});
      }
      if (in.max) in.steps.push_back(v.name);
    }
    out.push_back({exporter::kSlsaProvenanceV02, exporter::Provenance(in)});
  }
  return out;
}

}  // namespace kiln::api
