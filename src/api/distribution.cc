// The engine's registry half: pull, push, login and logout.
#include <algorithm>
#include <chrono>

#include "api/engine.h"
#include "api/engine_state.h"
#include "base/digest.h"
#include "base/fs.h"
#include "base/parallel.h"
#include "base/text.h"
#include "oci/reference.h"
#include "remote/registry.h"
#include "snapshot/compress.h"
#include "store/lock.h"

namespace kiln::api {
namespace {

/// Layers moved at once, as docker and containerd do by default.
constexpr size_t kConcurrentTransfers = 4;

/// A pull or push shown as one progress step, with a line per blob.
class StepProgress {
 public:
  StepProgress(progress::Sink* sink, int number, std::string name)
      : sink_(sink), number_(number), name_(std::move(name)), start_(std::chrono::steady_clock::now()) {}
  void Started() { Emit(progress::Event::Kind::kStarted); }
  void Done() { Emit(progress::Event::Kind::kDone); }
  Status Failed(Status st) {
    Emit(progress::Event::Kind::kError, st.message());
    return st;
  }
  void Bytes(const std::string& id, int64_t done, int64_t size) {
    if (!sink_) return;
    progress::Event e = Event(progress::Event::Kind::kProgress);
    e.id = id;
    e.current = done;
    e.size = size;
    sink_->Emit(e);
  }

 private:
  progress::Event Event(progress::Event::Kind kind) const {
    progress::Event e;
    e.kind = kind;
    e.number = number_;
    e.name = name_;
    e.digest = DigestOf(name_);  // the step's vertex id in rawjson output
    e.elapsed = e.duration = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    return e;
  }
  void Emit(progress::Event::Kind kind, std::string data = "") {
    if (!sink_) return;
    progress::Event e = Event(kind);
    e.data = std::move(data);
    sink_->Emit(e);
  }
  progress::Sink* sink_;
  int number_;
  std::string name_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

Result<std::unique_ptr<remote::Registry>> Engine::NewRegistry(std::function<bool()> cancelled) {
  remote::RegistryOptions o;
  KILN_ASSIGN(o.hosts, remote::Hosts::Load(s_->insecure_registries));
  if (const char* chunk = getenv("KILN_PUSH_CHUNK_SIZE")) {
    auto bytes = ParseDecimal(chunk, INT64_MAX);
    if (!bytes || *bytes < 1024) return Status::Error("KILN_PUSH_CHUNK_SIZE: expected a number of bytes of at least 1024, not \"" + EscapeControl(chunk) + "\"");
    o.chunk_size = int64_t(*bytes);
  }
  o.cancelled = std::move(cancelled);
  return std::make_unique<remote::Registry>(std::move(o));
}

Result<exporter::Image> Engine::Pull(const PullRequest& req) {
  KILN_ASSIGN(store::StoreLock in_use, store::StoreLock::Shared(s_->root));  // no collection meanwhile
  KILN_ASSIGN(auto registry, NewRegistry(req.cancelled));
  // "p1,p2": each platform's image joins the name's index.
  std::vector<oci::Platform> platforms = {oci::Platform::Host()};
  if (!req.platform.empty()) {
    auto parsed = oci::Platform::ParseList({req.platform});
    if (!parsed.ok()) return parsed.status().Prefixed("--platform");
    platforms = *parsed;
  }
  Result<exporter::Image> image = Status::Error("nothing pulled");
  for (size_t i = 0; i < platforms.size(); i++) {
    image = PullImage(*registry, req.ref, platforms[i].ToString(), req.progress, int(i) + 1);
    if (!image.ok()) break;
  }
  if (req.progress) req.progress->Finish();
  return image;
}

Result<exporter::Image> Engine::PullImage(remote::Registry& registry, const std::string& name, const std::string& platform,
                                          progress::Sink* progress, int number) {
  KILN_ASSIGN(oci::Reference ref, oci::ParseReference(name));
  oci::Platform want = oci::Platform::Host();
  if (!platform.empty()) {
    KILN_ASSIGN(want, oci::Platform::Parse(platform));
  }
  StepProgress step(progress, number, "[internal] pull " + ref.String());
  step.Started();
  auto pulled = [&]() -> Result<exporter::Image> {
    KILN_ASSIGN(remote::FetchedManifest top, registry.GetManifest(ref));
    remote::FetchedManifest manifest = top;
    if (oci::IsIndexType(top.media_type)) {
      KILN_ASSIGN(oci::Index index, oci::IndexFromJson(top.data));
      KILN_ASSIGN(oci::Descriptor chosen, oci::SelectPlatform(index, want, ref.Familiar()));
      oci::Reference one = ref;
      one.digest = chosen.digest;
      KILN_ASSIGN(manifest, registry.GetManifest(one));
      if (!oci::IsManifestType(manifest.media_type))
        return Status::Error(ref.Familiar() + ": the index's entry for " + want.ToString() + " is not an image manifest");
    }
    KILN_ASSIGN(oci::Manifest m, oci::ManifestFromJson(manifest.data));
    for (auto& l : m.layers)
      if (!snapshot::CompressionOf(l.media_type))  // tar, gzip or zstd, in OCI's or Docker's spelling
        return Status::Error(ref.Familiar() + ": layer " + l.digest + " has unsupported media type " + l.media_type);
    std::vector<oci::Descriptor> blobs = m.layers;
    blobs.insert(blobs.begin(), m.config);
    KILN_TRY(ParallelFor(blobs.size(), kConcurrentTransfers, [&](size_t i) -> Status {
      const oci::Descriptor& d = blobs[i];
      if (s_->content->Has(d.digest)) {
        step.Bytes(d.digest, d.size, d.size);
        return Status::Ok();
      }
      // Written to a temp file and renamed into place only once the digest checked out: a killed pull leaves
      // nothing under the digest, and the next run starts the blob afresh.
      KILN_ASSIGN(store::BlobWriter writer, s_->content->NewWriter());
      KILN_TRY(registry.GetBlob(
          ref, d, [&](std::string_view data) { return writer.Write(data.data(), data.size()); },
          [&](int64_t done, int64_t size) { step.Bytes(d.digest, done, size); }));
      return writer.Commit(d.digest);
    }));
    KILN_ASSIGN(std::string config_text, s_->content->Read(m.config.digest));
    KILN_ASSIGN(oci::ImageConfig config, oci::ImageConfigFromJson(config_text));
    if (config.diff_ids.size() != m.layers.size())
      return Status::Error(ref.Familiar() + ": the manifest has " + std::to_string(m.layers.size()) +
                           " layers but the config " + std::to_string(config.diff_ids.size()) + " diff_ids");
    KILN_TRY(s_->content->Put(manifest.media_type, manifest.data).status());
    for (auto& d : blobs) (void)s_->metadata->AddBlobSource(d.digest, ref.registry, ref.repository);
    // A name that is an index keeps it: its other platforms are pulled into it when asked for, each beside the
    // others, as containerd's image store does.
    std::string named = manifest.digest;
    if (oci::IsIndexType(top.media_type)) {
      KILN_TRY(s_->content->Put(top.media_type, top.data).status());
      named = top.digest;
    }
    KILN_TRY(NameImage(ref.String(), named));
    return exporter::LoadImage(*s_->content, manifest.digest);
  }();
  if (!pulled.ok()) return step.Failed(pulled.status());
  step.Done();
  return pulled;
}

Result<PushResult> Engine::Push(const PushRequest& req) {
  KILN_ASSIGN(store::StoreLock in_use, store::StoreLock::Shared(s_->root));  // no collection meanwhile
  std::string dest = req.dest;
  if (dest.empty()) {
    KILN_ASSIGN(oci::Reference r, oci::ParseReference(req.ref));
    dest = r.String();
  }
  KILN_ASSIGN(std::string digest, StoredDigest(req.ref));
  KILN_ASSIGN(std::string text, s_->content->Read(digest));
  if (oci::IsIndexDocument(text)) {
    // A multi-platform image goes whole: every platform, and the index.
    KILN_ASSIGN(MultiImage stored, StoredIndex(digest, "image \"" + req.ref + "\""));
    exporter::Exporter leaving(s_->content.get(), s_->metadata.get(), s_->snapshotter.get(), snapshot::LayerOptions{});
    KILN_ASSIGN(IndexParts left, LeavingIndex(leaving, stored));
    KILN_ASSIGN(auto registry, NewRegistry(req.cancelled));
    auto pushed = PushIndex(*registry, left, dest, req.progress, 1);
    if (req.progress) req.progress->Finish();
    return pushed;
  }
  KILN_ASSIGN(exporter::Image stored, FindImage(req.ref));
  KILN_ASSIGN(exporter::Image image, LeavingImage(stored));
  KILN_ASSIGN(auto registry, NewRegistry(req.cancelled));
  auto pushed = PushImage(*registry, image, dest, req.progress, 1);
  if (req.progress) req.progress->Finish();
  return pushed;
}

Result<Engine::MultiImage> Engine::StoredIndex(const std::string& index_digest, const std::string& what) {
  KILN_ASSIGN(std::string text, s_->content->Read(index_digest));
  KILN_ASSIGN(oci::Index index, oci::IndexFromJson(text));
  MultiImage out;
  out.media_type = index.media_type;
  for (auto& m : exporter::IndexImages(index)) {
    std::string platform = m.platform->Normalized().ToString();
    if (!s_->content->Has(m.digest))
      return Status::Error(what + ": its " + platform + " image is not in the local store (kiln pull --platform " + platform + ")");
    KILN_ASSIGN(exporter::Image image, exporter::LoadImage(*s_->content, m.digest));
    out.images.push_back(std::move(image));
  }
  // Each image's attestations, and the name their statements gave it.
  out.attestations.resize(out.images.size());
  for (size_t i = 0; i < out.images.size(); i++) {
    auto m = exporter::AttestationManifestFor(index, out.images[i].descriptor.digest);
    if (!m || !s_->content->Has(m->digest)) continue;
    KILN_ASSIGN(out.attestations[i], exporter::ReadAttestations(*s_->content, m->digest, &out.subject_name));
  }
  return out;
}

Result<std::vector<exporter::Attestation>> Engine::AttestationsOf(const std::string& ref, const std::string& image_digest) {
  KILN_ASSIGN(std::string digest, StoredDigest(ref));
  KILN_ASSIGN(std::string text, s_->content->Read(digest));
  if (!oci::IsIndexDocument(text)) return std::vector<exporter::Attestation>{};
  KILN_ASSIGN(oci::Index index, oci::IndexFromJson(text));
  auto manifest = exporter::AttestationManifestFor(index, image_digest);
  if (!manifest || !s_->content->Has(manifest->digest)) return std::vector<exporter::Attestation>{};
  return exporter::ReadAttestations(*s_->content, manifest->digest);
}

Result<Engine::IndexParts> Engine::LeavingIndex(exporter::Exporter& leaving, const MultiImage& image) {
  MultiImage out = image;
  for (auto& i : out.images) {
    KILN_ASSIGN(i, leaving.ForLeaving(i));
  }
  return PutIndex(out);
}

Result<PushResult> Engine::PushIndex(remote::Registry& registry, const IndexParts& parts, const std::string& name,
                                     progress::Sink* progress, int number) {
  KILN_ASSIGN(oci::Reference dest, oci::ParseReference(name));
  StepProgress step(progress, number, "[internal] push " + dest.String());
  step.Started();
  auto pushed = [&]() -> Result<PushResult> {
    std::vector<oci::Descriptor> blobs;
    for (auto& m : parts.manifests) {
      blobs.insert(blobs.end(), m.manifest.layers.begin(), m.manifest.layers.end());
      blobs.push_back(m.manifest.config);
    }
    // Two platforms may share a layer (a COPY of the same files onto scratch): it goes once.
    std::sort(blobs.begin(), blobs.end(), [](auto& a, auto& b) { return a.digest < b.digest; });
    blobs.erase(std::unique(blobs.begin(), blobs.end(), [](auto& a, auto& b) { return a.digest == b.digest; }),
                blobs.end());
    KILN_TRY(PushBlobs(registry, dest, blobs, nullptr,
                       [&](const std::string& id, int64_t done, int64_t size) { step.Bytes(id, done, size); }));
    // Each manifest by its digest, then the index that names them, under the tag.
    for (auto& m : parts.manifests) {
      oci::Reference by_digest = dest;
      by_digest.digest = m.descriptor.digest;
      KILN_ASSIGN(std::string manifest, s_->content->Read(m.descriptor.digest));
      KILN_TRY(registry.PutManifest(by_digest, m.manifest.media_type, manifest));
    }
    KILN_ASSIGN(std::string index_json, s_->content->Read(parts.index.digest));
    KILN_TRY(registry.PutManifest(dest, parts.index.media_type, index_json));
    return PushResult{dest.String(), parts.index.digest};
  }();
  if (!pushed.ok()) return step.Failed(pushed.status());
  step.Done();
  return pushed;
}

Result<exporter::Image> Engine::LeavingImage(const exporter::Image& image) {
  exporter::Exporter exp(s_->content.get(), s_->metadata.get(), s_->snapshotter.get(), snapshot::LayerOptions{});
  return exp.ForLeaving(image);
}

Result<PushResult> Engine::PushImage(remote::Registry& registry, const exporter::Image& image, const std::string& name,
                                     progress::Sink* progress, int number) {
  KILN_ASSIGN(oci::Reference dest, oci::ParseReference(name));
  StepProgress step(progress, number, "[internal] push " + dest.String());
  step.Started();
  auto pushed = [&]() -> Result<PushResult> {
    std::vector<oci::Descriptor> blobs = image.manifest.layers;
    blobs.push_back(image.manifest.config);
    KILN_TRY(PushBlobs(registry, dest, blobs, nullptr,
                       [&](const std::string& id, int64_t done, int64_t size) { step.Bytes(id, done, size); }));
    KILN_ASSIGN(std::string manifest, s_->content->Read(image.descriptor.digest));
    KILN_TRY(registry.PutManifest(dest, image.manifest.media_type, manifest));
    return PushResult{dest.String(), image.descriptor.digest};
  }();
  if (!pushed.ok()) return step.Failed(pushed.status());
  step.Done();
  return pushed;
}

Status Engine::PushBlobs(remote::Registry& registry, const oci::Reference& dest, const std::vector<oci::Descriptor>& blobs,
                         const std::function<Status(const oci::Descriptor&)>& fetch,
                         const std::function<void(const std::string&, int64_t, int64_t)>& progress) {
  return ParallelFor(blobs.size(), kConcurrentTransfers, [&](size_t i) -> Status {
    const oci::Descriptor& d = blobs[i];
    KILN_ASSIGN(bool present, registry.HasBlob(dest, d.digest));
    if (!present) {
      // Another repository of the same registry may hold it (the base image's layers usually): link it there.
      KILN_ASSIGN(auto sources, s_->metadata->BlobSources(d.digest, dest.registry));
      for (auto& from : sources) {
        if (from == dest.repository) continue;
        KILN_ASSIGN(present, registry.MountBlob(dest, d.digest, from));
        if (present) break;
      }
    }
    if (!present) {
      if (!s_->content->Has(d.digest) && fetch) KILN_TRY(fetch(d));
      if (!s_->content->Has(d.digest)) return Status::Error("blob " + d.digest + " is missing from the local store");
      KILN_TRY(registry.PutBlob(dest, d, s_->content->BlobPath(d.digest),
                                [&](int64_t done, int64_t size) { progress(d.digest, done, size); }));
    }
    progress(d.digest, d.size, d.size);
    (void)s_->metadata->AddBlobSource(d.digest, dest.registry, dest.repository);
    return Status::Ok();
  });
}

Result<std::vector<std::unique_ptr<cache::RemoteSource>>> Engine::ImportCaches(
    const std::vector<cache::CacheSpec>& specs, const std::function<Result<remote::Registry*>()>& registry,
    std::vector<std::string>& warnings) {
  std::vector<std::unique_ptr<cache::RemoteSource>> sources;
  // A cache that is not there yet (the first build of a CI pipeline), or that cannot be read, costs only its
  // hits: a warning, as BuildKit's. A src that is something other than a directory is a mistake in the flag.
  for (auto& spec : specs)
    if (spec.type == "local" && PathExists(spec.dir) && !IsDirectory(spec.dir))
      return Status::Error("--cache-from type=local,src=" + spec.dir + ": not a directory");
  for (auto& spec : specs) {
    auto source = [&]() -> Result<std::unique_ptr<cache::RemoteSource>> {
      if (spec.type == "local") return cache::ImportFromDirectory(spec.dir, spec.tag, *s_->content);
      KILN_ASSIGN(oci::Reference ref, oci::ParseReference(spec.ref));
      KILN_ASSIGN(remote::Registry * r, registry());
      return cache::ImportFromRegistry(*r, ref, *s_->content);
    }();
    if (!source.ok()) {
      warnings.push_back("importing cache: " + source.status().message());
      continue;
    }
    sources.push_back(std::move(*source));
  }
  return sources;
}

Status Engine::ExportCache(const cache::CacheSpec& spec, const std::vector<cache::ExportRecord>& records,
                           const std::function<Result<remote::Registry*>()>& registry,
                           const std::map<std::string, cache::RemoteSource*>& sources, progress::Sink* progress,
                           int number) {
  // Layers of imported cache that this build never unpacked may be missing here: fetch them from their source.
  auto fetch = [&](const oci::Descriptor& d) -> Status {
    auto it = sources.find(d.digest);
    if (it == sources.end()) return Status::Error("blob " + d.digest + " is missing from the local store");
    return it->second->Fetch({d, ""});
  };
  if (spec.type == "local") {
    for (auto& r : records)
      for (auto& l : r.layers)
        if (!s_->content->Has(l.blob.digest)) KILN_TRY(fetch(l.blob));
    return cache::ExportToDirectory(spec.dir, spec.tag, records, *s_->content);
  }
  KILN_ASSIGN(oci::Reference ref, oci::ParseReference(spec.ref));
  KILN_ASSIGN(remote::Registry * r, registry());
  StepProgress step(progress, number, "exporting cache to " + ref.String());
  step.Started();
  Status st = [&]() -> Status {
    cache::CacheArtifact a = cache::EncodeCache(records);
    KILN_TRY(s_->content->Put(cache::kCacheConfigMediaType, a.config).status());
    std::vector<oci::Descriptor> blobs = a.layers;
    blobs.push_back(a.config_descriptor);
    // Blobs the registry has are skipped by digest: a mode=max export after a warm build uploads nothing.
    KILN_TRY(PushBlobs(*r, ref, blobs, fetch,
                       [&](const std::string& id, int64_t done, int64_t size) { step.Bytes(id, done, size); }));
    return r->PutManifest(ref, oci::kMediaTypeManifest, a.manifest);
  }();
  if (!st.ok()) return step.Failed(st.Prefixed("exporting cache to " + ref.Familiar()));
  step.Done();
  return Status::Ok();
}

Status Engine::Login(const std::string& registry, const remote::Credentials& credentials) {
  std::string host = remote::CredentialKey(registry);
  KILN_ASSIGN(auto client, NewRegistry(nullptr));
  KILN_TRY(client->CheckCredentials(host == "https://index.docker.io/v1/" ? "docker.io" : host, credentials));
  KILN_ASSIGN(remote::DockerConfig config, remote::DockerConfig::Load(remote::DockerConfig::DefaultDir()));
  // As docker: where a helper holds this registry's credentials (credHelpers, credsStore), they go there.
  if (auto helper = config.HelperFor(registry)) return remote::HelperStore(*helper, registry, credentials);
  return config.StoreInline(registry, credentials);
}

Status Engine::Logout(const std::string& registry) {
  KILN_ASSIGN(remote::DockerConfig config, remote::DockerConfig::Load(remote::DockerConfig::DefaultDir()));
  if (auto helper = config.HelperFor(registry)) {
    KILN_TRY(remote::HelperErase(*helper, registry));
    (void)config.Erase(registry);  // an inline entry left from before the helper goes too, if there is one
    return Status::Ok();
  }
  return config.Erase(registry);
}

}  // namespace kiln::api
