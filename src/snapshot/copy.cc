#include "snapshot/copy.h"
#include "snapshot/overlay_marks.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <map>
#include <vector>

#include "base/fs.h"

namespace kiln::snapshot {
namespace {

Status CopyFileData(const std::string& src, const std::string& dst, mode_t mode) {
  int in = open(src.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) return ErrnoError("open", src);
  unlink(dst.c_str());
  int out = open(dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode & 07777);
  if (out < 0) {
    Status st = ErrnoError("create", dst);
    close(in);
    return st;
  }
  Status st;
  for (;;) {
    ssize_t n = copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EXDEV || errno == ENOSYS || errno == EINVAL) {
        // Fall back to plain reads and writes (older kernels, some file system pairs).
        char buf[1 << 16];
        ssize_t r;
        while ((r = read(in, buf, sizeof buf)) > 0) {
          if (write(out, buf, size_t(r)) != r) {
            st = ErrnoError("write", dst);
            break;
          }
        }
        if (r < 0) st = ErrnoError("read", src);
        break;
      }
      st = ErrnoError("copy to", dst);
      break;
    }
  }
  close(in);
  if (close(out) != 0 && st.ok()) st = ErrnoError("close", dst);
  return st;
}

void CopyXattrs(const std::string& src, const std::string& dst) {
  char names[4096];
  ssize_t len = llistxattr(src.c_str(), names, sizeof names);
  for (ssize_t i = 0; i < len;) {
    const char* name = names + i;
    i += ssize_t(strlen(name)) + 1;
    if (IsOverlayXattr(name)) continue;
    char value[4096];
    ssize_t n = lgetxattr(src.c_str(), name, value, sizeof value);
    if (n >= 0) lsetxattr(dst.c_str(), name, value, size_t(n), 0);
  }
}

/// Copies one tree, remembering hardlinked inodes so their copies are linked too.
class TreeCopier {
 public:
  explicit TreeCopier(const CopyOptions& o) : o_(o) {}

  Status Copy(const std::string& src, const std::string& dst, const std::string& rel) {
    struct stat st;
    if (lstat(src.c_str(), &st) != 0) return ErrnoError("stat", src);
    if (!rel.empty() && o_.excluded && o_.excluded(rel)) {
      if (!S_ISDIR(st.st_mode) || !o_.descend_excluded) return Status::Ok();
      // An excluded directory is created only if some child is re-included.
      return CopyChildren(src, dst, rel, st, /*create_lazily=*/true);
    }
    uid_t uid = o_.uid.value_or(st.st_uid);
    gid_t gid = o_.gid.value_or(st.st_gid);
    mode_t perm = Perm(st);
    if (S_ISDIR(st.st_mode)) return CopyChildren(src, dst, rel, st, false);
    struct stat dst_st;
    if (lstat(dst.c_str(), &dst_st) == 0 && S_ISDIR(dst_st.st_mode)) KILN_TRY(RemoveAll(dst));
    if (S_ISREG(st.st_mode) && o_.link_files) {
      unlink(dst.c_str());
      if (link(src.c_str(), dst.c_str()) != 0) return ErrnoError("link", dst);
      return Status::Ok();
    }
    if (S_ISREG(st.st_mode)) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      auto it = st.st_nlink > 1 ? links_.find(key) : links_.end();
      if (it != links_.end()) {
        unlink(dst.c_str());
        if (link(it->second.c_str(), dst.c_str()) != 0) return ErrnoError("link", dst);
        return Status::Ok();
      }
      KILN_TRY(CopyFileData(src, dst, perm));
      if (st.st_nlink > 1) links_[key] = dst;
    } else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlink(src.c_str(), target, sizeof target - 1);
      if (n < 0) return ErrnoError("readlink", src);
      target[n] = 0;
      unlink(dst.c_str());
      if (symlink(target, dst.c_str()) != 0) return ErrnoError("symlink", dst);
    } else if (S_ISSOCK(st.st_mode)) {
      // A socket is a live endpoint, not content: BuildKit copies it as an empty regular file.
      unlink(dst.c_str());
      int fd = open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, perm);
      if (fd < 0) return ErrnoError("create", dst);
      close(fd);
    } else {
      unlink(dst.c_str());
      if (mknod(dst.c_str(), st.st_mode, st.st_rdev) != 0) return ErrnoError("mknod", dst);
    }
    return Finish(src, dst, st, uid, gid, perm);
  }

  Status CopyChildren(const std::string& src, const std::string& dst, const std::string& rel,
                      const struct stat& st, bool create_lazily) {
    KILN_ASSIGN(auto names, ListDir(src));
    bool created = false;
    auto ensure = [&]() -> Status {
      if (created) return Status::Ok();
      created = true;
      struct stat dst_st;
      if (lstat(dst.c_str(), &dst_st) == 0 && !S_ISDIR(dst_st.st_mode)) unlink(dst.c_str());
      if (mkdir(dst.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoError("mkdir", dst);
      return Status::Ok();
    };
    if (!create_lazily) KILN_TRY(ensure());
    for (auto& n : names) {
      std::string child_rel = rel.empty() ? n : rel + "/" + n;
      if (create_lazily) {
        // Only re-included children make the directory appear.
        if (o_.excluded(child_rel) && !IsDirectory(JoinPath(src, n))) continue;
        KILN_TRY(ensure());
      }
      KILN_TRY(Copy(JoinPath(src, n), JoinPath(dst, n), child_rel));
    }
    if (!created) return Status::Ok();
    // A directory's mtime changes as entries are added: set it after the children.
    return Finish(src, dst, st, o_.uid.value_or(st.st_uid), o_.gid.value_or(st.st_gid), Perm(st));
  }

 private:
  /// The permission bits a copy of an entry with `st` gets.
  mode_t Perm(const struct stat& st) const {
    if (o_.mode) return *o_.mode;
    if (o_.symbolic_mode) return o_.symbolic_mode->Apply(st.st_mode, S_ISDIR(st.st_mode));
    return st.st_mode & 07777;
  }

  Status Finish(const std::string& src, const std::string& dst, const struct stat& st, uid_t uid, gid_t gid,
                mode_t perm) {
    if (lchown(dst.c_str(), uid, gid) != 0) return ErrnoError("chown", dst);
    if (!S_ISLNK(st.st_mode) && chmod(dst.c_str(), perm) != 0) return ErrnoError("chmod", dst);
    CopyXattrs(src, dst);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (utimensat(AT_FDCWD, dst.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) return ErrnoError("set times", dst);
    return Status::Ok();
  }

  const CopyOptions& o_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace

Result<std::string> ResolveInRoot(const std::string& root, const std::string& path, bool follow_last) {
  std::vector<std::string> todo = SplitPath(path);
  std::reverse(todo.begin(), todo.end());  // a stack: next component at the back
  std::vector<std::string> done;
  int links = 0;
  while (!todo.empty()) {
    std::string c = todo.back();
    todo.pop_back();
    if (c == ".") continue;
    if (c == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    std::string host = root;
    for (auto& d : done) host = JoinPath(host, d);
    host = JoinPath(host, c);
    struct stat st;
    if ((!todo.empty() || follow_last) && lstat(host.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      if (++links > 255) return Status::Error("too many levels of symbolic links in " + path);
      char target[PATH_MAX];
      ssize_t n = readlink(host.c_str(), target, sizeof target - 1);
      if (n < 0) return ErrnoError("readlink", host);
      target[n] = 0;
      if (target[0] == '/') done.clear();  // absolute links restart at the container's root
      auto parts = SplitPath(target);
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_back(*it);
      continue;
    }
    done.push_back(c);
  }
  std::string out = root;
  for (auto& d : done) out = JoinPath(out, d);
  return out;
}

Status CopyTree(const std::string& src, const std::string& dst, const std::string& rel, const CopyOptions& o) {
  TreeCopier c(o);
  return c.Copy(src, dst, rel);
}

Status CopyMetadata(const std::string& src, const std::string& dst) {
  struct stat st;
  if (lstat(src.c_str(), &st) != 0) return ErrnoError("stat", src);
  if (lchown(dst.c_str(), st.st_uid, st.st_gid) != 0) return ErrnoError("chown", dst);
  if (!S_ISLNK(st.st_mode) && chmod(dst.c_str(), st.st_mode & 07777) != 0) return ErrnoError("chmod", dst);
  CopyXattrs(src, dst);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (utimensat(AT_FDCWD, dst.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) return ErrnoError("set times", dst);
  return Status::Ok();
}

Status CopyDirContents(const std::string& src, const std::string& dst, const std::string& rel, const CopyOptions& o) {
  TreeCopier c(o);
  KILN_ASSIGN(auto names, ListDir(src));
  for (auto& n : names) KILN_TRY(c.Copy(JoinPath(src, n), JoinPath(dst, n), rel.empty() ? n : rel + "/" + n));
  return Status::Ok();
}

namespace {

/// The part of a resolved host path below `root`: "/a/b" for root + "/a/b".
std::string RelativeTo(const std::string& root, const std::string& host) {
  std::string rel = host.substr(root.size());
  return rel.empty() ? "/" : rel;
}

}  // namespace

Result<std::string> ResolveInLayer(const LayerTarget& t, const std::string& container_path) {
  // The upper holds only directories this layer made or copied up, never symlinks in a parent position,
  // so resolving in the lower view decides every path of the merged one.
  KILN_ASSIGN(std::string parent, ResolveInRoot(t.lower, DirName(CleanPath("/" + container_path))));
  std::string base = BaseName(CleanPath("/" + container_path));
  std::string rel = RelativeTo(t.lower, parent);
  return base == "/" ? JoinPath(t.upper, rel) : JoinPath(JoinPath(t.upper, rel), base);
}

bool IsDirectoryInLayer(const LayerTarget& t, const std::string& container_path) {
  auto upper = ResolveInLayer(t, container_path);
  if (upper.ok() && IsDirectory(*upper)) return true;
  auto lower = ResolveInRoot(t.lower, container_path);
  return lower.ok() && IsDirectory(*lower);
}

namespace {

/// Makes directory `rel` (symlink-free, its parent already in the upper) in the layer: a copy-up keeping the
/// metadata it has below, or a new directory owned by uid:gid.
Status MakeDirInLayer(const LayerTarget& t, const std::string& rel, uid_t uid, gid_t gid, mode_t mode) {
  std::string upper = JoinPath(t.upper, rel);
  std::string lower = JoinPath(t.lower, rel);
  struct stat st;
  if (lstat(upper.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Status::Error("cannot create directory " + rel + ": a file is in the way");
    return Status::Ok();
  }
  if (lstat(lower.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Status::Error("cannot create directory " + rel + ": a file is in the way");
    if (mkdir(upper.c_str(), st.st_mode & 07777) != 0) return ErrnoError("mkdir", upper);
    if (lchown(upper.c_str(), st.st_uid, st.st_gid) != 0) return ErrnoError("chown", upper);
    chmod(upper.c_str(), st.st_mode & 07777);
    CopyXattrs(lower, upper);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    utimensat(AT_FDCWD, upper.c_str(), times, AT_SYMLINK_NOFOLLOW);
    return Status::Ok();
  }
  if (mkdir(upper.c_str(), mode) != 0) return ErrnoError("mkdir", upper);
  chmod(upper.c_str(), mode);  // umask must not narrow it
  if (lchown(upper.c_str(), uid, gid) != 0) return ErrnoError("chown", upper);
  return Status::Ok();
}

}  // namespace

Result<std::string> MakeDirsInLayer(const LayerTarget& t, const std::string& container_path, uid_t uid,
                                    gid_t gid, mode_t mode) {
  std::string cur = "/";
  for (auto& part : SplitPath(CleanPath("/" + container_path))) {
    KILN_ASSIGN(std::string lower, ResolveInRoot(t.lower, JoinPath(cur, part)));
    std::string resolved = RelativeTo(t.lower, lower);  // symlinks of the lower view followed
    // A symlink may lead anywhere: every directory on the way to where it leads must be in the layer too.
    std::string prefix;
    for (auto& p : SplitPath(resolved)) {
      prefix = JoinPath(prefix, p);
      KILN_TRY(MakeDirInLayer(t, prefix, uid, gid, mode));
    }
    cur = "/" + resolved;
  }
  return JoinPath(t.upper, CleanPath(cur));
}

}  // namespace kiln::snapshot
