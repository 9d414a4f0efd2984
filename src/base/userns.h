// Rootless kiln: a plain user's kiln runs inside a user namespace it makes at start, as podman and BuildKit's
// rootlesskit do. Inside, the user is root (uid 0) over a mount namespace of its own, so overlayfs mounts and the
// OCI runtime work; ids 1..N map to the user's subordinate ranges (/etc/subuid, /etc/subgid), so images keep their
// own ids (0, 1000, 65534) while the host sees the user's ranges.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"

namespace kiln {

/// One range of subordinate ids: host ids [host, host + count) as namespace ids [1, 1 + count).
struct SubordinateRange {
  uint32_t host = 0;
  uint32_t count = 0;
};

/// The first range /etc/subuid (or /etc/subgid) gives `user` (its name, or its id as text); none when it gives
/// none. `path` is for tests.
std::optional<SubordinateRange> FindSubordinateRange(const std::string& path, const std::string& user, uid_t id);

/// Whether this process runs in a user namespace other than the initial one (its uid map is not the identity). Read
/// once: call it only after EnterUserNamespace.
bool InUserNamespace();

/// The plain user kiln runs for inside its namespace (KILN_ROOTLESS_USER), "" outside one.
std::string RootlessUser();

/// What to say when a step needs an id the namespace lacks because the user has no subordinate ranges: which
/// line to add, with a range no other user holds.
std::string NoSubordinateIds();

/// How kiln runs, in words for `kiln du -v` and plain progress: "root", or "rootless (alice: ids 0-65536 in a user
/// namespace)".
std::string PrivilegeDescription();

/// How many ids the user namespace maps (1 when only the user's own id: no subordinate ranges). 0 outside one.
uint32_t MappedIds();

/// For a plain user: joins the user's kiln namespace (a user namespace and a mount namespace in which the user is
/// root), making it first when there is none. As podman does, a small process per user ("kiln-pause") holds the
/// namespace; kiln processes join it with setns, so entering costs two system calls, not newuidmap and newgidmap
/// each time, and every kiln process of the user sees the same mounts. The namespace maps the user as 0 and its
/// subordinate ranges (/etc/subuid, /etc/subgid) as 1.., or the user alone when it has none. As root this does
/// nothing. REQUIRES: no thread started yet.
Status EnterUserNamespace();

}  // namespace kiln
