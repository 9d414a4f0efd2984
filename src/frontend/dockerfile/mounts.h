// RUN --mount=... : BuildKit's comma-separated mount specifications.
#pragma once
#include <string>
#include <variant>

#include "base/status.h"
#include "graph/graph.h"

namespace kiln::dockerfile {

/// Parses one --mount value ("type=secret,id=npm,target=/root/.npmrc"), its variables already expanded. Mount
/// types kiln does not run yet are an error naming them, never ignored.
Result<graph::SecretMount> ParseMount(const std::string& spec);

}  // namespace kiln::dockerfile
