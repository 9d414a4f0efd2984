// The build graph: ops with stable digests, in a DAG. The frontend produces it; the solver runs it and knows
// nothing of Dockerfiles.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace kiln::graph {

/// A base image, resolved to the manifest digest of a local image.
struct ImageSource {
  std::string ref;
  std::string manifest_digest;
  /// Read from an OCI layout (--build-context NAME=oci-layout://), not a registry: its provenance material is a
  /// pkg:oci package URL. Not part of the op: the digest says what it is.
  bool oci_layout = false;
};

/// A directory of the host (the build context), read in place, filtered by exclude patterns.
struct LocalSource {
  std::string name;  // "context", or a --build-context name
  std::string path;
  std::vector<std::string> exclude_patterns;
};

/// A file fetched over HTTP(S) (ADD URL): the result is a directory holding it as `filename`, mode 0600, dated
/// by the response's Last-Modified, as BuildKit's. With `checksum` ("sha256:..."), a download that differs fails.
struct HttpSource {
  std::string url;
  std::string filename;
  std::string checksum;
};

/// A git repository at a ref (ADD of a git URL), fetched with the git CLI: the result is the checkout of `subdir`
/// ("" for the whole tree, submodules included), with its .git directory only when `keep_git_dir`. `checksum`, when given, is the
/// commit (or a prefix of it) the ref must resolve to.
struct GitSource {
  std::string remote;
  std::string ref;  // branch, tag or commit; "" for the remote's HEAD
  std::string subdir;
  bool keep_git_dir = false;
  std::string checksum;
  bool submodules = true;  // checked out too, as BuildKit does unless ?submodules=false
};

/// RUN --mount=type=secret: a secret the build is given by id, as a file and/or an environment variable. Only
/// where it goes is part of the op (and so of its cache key); the value never is.
struct SecretMount {
  std::string id;
  std::string target;  // absolute path of the file; empty when only `env` is wanted
  std::string env;     // environment variable to set to the value; empty for none
  bool required = false;
  uint32_t mode = 0400;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

/// RUN --mount of type bind, cache, tmpfs or ssh: what the command sees at `target` while it runs. Nothing of it
/// is part of the step's result.
struct ExecMount {
  enum class Type { kBind, kCache, kTmpfs, kSsh };
  Type type = Type::kBind;
  std::string target;              // absolute
  bool readonly = true;            // bind: true unless rw; cache: false unless ro
  /// bind: the vertex input whose file system holds `source` (the context, a stage, an image); cache: the input
  /// that seeds a new cache directory (from=), if any.
  std::optional<size_t> input;
  std::string source;              // path inside that input ("/" its root)
  std::string id;                  // cache: the cache's name (default: target); ssh: the --ssh id (default "default")
  std::string sharing = "shared";  // cache: shared, private or locked
  uint32_t mode = 0755;            // cache: the new directory's; ssh: the socket's (0600)
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t size = 0;                // tmpfs: bytes, 0 for the kernel's default
  bool required = false;           // ssh: fail when the build has no such agent
};

const char* MountTypeName(ExecMount::Type type);

/// What --add-host, --shm-size and --ulimit give the container of every RUN step, as BuildKit's exec meta: what
/// the command sees, so part of the step's key.
struct ContainerSettings {
  struct Host {
    std::string name, ip;  // a line "ip name" of /etc/hosts
  };
  struct Ulimit {
    std::string name;  // as docker names them: nofile, nproc, core, ...
    int64_t soft = 0, hard = 0;  // -1: unlimited
  };
  std::vector<Host> extra_hosts;
  int64_t shm_size = 0;  // bytes of /dev/shm; 0: BuildKit's 64 MiB
  std::vector<Ulimit> ulimits;

  bool empty() const { return extra_hosts.empty() && shm_size == 0 && ulimits.empty(); }
  /// "name:ip" or "name=ip", as docker build --add-host takes them; an error names the flag.
  static Result<Host> ParseHost(const std::string& text);
  /// "name=soft[:hard]", as docker build --ulimit takes them; an error names the flag.
  static Result<Ulimit> ParseUlimit(const std::string& text);
  /// The OCI runtime's name of a limit: "nofile" is "RLIMIT_NOFILE".
  static std::string RlimitType(const std::string& name);
};

/// RUN --device=NAME[,required]: a CDI device (vendor.com/class=name) the container is given.
struct DeviceRequest {
  std::string name;
  bool required = false;
};

/// A command run in a container on top of its first input's file system.
struct ExecOp {
  std::vector<std::string> args;
  std::vector<std::string> env;  // "K=V"
  std::string cwd = "/";
  std::string user;  // as written: "name", "uid", "uid:gid", "name:group"; "" is root
  std::string network = "host";  // "host" or "none"
  std::vector<SecretMount> secrets;
  std::vector<ExecMount> mounts;
  std::string security = "sandbox";  // or "insecure" (RUN --security=insecure)
  /// Where the command runs, "os/arch[/variant]": part of the key, and another architecture than the host's runs
  /// under emulation.
  std::string platform;
  /// HTTP_PROXY and the like from --build-arg, in both cases ("HTTP_PROXY=v", "http_proxy=v"): given to the
  /// command but, as BuildKit's ProxyEnv, never part of the key, so a build behind another proxy hits the cache.
  std::vector<std::string> proxy_env;
  /// The container's hostname (--build-arg BUILDKIT_SANDBOX_HOSTNAME); "" is BuildKit's "buildkitsandbox".
  std::string hostname;
  ContainerSettings container;
  std::vector<DeviceRequest> devices;
};

/// COPY: paths of one input copied into the file system of the op's first input.
struct CopyAction {
  size_t source_input = 1;              // index into the vertex's inputs
  std::vector<std::string> sources;     // paths (globs allowed) relative to the source root
  std::string dest;                     // absolute; a trailing '/' means a directory
  std::string chown;                    // "user[:group]"; "" keeps (or, for a local source, resets to 0:0)
  std::optional<uint32_t> chmod;
  std::string chmod_symbolic;           // --chmod=u+x,g-w: applied to each entry's own mode (base/file_mode.h)
  bool reset_owner = false;             // files from the context belong to root unless --chown
  bool unpack = false;                  // ADD: a source that is a tar archive (compressed or not) is extracted
  /// --exclude: .dockerignore-style patterns, matched below each source (a source itself is never excluded).
  std::vector<std::string> exclude;
  /// --parents: a source keeps its path under the destination, from the source root or from a "/./" in it.
  bool parents = false;
};

/// mkdir -p, as WORKDIR needs.
struct MkdirAction {
  std::string path;
  std::string chown;
};

/// A file made from inline content (a heredoc of COPY/ADD): the content is part of the op, and of its key.
struct MkfileAction {
  std::string path;  // absolute
  std::string data;
  uint32_t mode = 0644;
};

using FileAction = std::variant<CopyAction, MkdirAction, MkfileAction>;

struct FileOp {
  std::vector<FileAction> actions;
};

/// COPY --link: the file system of the first input with the layer of the second (a file op on scratch) stacked on
/// top, as BuildKit's MergeOp. The layer does not depend on what it lands on, so a changed base rebases it without
/// running the copy again.
struct MergeOp {};

using Op = std::variant<ImageSource, LocalSource, ExecOp, FileOp, HttpSource, GitSource, MergeOp>;

/// One node: an op and the vertices it reads. The digest covers both; `name` is for people and not hashed.
struct Vertex {
  Op op;
  std::vector<size_t> inputs;  // indices in Graph::vertices
  std::string digest;
  std::string name;            // "[stage-1 2/4] RUN make"
  std::string location;        // "Dockerfile:7", for error messages
  /// The step's place in its build (context, Dockerfile, stage, position), stable across edits of the step
  /// itself: how `kiln explain` finds the step's previous record. Empty for sources.
  std::string step_id;
  /// Which environment names of the step are build arguments ("changed: build-arg V" rather than "env V").
  std::vector<std::string> arg_names;
  /// The step runs whatever the cache holds (--no-cache-filter names its stage); not part of its digest.
  bool ignore_cache = false;
};

/// A DAG in topological order: every input index is smaller than its user's.
class Graph {
 public:
  /// Adds a vertex (or returns the index of an identical one), computing its digest.
  size_t Add(Op op, std::vector<size_t> inputs, std::string name, std::string location = "");
  const std::vector<Vertex>& vertices() const { return vertices_; }
  const Vertex& at(size_t i) const { return vertices_[i]; }
  /// Makes the vertex run whatever the cache holds (see Vertex::ignore_cache).
  void IgnoreCache(size_t i) { vertices_.at(i).ignore_cache = true; }
  /// Sets the vertex's step_id and arg_names (see Vertex).
  void Describe(size_t i, std::string step_id, std::vector<std::string> arg_names);
  /// Adds every vertex of `other` (identical ones are shared); returns where each of its vertices is now.
  std::vector<size_t> Merge(const Graph& other);

 private:
  std::vector<Vertex> vertices_;
  std::map<std::string, size_t> by_digest_;
};

/// The op's canonical JSON, the input of its digest.
Json OpToJson(const Op& op);
/// A short label for the op's kind: "image", "local", "exec", "file", "http", "git", "merge".
const char* OpKind(const Op& op);

}  // namespace kiln::graph
