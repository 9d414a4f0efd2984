#include "snapshot/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "base/digest.h"
#include "base/fs.h"
#include "oci/image.h"
#include "snapshot/archive_util.h"
#include "snapshot/compress.h"
#include "snapshot/overlay_marks.h"

namespace kiln::snapshot {
namespace {

/// The sink behind the tar writer: the layer's compressor.
la_ssize_t WriteToCompressor(archive*, void* self, const void* data, size_t size) {
  auto* c = static_cast<std::pair<LayerCompressor*, Status>*>(self);
  if (c->second.ok()) c->second = c->first->Write(data, size);
  return c->second.ok() ? la_ssize_t(size) : -1;
}

/// Walks a diff directory in sorted order and writes its entries to the tar.
class DiffTarWriter {
 public:
  /// `prefix`: a directory the entries go under in the tar ("linux_amd64"), or none.
  DiffTarWriter(archive* a, const std::string& root, const LayerOptions& o, std::string prefix = "")
      : a_(a), root_(root), options_(o), prefix_(std::move(prefix)) {}

  Status WriteDir(const std::string& rel) {
    std::string dir = rel.empty() ? root_ : JoinPath(root_, rel);
    KILN_ASSIGN(auto names, ListDir(dir));
    for (auto& name : names) {
      std::string child = rel.empty() ? name : rel + "/" + name;
      KILN_TRY(WriteEntry(child));
    }
    return Status::Ok();
  }

 private:
  Status WriteEntry(const std::string& rel) {
    std::string path = JoinPath(root_, rel);
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return ErrnoError("stat", path);
    std::string name = BaseName(rel);
    if (auto deleted = WhitedOutName(name, st)) {
      // The entry was deleted in this layer.
      return WriteWhiteout(JoinPath(DirName(rel) == "." ? "" : DirName(rel), kWhiteoutPrefix + *deleted), st);
    }
    if (IsMarkName(name)) return Status::Ok();  // fuse-overlayfs's opaque file: written below as the directory's
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), S_ISDIR(st.st_mode) ? (Named(rel) + "/").c_str() : Named(rel).c_str());
    archive_entry_set_uid(e.get(), st.st_uid);
    archive_entry_set_gid(e.get(), st.st_gid);
    archive_entry_set_perm(e.get(), st.st_mode & 07777);
    archive_entry_set_mtime(e.get(), ClampTime(st.st_mtim.tv_sec), 0);
    int fd = -1;
    if (S_ISREG(st.st_mode)) {
      archive_entry_set_filetype(e.get(), AE_IFREG);
      auto key = std::make_pair(st.st_dev, st.st_ino);
      auto it = st.st_nlink > 1 ? hardlinks_.find(key) : hardlinks_.end();
      if (it != hardlinks_.end()) {
        archive_entry_set_hardlink(e.get(), it->second.c_str());
        archive_entry_set_size(e.get(), 0);
      } else {
        if (st.st_nlink > 1) hardlinks_[key] = Named(rel);
        archive_entry_set_size(e.get(), st.st_size);
        fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) return ErrnoError("open", path);
      }
    } else if (S_ISDIR(st.st_mode)) {
      archive_entry_set_filetype(e.get(), AE_IFDIR);
    } else if (S_ISLNK(st.st_mode)) {
      archive_entry_set_filetype(e.get(), AE_IFLNK);
      char target[PATH_MAX];
      ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
      if (n < 0) return ErrnoError("readlink", path);
      target[n] = 0;
      archive_entry_set_symlink(e.get(), target);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      archive_entry_set_filetype(e.get(), S_ISCHR(st.st_mode) ? AE_IFCHR : AE_IFBLK);
      archive_entry_set_rdevmajor(e.get(), major(st.st_rdev));
      archive_entry_set_rdevminor(e.get(), minor(st.st_rdev));
    } else if (S_ISFIFO(st.st_mode)) {
      archive_entry_set_filetype(e.get(), AE_IFIFO);
    } else {
      return Status::Ok();  // sockets do not belong in layers
    }
    CopyXattrs(path, e.get());
    Status result = WriteHeader(e.get());
    if (result.ok() && fd >= 0) result = CopyData(fd, path);
    if (fd >= 0) close(fd);
    KILN_TRY(result);
    if (S_ISDIR(st.st_mode)) {
      if (IsOpaqueDir(path)) KILN_TRY(WriteWhiteout(rel + "/" + kOpaqueWhiteout, st));
      KILN_TRY(WriteDir(rel));
    }
    return Status::Ok();
  }

  Status WriteWhiteout(const std::string& rel, const struct stat& st) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), Named(rel).c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0);
    archive_entry_set_size(e.get(), 0);
    archive_entry_set_mtime(e.get(), ClampTime(st.st_mtim.tv_sec), 0);
    return WriteHeader(e.get());
  }

  Status WriteHeader(archive_entry* e) {
    // ARCHIVE_WARN: written, with a name that does not convert to UTF-8 kept as raw bytes (pax hdrcharset=BINARY).
    if (archive_write_header(a_, e) < ARCHIVE_WARN) {
      return Status::Error("write layer tar: " + ArchiveError(a_));
    }
    return Status::Ok();
  }

  Status CopyData(int fd, const std::string& path) {
    char buf[1 << 16];
    for (;;) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("read", path);
      }
      if (n == 0) return Status::Ok();
      if (archive_write_data(a_, buf, size_t(n)) < 0) {
        return Status::Error("write layer tar: " + ArchiveError(a_));
      }
    }
  }

  static void CopyXattrs(const std::string& path, archive_entry* e) {
    char names[4096];
    ssize_t len = llistxattr(path.c_str(), names, sizeof names);
    for (ssize_t i = 0; i < len;) {
      const char* name = names + i;
      i += ssize_t(strlen(name)) + 1;
      if (IsOverlayXattr(name)) continue;  // overlay's bookkeeping, not content
      char value[4096];
      ssize_t n = lgetxattr(path.c_str(), name, value, sizeof value);
      if (n >= 0) archive_entry_xattr_add_entry(e, name, value, size_t(n));
    }
  }

  int64_t ClampTime(int64_t t) const {
    return (options_.source_date_epoch && t > *options_.source_date_epoch) ? *options_.source_date_epoch : t;
  }

  std::string Named(const std::string& rel) const { return prefix_.empty() ? rel : prefix_ + "/" + rel; }

  archive* a_;
  std::string root_;
  LayerOptions options_;
  std::string prefix_;
  std::map<std::pair<dev_t, ino_t>, std::string> hardlinks_;
};

}  // namespace

Result<store::LayerRecord> WriteLayer(const std::string& diff_dir, const store::ContentStore& content,
                                      const LayerOptions& options) {
  KILN_ASSIGN(store::BlobWriter blob, content.NewWriter());
  KILN_ASSIGN(auto compressor, LayerCompressor::Make(options.compression, &blob));
  std::pair<LayerCompressor*, Status> sink{compressor.get(), Status::Ok()};
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1);
  Status st;
  if (archive_write_open(a, &sink, nullptr, &WriteToCompressor, nullptr) != ARCHIVE_OK) {
    st = Status::Error("open layer tar: " + ArchiveError(a));
  } else {
    DiffTarWriter writer(a, diff_dir, options);
    st = writer.WriteDir("");
    if (archive_write_close(a) != ARCHIVE_OK && st.ok()) {
      st = Status::Error("close layer tar: " + ArchiveError(a));
    }
  }
  archive_write_free(a);
  if (st.ok() && sink.second.ok()) sink.second = compressor->Finish();
  // When the blob could not be written (a full disk), that is the cause; libarchive only saw its write fail.
  KILN_TRY(sink.second.Prefixed("writing layer"));
  KILN_TRY(st);
  store::LayerRecord rec;
  rec.blob_digest = compressor->digest();
  rec.diff_id = compressor->diff_id();
  rec.size = blob.size();
  rec.media_type = LayerMediaType(options.compression.kind);
  KILN_TRY(blob.Commit(rec.blob_digest));
  return rec;
}

Status WriteTree(const std::string& dir, const std::string& dest, std::optional<int64_t> source_date_epoch) {
  return WriteTrees({{dir, ""}}, dest, source_date_epoch);
}

Status WriteTrees(const std::vector<TreeInTar>& trees, const std::string& dest,
                  std::optional<int64_t> source_date_epoch) {
  bool to_stdout = dest == "-";
  std::string tmp = to_stdout ? dest : dest + ".tmp";
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1);
  Status st;
  int rc = to_stdout ? archive_write_open_fd(a, STDOUT_FILENO) : archive_write_open_filename(a, tmp.c_str());
  if (rc != ARCHIVE_OK) {
    st = Status::Error("open " + dest + ": " + ArchiveError(a));
  } else {
    LayerOptions options;
    options.source_date_epoch = source_date_epoch;
    for (auto& tree : trees) {
      if (!tree.prefix.empty() && tree.writes_prefix) {
        // The directory the tree goes under, as BuildKit's tar exporter writes one per platform.
        std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
        archive_entry_set_pathname(e.get(), (tree.prefix + "/").c_str());
        archive_entry_set_filetype(e.get(), AE_IFDIR);
        archive_entry_set_perm(e.get(), 0755);
        archive_entry_set_mtime(e.get(), source_date_epoch.value_or(0), 0);
        if (archive_write_header(a, e.get()) < ARCHIVE_WARN) st = Status::Error("write " + dest + ": " + ArchiveError(a));
      }
      DiffTarWriter writer(a, tree.dir, options, tree.prefix);
      if (st.ok()) st = writer.WriteDir("");
      if (!st.ok()) break;
    }
    if (archive_write_close(a) != ARCHIVE_OK && st.ok()) st = Status::Error("write " + dest + ": " + ArchiveError(a));
  }
  archive_write_free(a);
  if (!to_stdout) {
    if (st.ok() && rename(tmp.c_str(), dest.c_str()) != 0) st = ErrnoError("rename", tmp);
    if (!st.ok()) unlink(tmp.c_str());
  }
  return st;
}

int64_t LayerLimits::MaxBytes(int64_t blob_size) const {
  double max = double(min_bytes) + max_expansion * double(blob_size);
  return max >= 9.0e18 ? INT64_MAX : int64_t(max);
}

int64_t LayerLimits::MaxFiles(int64_t blob_size) const {
  double max = double(min_files) + files_per_kib * double(blob_size) / 1024;
  return max >= 9.0e18 ? INT64_MAX : int64_t(max);
}

Status ApplyLayer(const std::string& tar_path, const std::string& diff_dir, const LayerLimits& limits) {
  char real[PATH_MAX];
  if (!realpath(diff_dir.c_str(), real)) return ErrnoError("resolve", diff_dir);
  const std::string root = real;
  struct stat blob;
  if (stat(tar_path.c_str(), &blob) != 0) return ErrnoError("stat", tar_path);
  const int64_t max_bytes = limits.MaxBytes(blob.st_size), max_files = limits.MaxFiles(blob.st_size);
  int64_t bytes = 0, files = 0;
  auto too_large = [&](const std::string& what, int64_t limit) {
    return Status::Error("the layer unpacks to more than " + std::to_string(limit) + " " + what + " from a blob of " +
                         std::to_string(blob.st_size) + " bytes: refused as a compression bomb (kiln.toml [layers] "
                         "sets the limits)");
  };
  archive* in = NewTarReader();
  archive* out = archive_write_disk_new();
  // Secure flags: never write through a symlink inside the layer, never accept "..".
  archive_write_disk_set_options(out, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                          ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                          ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_UNLINK);
  archive_write_disk_set_standard_lookup(out);
  Status st;
  if (archive_read_open_filename(in, tar_path.c_str(), 1 << 16) != ARCHIVE_OK) {
    st = Status::Error("open layer " + tar_path + ": " + ArchiveError(in));
  }
  archive_entry* e;
  while (st.ok()) {
    int rc = archive_read_next_header(in, &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      st = Status::Error("read layer " + tar_path + ": " + ArchiveError(in));
      break;
    }
    if (++files > max_files) {
      st = too_large("files", max_files);
      break;
    }
    std::string rel = SafeRelative(archive_entry_pathname(e));
    std::string base = BaseName(rel);
    if (base.rfind(kWhiteoutPrefix, 0) == 0) {
      std::string parent = DirName(rel) == "." ? root : JoinPath(root, DirName(rel));
      st = MakeDirs(parent);
      if (!st.ok()) break;
      if (base == kOpaqueWhiteout) {
        if (lsetxattr(parent.c_str(), OpaqueXattr(), "y", 1, 0) != 0) st = ErrnoError("mark opaque", parent);
      } else {
        std::string target = JoinPath(parent, base.substr(strlen(kWhiteoutPrefix)));
        if (mknod(target.c_str(), S_IFCHR, makedev(0, 0)) != 0 && errno != EEXIST) {
          st = ErrnoError("create whiteout", target);
        }
      }
      continue;
    }
    archive_entry_set_pathname(e, rel == "." ? root.c_str() : JoinPath(root, rel).c_str());
    if (const char* link = archive_entry_hardlink(e)) {
      archive_entry_set_hardlink(e, JoinPath(root, SafeRelative(link)).c_str());
    }
    rc = archive_write_header(out, e);
    if (rc < ARCHIVE_WARN) {
      st = ExtractError(rel, out);
      break;
    }
    if (archive_entry_size(e) > 0 && archive_entry_hardlink(e) == nullptr) {
      const void* buf;
      size_t size;
      la_int64_t offset;
      while ((rc = archive_read_data_block(in, &buf, &size, &offset)) == ARCHIVE_OK) {
        bytes += int64_t(size);
        if (bytes > max_bytes) {
          st = too_large("bytes", max_bytes);
          break;
        }
        // libarchive reports a failed write(2) (a full disk) as a mere ARCHIVE_WARN: anything but OK is an error
        // here, or a layer would be unpacked with its files cut short.
        if (archive_write_data_block(out, buf, size, offset) != ARCHIVE_OK) {
          st = ExtractError(rel, out);
          break;
        }
      }
      if (st.ok() && rc != ARCHIVE_EOF) st = Status::Error("read layer " + tar_path + ": " + ArchiveError(in));
    }
    if (st.ok() && archive_write_finish_entry(out) < ARCHIVE_WARN) {
      st = ExtractError(rel, out);
    }
  }
  archive_read_free(in);
  if (archive_write_close(out) != ARCHIVE_OK && st.ok()) {
    st = Status::Error("finish extraction: " + ArchiveError(out));
  }
  archive_write_free(out);
  return st;
}

}  // namespace kiln::snapshot
