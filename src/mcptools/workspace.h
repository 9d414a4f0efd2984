// The workspace an agent may touch: the --root directories the user granted, and nothing else. Every path
// is resolved with symlinks followed and must stay inside a root.
#pragma once
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::mcptools {

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

 private:
  Result<std::string> Lexical(const std::string& path) const;
  std::vector<std::string> roots_;
};

}  // namespace kiln::mcptools
