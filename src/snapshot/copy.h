// File copies into and out of root file systems, as COPY and the local exporter need them.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>

#include "base/file_mode.h"
#include "base/status.h"

namespace kiln::snapshot {

/// Resolves `path` (absolute inside the container) against `root` the way the container would see it: symlinks
/// are followed but never leave `root`. The last component is followed only when `follow_last`.
Result<std::string> ResolveInRoot(const std::string& root, const std::string& path, bool follow_last = true);

struct CopyOptions {
  /// Owner of everything written; nullopt keeps the source's.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  /// Permission bits for every copied file and directory (COPY --chmod); nullopt keeps the source's.
  std::optional<mode_t> mode;
  /// Or a symbolic --chmod, applied to each entry's own mode.
  std::optional<SymbolicMode> symbolic_mode;
  /// Relative path below the copy's source root -> skip it (.dockerignore).
  std::function<bool(const std::string& rel)> excluded;
  /// Whether an excluded directory must still be walked because an exception may re-include its children.
  bool descend_excluded = false;
  /// Regular files are hardlinked to the source instead of copied, sharing its metadata (a committed layer
  /// stacked on another snapshot: neither ever changes). Owner and mode options do not apply to them.
  bool link_files = false;
};

/// Copies `src` (a file, symlink or directory, not followed) to `dst`, creating or replacing it; a directory is
/// copied with its whole tree. Modes, mtimes and user xattrs are kept; hardlinks inside the tree stay linked.
/// `rel` is src's path relative to the copy's root, for `excluded`.
Status CopyTree(const std::string& src, const std::string& dst, const std::string& rel, const CopyOptions& o);

/// Gives `dst` the owner, permission bits, xattrs (not overlay's) and times of `src`; neither is followed.
Status CopyMetadata(const std::string& src, const std::string& dst);

/// Copies the contents of directory `src` into existing directory `dst`.
Status CopyDirContents(const std::string& src, const std::string& dst, const std::string& rel, const CopyOptions& o);

/// A new layer being written directly, without an overlay mount (overlayfs makes each file creation several
/// times slower): paths resolve in `lower`, a read-only view of the file system below, and writes go to `upper`,
/// the layer's directory, which overlayfs will later stack on top of `lower`.
struct LayerTarget {
  std::string lower;
  std::string upper;
};

/// The upper path of `container_path` (symlinks of its parents resolved in the layer); nothing is created.
Result<std::string> ResolveInLayer(const LayerTarget& t, const std::string& container_path);
/// Whether `container_path` is a directory in the layer or below it.
bool IsDirectoryInLayer(const LayerTarget& t, const std::string& container_path);
/// mkdir -p in the layer: directories that exist below are copied up with their metadata (as overlayfs would);
/// missing ones are made with `mode` and owner uid:gid. Returns the directory's upper path.
Result<std::string> MakeDirsInLayer(const LayerTarget& t, const std::string& container_path, uid_t uid, gid_t gid,
                                    mode_t mode = 0755);

}  // namespace kiln::snapshot
