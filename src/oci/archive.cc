#include "oci/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <set>

#include "base/digest.h"
#include "base/fs.h"

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

/// An OCI image layout directory (type=oci,tar=false): blobs hard-linked from the store where they can be, else
/// copied.
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
    if (link(src.c_str(), dest.c_str()) == 0) return Status::Ok();
    KILN_ASSIGN(std::string data, ReadFile(src));
    return WriteFileAtomic(dest, data);
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

Status WriteLayout(LayoutWriter& w, ArchiveFormat format, const ArchiveImage& image,
                   const std::function<std::string(const std::string&)>& blob_path) {
  KILN_TRY(w.AddBytes("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  Index index;
  Descriptor d = image.manifest;
  if (!image.names.empty()) {
    d.annotations["io.containerd.image.name"] = image.names[0];
    d.annotations["org.opencontainers.image.ref.name"] = TagOf(image.names[0]);
  }
  index.manifests.push_back(d);
  KILN_TRY(w.AddBytes("index.json", Serialize(ToJson(index))));
  if (format == ArchiveFormat::kDocker) {
    Json entry = {{"Config", "blobs/sha256/" + DigestHex(image.parsed.config.digest)},
                  {"RepoTags", Json::array()}, {"Layers", Json::array()}};
    for (auto& n : image.names) entry["RepoTags"].push_back(DockerRepoTag(n));
    for (auto& l : image.parsed.layers) entry["Layers"].push_back("blobs/sha256/" + DigestHex(l.digest));
    KILN_TRY(w.AddBytes("manifest.json", DumpLenient(Json::array({entry}))));
  }
  KILN_TRY(w.AddDir("blobs/"));
  KILN_TRY(w.AddDir("blobs/sha256/"));
  std::set<std::string> written;
  std::vector<std::string> digests = {image.manifest.digest, image.parsed.config.digest};
  for (auto& l : image.parsed.layers) digests.push_back(l.digest);
  for (auto& digest : digests) {
    if (!written.insert(digest).second) continue;
    KILN_TRY(w.AddFile("blobs/sha256/" + DigestHex(digest), blob_path(digest)));
  }
  return Status::Ok();
}

}  // namespace

Status WriteImageArchive(const std::string& path, ArchiveFormat format, const ArchiveImage& image,
                         const std::function<std::string(const std::string&)>& blob_path, bool tar) {
  if (!tar) {
    KILN_TRY(MakeDirs(path));
    DirWriter w(path);
    return WriteLayout(w, format, image, blob_path);
  }
  if (path == "-") {
    TarWriter w(path);
    KILN_TRY(w.Open());
    KILN_TRY(WriteLayout(w, format, image, blob_path));
    return w.Close();
  }
  std::string tmp = path + ".tmp";
  {
    TarWriter w(tmp);
    KILN_TRY(w.Open());
    Status st = WriteLayout(w, format, image, blob_path);
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
