// How a layer directory (overlay "upper" form) marks what it hides: a deleted entry is a whiteout, a directory that
// hides everything below it is opaque. Three writers leave these marks, each in its own way:
//   - overlayfs as root: whiteouts are 0:0 character devices, opaque directories carry trusted.overlay.opaque=y;
//   - overlayfs in a user namespace (rootless, mounted with userxattr): the same under user.overlay.*;
//   - fuse-overlayfs: the same devices, or ".wh.NAME" files where it may not make devices, and user.fuseoverlayfs.
//     opaque with a ".wh..wh..opq" file (and a whiteout of that name) inside the directory.
// kiln reads all of them, so a store's layers mean the same whichever snapshotter wrote them; kiln itself writes the
// first two forms. None of it is ever a file's content.
#pragma once
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <cstring>
#include <optional>
#include <string>

#include "base/userns.h"

namespace kiln::snapshot {

inline constexpr const char* kWhiteoutPrefix = ".wh.";
inline constexpr const char* kOpaqueWhiteout = ".wh..wh..opq";
/// fuse-overlayfs puts a whiteout of this name beside its opaque file.
inline constexpr const char* kFuseOpaqueMark = ".wh..opq";
/// Every writer's opaque xattr: overlayfs as root, in a user namespace, and fuse-overlayfs's own.
inline constexpr const char* kOpaqueXattrs[] = {"trusted.overlay.opaque", "user.overlay.opaque",
                                                "user.fuseoverlayfs.opaque"};

/// The xattr kiln writes to mark a directory opaque (it hides what the layers below hold at that path).
inline const char* OpaqueXattr() {
  return InUserNamespace() ? "user.overlay.opaque" : "trusted.overlay.opaque";
}

/// Whether `name` is one of overlay's (or fuse-overlayfs's) own xattrs: not copied, not put in a layer.
inline bool IsOverlayXattr(const char* name) {
  return strncmp(name, "trusted.overlay.", 16) == 0 || strncmp(name, "user.overlay.", 13) == 0 ||
         strncmp(name, "user.fuseoverlayfs.", 19) == 0;
}

/// The mount options rootless overlay needs besides the layers: userxattr in a user namespace, none as root.
inline const char* OverlayNamespaceOptions() { return InUserNamespace() ? ",userxattr" : ""; }

/// Whether the layer directory `path` is marked opaque, in any writer's form.
inline bool IsOpaqueDir(const std::string& path) {
  char v[2];
  for (const char* name : kOpaqueXattrs) {
    if (lgetxattr(path.c_str(), name, v, sizeof v) == 1 && v[0] == 'y') return true;
  }
  struct stat st;
  return lstat((path + "/" + kOpaqueWhiteout).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

/// Whether an entry of a layer directory is a mark rather than content: a ".wh."-named entry (a reserved prefix in
/// images, as in OCI layers).
inline bool IsMarkName(const std::string& name) { return name.compare(0, 4, kWhiteoutPrefix) == 0; }

/// The name an entry of a layer directory deletes, if it is a whiteout: itself for a 0:0 device, NAME for a
/// ".wh.NAME" file. Nothing for content and for the opaque file.
inline std::optional<std::string> WhitedOutName(const std::string& name, const struct stat& st) {
  if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
    if (IsMarkName(name)) return std::nullopt;  // fuse-overlayfs's whiteout of its own opaque file
    return name;
  }
  if (S_ISREG(st.st_mode) && IsMarkName(name) && name != kOpaqueWhiteout) return name.substr(4);
  return std::nullopt;
}

}  // namespace kiln::snapshot
