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

/// Parses one --mount value ("type=cache,target=/root/.cache,sharing=locked"), its variables already expanded,
/// with BuildKit's defaults and checks. A relative target is taken from `cwd`, the step's working directory.
Result<ParsedMount> ParseMount(const std::string& spec, const std::string& cwd = "/");

}  // namespace kiln::dockerfile
