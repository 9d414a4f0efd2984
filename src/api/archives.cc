// The engine's image archives: kiln save, kiln load, and the OCI layouts a build context may name.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "api/engine.h"
#include "api/engine_state.h"
#include "base/fs.h"
#include "base/digest.h"
#include "oci/archive.h"
#include "oci/reference.h"
#include "store/lock.h"

namespace kiln::api {
namespace {

/// Streams a blob into the store as it is read, kept only when it hashes to `expected` (when given); one already
/// there is not read again. `what` names the source in errors.
Result<oci::Descriptor> StoreVerified(const store::ContentStore& content, const std::string& expected,
                                      const oci::MemberReader& read, const std::string& what) {
  if (!expected.empty() && content.Has(expected)) {
    struct stat st;
    stat(content.BlobPath(expected).c_str(), &st);
    return oci::Descriptor{"", expected, int64_t(st.st_size), {}, {}};
  }
  KILN_ASSIGN(store::BlobWriter writer, content.NewWriter());
  Sha256 hash;
  char buf[1 << 16];
  for (;;) {
    KILN_ASSIGN(size_t n, read(buf, sizeof buf));
    if (n == 0) break;
    hash.Update(buf, n);
    KILN_TRY(writer.Write(buf, n));
  }
  std::string digest = hash.Finish();
  if (!expected.empty() && digest != expected) {
    return Status::Error(what + ": blob " + expected + " does not match its digest (got " + digest + ")");
  }
  int64_t size = writer.size();
  KILN_TRY(writer.Commit(digest));
  return oci::Descriptor{"", digest, size, {}, {}};
}

}  // namespace

Status Engine::Save(const std::vector<std::string>& refs, const std::string& path) {
  KILN_ASSIGN(store::StoreLock in_use, store::StoreLock::Shared(s_->root));  // no collection meanwhile
  std::vector<oci::ArchiveImage> images;
  for (auto& ref : refs) {
    std::vector<std::string> names;
    auto parsed = oci::ParseReference(ref);
    // An image saved by name keeps it; one saved by id goes without, as docker save does.
    if (parsed.ok() && ref.rfind("sha256:", 0) != 0) names.push_back(parsed->String());
    KILN_ASSIGN(std::string digest, StoredDigest(ref));
    KILN_ASSIGN(std::string text, s_->content->Read(digest));
    if (oci::IsIndexDocument(text)) {
      // A multi-platform image goes whole: the index, and every image and attestation it lists.
      KILN_ASSIGN(oci::Index index, oci::IndexFromJson(text));
      oci::ArchiveImage entry{{index.media_type, digest, int64_t(text.size()), {}, {}}, {}, names, {}};
      for (auto& m : index.manifests) {
        if (!s_->content->Has(m.digest))
          return Status::Error("save " + ref + ": its " + (m.platform ? m.platform->Normalized().ToString() : m.digest) +
                               " image is not in the local store");
        KILN_ASSIGN(exporter::Image image, exporter::LoadImage(*s_->content, m.digest));
        entry.platforms.push_back({image.descriptor, image.manifest});
      }
      images.push_back(entry);
      continue;
    }
    // Saved as stored (uncompressed layers, as docker save's are), so a save and load keep the image's digest.
    KILN_ASSIGN(exporter::Image image, FindImage(ref));
    auto same = std::find_if(images.begin(), images.end(),
                             [&](const oci::ArchiveImage& x) { return x.manifest.digest == image.descriptor.digest; });
    if (same != images.end()) {
      same->names.insert(same->names.end(), names.begin(), names.end());
    } else {
      images.push_back({image.descriptor, image.manifest, names, {}});
    }
  }
  return oci::WriteImageArchive(path, oci::ArchiveFormat::kDocker, images,
                                [&](const std::string& d) { return s_->content->BlobPath(d); });
}

Result<std::vector<std::string>> Engine::Load(const std::string& path) {
  KILN_ASSIGN(store::StoreLock in_use, store::StoreLock::Shared(s_->root));  // no collection meanwhile
  if (path != "-" && !PathExists(path)) return Status::Error("load: " + path + ": no such file");
  auto store = [&](const std::string& expected, const oci::MemberReader& read) {
    return StoreVerified(*s_->content, expected, read, "load: " + path);
  };
  auto read_blob = [&](const std::string& digest) -> Result<std::string> {
    auto data = s_->content->Read(digest);
    if (!data.ok()) return Status::Error("load: " + path + ": blob " + digest + " is missing from the archive");
    return data;
  };
  KILN_ASSIGN(auto images, oci::ReadImageArchive(path, oci::Platform::Host(), store, read_blob));
  if (images.empty()) return Status::Error("load: " + path + ": the archive holds no image");
  std::vector<std::string> loaded;
  auto store_manifest = [&](const std::string& media_type, const std::string& digest, const std::string& bytes) -> Status {
    KILN_TRY(s_->content->Put(media_type, bytes).status());
    KILN_ASSIGN(exporter::Image check, exporter::LoadImage(*s_->content, digest));
    for (auto& l : check.manifest.layers)
      if (!s_->content->Has(l.digest)) return Status::Error("load: " + path + ": layer " + l.digest + " is missing from the archive");
    if (check.config.diff_ids.size() != check.manifest.layers.size())
      return Status::Error("load: " + path + ": an image's config and manifest disagree on its layers");
    return Status::Ok();
  };
  for (auto& image : images) {
    KILN_TRY(store_manifest(image.manifest_media_type, image.manifest_digest, image.manifest));
    // A multi-platform image keeps its index, with every platform the archive holds.
    std::string named = image.manifest_digest;
    if (!image.index_digest.empty()) {
      for (auto& [digest, bytes] : image.index_manifests)
        KILN_TRY(store_manifest(oci::kMediaTypeManifest, digest, bytes));
      KILN_TRY(s_->content->Put(image.index_media_type, image.index).status());
      named = image.index_digest;
    }
    for (auto& name : image.names) {
      auto r = oci::ParseReference(name);
      if (!r.ok()) return r.status().Prefixed("load: " + path);
      KILN_TRY(NameImage(r->String(), named).Prefixed("load: " + path + ": " + r->Familiar()));
      loaded.push_back(r->Familiar());
    }
    if (image.names.empty()) {
      // Kept under its digest, as docker keeps a dangling image, so that no collection takes its blobs.
      KILN_TRY(s_->metadata->SetImage(named, named));
      loaded.push_back(named);
    }
  }
  return loaded;
}

}  // namespace kiln::api

namespace kiln::api {

LayoutSpec LayoutSpec::Parse(const std::string& spec) {
  LayoutSpec out{spec, "", ""};
  size_t at = spec.rfind("@sha256:");
  size_t colon = spec.rfind(':');
  if (at != std::string::npos) {
    out.dir = spec.substr(0, at);
    out.digest = spec.substr(at + 1);
  } else if (colon != std::string::npos && (spec.rfind('/') == std::string::npos || colon > spec.rfind('/'))) {
    out.dir = spec.substr(0, colon);
    out.tag = spec.substr(colon + 1);
  }
  return out;
}

Result<std::string> Engine::ImportLayoutImage(const std::string& spec) {
  LayoutSpec layout = LayoutSpec::Parse(spec);
  const std::string &dir = layout.dir, &tag = layout.tag, &digest = layout.digest;
  auto index_text = ReadFile(JoinPath(dir, "index.json"));
  if (!index_text.ok()) return Status::Error("oci-layout://" + spec + ": " + dir + " holds no OCI layout (index.json)");
  KILN_ASSIGN(oci::Index index, oci::IndexFromJson(*index_text));
  std::vector<const oci::Descriptor*> found;
  for (auto& m : index.manifests) {
    auto name = m.annotations.find("org.opencontainers.image.ref.name");
    if ((!digest.empty() && m.digest == digest) ||
        (!tag.empty() && name != m.annotations.end() && name->second == tag) || (digest.empty() && tag.empty())) {
      found.push_back(&m);
    }
  }
  if (found.size() != 1) {
    return Status::Error("oci-layout://" + spec + ": " + (found.empty() ? "no image" : "more than one image") +
                         " by that name in the layout (name one with :TAG or @DIGEST)");
  }
  // Blobs are copied into the store checked against their digests: the layout is not trusted.
  auto copy_blob = [&](const std::string& d) -> Status {
    std::string path = JoinPath(dir, "blobs/sha256/" + DigestHex(d));
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::Error("oci-layout://" + spec + ": blob " + d + " is missing from the layout");
    oci::MemberReader read = [&](char* buf, size_t size) -> Result<size_t> {
      ssize_t n = ::read(fd, buf, size);
      if (n < 0) return ErrnoError("read", path);
      return size_t(n);
    };
    auto stored = StoreVerified(*s_->content, d, read, "oci-layout://" + spec);
    close(fd);
    return stored.status();
  };
  oci::Descriptor chosen = *found[0];
  KILN_TRY(copy_blob(chosen.digest));
  if (chosen.media_type == oci::kMediaTypeIndex || chosen.media_type == oci::kDockerMediaTypeManifestList) {
    KILN_ASSIGN(oci::Index nested, oci::IndexFromJson(*s_->content->Read(chosen.digest)));
    std::string host = oci::Platform::Host().ToString();
    auto it = std::find_if(nested.manifests.begin(), nested.manifests.end(),
                           [&](const oci::Descriptor& m) { return m.platform && m.platform->ToString() == host; });
    if (it == nested.manifests.end()) return Status::Error("oci-layout://" + spec + ": no image for " + host);
    chosen = *it;
    KILN_TRY(copy_blob(chosen.digest));
  }
  KILN_ASSIGN(std::string manifest_text, s_->content->Read(chosen.digest));
  KILN_ASSIGN(oci::Manifest manifest, oci::ManifestFromJson(manifest_text));
  KILN_TRY(copy_blob(manifest.config.digest));
  for (auto& layer : manifest.layers) KILN_TRY(copy_blob(layer.digest));
  KILN_TRY(s_->metadata->SetImage(chosen.digest, chosen.digest));  // kept, as a loaded image without a name
  return chosen.digest;
}

}  // namespace kiln::api
