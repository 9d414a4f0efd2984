#include "oci/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>

#include "base/digest.h"
#include "base/fs.h"
#include "base/json.h"

namespace kiln::oci {
namespace {

/// Where an image layout's files go: a tar, or a directory.
class LayoutWriter {
 public:
  virtual ~LayoutWriter() = default;
  virtual Status AddDir(const std::string& name) = 0;
  virtual Status AddBytes(const std::string& name, const std::string& data) = 0;
  virtual Status AddFile(const std::string& name, const std::string& src) = 0;
};

class TarWriter : public LayoutWriter {
 public:
  explicit TarWriter(const std::string& path) : path_(path) {
    a_ = archive_write_new();
    archive_write_set_format_pax_restricted(a_);
    archive_write_set_bytes_in_last_block(a_, 1);
  }
  ~TarWriter() { archive_write_free(a_); }
  Status Open() {
    int rc = path_ == "-" ? archive_write_open_fd(a_, STDOUT_FILENO) : archive_write_open_filename(a_, path_.c_str());
    if (rc != ARCHIVE_OK) return Err("open");
    return Status::Ok();
  }
  Status AddDir(const std::string& name) override {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFDIR);
    archive_entry_set_perm(e, 0755);
    int rc = archive_write_header(a_, e);
    archive_entry_free(e);
    return rc == ARCHIVE_OK ? Status::Ok() : Err("write");
  }
  Status AddBytes(const std::string& name, const std::string& data) override {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, la_int64_t(data.size()));
    int rc = archive_write_header(a_, e);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK || archive_write_data(a_, data.data(), data.size()) < 0) return Err("write");
    return Status::Ok();
  }
  Status AddFile(const std::string& name, const std::string& src) override {
    int fd = open(src.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError("open", src);
    struct stat st;
    fstat(fd, &st);
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, st.st_size);
    int rc = archive_write_header(a_, e);
    archive_entry_free(e);
    Status result = rc == ARCHIVE_OK ? Status::Ok() : Err("write");
    char buf[1 << 16];
    ssize_t n;
    while (result.ok() && (n = read(fd, buf, sizeof buf)) > 0) {
      if (archive_write_data(a_, buf, size_t(n)) < 0) result = Err("write");
    }
    close(fd);
    return result;
  }
  Status Close() { return archive_write_close(a_) == ARCHIVE_OK ? Status::Ok() : Err("close"); }

 private:
  Status Err(const char* what) {
    return Status::Error(std::string(what) + " " + path_ + ": " + (archive_error_string(a_) ? archive_error_string(a_) : "error"));
  }
  std::string path_;
  archive* a_;
};

/// An OCI image layout directory (type=oci,tar=false).
class DirWriter : public LayoutWriter {
 public:
  explicit DirWriter(std::string root) : root_(std::move(root)) {}
  Status AddDir(const std::string& name) override { return MakeDirs(JoinPath(root_, name)); }
  Status AddBytes(const std::string& name, const std::string& data) override {
    return WriteFileAtomic(JoinPath(root_, name), data);
  }
  Status AddFile(const std::string& name, const std::string& src) override {
    std::string dest = JoinPath(root_, name);
    if (PathExists(dest)) return Status::Ok();  // content-addressed: what is there is the same
    return CopyFileAtomic(src, dest);
  }

 private:
  std::string root_;
};

/// "docker.io/library/app:1" -> "app:1" as `docker save` writes RepoTags for Docker Hub names.
std::string DockerRepoTag(const std::string& name) {
  for (const char* prefix : {"docker.io/library/", "docker.io/"})
    if (name.rfind(prefix, 0) == 0) return name.substr(strlen(prefix));
  return name;
}

/// The tag part of a reference, for the OCI ref.name annotation.
std::string TagOf(const std::string& name) {
  size_t slash = name.rfind('/');
  size_t colon = name.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) return name.substr(colon + 1);
  return "latest";
}

}  // namespace

namespace {

Status WriteLayout(LayoutWriter& w, ArchiveFormat format, const std::vector<ArchiveImage>& images,
                   const std::function<std::string(const std::string&)>& blob_path) {
  KILN_TRY(w.AddBytes("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  // index.json has an entry per name (an image without one gets an unnamed entry), as docker save writes it.
  Index index;
  Json docker = Json::array();
  for (auto& image : images) {
    for (size_t i = 0; i < std::max<size_t>(1, image.names.size()); i++) {
      Descriptor d = image.manifest;
      if (i < image.names.size()) {
        d.annotations["io.containerd.image.name"] = image.names[i];
        d.annotations["org.opencontainers.image.ref.name"] = TagOf(image.names[i]);
      }
      index.manifests.push_back(d);
    }
    const Manifest& listed = image.platforms.empty() ? image.parsed : image.platforms[0].second;
    Json entry = {{"Config", "blobs/sha256/" + DigestHex(listed.config.digest)},
                  {"RepoTags", Json::array()}, {"Layers", Json::array()}};
    for (auto& n : image.names) entry["RepoTags"].push_back(DockerRepoTag(n));
    for (auto& l : listed.layers) entry["Layers"].push_back("blobs/sha256/" + DigestHex(l.digest));
    docker.push_back(entry);
  }
  KILN_TRY(w.AddBytes("index.json", Serialize(ToJson(index))));
  if (format == ArchiveFormat::kDocker) KILN_TRY(w.AddBytes("manifest.json", DumpLenient(docker)));
  KILN_TRY(w.AddDir("blobs/"));
  KILN_TRY(w.AddDir("blobs/sha256/"));
  std::set<std::string> written;
  for (auto& image : images) {
    std::vector<std::string> digests = {image.manifest.digest};
    std::vector<std::pair<Descriptor, Manifest>> manifests = image.platforms;
    if (manifests.empty()) manifests.push_back({image.manifest, image.parsed});
    for (auto& [descriptor, manifest] : manifests) {
      digests.push_back(descriptor.digest);
      digests.push_back(manifest.config.digest);
      for (auto& l : manifest.layers) digests.push_back(l.digest);
    }
    for (auto& digest : digests) {
      if (!written.insert(digest).second) continue;
      KILN_TRY(w.AddFile("blobs/sha256/" + DigestHex(digest), blob_path(digest)));
    }
  }
  return Status::Ok();
}

}  // namespace

Status WriteImageArchive(const std::string& path, ArchiveFormat format, const std::vector<ArchiveImage>& images,
                         const std::function<std::string(const std::string&)>& blob_path, bool tar) {
  if (!tar) {
    KILN_TRY(MakeDirs(path));
    DirWriter w(path);
    return WriteLayout(w, format, images, blob_path);
  }
  if (path == "-") {
    TarWriter w(path);
    KILN_TRY(w.Open());
    KILN_TRY(WriteLayout(w, format, images, blob_path));
    return w.Close();
  }
  std::string tmp = path + ".tmp";
  {
    TarWriter w(tmp);
    KILN_TRY(w.Open());
    Status st = WriteLayout(w, format, images, blob_path);
    if (st.ok()) st = w.Close();
    if (!st.ok()) {
      unlink(tmp.c_str());
      return st;
    }
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError("rename", tmp);
  return Status::Ok();
}

}  // namespace kiln::oci

namespace kiln::oci {
namespace {

/// Members read into memory rather than stored as blobs: the layout's and docker save's metadata.
bool IsMetadataMember(const std::string& path) {
  std::string base = BaseName(path);
  return path == "index.json" || path == "manifest.json" || path == "oci-layout" || path == "repositories" ||
         base == "json" || base == "VERSION";
}

/// "./blobs/sha256/x" -> "blobs/sha256/x"; "a/../b" stays as it is (only looked up, never written).
std::string MemberPath(std::string p) {
  while (p.rfind("./", 0) == 0) p = p.substr(2);
  return p;
}

/// Resolves a symlink member's target relative to the link's directory ("../x/layer.tar" from "y/layer.tar").
std::string ResolveLink(const std::string& link, const std::string& target) {
  if (!target.empty() && target[0] == '/') return CleanPath(target).substr(1);
  std::string dir = DirName(link);
  return CleanPath("/" + (dir == "." ? "" : dir + "/") + target).substr(1);
}

struct ArchiveScan {
  std::map<std::string, std::string> metadata;      // path -> content
  std::map<std::string, Descriptor> blobs;          // path -> what was stored from it
};

Result<ArchiveScan> Scan(const std::string& path, const BlobStorer& store) {
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  archive_read_support_filter_all(a.get());
  int rc = path == "-" ? archive_read_open_fd(a.get(), STDIN_FILENO, 1 << 16)
                       : archive_read_open_filename(a.get(), path.c_str(), 1 << 16);
  auto error = [&](const std::string& what) {
    const char* e = archive_error_string(a.get());
    return Status::Error(path + ": " + what + (e ? std::string(": ") + e : ""));
  };
  if (rc != ARCHIVE_OK) return error("cannot open the archive");
  ArchiveScan scan;
  std::map<std::string, std::string> links;
  archive_entry* e;
  constexpr size_t kMaxMetadata = 16 << 20;
  while ((rc = archive_read_next_header(a.get(), &e)) != ARCHIVE_EOF) {
    if (rc < ARCHIVE_WARN) return error("not a readable tar");
    std::string member = MemberPath(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
    if (archive_entry_filetype(e) == AE_IFLNK && archive_entry_symlink(e)) {
      links[member] = ResolveLink(member, archive_entry_symlink(e));
      continue;
    }
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    MemberReader read = [&](char* buffer, size_t size) -> Result<size_t> {
      la_ssize_t n = archive_read_data(a.get(), buffer, size);
      if (n < 0) return error("reading " + member);
      return size_t(n);
    };
    if (IsMetadataMember(member)) {
      if (archive_entry_size(e) > la_int64_t(kMaxMetadata)) return Status::Error(path + ": " + member + " is too large");
      std::string data;
      char buf[1 << 16];
      for (;;) {
        KILN_ASSIGN(size_t n, read(buf, sizeof buf));
        if (n == 0) break;
        data.append(buf, n);
      }
      scan.metadata[member] = std::move(data);
      continue;
    }
    std::string expected;
    if (member.rfind("blobs/sha256/", 0) == 0) {
      expected = "sha256:" + member.substr(13);
      if (!IsValidDigest(expected)) continue;  // not a blob of the layout
    }
    KILN_ASSIGN(Descriptor d, store(expected, read));
    scan.blobs[member] = d;
  }
  for (auto& [link, target] : links) {
    auto it = scan.blobs.find(target);
    if (it != scan.blobs.end()) scan.blobs[link] = it->second;
  }
  return scan;
}

/// The image manifests an OCI layout's index.json names (nested indexes resolved to `platform`).
Result<std::vector<LoadedImage>> FromIndex(const std::string& path, const ArchiveScan& scan, const Platform& platform,
                                           const std::function<Result<std::string>(const std::string&)>& read_blob) {
  KILN_ASSIGN(Index index, IndexFromJson(scan.metadata.at("index.json")));
  std::vector<LoadedImage> out;
  for (auto& d : index.manifests) {
    Descriptor m = d;
    KILN_ASSIGN(std::string data, read_blob(m.digest));
    LoadedImage image;
    if (IsIndexType(m.media_type)) {
      KILN_ASSIGN(Index nested, IndexFromJson(data));
      image.index_digest = m.digest;
      image.index_media_type = m.media_type;
      image.index = data;
      for (auto& child : nested.manifests) {
        auto bytes = read_blob(child.digest);
        if (bytes.ok() && IsManifestType(child.media_type)) image.index_manifests.push_back({child.digest, *bytes});
      }
      auto chosen = SelectPlatform(nested, platform, path);
      // An index without this host's platform still loads whole: its first image stands for it.
      if (!chosen.ok() && !image.index_manifests.empty()) {
        for (auto& child : nested.manifests)
          if (child.digest == image.index_manifests[0].first) chosen = child;
      }
      if (!chosen.ok()) return chosen.status();
      m = *chosen;
      KILN_ASSIGN(data, read_blob(m.digest));
    }
    if (!IsManifestType(m.media_type)) continue;  // attestations, artifacts: not images
    image.manifest_digest = m.digest;
    image.manifest_media_type = m.media_type;
    image.manifest = data;
    auto name = d.annotations.find("io.containerd.image.name");
    if (name != d.annotations.end()) image.names.push_back(name->second);
    // Several entries for one manifest (one per name): one image with every name.
    auto same = std::find_if(out.begin(), out.end(), [&](const LoadedImage& x) { return x.manifest_digest == m.digest; });
    if (same == out.end()) {
      out.push_back(image);
    } else {
      same->names.insert(same->names.end(), image.names.begin(), image.names.end());
    }
  }
  return out;
}

/// Images of a legacy docker save (manifest.json with Config, RepoTags, Layers paths): manifests made for them.
Result<std::vector<LoadedImage>> FromDockerManifest(const std::string& path, const ArchiveScan& scan) {
  auto j = ParseJson(scan.metadata.at("manifest.json"));
  if (!j.ok() || !j->is_array()) return Status::Error(path + ": manifest.json is not a JSON array");
  std::vector<LoadedImage> out;
  for (auto& entry : *j) {
    if (!entry.is_object()) return Status::Error(path + ": manifest.json has an entry that is not an object");
    auto blob = [&](const Json& p) -> Result<Descriptor> {
      std::string member = p.is_string() ? MemberPath(p.get<std::string>()) : "";
      auto it = scan.blobs.find(member);
      if (it == scan.blobs.end()) return Status::Error(path + ": manifest.json names " + member + ", which the archive lacks");
      return it->second;
    };
    Manifest m;
    m.media_type = kDockerMediaTypeManifest;
    KILN_ASSIGN(m.config, blob(entry.value("Config", Json())));
    m.config.media_type = kDockerMediaTypeConfig;
    for (auto& l : entry.value("Layers", Json::array())) {
      KILN_ASSIGN(Descriptor layer, blob(l));
      // docker save wrote layers uncompressed; a member under blobs/ may be compressed: libarchive tells on unpack.
      layer.media_type = kDockerMediaTypeLayerTar;
      m.layers.push_back(layer);
    }
    LoadedImage image;
    image.manifest_media_type = m.media_type;
    image.manifest = Serialize(ToJson(m));
    image.manifest_digest = DigestOf(image.manifest);
    for (auto& t : entry.value("RepoTags", Json::array()))
      if (t.is_string()) image.names.push_back(t.get<std::string>());
    out.push_back(image);
  }
  return out;
}

}  // namespace

Result<std::vector<LoadedImage>> ReadImageArchive(const std::string& path, const Platform& platform,
                                                  const BlobStorer& store,
                                                  const std::function<Result<std::string>(const std::string&)>& read_blob) {
  KILN_ASSIGN(ArchiveScan scan, Scan(path, store));
  // docker save since Docker 25 writes both; index.json keeps the manifests as they were, so it wins.
  if (scan.metadata.count("index.json")) return FromIndex(path, scan, platform, read_blob);
  if (scan.metadata.count("manifest.json")) return FromDockerManifest(path, scan);
  return Status::Error(path + ": neither an OCI image layout (index.json) nor a docker save archive (manifest.json)");
}

}  // namespace kiln::oci
