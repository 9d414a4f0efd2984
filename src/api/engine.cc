#include "api/engine.h"

#include "api/call.h"
#include "api/engine_state.h"
#include "api/sbom_generator.h"
#include "api/store_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <chrono>
#include <cstdlib>
#include <ctime>

#include "base/cleanup.h"
#include "base/digest.h"
#include "base/fs.h"
#include "base/pattern.h"
#include "base/text.h"
#include "base/userns.h"
#include "executor/emulation.h"
#include "executor/executor.h"
#include "executor/ssh_agent.h"
#include "frontend/dockerfile/convert.h"
#include "frontend/dockerfile/parser.h"
#include "oci/reference.h"
#include "remote/registry.h"
#include "snapshot/compress.h"
#include "snapshot/copy.h"
#include "snapshot/layer.h"
#include "snapshot/snapshotter.h"
#include "snapshot/unpack.h"
#include "store/content.h"
#include "store/lock.h"
#include "store/metadata.h"
#include "store/reserve.h"

namespace kiln::api {


namespace {

std::string NewBuildId() {
  static std::atomic<unsigned> counter{0};
  auto now = std::chrono::system_clock::now().time_since_epoch().count();
  return DigestHex(DigestOf(std::to_string(now) + "/" + std::to_string(getpid()) + "/" +
                            std::to_string(counter++))).substr(0, 20);
}

std::optional<int64_t> SourceDateEpoch(const std::map<std::string, std::string>& build_args) {
  std::string v;
  auto it = build_args.find("SOURCE_DATE_EPOCH");
  if (it != build_args.end()) {
    v = it->second;
  } else if (const char* env = getenv("SOURCE_DATE_EPOCH")) {
    v = env;
  }
  if (v.empty()) return std::nullopt;
  // Seconds since 1970, up to the last second of the year 9999 (what a timestamp in a config can spell).
  auto n = ParseDecimal(v, 253402300799);
  if (!n) return std::nullopt;
  return int64_t(*n);
}

Json StepsJson(const std::vector<solver::StepReport>& steps) {
  Json out = Json::array();
  for (auto& s : steps) {
    out.push_back({{"name", s.name}, {"digest", s.digest}, {"cache_key", s.cache_key}, {"cached", s.cached},
                   {"duration_ms", int64_t(s.duration * 1000)}, {"reason", s.cached ? "" : s.miss_reason}});
    if (!s.cache_source.empty()) out.back()["source"] = s.cache_source;
    if (!s.changes.empty()) out.back()["changes"] = s.changes;
  }
  return out;
}

/// The record Build wrote (RecordJson's shape), read back; a damaged one is an error, not a crash.
Result<BuildRecord> ParseBuildRecord(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) return Status::Error("the build record is damaged");
  BuildRecord r;
  r.id = j["id"].get<std::string>();
  r.dockerfile = j.value("dockerfile", "");
  r.context = j.value("context", "");
  r.ok = j.value("ok", false);
  r.error = j.value("error", "");
  r.debug_state = j.value("debug_state", false);
  for (auto& b : j.value("bases", Json::array())) r.bases.push_back({b.value("name", ""), b.value("digest", "")});
  for (auto& s : j.value("steps", Json::array())) {
    solver::StepReport step;
    step.name = s.value("name", "");
    step.digest = s.value("digest", "");
    step.cache_key = s.value("cache_key", "");
    step.cached = s.value("cached", false);
    step.duration = double(s.value("duration_ms", int64_t(0))) / 1000;
    step.miss_reason = s.value("reason", "");
    step.cache_source = s.value("source", "");
    for (auto& c : s.value("changes", Json::array()))
      if (c.is_string()) step.changes.push_back(c.get<std::string>());
    r.steps.push_back(std::move(step));
  }
  return r;
}

}  // namespace

Result<OutputSpec> OutputSpec::Parse(const std::string& s) {
  OutputSpec o;
  if (s.empty()) return Status::Error("--output: empty (a directory, or type=TYPE,dest=PATH)");
  if (s.find('=') == std::string::npos) {
    o.type = "local";
    o.dest = s;
    return o;
  }
  KILN_ASSIGN(auto attributes, ParseAttributes(s, "--output", "name"));
  auto boolean = [](const std::string& k, const std::string& v) -> Result<bool> {
    if (v == "true" || v == "1" || v.empty()) return true;
    if (v == "false" || v == "0") return false;
    return Status::Error("--output: " + k + " must be true or false, not \"" + v + "\"");
  };
  for (size_t i = 0; i < attributes.size(); i++) {
    auto& [k, v] = attributes[i];
    if (k == "type") {
      o.type = v;
    } else if (k == "dest") {
      o.dest = v;
    } else if (k == "name") {
      o.names.push_back(v);
    } else if (k == "push") {
      KILN_ASSIGN(o.push, boolean(k, v));
    } else if (k == "tar") {
      KILN_ASSIGN(o.tar, boolean(k, v));
    } else if (k == "compression") {
      KILN_TRY(snapshot::ParseCompression(v).status().Prefixed("--output"));
      o.compression = v;
    } else if (k == "compression-level") {
      auto level = ParseDecimal(v, 22);
      if (!level) return Status::Error("--output: compression-level must be 0 to 22, not \"" + v + "\"");
      o.compression_level = int(*level);
    } else if (k == "force-compression") {
      KILN_ASSIGN(o.force_compression, boolean(k, v));
    } else if (k == "oci-mediatypes") {
      KILN_ASSIGN(o.oci_mediatypes, boolean(k, v));
    } else if (k == "platform-split") {
      KILN_ASSIGN(o.platform_split, boolean(k, v));
    } else {
      return Status::Error("--output: unknown attribute \"" + k + "\" (type, dest, name, push, tar, compression, "
                           "compression-level, force-compression, oci-mediatypes, platform-split)");
    }
  }
  static const char* kTypes[] = {"image", "registry", "oci", "docker", "local", "tar"};
  if (std::find(std::begin(kTypes), std::end(kTypes), o.type) == std::end(kTypes))
    return Status::Error("--output: unknown type \"" + o.type + "\" (image, registry, oci, docker, local, tar)");
  if (o.type == "registry") o.push = true;
  if ((o.type == "image" || o.type == "registry") && !o.dest.empty())
    return Status::Error("--output type=" + o.type + " takes name=, not dest=");
  if (o.type == "registry" && o.names.empty()) return Status::Error("--output type=registry needs name=");
  if (o.push && o.names.empty()) return Status::Error("--output type=" + o.type + ",push=true needs name=");
  if (o.type != "image" && o.type != "registry" && o.dest.empty())
    return Status::Error("--output type=" + o.type + " needs dest=");
  if (!o.tar && o.type != "oci" && o.type != "docker") return Status::Error("--output: tar=false is for type=oci and type=docker");
  return o;
}

Result<PullPolicy> ParsePullPolicy(const std::string& s) {
  if (s == "missing") return PullPolicy::kMissing;
  if (s == "always" || s == "true" || s.empty()) return PullPolicy::kAlways;
  if (s == "never" || s == "false") return PullPolicy::kNever;
  return Status::Error("--pull: expected missing, always or never, not \"" + s + "\"");
}

Result<SecretSource> SecretSource::Parse(const std::string& s) {
  SecretSource src;
  std::string type;
  KILN_ASSIGN(auto attributes, ParseAttributes(s, "--secret"));
  for (auto& [k, v] : attributes) {
    if (k == "id") {
      src.id = v;
    } else if (k == "src" || k == "source") {
      src.file = v;
    } else if (k == "env") {
      src.env = v;
    } else if (k == "type") {
      if (v != "file" && v != "env") return Status::Error("--secret: unknown type \"" + v + "\" (file or env)");
      type = v;
    } else {
      return Status::Error("--secret: unknown attribute \"" + k + "\" (id, src, env, type)");
    }
  }
  if (src.id.empty()) return Status::Error("--secret: id= is required in \"" + s + "\"");
  if (!src.file.empty() && !src.env.empty()) return Status::Error("--secret " + src.id + ": give src= or env=, not both");
  if (src.file.empty() && src.env.empty()) {
    if (type == "file") {
      src.file = src.id;
    } else {
      src.env = src.id;
    }
  }
  if (type == "env" && !src.file.empty()) {  // type=env,src=NAME names the variable
    src.env = src.file;
    src.file.clear();
  }
  return src;
}

Result<std::string> SecretSource::Read() const {
  if (!env.empty()) {
    const char* v = getenv(env.c_str());
    if (!v) return Status::Error("secret " + id + ": environment variable " + env + " is not set");
    return std::string(v);
  }
  auto data = ReadFile(file);
  if (!data.ok()) return Status::Error("secret " + id + ": cannot read " + file + ": " + data.status().message());
  return *data;
}

std::string DefaultDataRoot() {
  if (const char* r = getenv("KILN_ROOT"); r && *r) return r;
  // Root's store; a plain user's kiln is root too, but in its own user namespace, and keeps its own store.
  if (geteuid() == 0 && !InUserNamespace()) return "/var/lib/kiln";
  const char* home = getenv("HOME");
  return std::string(home ? home : "/tmp") + "/.local/share/kiln";
}

Engine::Engine(std::unique_ptr<State> state) : s_(std::move(state)) {}
Engine::~Engine() = default;

const std::string& Engine::data_root() const { return s_->root; }

std::string Engine::RuntimeDescription() const {
  return PrivilegeDescription() + ", snapshotter " + s_->snapshotter->Describe() + ", runtime " + s_->executor->runtime();
}

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  auto s = std::make_unique<State>();
  s->root = options.data_root.empty() ? DefaultDataRoot() : options.data_root;
  s->insecure_registries = options.insecure_registries;
  // Rootless, the store is the user's alone (0700): its files carry subordinate ids other users' processes could
  // otherwise reach.
  KILN_TRY(MakeDirs(s->root, InUserNamespace() ? 0700 : 0711));
  if (InUserNamespace()) chmod(s->root.c_str(), 0700);
  char real[PATH_MAX];
  if (!realpath(s->root.c_str(), real)) return ErrnoError("resolve", s->root);
  s->root = real;
  // Recovery (and making a new store's directories) only when a kiln process may have died holding the store.
  bool recover = false;
  KILN_ASSIGN(s->mark, store::ProcessMark::Open(s->root, !options.makes_nothing, recover));
  s->content = std::make_unique<store::ContentStore>(s->root);
  if (recover) KILN_TRY(s->content->Init());
  store::SpaceReserve(s->root).Restore();
  KILN_ASSIGN(s->metadata, store::Metadata::Open(JoinPath(s->root, "metadata.db")));
  s->executor = std::make_unique<executor::Executor>(JoinPath(s->root, "run"), options.runtime);
  KILN_ASSIGN(s->config, LoadStoreConfig(s->root));
  std::string driver = s->config.snapshot_driver;
  if (const char* forced = getenv("KILN_SNAPSHOTTER"); forced && *forced) {
    if (!snapshot::Snapshotter::IsDriverName(forced)) {
      return Status::Error(std::string("KILN_SNAPSHOTTER=") + forced +
                           ": no such snapshotter: use auto, overlayfs, fuse-overlayfs or native");
    }
    driver = forced;
  }
  s->snapshotter = std::make_unique<snapshot::Snapshotter>(s->root, s->metadata.get(), driver);
  s->snapshotter->set_layer_limits(s->config.layers);
  if (recover) {
    // Containers of killed kiln processes go first: they may still use snapshots that recovery removes.
    s->executor->Recover();
    KILN_TRY(s->snapshotter->Init());
    s->mark->Recovered();
  }
  s->cache_mounts = std::make_unique<store::CacheMounts>(s->root);
  return std::unique_ptr<Engine>(new Engine(std::move(s)));
}

Result<std::string> Engine::StoredDigest(const std::string& ref) {
  std::string needle = ref;
  if (needle.rfind("sha256:", 0) == 0 || (needle.size() >= 4 && needle.find_first_not_of("0123456789abcdef") == std::string::npos)) {
    // A manifest (or index) digest or a prefix of one.
    std::string hex = DigestHex(needle);
    KILN_ASSIGN(auto images, s_->metadata->ListImages());
    std::string found;
    for (auto& img : images) {
      if (DigestHex(img.digest).rfind(hex, 0) == 0) {
        if (!found.empty() && found != img.digest) return Status::Error("ambiguous image id \"" + ref + "\"");
        found = img.digest;
      }
    }
    if (!found.empty()) return found;
    if (needle.rfind("sha256:", 0) == 0) return Status::Error("image \"" + ref + "\" not found in the local store");
  }
  KILN_ASSIGN(oci::Reference r, oci::ParseReference(ref));
  KILN_ASSIGN(auto rec, s_->metadata->GetImage(r.String()));
  // A record that says a pinned name is other content (one a store written before names were checked may hold)
  // is not believed: the digest is what the name means.
  if (rec && (r.digest.empty() || rec->digest == r.digest)) return rec->digest;
  if (!r.digest.empty() && s_->content->Has(r.digest)) return r.digest;
  return Status::Error("image \"" + ref + "\" not found in the local store (kiln pull " + r.Familiar() + ")");
}

Result<exporter::Image> Engine::FindImage(const std::string& ref, const std::optional<oci::Platform>& platform) {
  KILN_ASSIGN(std::string digest, StoredDigest(ref));
  return exporter::LoadPlatformImage(*s_->content, digest, platform, "image \"" + ref + "\"");
}

BuildResult Engine::Build(const BuildRequest& request) {
  // A context named by URL is fetched first; a relative -f then names a file of it, as docker build reads it.
  std::optional<FetchedContext> fetched;
  BuildRequest remote_request;
  if (IsRemoteContext(request.context)) {
    auto got = FetchContext(request.context, request.cancelled);
    if (!got.ok()) {
      BuildResult failed;
      failed.status = got.status();
      return failed;
    }
    fetched = std::move(*got);
    remote_request = request;
    remote_request.context = fetched->context;
    if (!remote_request.dockerfile_text) remote_request.dockerfile_text = fetched->dockerfile_text;
    if (!remote_request.dockerfile.empty() && remote_request.dockerfile[0] != '/' && !fetched->dockerfile_text) {
      remote_request.dockerfile = JoinPath(fetched->context, remote_request.dockerfile);
    }
  }
  const BuildRequest& req = fetched ? remote_request : request;
  BuildResult result = BuildHoldingStore(req);
  if (result.status.IsNoSpace()) result.status = GiveBackSpace(result);
  std::string collected = CollectIfOverLimit(result);
  if (!collected.empty()) result.notes.push_back(collected);
  return result;
}

Status Engine::GiveBackSpace(const BuildResult& failed) {
  // What this build made (the results of the steps it ran) holds the disk full; keeping it as cache would fail the
  // next build too. Other records stay. Only when no other kiln process uses the store, as for kiln prune.
  store::GcPolicy policy;
  for (auto& step : failed.steps)
    if (!step.cached && !step.cache_key.empty()) policy.only_keys.insert(step.cache_key);
  auto exclusive = store::StoreLock::Exclusive(s_->root);
  if (!exclusive.ok()) {
    return Status::NoSpace(failed.status.message() +
                           " (this build's results are kept while other kiln processes use the store: kiln prune frees them)");
  }
  store::SpaceReserve reserve(s_->root);
  reserve.Release();  // room for the metadata database to record the deletions
  auto freed = MakeCollector().Collect(policy);
  reserve.Restore();
  if (!freed.ok()) return Status::NoSpace(failed.status.message() + " (giving back space: " + freed.status().message() + ")");
  return failed.status;
}

Result<dockerfile::NamedContext> Engine::NamedContextOf(const std::string& name, const std::string& value) {
  using Kind = dockerfile::NamedContext::Kind;
  if (name.empty()) return Status::Error("a build context needs a name (NAME=VALUE)");
  if (value.rfind("docker-image://", 0) == 0) {
    std::string ref = value.substr(strlen("docker-image://"));
    KILN_TRY(oci::ParseReference(ref).status());
    return dockerfile::NamedContext{Kind::kImage, ref, {}};
  }
  if (value.rfind("oci-layout://", 0) == 0) {
    KILN_ASSIGN(std::string digest, ImportLayoutImage(value.substr(strlen("oci-layout://"))));
    return dockerfile::NamedContext{Kind::kImage, digest, {}, true};
  }
  if (value.find("://") != std::string::npos) {
    return Status::Error("\"" + value + "\": only a directory, docker-image:// and oci-layout:// are supported");
  }
  char real[PATH_MAX];
  if (!realpath(value.c_str(), real) || !IsDirectory(real)) return Status::Error("\"" + value + "\" is not a directory");
  dockerfile::NamedContext named{Kind::kDirectory, real, {}};
  std::string ignore = JoinPath(real, ".dockerignore");
  if (auto text = ReadFile(ignore); text.ok()) {
    KILN_ASSIGN(PatternMatcher m, PatternMatcher::Parse(*text, ignore));
    named.exclude_patterns = m.Describe();
  }
  return named;
}

BuildResult Engine::BuildHoldingStore(const BuildRequest& req) {
  BuildResult result;
  if (!req.call.empty() && req.call != "check" && req.call != "targets" && req.call != "outline") {
    result.status = Status::Error("--call: unknown request \"" + req.call + "\" (build, check, targets or outline)");
    return result;
  }
  result.build_id = req.build_id.empty() ? NewBuildId() : req.build_id;
  const int64_t started = time(nullptr);
  auto fail = [&](Status st) {
    result.status = st;
    return result;
  };
  auto in_use = store::StoreLock::Shared(s_->root);  // no collection while the build uses snapshots and blobs
  if (!in_use.ok()) return fail(in_use.status());
  char real[PATH_MAX];
  if (!realpath(req.context.c_str(), real) || !IsDirectory(real)) {
    return fail(Status::Error("build context \"" + req.context + "\" is not a directory"));
  }
  std::string context = real;
  std::string display = "Dockerfile";
  // As docker and BuildKit: without -f, "Dockerfile", else "dockerfile" when only that one is there.
  if (req.dockerfile.empty() && !req.dockerfile_text && !PathExists(JoinPath(context, display)) &&
      PathExists(JoinPath(context, "dockerfile"))) {
    display = "dockerfile";
  }
  std::string dockerfile = req.dockerfile.empty() || req.dockerfile_text ? JoinPath(context, display) : req.dockerfile;
  auto text = req.dockerfile_text ? Result<std::string>(*req.dockerfile_text) : ReadFile(dockerfile);
  if (!text.ok()) return fail(Status::Error("cannot read Dockerfile " + dockerfile + ": no such file or not readable"));
  if (!req.dockerfile.empty() && !req.dockerfile_text) display = req.dockerfile;
  auto df = dockerfile::Parse(*text, display);
  if (!df.ok()) {
    // As BuildKit: the checks of the instructions before the line that cannot be parsed are reported with it.
    if (auto before = dockerfile::ParseBeforeError(*text, display, df.status()); before) {
      if (auto checks = CheckConfigOf(*before, req.build_args); checks.ok()) result.findings = FindingsOf(*before, {}, *checks);
    }
    for (auto& f : result.findings) result.warnings.push_back(dockerfile::FormatFinding(f));
    if (req.call == "check") {
      result.call_json = CheckJson(result.findings, display, *text, df.status());
      result.call_text = CheckText(result.findings, display, *text);
    }
    return fail(dockerfile::WithQuotedSource(df.status(), display, *text));
  }
  if (req.call == "targets") {
    auto targets = dockerfile::ListTargets(*df);
    result.call_json = TargetsJson(targets, display, *text);
    result.call_text = TargetsText(targets);
    return result;
  }
  auto checks = CheckConfigOf(*df, req.build_args);  // build checks run with every build, as BuildKit's
  if (!checks.ok()) return fail(checks.status());

  std::vector<std::string> excludes;
  for (const std::string& ignore : {dockerfile + ".dockerignore", JoinPath(context, ".dockerignore")}) {
    auto ig = ReadFile(ignore);
    if (!ig.ok()) continue;
    auto m = PatternMatcher::Parse(*ig, ignore);
    if (!m.ok()) return fail(m.status());
    excludes = m->Describe();
    break;
  }

  for (auto& t : req.tags) {
    auto r = oci::ParseReference(t);
    if (!r.ok()) return fail(r.status().Prefixed("-t"));
    if (!r->digest.empty()) {
      return fail(Status::Error("-t " + r->Familiar() + ": a tag cannot name a digest (the build decides the image's digest)"));
    }
    result.tags.push_back(r->String());
  }

  dockerfile::ConvertOptions co;
  co.context_dir = context;
  co.exclude_patterns = excludes;
  co.build_args = req.build_args;
  for (auto& [name, value] : req.build_contexts) {
    auto named = NamedContextOf(name, value);
    if (!named.ok()) return fail(named.status().Prefixed("--build-context " + name));
    co.named_contexts[dockerfile::NamedContextKey(name)] = *named;
  }
  co.target = req.target;
  co.network = req.network;
  co.container = req.container;
  co.no_cache_stages.insert(req.no_cache_filter.begin(), req.no_cache_filter.end());
  co.epoch = SourceDateEpoch(req.build_args);
  // Base images come from the local store, or from their registry as --pull says; each is shown as a step
  // before the solver's own.
  std::unique_ptr<remote::Registry> registry;
  auto get_registry = [&]() -> Result<remote::Registry*> {
    if (!registry) {
      KILN_ASSIGN(registry, NewRegistry(req.cancelled));
    }
    return registry.get();
  };
  if (!req.provenance.empty() && req.provenance != "min" && req.provenance != "max")
    return fail(Status::Error("--provenance: mode must be min or max, not \"" + req.provenance + "\""));
  auto parsed_platforms = oci::Platform::ParseList(req.platforms);
  if (!parsed_platforms.ok()) return fail(parsed_platforms.status().Prefixed("--platform"));
  std::vector<oci::Platform> platforms = *parsed_platforms;
  if (platforms.empty()) platforms.push_back(oci::Platform::Host());
  co.platform = platforms[0];
  co.name_platform = platforms.size() > 1;
  int steps_shown = 0;
  std::map<std::string, exporter::Image> resolved;  // a base named twice is pulled once, per platform
  const oci::Platform host = oci::Platform::Host();
  co.resolve = [&](const std::string& ref, const oci::Platform& platform) -> Result<dockerfile::ResolvedImage> {
    std::string key = ref + "\n" + platform.ToString();
    auto known = resolved.find(key);
    if (known == resolved.end()) {
      // For this host, a stored image of the name serves whatever its platform says (the build checks warn); for
      // another platform, only that platform's image does.
      std::optional<oci::Platform> wanted;
      if (!(platform == host)) wanted = platform;
      Result<exporter::Image> img = Status::Error("");
      if (req.pull != PullPolicy::kAlways) img = FindImage(ref, wanted);
      if (!img.ok() && req.pull == PullPolicy::kNever) return img.status().Prefixed("--pull=never");
      if (!img.ok()) {
        KILN_ASSIGN(remote::Registry * r, get_registry());
        KILN_ASSIGN(img, PullImage(*r, ref, platform.ToString(), req.progress, ++steps_shown));
      }
      known = resolved.emplace(key, *img).first;
      result.bases.push_back({ref, img->descriptor.digest});
    }
    return dockerfile::ResolvedImage{known->second.descriptor.digest, known->second.config};
  };
  co.all_stages = req.call == "check" && req.target.empty();  // checking without a target checks every stage
  std::vector<dockerfile::Finding> lowered;
  auto def = dockerfile::Convert(*df, co, &lowered);
  if (def.ok()) lowered = def->findings;
  // A file that could not be lowered is still answered with what the checks found up to the error, as BuildKit's.
  result.findings = FindingsOf(*df, lowered, *checks, def.ok() && req.call != "check" ? &def->lowered_lines : nullptr);
  Status violation = LintViolation(result.findings, *checks, display);
  if (req.call == "check") {
    result.call_json = CheckJson(result.findings, display, *text, def.ok() ? violation : def.status());
    result.call_text = CheckText(result.findings, display, *text);
  }
  if (!def.ok()) {
    for (auto& f : result.findings) result.warnings.push_back(dockerfile::FormatFinding(f));
    return fail(dockerfile::WithQuotedSource(def.status(), display, *text));
  }
  if (req.call == "check") return result;
  result.warnings = def->warnings;
  if (req.call == "outline") {
    result.call_json = OutlineJson(def->outline, display, *text);
    result.call_text = OutlineText(def->outline);
    result.outline = def->outline;
    return result;
  }
  for (auto& f : result.findings) result.warnings.push_back(dockerfile::FormatFinding(f));
  if (!violation.ok()) return fail(dockerfile::WithQuotedSource(violation, display, *text));

  solver::Solver solver(s_->content.get(), s_->metadata.get(), s_->snapshotter.get(), s_->executor.get(),
                        s_->cache_mounts.get());
  solver::SolveOptions so;
  so.no_cache = req.no_cache;
  so.max_parallelism = req.max_parallelism;
  so.memory_limit = req.memory_limit;
  so.cgroup_parent = req.cgroup_parent;
  so.pids_limit = req.pids_limit;
  for (auto& a : req.allow) {
    if (a == "security.insecure") {
      so.allow_insecure = true;
    } else if (a == "device") {
      so.allow_devices = true;
    } else if (a != "network.host") {  // kiln's RUN steps may use the host's network unless --network none
      return fail(Status::Error("--allow: unknown entitlement \"" + a + "\" (security.insecure, network.host, device)"));
    }
  }
  auto ssh_agents = executor::SshAgents::Start(req.ssh);  // stopped (ours) when the build ends
  if (!ssh_agents.ok()) return fail(ssh_agents.status());
  so.ssh_agents = (*ssh_agents)->sockets();
  so.secrets = req.secrets;
  progress::OffsetSink after_pulls(req.progress, steps_shown);
  so.progress = &after_pulls;
  so.cancelled = req.cancelled;
  auto imported = ImportCaches(req.cache_from, get_registry, result.warnings);
  if (!imported.ok()) return fail(imported.status());
  for (auto& source : *imported) so.remote_caches.push_back(source.get());
  // Each further platform is lowered as its own graph, then merged into the first: the steps that do not depend on
  // the target platform (a stage FROM --platform=$BUILDPLATFORM) are one vertex, run once for all.
  std::vector<dockerfile::BuildDefinition> defs = {std::move(*def)};
  for (size_t i = 1; i < platforms.size(); i++) {
    dockerfile::ConvertOptions other = co;
    other.platform = platforms[i];
    auto more = dockerfile::Convert(*df, other);
    if (!more.ok()) return fail(dockerfile::WithQuotedSource(more.status(), display, *text));
    std::vector<size_t> where = defs[0].graph.Merge(more->graph);
    more->result = where.at(more->result);
    more->base_vertex = where.at(more->base_vertex);
    for (auto& h : more->history)
      if (h.vertex) h.vertex = where.at(*h.vertex);
    for (auto& [name, vertex] : more->sbom_extras) vertex = where.at(vertex);
    defs.push_back(std::move(*more));
  }
  if (req.sbom && !req.sbom_generator.empty()) {
    // The generator runs where kiln runs, as a step of each image's own.
    auto generator = co.resolve(req.sbom_generator, host);
    if (!generator.ok()) return fail(generator.status().Prefixed("SBOM generator " + req.sbom_generator));
    for (auto& d : defs) {
      auto scan = AddSbomGenerator(defs[0].graph, d, req.sbom_generator, *generator, d.config.platform.ToString());
      if (!scan.ok()) return fail(scan.status());
      d.sbom_scan = *scan;
    }
  }
  for (size_t i = 1; i < defs.size(); i++) defs[i].graph = defs[0].graph;
  for (auto& d : defs)
    for (auto& [key, value] : req.labels) d.config.config.labels[key] = value;  // --label, over LABEL
  std::vector<size_t> targets;
  for (auto& d : defs) {
    targets.push_back(d.result);
    if (d.sbom_scan) targets.push_back(*d.sbom_scan);
  }
  if (Status emulated = CheckEmulators(defs[0].graph, targets); !emulated.ok()) return fail(emulated);
  solver::SolveReport report = solver.Solve(defs[0].graph, targets, so);
  result.steps = report.steps;
  result.failure = report.failure;
  if (report.failure && !KeepDebugState(result.build_id, *report.failure)) result.failure->state = 0;
  Json bases = Json::array();
  for (auto& b : result.bases) bases.push_back({{"name", b.name}, {"digest", b.digest}});
  Json record = {{"id", result.build_id}, {"dockerfile", dockerfile}, {"context", context},
                 {"ok", report.status.ok()}, {"bases", bases}, {"steps", StepsJson(report.steps)}};
  if (!report.status.ok()) record["error"] = report.status.message();
  if (result.failure && result.failure->state) record["debug_state"] = true;  // kiln debug can step into it
  std::string outcome;
  if (!SameAsLastBuild(record, req.build_id.empty(), outcome, result.build_id)) {
    (void)s_->metadata->AddBuild({result.build_id, int64_t(time(nullptr)), DumpLenient(record), outcome});
  }
  if (!report.status.ok()) return fail(dockerfile::WithQuotedSource(report.status, display, *text));

  Status exported = ExportBuild(req, defs, report, get_registry, after_pulls.highest(), co.epoch,
                                {display, *text, started}, result);
  if (!exported.ok()) return fail(exported);
  return result;
}

Status Engine::CheckEmulators(const graph::Graph& graph, const std::vector<size_t>& targets) {
  std::vector<bool> needed(graph.vertices().size(), false);
  for (size_t t : targets) needed[t] = true;
  std::set<std::string> lacking;
  for (size_t i = graph.vertices().size(); i-- > 0;) {
    if (!needed[i]) continue;
    for (size_t in : graph.at(i).inputs) needed[in] = true;
    auto* exec = std::get_if<graph::ExecOp>(&graph.at(i).op);
    if (!exec || exec->platform.empty()) continue;
    auto platform = oci::Platform::Parse(exec->platform);
    if (platform.ok() && !executor::CanRun(*platform)) lacking.insert(platform->ToString());
  }
  if (lacking.empty()) return Status::Ok();
  std::string list;
  for (auto& p : lacking) list += (list.empty() ? "" : ", ") + p;
  return Status::Error("this " + oci::Platform::Host().ToString() + " machine cannot run the RUN steps for " + list +
                       ": no emulator is registered for " + (lacking.size() == 1 ? "it" : "them") +
                       " (install qemu-user-static and run kiln setup-binfmt)");
}

bool Engine::SameAsLastBuild(const Json& record, bool id_is_ours, std::string& outcome, std::string& build_id) {
  // What the build came to, without what differs each time (its id, how long each step took).
  Json same = record;
  same.erase("id");
  for (auto& step : same["steps"]) step.erase("duration_ms");
  outcome = DigestOf(DumpLenient(same));
  // Failed builds are always recorded: `kiln debug` finds the state a failure left by the build's own id. And a
  // caller that gave the id will ask for the build by it.
  if (!id_is_ours || !record.value("ok", false)) return false;
  auto last = s_->metadata->GetBuild("");
  if (!last.ok() || !*last || (*last)->outcome != outcome) return false;
  build_id = (*last)->id;
  return true;
}

Result<std::vector<ImageInfo>> Engine::Images() {
  KILN_ASSIGN(auto records, s_->metadata->ListImages());
  std::vector<ImageInfo> out;
  for (auto& r : records) {
    ImageInfo info;
    auto ref = oci::ParseReference(r.name);
    info.name = ref.ok() ? ref->Familiar() : r.name;
    info.digest = r.digest;
    info.created = r.created;
    auto add = [&](const Result<exporter::Image>& img) {
      if (!img.ok()) return;
      info.size += img->manifest.config.size;
      for (auto& l : img->manifest.layers) info.size += l.size;
      info.platforms.push_back(img->config.platform.Normalized().ToString());
    };
    auto text = s_->content->Read(r.digest);
    if (text.ok() && oci::IsIndexDocument(*text)) {
      auto index = oci::IndexFromJson(*text);
      if (index.ok())
        for (auto& m : exporter::IndexImages(*index))
          if (s_->content->Has(m.digest)) add(exporter::LoadImage(*s_->content, m.digest));
    } else if (text.ok()) {
      add(exporter::LoadImage(*s_->content, r.digest, *text));  // the manifest is read once
    }
    out.push_back(info);
  }
  return out;
}

Result<ImageDetails> Engine::Inspect(const std::string& ref, const std::string& platform) {
  std::optional<oci::Platform> wanted;
  if (!platform.empty()) {
    KILN_ASSIGN(wanted, oci::Platform::Parse(platform));
  } else {
    KILN_ASSIGN(std::string digest, StoredDigest(ref));
    KILN_ASSIGN(std::string text, s_->content->Read(digest));
    if (oci::IsIndexDocument(text)) {
      ImageDetails d;
      d.digest = digest;
      KILN_ASSIGN(d.index, oci::IndexFromJson(text));
      d.size = int64_t(text.size());
      for (auto& m : exporter::IndexImages(*d.index)) {
        auto img = exporter::LoadImage(*s_->content, m.digest);
        if (!img.ok()) continue;
        d.platforms.push_back(m.platform->Normalized().ToString());
        d.size += img->descriptor.size + img->manifest.config.size;
        for (auto& l : img->manifest.layers) d.size += l.size;
      }
      return d;
    }
  }
  KILN_ASSIGN(exporter::Image img, FindImage(ref, wanted));
  ImageDetails d;
  d.digest = img.descriptor.digest;
  d.manifest = img.manifest;
  d.config = img.config;
  d.size = img.manifest.config.size;
  for (auto& l : img.manifest.layers) d.size += l.size;
  return d;
}

Result<int> Engine::Run(const RunRequest& req) {
  KILN_ASSIGN(store::StoreLock in_use, store::StoreLock::Shared(s_->root));  // no collection meanwhile
  std::optional<oci::Platform> platform;
  if (!req.platform.empty()) {
    auto parsed = oci::Platform::Parse(req.platform);
    if (!parsed.ok()) return parsed.status().Prefixed("--platform");
    platform = *parsed;
  }
  KILN_ASSIGN(exporter::Image img, FindImage(req.ref, platform));
  if (!executor::CanRun(img.config.platform)) {
    return Status::Error("image \"" + req.ref + "\" is for " + img.config.platform.Normalized().ToString() +
                         ", which this machine cannot run: no emulator is registered (install qemu-user-static and "
                         "run kiln setup-binfmt)");
  }
  KILN_ASSIGN(store::SnapshotId top,
              snapshot::UnpackImage(img.manifest, img.config, *s_->content, *s_->metadata, *s_->snapshotter));
  const oci::ContainerConfig& cc = img.config.config;
  executor::ExecSpec spec;
  if (!req.command.empty()) {
    spec.args = cc.entrypoint.value_or(std::vector<std::string>{});
    spec.args.insert(spec.args.end(), req.command.begin(), req.command.end());
  } else {
    spec.args = cc.entrypoint.value_or(std::vector<std::string>{});
    auto cmd = cc.cmd.value_or(std::vector<std::string>{});
    spec.args.insert(spec.args.end(), cmd.begin(), cmd.end());
  }
  if (spec.args.empty()) return Status::Error("no command specified: the image has no ENTRYPOINT or CMD");
  spec.env = cc.env;
  if (!cc.GetEnv("PATH")) spec.env.insert(spec.env.begin(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  for (auto& e : req.env) spec.env.push_back(e);
  spec.cwd = cc.working_dir.empty() ? "/" : cc.working_dir;
  spec.user = req.user.empty() ? cc.user : req.user;
  spec.network = req.network;
  spec.memory_limit = req.memory_limit;
  spec.pids_limit = req.pids_limit;
  spec.interactive = req.interactive;
  spec.hostname = "kiln";
  // The container writes into a throwaway layer on top of the image, discarded when `active` goes (after the
  // mount, declared after it, is gone).
  KILN_ASSIGN(snapshot::ActiveSnapshot active, s_->snapshotter->Prepare(top));
  KILN_ASSIGN(snapshot::Mount root, s_->snapshotter->MountActive(active));
  executor::ExecIO io;
  io.on_output = req.on_output;
  io.cancelled = req.cancelled;
  io.limit_reached = req.limit_reached;
  return s_->executor->Run(root.path(), spec, io);
}

Result<exporter::Image> Engine::Import(const std::string& tarball, const std::string& name,
                                       const std::optional<oci::Platform>& platform) {
  KILN_ASSIGN(store::StoreLock in_use, store::StoreLock::Shared(s_->root));  // no collection meanwhile
  KILN_ASSIGN(oci::Reference ref, oci::ParseReference(name));
  if (!PathExists(tarball)) return Status::Error("import: " + tarball + ": no such file");
  // Until it is committed the unpacked snapshot discards itself: a failure (a full disk) takes it away.
  KILN_ASSIGN(snapshot::ActiveSnapshot active, s_->snapshotter->Prepare(0));
  KILN_TRY(snapshot::ApplyLayer(tarball, active.diff_dir, s_->snapshotter->layer_limits()).Prefixed("import " + tarball));
  KILN_TRY(s_->snapshotter->Commit(active));
  // Committed, it stays only if the chain names it; a failure before that removes it.
  Cleanup discard([&] { (void)s_->snapshotter->Remove(active.id); });
  // Stored uncompressed, as a build's layers are: compressed when it leaves kiln.
  snapshot::LayerOptions stored;
  stored.compression.kind = snapshot::Compression::kUncompressed;
  exporter::Exporter exp(s_->content.get(), s_->metadata.get(), s_->snapshotter.get(), stored);
  KILN_ASSIGN(store::LayerRecord layer, exp.Layer(active.id));
  // The same rootfs imported again reuses the snapshot unpacked the first time.
  store::SnapshotId top = active.id;
  KILN_ASSIGN(auto existing, s_->metadata->GetChain(layer.diff_id));
  if (existing && *existing != active.id && s_->metadata->GetSnapshot(*existing).ok()) {
    top = *existing;
  } else {
    KILN_TRY(s_->metadata->SetChain(layer.diff_id, active.id));
    discard.Dismiss();
  }
  exporter::ImageSpec spec;
  spec.config.created = oci::FormatTime(time(nullptr));
  spec.config.platform = platform.value_or(oci::Platform::Host());
  spec.config.config.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  spec.top = top;
  spec.reuse_blobs = true;
  oci::HistoryEntry h;
  h.created = spec.config.created;
  h.created_by = "kiln import " + BaseName(tarball);
  h.comment = "imported from a root file system tarball";
  spec.history.push_back({h, size_t(1), std::nullopt});
  KILN_ASSIGN(exporter::Image image, exp.Commit(spec));
  if (!platform) {
    KILN_TRY(NameImage(ref.String(), image.descriptor.digest).Prefixed("import " + ref.Familiar()));
    return image;
  }
  // One platform of a multi-platform image: it joins (or replaces its platform in) what the name holds.
  std::vector<exporter::Image> images;
  auto held = StoredDigest(ref.String());
  if (held.ok()) {
    auto text = s_->content->Read(*held);
    if (text.ok() && oci::IsIndexDocument(*text)) {
      KILN_ASSIGN(oci::Index index, oci::IndexFromJson(*text));
      for (auto& m : exporter::IndexImages(index)) {
        auto other = exporter::LoadImage(*s_->content, m.digest);
        if (other.ok()) images.push_back(*other);
      }
    } else if (text.ok()) {
      auto other = exporter::LoadImage(*s_->content, *held);
      if (other.ok()) images.push_back(*other);
    }
  }
  oci::Platform mine = spec.config.platform.Normalized();
  std::erase_if(images, [&](const exporter::Image& i) { return i.config.platform.Normalized() == mine; });
  images.push_back(image);
  KILN_ASSIGN(IndexParts index, PutIndex({images, {}, "", oci::kMediaTypeIndex}));
  KILN_TRY(NameImage(ref.String(), index.index.digest).Prefixed("import " + ref.Familiar()));
  return image;
}

Result<Engine::IndexParts> Engine::PutIndex(const MultiImage& image) {
  oci::Index index;
  index.media_type = image.media_type;
  IndexParts parts;
  for (auto& i : image.images) {
    oci::Descriptor d = i.descriptor;
    d.platform = i.config.platform.Normalized();
    index.manifests.push_back(d);
    parts.manifests.push_back(i);
  }
  // BuildKit's layout: the attestation manifests after the images, each pointing at its image.
  for (size_t i = 0; i < image.attestations.size() && i < image.images.size(); i++) {
    if (image.attestations[i].empty()) continue;
    KILN_ASSIGN(auto made, exporter::PutAttestationManifest(*s_->content, image.images[i], image.subject_name,
                                                           image.attestations[i]));
    index.manifests.push_back(made.second);
    parts.manifests.push_back(made.first);
  }
  KILN_ASSIGN(parts.index, s_->content->Put(index.media_type, oci::Serialize(oci::ToJson(index))));
  return parts;
}

Status Engine::Tag(const std::string& ref, const std::string& name) {
  KILN_ASSIGN(std::string digest, StoredDigest(ref));  // a multi-platform image is tagged whole
  KILN_ASSIGN(oci::Reference r, oci::ParseReference(name));
  return NameImage(r.String(), digest).Prefixed("tag " + r.Familiar());
}

Status Engine::NameImage(const std::string& name, const std::string& digest) {
  KILN_ASSIGN(oci::Reference r, oci::ParseReference(name));
  if (!r.digest.empty() && r.digest != digest) {
    return Status::Error("the name pins digest " + r.digest + ", but the image is " + digest +
                         " (a name with @digest must name exactly that content)");
  }
  return s_->metadata->SetImage(name, digest);
}

Status Engine::RemoveImage(const std::string& ref) {
  KILN_ASSIGN(oci::Reference r, oci::ParseReference(ref));
  KILN_ASSIGN(auto rec, s_->metadata->GetImage(r.String()));
  if (!rec) return Status::Error("image \"" + ref + "\" not found in the local store");
  return s_->metadata->RemoveImage(r.String());
}

namespace {

FileEntry EntryOf(const std::string& name, const struct stat& st, const std::string& host_path) {
  FileEntry e;
  e.name = name;
  e.type = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "symlink" : "other";
  e.size = S_ISREG(st.st_mode) ? st.st_size : 0;
  e.mode = st.st_mode & 07777;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlink(host_path.c_str(), target, sizeof target - 1);
    if (n >= 0) e.link_target.assign(target, size_t(n));
  }
  return e;
}

/// Every path below `root` with what identifies its content, for diffs.
void Fingerprints(const std::string& root, const std::string& rel, std::map<std::string, std::string>& out,
                  size_t budget) {
  auto names = ListDir(rel.empty() ? root : JoinPath(root, rel));
  if (!names.ok()) return;
  for (auto& n : *names) {
    if (out.size() >= budget) return;
    std::string child = rel.empty() ? n : rel + "/" + n;
    std::string host = JoinPath(root, child);
    struct stat st;
    if (lstat(host.c_str(), &st) != 0) continue;
    FileEntry e = EntryOf(n, st, host);
    std::string fp = e.type + " " + std::to_string(e.mode) + " " + std::to_string(e.uid) + ":" + std::to_string(e.gid) +
                     " " + e.link_target;
    if (S_ISREG(st.st_mode)) {
      auto d = DigestOfFile(host);
      fp += " " + (d.ok() ? *d : std::string("?"));
    }
    out["/" + child] = fp;
    if (S_ISDIR(st.st_mode)) Fingerprints(root, child, out, budget);
  }
}

}  // namespace

Result<std::vector<FileEntry>> Engine::ListDirIn(const std::string& root, const std::string& what,
                                                 const std::string& path, size_t limit, bool* truncated) {
  KILN_ASSIGN(std::string dir, snapshot::ResolveInRoot(root, path.empty() ? "/" : path));
  if (!IsDirectory(dir)) return Status::Error(path + ": not a directory in " + what);
  KILN_ASSIGN(auto names, ListDir(dir));
  std::vector<FileEntry> out;
  if (truncated) *truncated = names.size() > limit;
  for (auto& n : names) {
    if (out.size() >= limit) break;
    struct stat st;
    std::string host = JoinPath(dir, n);
    if (lstat(host.c_str(), &st) == 0) out.push_back(EntryOf(n, st, host));
  }
  return out;
}

Result<FileContent> Engine::ReadFileIn(const std::string& root, const std::string& what, const std::string& path,
                                       size_t max_bytes) {
  KILN_ASSIGN(std::string file, snapshot::ResolveInRoot(root, path));
  struct stat st;
  if (stat(file.c_str(), &st) != 0) return Status::Error(path + ": no such file in " + what);
  if (!S_ISREG(st.st_mode)) return Status::Error(path + ": not a regular file in " + what);
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", path);
  FileContent c;
  c.size = st.st_size;
  c.data.resize(std::min<size_t>(max_bytes, size_t(st.st_size)));
  ssize_t n = pread(fd, c.data.data(), c.data.size(), 0);
  close(fd);
  if (n < 0) return ErrnoError("read", path);
  c.data.resize(size_t(n));
  c.truncated = c.size > int64_t(c.data.size());
  return c;
}

Result<std::vector<FileEntry>> Engine::ListImageFiles(const std::string& ref, const std::string& path, size_t limit,
                                                      bool* truncated) {
  KILN_ASSIGN(store::StoreLock in_use, store::StoreLock::Shared(s_->root));  // no collection meanwhile
  KILN_ASSIGN(exporter::Image img, FindImage(ref));
  KILN_ASSIGN(store::SnapshotId top,
              snapshot::UnpackImage(img.manifest, img.config, *s_->content, *s_->metadata, *s_->snapshotter));
  KILN_ASSIGN(snapshot::Mount root, s_->snapshotter->MountReadOnly(top));
  return ListDirIn(root.path(), ref, path, limit, truncated);
}

Result<FileContent> Engine::ReadImageFile(const std::string& ref, const std::string& path, size_t max_bytes) {
  KILN_ASSIGN(store::StoreLock in_use, store::StoreLock::Shared(s_->root));  // no collection meanwhile
  KILN_ASSIGN(exporter::Image img, FindImage(ref));
  KILN_ASSIGN(store::SnapshotId top,
              snapshot::UnpackImage(img.manifest, img.config, *s_->content, *s_->metadata, *s_->snapshotter));
  KILN_ASSIGN(snapshot::Mount root, s_->snapshotter->MountReadOnly(top));
  return ReadFileIn(root.path(), ref, path, max_bytes);
}

Result<std::vector<FileChange>> Engine::DiffImages(const std::string& from, const std::string& to, size_t limit,
                                                   bool* truncated) {
  KILN_ASSIGN(store::StoreLock in_use, store::StoreLock::Shared(s_->root));  // no collection meanwhile
  constexpr size_t kMaxFiles = 200000;  // bounds the work on huge images
  std::map<std::string, std::string> a, b;
  for (auto [ref, out] : {std::make_pair(&from, &a), std::make_pair(&to, &b)}) {
    KILN_ASSIGN(exporter::Image img, FindImage(*ref));
    KILN_ASSIGN(store::SnapshotId top,
                snapshot::UnpackImage(img.manifest, img.config, *s_->content, *s_->metadata, *s_->snapshotter));
    KILN_ASSIGN(snapshot::Mount root, s_->snapshotter->MountReadOnly(top));
    Fingerprints(root.path(), "", *out, kMaxFiles);
  }
  std::vector<FileChange> changes;
  bool more = false;
  auto add = [&](const std::string& p, const char* kind) {
    if (changes.size() < limit) {
      changes.push_back({p, kind});
    } else {
      more = true;
    }
  };
  for (auto& [p, fp] : b) {
    auto it = a.find(p);
    if (it == a.end()) {
      add(p, "added");
    } else if (it->second != fp) {
      add(p, "modified");
    }
  }
  for (auto& [p, fp] : a)
    if (!b.count(p)) add(p, "removed");
  std::sort(changes.begin(), changes.end(), [](const FileChange& x, const FileChange& y) { return x.path < y.path; });
  if (truncated) *truncated = more;
  return changes;
}

Result<std::vector<dockerfile::Finding>> Engine::Lint(const std::string& dockerfile) {
  auto text = ReadFile(dockerfile);
  if (!text.ok()) return Status::Error("cannot read Dockerfile " + dockerfile + ": no such file or not readable");
  KILN_ASSIGN(dockerfile::Dockerfile df, dockerfile::Parse(*text, dockerfile));
  KILN_ASSIGN(auto checks, CheckConfigOf(df, {}));
  return FindingsOf(df, {}, checks);
}

store::Collector Engine::MakeCollector() {
  return store::Collector(
      *s_->metadata, *s_->content,
      [this](store::SnapshotId id) { return kiln::DiskUsage(s_->snapshotter->DiffDir(id)); },
      [this](store::SnapshotId id) { return s_->snapshotter->Remove(id); }, s_->cache_mounts.get());
}

Result<store::Usage> Engine::DiskUsage() {
  KILN_ASSIGN(store::StoreLock in_use, store::StoreLock::Shared(s_->root));
  return MakeCollector().DiskUsage();
}

Result<store::GcResult> Engine::Prune(const store::GcPolicy& policy) {
  // A build cancelled a moment ago may still be cleaning up: give it a few seconds before saying the store is busy.
  KILN_ASSIGN(store::StoreLock exclusive, store::StoreLock::Exclusive(s_->root, 3000));
  store::SpaceReserve reserve(s_->root);
  reserve.Release();  // a prune must work on a full disk, when it is needed most
  auto freed = MakeCollector().Collect(policy);
  reserve.Restore();
  return freed;
}

Result<BuildRecord> Engine::BuildReport(const std::string& build_id) {
  KILN_ASSIGN(auto rec, s_->metadata->GetBuild(build_id));
  if (!rec) return Status::Error(build_id.empty() ? "no build recorded yet" : "build " + build_id + " not found");
  return ParseBuildRecord(rec->json);
}

}  // namespace kiln::api
