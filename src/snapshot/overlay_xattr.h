// Where overlayfs keeps its own markers on a layer's directories. As root it writes trusted.overlay.*; inside a user
// namespace (rootless kiln) trusted.* cannot be written, so overlay is mounted with userxattr and keeps them under
// user.overlay.*. Either way they are overlay's bookkeeping, never a file's content.
#pragma once
#include <cstring>

#include "base/userns.h"

namespace kiln::snapshot {

/// The xattr that marks a directory opaque (it hides what the layers below hold at that path).
inline const char* OpaqueXattr() {
  return InUserNamespace() ? "user.overlay.opaque" : "trusted.overlay.opaque";
}

/// Whether `name` is one of overlay's own xattrs, in either namespace: not copied, not put in a layer.
inline bool IsOverlayXattr(const char* name) {
  return strncmp(name, "trusted.overlay.", 16) == 0 || strncmp(name, "user.overlay.", 13) == 0;
}

/// The mount options rootless overlay needs besides the layers: userxattr in a user namespace, none as root.
inline const char* OverlayNamespaceOptions() { return InUserNamespace() ? ",userxattr" : ""; }

}  // namespace kiln::snapshot
