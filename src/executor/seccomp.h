// Docker's default seccomp profile for RUN steps, as BuildKit's runc applies it. The profile is Docker's own
// (profiles/seccomp/default.json, as Debian's golang-github-docker-docker-dev ships it), embedded at build time;
// this turns it into the OCI runtime spec's form for this machine's architecture, the process's capabilities and
// the running kernel, as Docker does.
#pragma once
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace kiln::executor {

/// The OCI `linux.seccomp` object for a process holding `capabilities` ("CAP_SYS_ADMIN"...). `profile` is a
/// profile in Docker's format; `machine` and `kernel` are what uname says ("x86_64", "6.1.0-18-amd64").
Result<Json> SeccompForRuntime(const std::string& profile, const std::vector<std::string>& capabilities,
                               const std::string& machine, const std::string& kernel);

/// The default profile, for this machine and kernel (computed once per capability set).
Result<Json> DefaultSeccomp(const std::vector<std::string>& capabilities);

}  // namespace kiln::executor
