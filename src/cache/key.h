// Cache keys: what identifies a step's result, so that the same step on the same inputs is never run twice, on
// this machine or (through shared cache) another.
#pragma once
#include <string>
#include <vector>

#include "graph/graph.h"

namespace kiln::cache {

/// The key of vertex `v`: the digest of its operation, its inputs' keys (in order) and `content` (what a COPY from
/// the context reads: the digests of those files). A local source is keyed by what it holds, not where it is:
/// the same context at another path, on another machine, gives the same keys.
std::string StepKey(const graph::Vertex& v, const std::vector<std::string>& input_keys, const std::string& content);

}  // namespace kiln::cache
