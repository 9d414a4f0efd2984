// The engine API: the one surface the CLI and the MCP tools both call. Every operation of kiln lands here once.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "exporter/exporter.h"
#include "frontend/dockerfile/lint.h"
#include "oci/image.h"
#include "progress/progress.h"
#include "solver/solver.h"
#include "store/gc.h"

namespace kiln::api {

struct EngineOptions {
  std::string data_root;
  std::string runtime = "runc";  // or "crun", or a path
};

/// `--output type=...,dest=...`.
struct OutputSpec {
  std::string type;  // "image", "oci", "docker", "local"
  std::string dest;
  /// Parses "type=oci,dest=out.tar"; a bare path means type=local.
  static Result<OutputSpec> Parse(const std::string& s);
};

/// Where a build secret's value comes from, in docker buildx's syntax: "id=npm,src=$HOME/.npmrc" (a file),
/// "id=token,env=GITHUB_TOKEN" (an environment variable), or "id=TOKEN" (the variable named like the id).
/// The value is read when a build needs it, never kept.
struct SecretSource {
  std::string id;
  std::string file;
  std::string env;
  static Result<SecretSource> Parse(const std::string& s);
  Result<std::string> Read() const;
};

struct BuildRequest {
  std::string build_id;  // "" picks a fresh one; callers that need it early (to stream logs) set it
  std::string context = ".";
  std::string dockerfile;  // "" is <context>/Dockerfile
  std::vector<std::string> tags;
  std::map<std::string, std::string> build_args;
  std::string target;
  bool no_cache = false;
  std::string network = "host";
  std::vector<OutputSpec> outputs;
  /// Values of the secrets RUN --mount=type=secret may ask for, by id.
  std::map<std::string, std::string> secrets;
  progress::Sink* progress = nullptr;
  std::function<bool()> cancelled;
};

struct BuildResult {
  Status status;
  std::string build_id;
  std::optional<exporter::Image> image;
  std::vector<std::string> tags;  // normalized names given to the image
  std::vector<solver::StepReport> steps;
  std::optional<solver::StepFailure> failure;
  std::vector<std::string> warnings;
};

struct ImageInfo {
  std::string name;    // familiar form: "app:1"
  std::string digest;  // manifest digest
  int64_t size = 0;    // config + layers, compressed
  int64_t created = 0;
};

struct RunRequest {
  std::string ref;
  std::vector<std::string> command;  // empty: the image's entrypoint + cmd
  std::vector<std::string> env;      // extra "K=V"
  std::string network = "none";
  std::string user;                  // "" keeps the image's
  /// Attach the container to our stdio; otherwise output goes to on_output.
  bool interactive = true;
  std::function<void(int fd, std::string_view)> on_output;
  std::function<bool()> cancelled;
};

/// One entry of a directory inside an image.
struct FileEntry {
  std::string name;
  std::string type;  // "file", "dir", "symlink", "other"
  int64_t size = 0;
  uint32_t mode = 0;  // permission bits
  uint32_t uid = 0, gid = 0;
  std::string link_target;
};

struct FileContent {
  std::string data;      // at most max_bytes
  int64_t size = 0;      // the whole file's size
  bool truncated = false;
};

/// One difference between two images' file systems.
struct FileChange {
  std::string path;
  std::string kind;  // "added", "removed", "modified"
};

class Engine {
 public:
  /// Opens (creating if needed) the state under `options.data_root`, recovering from interrupted runs.
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine();

  BuildResult Build(const BuildRequest& request);
  Result<std::vector<ImageInfo>> Images();
  /// An image by name, familiar name or manifest digest (or a unique prefix of one).
  Result<exporter::Image> FindImage(const std::string& ref);
  Result<Json> Inspect(const std::string& ref);
  /// Runs a container of the image and returns its exit code; its file system changes are discarded.
  Result<int> Run(const RunRequest& request);
  /// Makes an image of one layer from a root file system tarball (plain or compressed).
  Result<exporter::Image> Import(const std::string& tarball, const std::string& name);
  Status Tag(const std::string& ref, const std::string& name);
  Status RemoveImage(const std::string& ref);
  /// The entries of directory `path` in the image's file system (sorted; at most `limit`, `truncated` says more).
  Result<std::vector<FileEntry>> ListImageFiles(const std::string& ref, const std::string& path, size_t limit,
                                                bool* truncated);
  /// The first `max_bytes` of a file in the image (symlinks followed inside the image).
  Result<FileContent> ReadImageFile(const std::string& ref, const std::string& path, size_t max_bytes);
  /// What changed from image `from` to image `to`, file by file (content, mode, owner, link target).
  Result<std::vector<FileChange>> DiffImages(const std::string& from, const std::string& to, size_t limit,
                                             bool* truncated);
  /// BuildKit's build checks on a Dockerfile; an error only when it cannot be read or parsed.
  Result<std::vector<dockerfile::Finding>> Lint(const std::string& dockerfile);
  /// A past build's report (steps, keys, cache status); "" is the last build.
  Result<Json> BuildReport(const std::string& build_id);
  /// What the store holds: images, build cache records, snapshots, blobs, and what a prune would free.
  Result<store::Usage> DiskUsage();
  /// Removes build cache the policy does not keep, and whatever only it needed. Images stay. Fails at once,
  /// saying so, while another build or run uses the store.
  Result<store::GcResult> Prune(const store::GcPolicy& policy);

  const std::string& data_root() const;

 private:
  struct State;
  explicit Engine(std::unique_ptr<State> state);
  /// Build's work, under the store's shared lock.
  BuildResult BuildHoldingStore(const BuildRequest& request);
  /// After a build failed for lack of space: removes what it cached (and what only that needed), so the next build
  /// has room; returns the build's error, saying so when the space could not be given back.
  Status GiveBackSpace(const BuildResult& failed);
  store::Collector MakeCollector();
  std::unique_ptr<State> s_;
};

/// The default data root: $KILN_ROOT, else /var/lib/kiln for root, else ~/.local/share/kiln.
std::string DefaultDataRoot();

}  // namespace kiln::api
