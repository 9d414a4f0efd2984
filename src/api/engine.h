// The engine API: the one surface the CLI and the MCP tools both call. Every operation of kiln lands here once.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/json.h"
#include "base/status.h"
#include "cache/transfer.h"
#include "exporter/attestation.h"
#include "exporter/exporter.h"
#include "frontend/dockerfile/convert.h"
#include "frontend/dockerfile/lint.h"
#include "oci/image.h"
#include "progress/progress.h"
#include "remote/auth.h"
#include "remote/registry.h"
#include "solver/solver.h"
#include "store/gc.h"

namespace kiln::api {

struct EngineOptions {
  std::string data_root;
  std::string runtime = "runc";  // or "crun", or a path
  /// Registries reached over plain HTTP or TLS without certificate checks (--insecure-registry HOST[:PORT]),
  /// besides those $KILN_INSECURE_REGISTRIES and registries.conf name.
  std::vector<std::string> insecure_registries;
  /// The caller makes no containers, snapshots, mounts or blobs (kiln images, inspect, tag...), so if it dies it
  /// leaves nothing to recover: it leaves no process mark (store/process_mark.h) for a later command to check.
  bool makes_nothing = false;
};

/// `--output type=...,dest=...`, as docker buildx writes it.
struct OutputSpec {
  std::string type;                // "image", "registry", "oci", "docker", "local", "tar"
  std::string dest;                // a file (or, with tar=false, a directory); "-" is stdout for the tar types
  std::vector<std::string> names;  // name=REF (several as name=a,name=b or "name=a,b")
  bool push = false;               // type=image,push=true; always for type=registry
  bool tar = true;                 // type=oci|docker,tar=false: an OCI layout directory
  // How the image's layers are made: compression=gzip|zstd|uncompressed, compression-level=N,
  // force-compression=true (base image layers too), oci-mediatypes=false (Docker's media types). Unset: default.
  std::optional<std::string> compression;
  std::optional<int> compression_level;
  std::optional<bool> force_compression;
  std::optional<bool> oci_mediatypes;
  /// type=local|tar,platform-split=true|false: a directory per platform ("linux_amd64"), as by default for several
  /// platforms and never for one; false puts every platform's files together, and names attestation files apart.
  std::optional<bool> platform_split;
  /// Parses "type=oci,dest=out.tar"; a bare path means type=local.
  static Result<OutputSpec> Parse(const std::string& s);
};

/// --pull: when a base image is looked up in a registry.
enum class PullPolicy {
  kMissing,  // only when the local store lacks it (the default: warm and offline rebuilds need no network)
  kAlways,   // re-resolve every tag (a newer image is pulled)
  kNever,    // never: the base must be in the local store
};
Result<PullPolicy> ParsePullPolicy(const std::string& s);

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
  /// The Dockerfile itself, when it comes from no file (`kiln build -f -` reads it from stdin); `dockerfile` is
  /// then ignored.
  std::optional<std::string> dockerfile_text;
  std::vector<std::string> tags;
  std::map<std::string, std::string> build_args;
  /// Named build contexts (--build-context NAME=VALUE): a directory, docker-image://REF or oci-layout://PATH[:TAG].
  std::map<std::string, std::string> build_contexts;
  std::string target;
  /// --platform: "os/arch[/variant]" each, or several in one, comma-separated. Empty: this host's. With more than
  /// one, the image is an index of one image per platform.
  std::vector<std::string> platforms;
  /// Attestations, as BuildKit's --sbom and --provenance: an SPDX SBOM of each image's packages, and a SLSA
  /// provenance statement ("min" or "max"; "" for none). With either, the image is an index.
  bool sbom = false;
  /// An SBOM generator image (BuildKit's generator=): run on the image's file system (and the extras the
  /// Dockerfile asks for); the in-toto statements it writes are the SBOM. "" uses kiln's own scanner.
  std::string sbom_generator;
  std::string provenance;
  /// The provenance's builder.id (BuildKit's builder-id attribute); empty: kiln's own URI.
  std::string provenance_builder_id;
  /// Ask about the Dockerfile instead of building, as `docker buildx build --call`: "check" (the build checks of
  /// every stage, or of the target's), "targets" (the stages), "outline" (what the target takes: build args,
  /// secrets, ssh). "" builds.
  std::string call;
  bool no_cache = false;
  /// How many steps may run at once; 0: one per core.
  int max_parallelism = 0;
  std::string network = "host";
  std::vector<OutputSpec> outputs;
  /// Values of the secrets RUN --mount=type=secret may ask for, by id.
  std::map<std::string, std::string> secrets;
  /// ssh agents for RUN --mount=type=ssh, as `kiln build --ssh` takes them: default, ID, ID=SOCKET, ID=KEY[,KEY].
  std::vector<std::string> ssh;
  /// Entitlements, as BuildKit's --allow: "security.insecure" (RUN --security=insecure), "network.host".
  std::vector<std::string> allow;
  /// Limits of each RUN step's container; 0: none.
  int64_t memory_limit = 0;
  int64_t pids_limit = 0;
  /// The cgroup RUN steps' containers go under (--cgroup-parent), below the cgroup root; "" for kiln's own.
  std::string cgroup_parent;
  /// What every RUN step's container sees besides: --add-host, --shm-size, --ulimit.
  graph::ContainerSettings container;
  /// Labels of the image (--label), over those of the Dockerfile.
  std::map<std::string, std::string> labels;
  /// Stages whose steps skip the cache (--no-cache-filter); the steps that use their results run too.
  std::vector<std::string> no_cache_filter;
  PullPolicy pull = PullPolicy::kMissing;
  bool push = false;  // --push: push every -t name once built
  std::vector<cache::CacheSpec> cache_from;  // imported cache, consulted after the local store
  std::vector<cache::CacheSpec> cache_to;    // where this build's cache records are exported
  progress::Sink* progress = nullptr;
  std::function<bool()> cancelled;
};

/// What oci-layout:// names: "DIR", "DIR:TAG" (a ':' after the last '/') or "DIR@sha256:...".
struct LayoutSpec {
  std::string dir;
  std::string tag;
  std::string digest;
  static LayoutSpec Parse(const std::string& spec);
  std::string Suffix() const { return !digest.empty() ? "@" + digest : !tag.empty() ? ":" + tag : ""; }
};

/// A base image a build used: the name in FROM and the manifest digest it resolved to.
struct BaseImage {
  std::string name;
  std::string digest;
};

struct PushResult {
  std::string name;    // the full reference pushed
  std::string digest;  // its manifest digest
};

struct BuildResult {
  Status status;
  std::string build_id;
  std::optional<exporter::Image> image;  // the image (of the first platform, when several were built)
  /// A multi-platform (or attested) build's index, and its images, one per platform in the order asked.
  std::optional<oci::Descriptor> index;
  std::vector<exporter::Image> platform_images;
  std::vector<std::string> tags;  // normalized names given to the image
  /// What was pushed to registries: the layers leave compressed, so the digest is not the stored image's.
  std::vector<PushResult> pushed;
  std::vector<BaseImage> bases;
  std::vector<solver::StepReport> steps;
  std::optional<solver::StepFailure> failure;
  std::vector<std::string> warnings;
  std::vector<std::string> notes;  // what kiln did besides the build (an automatic collection)
  /// The build checks that found something (also among `warnings`), and, for a request with `call`, the answer:
  /// as JSON for tools (`--format json`, MCP) and as the text a person reads.
  std::vector<dockerfile::Finding> findings;
  Json call_json;
  std::string call_text;
  /// For call "outline": what the target takes, typed (call_json renders it).
  std::optional<dockerfile::Outline> outline;
};

/// A past build as kiln recorded it: what `kiln explain` and the explain_cache tool show.
struct BuildRecord {
  std::string id;
  std::string dockerfile, context;
  bool ok = false;
  std::string error;         // when it failed
  bool debug_state = false;  // the failed RUN step's file system is kept (kiln debug, run_in_failed_step)
  std::vector<BaseImage> bases;
  std::vector<solver::StepReport> steps;
};

/// An image as `kiln inspect` shows it.
struct ImageDetails {
  std::string digest;  // the manifest's, or the index's
  /// A multi-platform image asked for without a platform: its index, and the platforms the store holds.
  std::optional<oci::Index> index;
  std::vector<std::string> platforms;
  oci::Manifest manifest;
  oci::ImageConfig config;
  int64_t size = 0;  // config and layers
};

struct DebugRequest {
  std::string build_id;              // "": the latest failed build whose state is kept
  std::vector<std::string> command;  // empty: /bin/sh
  bool interactive = true;           // attached to our stdio; otherwise output goes to on_output
  std::function<void(int fd, std::string_view)> on_output;
  std::function<bool()> cancelled;
  int64_t memory_limit = 0;
  int64_t pids_limit = 0;
  /// Filled with the step's mounts that are not made again ("bind /src", "secret /run/secrets/x").
  std::vector<std::string>* left_out = nullptr;
};

struct PullRequest {
  std::string ref;
  std::string platform;  // "" is the host's (linux/amd64 here); "p1,p2" pulls each into the name's index
  progress::Sink* progress = nullptr;
  std::function<bool()> cancelled;
};

struct PushRequest {
  std::string ref;   // a local image
  std::string dest;  // where to push it; "" is the image's own name
  progress::Sink* progress = nullptr;
  std::function<bool()> cancelled;
};

struct ImageInfo {
  std::string name;    // familiar form: "app:1"
  std::string digest;  // manifest digest, or an index's for a multi-platform image
  int64_t size = 0;    // config + layers, compressed (of every platform held)
  int64_t created = 0;
  std::vector<std::string> platforms;  // "linux/amd64"; for an index, those whose image the store holds
};

struct RunRequest {
  std::string ref;
  std::string platform;  // which image of a multi-platform one ("" this host's); another architecture is emulated
  std::vector<std::string> command;  // empty: the image's entrypoint + cmd
  std::vector<std::string> env;      // extra "K=V"
  std::string network = "none";
  std::string user;                  // "" keeps the image's
  int64_t memory_limit = 0;          // bytes; 0: none
  int64_t pids_limit = 0;            // processes; 0: none
  std::string* limit_reached = nullptr;  // set when the command failed at one of those limits
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

/// A build context received as one file (standard input, a download): a tarball (plain or compressed) unpacked
/// into `dir`; anything else is a lone Dockerfile, returned, with `dir` left empty (as docker build takes them).
Result<std::optional<std::string>> UnpackContextFile(const std::string& file, const std::string& dir);

/// Whether a build context names a URL to fetch (git or http(s)) rather than a directory.
bool IsRemoteContext(const std::string& context);

/// A build context fetched from a URL, removed with this.
struct FetchedContext {
  std::unique_ptr<TempDir> dir;
  std::string context;                         // the checkout (of its subdir), or the unpacked tarball
  std::optional<std::string> dockerfile_text;  // a URL that held a lone Dockerfile
};

class Engine {
 public:
  /// Opens (creating if needed) the state under `options.data_root`, recovering from interrupted runs.
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine();

  BuildResult Build(const BuildRequest& request);
  Result<std::vector<ImageInfo>> Images();
  /// An image by name, familiar name or manifest digest (or a unique prefix of one), for `platform` when the name
  /// holds an index (by default this host's, or the index's only image).
  Result<exporter::Image> FindImage(const std::string& ref, const std::optional<oci::Platform>& platform = std::nullopt);
  /// The digest a name (or a digest, or a unique prefix of one) stands for in the store: a manifest or an index.
  /// A name with a digest ("app@sha256:...") stands for that digest only, whatever a record of the name says.
  Result<std::string> StoredDigest(const std::string& ref);
  /// The attestations (SBOM, provenance) the index `ref` names holds for its image `image_digest`; none when
  /// `ref` names a single image or the image has none.
  Result<std::vector<exporter::Attestation>> AttestationsOf(const std::string& ref, const std::string& image_digest);
  /// Copies the image an OCI layout directory names ("DIR", "DIR:TAG" or "DIR@DIGEST"; DIR alone must hold one
  /// image) into the store, kept under its digest, and returns that manifest digest.
  Result<std::string> ImportLayoutImage(const std::string& spec);
  /// An image's manifest and config; for a multi-platform image, its index unless `platform` picks one image.
  Result<ImageDetails> Inspect(const std::string& ref, const std::string& platform = "");
  /// Runs a container of the image and returns its exit code; its file system changes are discarded.
  Result<int> Run(const RunRequest& request);
  /// Makes an image of one layer from a root file system tarball (plain or compressed). With a platform, the
  /// image is that platform's in an index under `name`, beside the other platforms the name already holds.
  Result<exporter::Image> Import(const std::string& tarball, const std::string& name,
                                 const std::optional<oci::Platform>& platform = std::nullopt);
  /// Pulls an image (for one platform of an index) into the store under its name; layers already held are not
  /// fetched again, and nothing is stored unless its digest matches.
  Result<exporter::Image> Pull(const PullRequest& request);
  /// Pushes a local image: blobs the registry has are skipped, blobs another repository of it has are mounted.
  Result<PushResult> Push(const PushRequest& request);
  /// Checks the credentials against the registry, then stores them in docker's config.json.
  Status Login(const std::string& registry, const remote::Credentials& credentials);
  /// Forgets the registry's credentials in docker's config.json.
  Status Logout(const std::string& registry);
  /// Writes images to one archive at `path` ("-" is stdout): docker save's format, which is also an OCI layout.
  Status Save(const std::vector<std::string>& refs, const std::string& path);
  /// Loads the images of a docker save or OCI layout archive (plain or compressed; "-" is stdin), checking every
  /// blob against its digest; returns their names, or the manifest digest of an image without one.
  Result<std::vector<std::string>> Load(const std::string& path);
  /// Gives the image `ref` names another name. A name with a digest must name that image's digest.
  Status Tag(const std::string& ref, const std::string& name);
  Status RemoveImage(const std::string& ref);
  /// The entries of directory `path` in the image's file system (sorted; at most `limit`, `truncated` says more).
  Result<std::vector<FileEntry>> ListImageFiles(const std::string& ref, const std::string& path, size_t limit,
                                                bool* truncated);
  /// The first `max_bytes` of a file in the image (symlinks followed inside the image).
  Result<FileContent> ReadImageFile(const std::string& ref, const std::string& path, size_t max_bytes);

  /// Runs a command (default: a shell) in the file system a failed RUN step left (build "" is the latest kept),
  /// with the step's environment, working directory, user, network and cache/tmpfs mounts; what it changes is
  /// thrown away.
  Result<int> Debug(const DebugRequest& request);
  /// The files of a failed step's kept file system, as ListImageFiles and ReadImageFile show an image's.
  Result<std::vector<FileEntry>> ListFailedStepFiles(const std::string& build_id, const std::string& path,
                                                     size_t limit, bool* truncated);
  Result<FileContent> ReadFailedStepFile(const std::string& build_id, const std::string& path, size_t max_bytes);
  /// What changed from image `from` to image `to`, file by file (content, mode, owner, link target).
  Result<std::vector<FileChange>> DiffImages(const std::string& from, const std::string& to, size_t limit,
                                             bool* truncated);
  /// The build checks that need no base image, as the Dockerfile's `check` directive chooses them (a build, or
  /// `--call check`, runs them all); an error only when it cannot be read or parsed.
  Result<std::vector<dockerfile::Finding>> Lint(const std::string& dockerfile);
  /// A past build's record (steps, keys, cache status); "" is the last build.
  Result<BuildRecord> BuildReport(const std::string& build_id);
  /// What the store holds: images, build cache records, snapshots, blobs, and what a prune would free.
  Result<store::Usage> DiskUsage();
  /// Removes build cache the policy does not keep, and whatever only it needed. Images stay. Fails at once,
  /// saying so, while another build or run uses the store.
  Result<store::GcResult> Prune(const store::GcPolicy& policy);

  const std::string& data_root() const;
  /// How this kiln runs and stores file systems, in one line: "root, overlayfs", "rootless (...), overlayfs (...)".
  std::string RuntimeDescription() const;

 private:
  struct State;
  explicit Engine(std::unique_ptr<State> state);
  /// Build's work, under the store's shared lock.
  BuildResult BuildHoldingStore(const BuildRequest& request);
  /// Fetches a context IsRemoteContext names; errors name the URL.
  Result<FetchedContext> FetchContext(const std::string& url, const std::function<bool()>& cancelled);
  /// Records that `name` (normalized, as Reference::String gives it) names the manifest or index `digest`. A
  /// name with a digest is a promise that its content is exactly that digest: any other is refused, so that no
  /// archive, tag or import can make "app@sha256:X" stand for other content.
  Status NameImage(const std::string& name, const std::string& digest);
  /// Whether a successful build came out exactly as the last one recorded (a warm rebuild): then it is not
  /// recorded again, so that it writes nothing to the store, and `build_id` becomes the last build's. Sets
  /// `outcome`, the digest builds that came out the same share.
  bool SameAsLastBuild(const Json& record, bool id_is_ours, std::string& outcome, std::string& build_id);
  /// A multi-platform image: one image per platform and, for each, its attestations (none, or an SBOM and a
  /// provenance statement).
  struct MultiImage {
    std::vector<exporter::Image> images;
    std::vector<std::vector<exporter::Attestation>> attestations;  // empty, or one list per image
    std::string subject_name;  // the name statements give their subject (a tag), "" for none
    std::string media_type = oci::kMediaTypeIndex;
  };
  /// A stored index and every manifest it lists: the images, then their attestation manifests.
  struct IndexParts {
    oci::Descriptor index;
    std::vector<exporter::Image> manifests;
  };
  /// Stores the index of `image`: each image under its config's platform, each attestation manifest beside it.
  Result<IndexParts> PutIndex(const MultiImage& image);
  /// A stored index read back, every image of it held here (`what` names it in the error when one is not).
  Result<MultiImage> StoredIndex(const std::string& index_digest, const std::string& what);
  /// A multi-platform image as it leaves kiln: each image compressed (ForLeaving), attested again as it now is.
  Result<IndexParts> LeavingIndex(exporter::Exporter& leaving, const MultiImage& image);
  /// Pushes each manifest (blobs, then the manifest by digest) and then the index under `name`.
  Result<PushResult> PushIndex(remote::Registry& registry, const IndexParts& parts, const std::string& name,
                               progress::Sink* progress, int number);
  /// A --build-context value as the frontend takes it.
  Result<dockerfile::NamedContext> NamedContextOf(const std::string& name, const std::string& value);
  /// After a build failed for lack of space: removes what it cached (and what only that needed), so the next build
  /// has room; returns the build's error, saying so when the space could not be given back.
  Status GiveBackSpace(const BuildResult& failed);
  store::Collector MakeCollector();
  /// The store's size limit for automatic collection (kiln.toml in the data root); 0 for none.
  Result<int64_t> StoreLimit();
  /// After a build: collects the least recently used cache if the store is over its limit. Says what it did.
  std::string CollectIfOverLimit(const BuildResult& build);
  /// Keeps a failed RUN's file system (solver's StepFailure::state) as the build's debug state.
  /// False when it is not kept (little room left on the disk): then the snapshot is gone.
  bool KeepDebugState(const std::string& build_id, const solver::StepFailure& failure);
  Result<store::DebugState> FindDebugState(const std::string& build_id);
  /// A directory listing and a file read inside a mounted file system `root`; `what` names it in errors.
  Result<std::vector<FileEntry>> ListDirIn(const std::string& root, const std::string& what, const std::string& path,
                                           size_t limit, bool* truncated);
  Result<FileContent> ReadFileIn(const std::string& root, const std::string& what, const std::string& path,
                                 size_t max_bytes);
  /// A registry client for one operation, with the engine's insecure registries and registries.conf.
  Result<std::unique_ptr<remote::Registry>> NewRegistry(std::function<bool()> cancelled);
  /// Pull's and Push's work, shown as progress step `number`. REQUIRES: the store's shared lock held.
  Result<exporter::Image> PullImage(remote::Registry& registry, const std::string& ref, const std::string& platform,
                                    progress::Sink* progress, int number);
  /// A stored image as it leaves kiln (kiln push): its uncompressed layers gzipped, each once.
  Result<exporter::Image> LeavingImage(const exporter::Image& image);
  Result<PushResult> PushImage(remote::Registry& registry, const exporter::Image& image, const std::string& dest,
                               progress::Sink* progress, int number);
  /// Uploads the blobs `dest`'s repository lacks (mounting those another repository of its registry holds),
  /// several at once. `fetch` brings a blob missing from the local store (a layer of imported cache) first.
  Status PushBlobs(remote::Registry& registry, const oci::Reference& dest, const std::vector<oci::Descriptor>& blobs,
                   const std::function<Status(const oci::Descriptor&)>& fetch,
                   const std::function<void(const std::string& id, int64_t done, int64_t size)>& progress);
  /// After a successful solve: the image (names, archives, pushes), the cache exports and the file outputs.
  /// Progress steps it shows are numbered after `steps_shown`.
  /// Before solving: an error naming every platform whose RUN steps this machine cannot run (no emulator).
  Status CheckEmulators(const graph::Graph& graph, const std::vector<size_t>& targets);
  /// The Dockerfile a build read, for its provenance.
  struct BuildSource {
    std::string dockerfile_name, dockerfile;
    int64_t started = 0;
  };
  Status ExportBuild(const BuildRequest& req, const std::vector<dockerfile::BuildDefinition>& defs, solver::SolveReport& report,
                     const std::function<Result<remote::Registry*>()>& registry, int steps_shown,
                     std::optional<int64_t> epoch, const BuildSource& source, BuildResult& result);
  /// The attestations a build asked for, of the file system `def` made (`top`); `scanned` is the result of the SBOM
  /// generator's step, when one ran.
  Result<std::vector<exporter::Attestation>> Attest(const BuildRequest& req, const dockerfile::BuildDefinition& def,
                                                    store::SnapshotId top, std::optional<store::SnapshotId> scanned,
                                                    const BuildSource& source, std::optional<int64_t> epoch,
                                                    const std::string& build_id);
  /// --cache-from: the sources that could be read; a warning for each that could not (as BuildKit, the build
  /// goes on without it). An error only for a flag that cannot be right (a local src that is not a directory).
  Result<std::vector<std::unique_ptr<cache::RemoteSource>>> ImportCaches(
      const std::vector<cache::CacheSpec>& specs, const std::function<Result<remote::Registry*>()>& registry,
      std::vector<std::string>& warnings);
  /// --cache-to of one kind other than inline: writes `records` there.
  Status ExportCache(const cache::CacheSpec& spec, const std::vector<cache::ExportRecord>& records,
                     const std::function<Result<remote::Registry*>()>& registry,
                     const std::map<std::string, cache::RemoteSource*>& sources, progress::Sink* progress, int number);
  std::unique_ptr<State> s_;
};

/// The default data root: $KILN_ROOT, else /var/lib/kiln for root, else ~/.local/share/kiln.
std::string DefaultDataRoot();

}  // namespace kiln::api
