// File-system helpers: whole-file reads, crash-safe writes, directory trees, temp dirs, lexical paths.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kiln {

/// An error naming the failed call, the path and errno's text.
Status ErrnoError(const std::string& what, const std::string& path);

Result<std::string> ReadFile(const std::string& path);
/// Writes through a temp file in the same directory, fsyncs, then renames: readers see old or new, never half.
Status WriteFileAtomic(const std::string& path, std::string_view data, int mode = 0644);
/// Writes a file that need not survive a crash (a container's bundle): no fsync, no rename.
Status WriteFile(const std::string& path, std::string_view data, int mode = 0644);
/// mkdir -p.
Status MakeDirs(const std::string& path, int mode = 0755);
/// Copies the file `from` to `to` (written under a temporary name, then renamed), in the kernel with
/// copy_file_range (extents shared where the file system can), never holding it in memory. A copy, not a hard
/// link: writing to the copy can never change the original (a blob of the store).
Status CopyFileAtomic(const std::string& from, const std::string& to, int mode = 0644);
/// rm -rf without crossing into mounted file systems below `path`.
Status RemoveAll(const std::string& path);
/// Bytes a file or tree takes on disk (allocated blocks; hard links counted once), as `du -s` reports.
int64_t DiskUsage(const std::string& path);
bool PathExists(const std::string& path);
/// Whether two files hold the same bytes (read in pieces, never whole); false when either cannot be read.
bool SameFileContent(const std::string& a, const std::string& b);
bool IsDirectory(const std::string& path);
/// Names in a directory, sorted, without "." and "..".
Result<std::vector<std::string>> ListDir(const std::string& path);

/// Lexical cleanup like Go's path.Clean: collapses "//", ".", ".." (never above "/" for absolute paths).
std::string CleanPath(std::string_view path);
/// `a/b` with exactly one slash between them.
std::string JoinPath(std::string_view a, std::string_view b);
std::string BaseName(std::string_view path);
std::string DirName(std::string_view path);
/// "a//b/c/" -> {"a", "b", "c"}: the non-empty components between slashes.
std::vector<std::string> SplitPath(std::string_view path);

/// A directory removed (recursively) when this goes out of scope.
class TempDir {
 public:
  /// Creates a fresh directory under `parent`, named prefix + random suffix.
  static Result<TempDir> Create(const std::string& parent, const std::string& prefix = "tmp-");
  TempDir(TempDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }
  /// Keeps the directory: the caller now owns it.
  std::string Release() { return std::exchange(path_, std::string()); }

 private:
  explicit TempDir(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

}  // namespace kiln
