// The workspace an agent may touch: the --root directories the user granted, and nothing else. Every path
// is resolved with symlinks followed and must stay inside a root.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::mcptools {

/// One entry a walk visits.
struct WalkEntry {
  enum class Type { kFile, kDirectory, kSymlink, kOther };
  std::string path;      // absolute
  std::string relative;  // to the walk's start
  std::string name;
  Type type;
  int depth;  // 0 for the start's own entries
};

struct WalkOptions {
  int max_depth = 32;                   // directories deeper than this are not entered
  std::vector<std::string> skip_names = {};  // directories not entered (node_modules, .git)
  std::function<bool()> cancelled = nullptr;  // checked before each directory
};

class Workspace {
 public:
  /// `roots` are absolute, symlink-free directories.
  explicit Workspace(std::vector<std::string> roots) : roots_(std::move(roots)) {}
  const std::vector<std::string>& roots() const { return roots_; }
  /// An existing path (relative to the first root, or absolute inside a root), resolved; an error if it is
  /// missing or leads outside every root.
  Result<std::string> Resolve(const std::string& path) const;
  /// A path to write: its directory is created (inside the root) if missing; it may not lead outside.
  Result<std::string> ResolveForWrite(const std::string& path) const;
  /// Whether an absolute, resolved path lies inside a root.
  bool Contains(const std::string& resolved) const;
  /// Visits what lies under `start` (a directory Resolve returned), depth first, names in order. A symbolic link is
  /// reported as a link and never followed, so a walk cannot leave the roots through one nor loop; `visit` returns
  /// false to stop the walk. Every tool that lists or searches the workspace walks it this way.
  void Walk(const std::string& start, const WalkOptions& options,
            const std::function<bool(const WalkEntry&)>& visit) const;

 private:
  Result<std::string> Lexical(const std::string& path) const;
  std::vector<std::string> roots_;
};

}  // namespace kiln::mcptools
