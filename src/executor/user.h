// Resolving "user[:group]" against a root file system's /etc/passwd and /etc/group, as Docker does.
#pragma once
#include <string>
#include <sys/types.h>
#include <vector>

#include "base/status.h"

namespace kiln::executor {

struct User {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;
  std::string home = "/";
};

/// "" is root. Numbers need no passwd entry; names must have one. The group defaults to the user's primary.
Result<User> ResolveUser(const std::string& rootfs, const std::string& spec);

/// The owner files get from COPY --chown and WORKDIR, by BuildKit's file-op rules, which differ from a process's:
/// a numeric user "1000" gives 1000:1000 whatever /etc/passwd says; a name takes its passwd uid and gid, and a
/// name that is not there is 0.
Result<User> ResolveFileOwner(const std::string& rootfs, const std::string& spec);

}  // namespace kiln::executor
