// Lowering a parsed Dockerfile to the build graph plus the image config of the target stage.
// The frontend never runs anything; base images are looked up through ImageResolver.
#pragma once
#include <strings.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "frontend/dockerfile/checks.h"
#include "frontend/dockerfile/parser.h"
#include "graph/graph.h"
#include "oci/image.h"

namespace kiln::dockerfile {

struct ResolvedImage {
  std::string manifest_digest;
  oci::ImageConfig config;
};

/// Finds a base image by reference ("busybox", "reg:5000/app:1", "app@sha256:...") for a platform.
using ImageResolver = std::function<Result<ResolvedImage>(const std::string& ref, const oci::Platform& platform)>;

/// A build context given by name (--build-context NAME=VALUE): used by FROM NAME, COPY --from=NAME and RUN
/// --mount=from=NAME before any image of that name, and in place of a stage of that name.
struct NamedContext {
  enum class Kind { kDirectory, kImage };
  Kind kind = Kind::kDirectory;
  std::string value;  // the directory (absolute), or the image reference
  std::vector<std::string> exclude_patterns;  // a directory's own .dockerignore, as BuildKit applies it
  bool oci_layout = false;                     // an image from an OCI layout (value is its manifest digest)

  /// docker-image://scratch names the empty image, as in BuildKit.
  bool IsScratch() const { return kind == Kind::kImage && strcasecmp(value.c_str(), "scratch") == 0; }
};

struct ConvertOptions {
  std::string context_dir;
  std::vector<std::string> exclude_patterns;  // from .dockerignore
  std::map<std::string, std::string> build_args;
  std::map<std::string, NamedContext> named_contexts;  // by name, as NamedContextKey gives it
  std::string target;  // stage name; "" is the last stage
  bool all_stages = false;  // lower every stage, not only the target's (build checks of the whole file)
  oci::Platform platform = oci::Platform::Host();  // the target platform (TARGETPLATFORM)
  /// One of several platforms built at once: step names start with the platform of their stage, as BuildKit's
  /// ("[linux/arm64 builder 2/4] RUN make").
  bool name_platform = false;
  std::string network = "host";  // default for RUN
  graph::ContainerSettings container;  // of every RUN (--add-host, --shm-size, --ulimit)
  /// Stages whose steps run whatever the cache holds (--no-cache-filter), and so every step after them.
  std::set<std::string> no_cache_stages;
  ImageResolver resolve;
  /// SOURCE_DATE_EPOCH; nullopt uses the current time for history and created.
  std::optional<int64_t> epoch;
};

/// One history line of the image and, for a step that can add a layer, the vertex whose result holds it.
struct HistoryStep {
  oci::HistoryEntry entry;
  std::optional<size_t> vertex;
};

/// What a target asks of the one who builds it (`kiln build --call outline`), as BuildKit's outline: the build
/// arguments its stages use (with the value each would have and the description from its comment), and the secret
/// and ssh ids its RUN steps mount.
struct Outline {
  struct Arg {
    std::string name, value, description;
    int line = 0;
  };
  struct Mount {
    std::string id;
    bool required = false;
    int line = 0;
  };
  std::string name;  // the target stage ("" when it is unnamed)
  std::string description;
  std::vector<Arg> args;
  std::vector<Mount> secrets, ssh;
};

struct BuildDefinition {
  graph::Graph graph;
  size_t result = 0;  // the target stage's final vertex
  oci::ImageConfig config;  // without rootfs and history: the exporter fills them from `history`
  std::vector<HistoryStep> history;
  /// The base image vertex under the target stage: its result is the file system the history starts from.
  size_t base_vertex = 0;
  std::vector<std::string> warnings;
  /// The build checks found while lowering (those needing build arguments, stages and images), unfiltered.
  std::vector<Finding> findings;
  /// The lines (first, last) of each stage lowered: the checks BuildKit runs as it builds a stage apply to these.
  std::vector<std::pair<int, int>> lowered_lines;
  /// What an SBOM generator scans besides the image (BuildKit's SBOM extras): the build context, when the target
  /// stage sets BUILDKIT_SBOM_SCAN_CONTEXT, and each stage it needs that sets BUILDKIT_SBOM_SCAN_STAGE, by name.
  std::map<std::string, size_t> sbom_extras;
  /// The step that runs the SBOM generator on this image (set by the engine when one is asked for).
  std::optional<size_t> sbom_scan;
  Outline outline;
};

/// A stage as `kiln build --call targets` lists it (BuildKit's targets subrequest).
struct Target {
  std::string name;         // lower case, "" when unnamed
  std::string description;  // from the comment above its FROM that starts with its name
  std::string base;         // as written
  std::string platform;     // --platform as written, if any
  bool is_default = false;  // the last stage: what a build without --target makes
  int line = 0;
};

/// Every stage, without lowering anything.
std::vector<Target> ListTargets(const Dockerfile& df);

/// A stage's or an ARG's description: the comment above it that starts with its name (BuildKit's getComment).
std::string DescriptionOf(const Instruction& in, const std::string& name);

/// The build graph of the target. When lowering fails, `findings_before_error` (if given) gets the build checks'
/// findings up to the error, which BuildKit reports beside it.
Result<BuildDefinition> Convert(const Dockerfile& df, const ConvertOptions& options,
                                std::vector<Finding>* findings_before_error = nullptr);

/// The name a named context is known by: "alpine", "alpine:latest" and "docker.io/library/alpine" are one name,
/// as BuildKit matches them.
std::string NamedContextKey(const std::string& name);

}  // namespace kiln::dockerfile
