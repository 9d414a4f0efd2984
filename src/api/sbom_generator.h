// An SBOM generator image (BuildKit's --attest type=sbom,generator=IMAGE): a step of the build graph that runs the
// image's command on the image being built, as BuildKit's frontend/attestations/sbom runs it.
#pragma once
#include <string>

#include "base/status.h"
#include "frontend/dockerfile/convert.h"
#include "graph/graph.h"

namespace kiln::api {

/// Adds to `graph` the step that scans `def`'s image: the generator's ENTRYPOINT and CMD in its own file system,
/// with the image read-only at /run/src/core/sbom, each of `def.sbom_extras` at /run/src/extras/sbom-NAME,
/// /tmp a tmpfs, and BUILDKIT_SCAN_SOURCE, _SOURCE_EXTRAS and _DESTINATION (/run/out/, where it writes one
/// in-toto statement per file) in its environment. Returns the step's vertex.
Result<size_t> AddSbomGenerator(graph::Graph& graph, const dockerfile::BuildDefinition& def, const std::string& generator,
                                const dockerfile::ResolvedImage& image, const std::string& platform);

}  // namespace kiln::api
