#include "base/fs.h"

#include <dirent.h>
#include <ftw.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

namespace kiln {

Status ErrnoError(const std::string& what, const std::string& path) {
  std::string message = what + " " + path + ": " + strerror(errno);
  return errno == ENOSPC || errno == EDQUOT ? Status::NoSpace(message) : Status::Error(message);
}

Result<std::string> ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", path);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status st = ErrnoError("read", path);
      close(fd);
      return st;
    }
    if (n == 0) break;
    out.append(buf, size_t(n));
  }
  close(fd);
  return out;
}

namespace {

/// Writes all of `data` to `fd`; false with errno set when a write fails.
bool WriteAll(int fd, std::string_view data) {
  for (size_t off = 0; off < data.size();) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += size_t(n);
  }
  return true;
}

}  // namespace

Status WriteFile(const std::string& path, std::string_view data, int mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return ErrnoError("create", path);
  if (!WriteAll(fd, data)) {
    Status st = ErrnoError("write", path);
    close(fd);
    return st;
  }
  return close(fd) == 0 ? Status::Ok() : ErrnoError("close", path);
}

Status WriteFileAtomic(const std::string& path, std::string_view data, int mode) {
  std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(rand());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError("create", tmp);
  if (!WriteAll(fd, data)) {
    Status st = ErrnoError("write", tmp);
    close(fd);
    unlink(tmp.c_str());
    return st;
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    Status st = ErrnoError("fsync", tmp);
    unlink(tmp.c_str());
    return st;
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    Status st = ErrnoError("rename", tmp);
    unlink(tmp.c_str());
    return st;
  }
  return Status::Ok();
}

Status CopyFileAtomic(const std::string& from, const std::string& to, int mode) {
  int in = open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return ErrnoError("open", from);
  std::string tmp = to + ".tmp." + std::to_string(getpid()) + "." + std::to_string(rand());
  int out = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (out < 0) {
    Status st = ErrnoError("create", tmp);
    close(in);
    return st;
  }
  Status st;
  bool kernel_copy = true;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = kernel_copy ? copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0) : read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && kernel_copy && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
      kernel_copy = false;  // across file systems on old kernels, or a file system without it: copy by hand
      continue;
    }
    if (n < 0) {
      st = ErrnoError(kernel_copy ? "copy" : "read", from);
      break;
    }
    if (n == 0) break;
    for (ssize_t off = 0; !kernel_copy && off < n;) {
      ssize_t w = write(out, buf + off, size_t(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        st = ErrnoError("write", tmp);
        break;
      }
      off += w;
    }
    if (!st.ok()) break;
  }
  close(in);
  if (close(out) != 0 && st.ok()) st = ErrnoError("close", tmp);
  if (st.ok() && rename(tmp.c_str(), to.c_str()) != 0) st = ErrnoError("rename", tmp);
  if (!st.ok()) unlink(tmp.c_str());
  return st;
}

Status MakeDirs(const std::string& path, int mode) {
  if (path.empty()) return Status::Ok();
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return Status::Error("mkdir " + path + ": exists and is not a directory");
  }
  std::string parent = DirName(path);
  if (parent != path) KILN_TRY(MakeDirs(parent, mode));
  if (mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return ErrnoError("mkdir", path);
  return Status::Ok();
}

static int RemoveEntry(const char* path, const struct stat*, int type, struct FTW*) {
  int rc = (type == FTW_DP || type == FTW_D) ? rmdir(path) : unlink(path);
  return (rc == 0 || errno == ENOENT) ? 0 : -1;
}

bool SameFileContent(const std::string& a, const std::string& b) {
  int fa = open(a.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW), fb = open(b.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat sa, sb;
  bool same = fa >= 0 && fb >= 0 && fstat(fa, &sa) == 0 && fstat(fb, &sb) == 0 && sa.st_size == sb.st_size;
  std::vector<char> x(1 << 16), y(1 << 16);
  while (same) {
    ssize_t n = read(fa, x.data(), x.size());
    if (n <= 0) {
      same = n == 0;
      break;
    }
    ssize_t m = 0;
    while (m < n) {  // the same count from the other file: it may come in pieces
      ssize_t r = read(fb, y.data() + m, size_t(n - m));
      if (r <= 0) break;
      m += r;
    }
    same = m == n && memcmp(x.data(), y.data(), size_t(n)) == 0;
  }
  if (fa >= 0) close(fa);
  if (fb >= 0) close(fb);
  return same;
}

Status RemoveAll(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return errno == ENOENT ? Status::Ok() : ErrnoError("stat", path);
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError("unlink", path);
    return Status::Ok();
  }
  // FTW_MOUNT keeps the walk on one file system, so a forgotten mount below is never emptied.
  if (nftw(path.c_str(), RemoveEntry, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0) {
    return ErrnoError("remove", path);
  }
  return Status::Ok();
}

namespace {
thread_local std::set<std::pair<dev_t, ino_t>>* du_seen = nullptr;
thread_local int64_t du_bytes = 0;
int CountEntry(const char*, const struct stat* st, int, struct FTW*) {
  if (st->st_nlink > 1 && !S_ISDIR(st->st_mode) && !du_seen->insert({st->st_dev, st->st_ino}).second) return 0;
  du_bytes += int64_t(st->st_blocks) * 512;
  return 0;
}
}  // namespace

int64_t DiskUsage(const std::string& path) {
  std::set<std::pair<dev_t, ino_t>> seen;
  du_seen = &seen;
  du_bytes = 0;
  nftw(path.c_str(), CountEntry, 64, FTW_PHYS | FTW_MOUNT);
  du_seen = nullptr;
  return du_bytes;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::vector<std::string>> ListDir(const std::string& path) {
  DIR* d = opendir(path.c_str());
  if (!d) return ErrnoError("opendir", path);
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string CleanPath(std::string_view path) {
  if (path.empty()) return ".";
  bool rooted = path[0] == '/';
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    i = j + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
      }
      continue;
    }
    parts.push_back(part);
  }
  std::string out = rooted ? "/" : "";
  for (size_t k = 0; k < parts.size(); k++) {
    if (k) out += '/';
    out += parts[k];
  }
  return out.empty() ? "." : out;
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  if (out != "/") out += '/';
  out += b;
  return out;
}

std::string BaseName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto pos = path.rfind('/');
  return std::string(pos == std::string_view::npos ? path : path.substr(pos + 1));
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

std::string DirName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto pos = path.rfind('/');
  if (pos == std::string_view::npos) return ".";
  if (pos == 0) return "/";
  return std::string(path.substr(0, pos));
}

Result<TempDir> TempDir::Create(const std::string& parent, const std::string& prefix) {
  KILN_TRY(MakeDirs(parent, 0700));
  std::string tmpl = JoinPath(parent, prefix + "XXXXXX");
  if (!mkdtemp(tmpl.data())) return ErrnoError("mkdtemp", tmpl);
  return TempDir(tmpl);
}

TempDir::~TempDir() {
  if (!path_.empty()) (void)RemoveAll(path_);
}

}  // namespace kiln
