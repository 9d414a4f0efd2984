// RUN --mount=... : BuildKit's comma-separated mount specifications.
#pragma once
#include <string>
#include <variant>

#include "base/status.h"
#include "graph/graph.h"

namespace kiln::dockerfile {

/// One --mount value: a secret, or a bind, cache, tmpfs or ssh mount. `from` names what a bind shows or what seeds
/// a cache (a stage, an image or a named context; "" is the build context for a bind, nothing for a cache); the
/// converter turns it into an input of the step.
struct ParsedMount {
  std::variant<graph::SecretMount, graph::ExecMount> mount;
  std::string from;
};

/// Checks a --mount value as written, before its variables are expanded: from= names a stage or an image, never a
/// variable (BuildKit's rule; an alias stage does what a variable would).
Status CheckMountAsWritten(const std::string& spec);

/// Parses one --mount value ("type=cache,target=/root/.cache,sharing=locked"), its variables already expanded,
/// with BuildKit's defaults and checks. A relative target is taken from `cwd`, the step's working directory.
Result<ParsedMount> ParseMount(const std::string& spec, const std::string& cwd = "/");

}  // namespace kiln::dockerfile
