// The kiln command line: parses flags, calls the engine API, renders progress. Nothing else lives here.
#include <locale.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <iterator>

#include "api/engine.h"
#include "executor/emulation.h"
#include "base/text.h"
#include "base/userns.h"
#include "cli/mcp_command.h"
#include "cli/stdin_build.h"
#include "base/json.h"
#include "progress/progress.h"

namespace {

std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted = true; }

int Fail(const kiln::Status& st) {
  // Layout kept: a Dockerfile error quotes its lines under the message.
  fprintf(stderr, "ERROR: %s\n", kiln::EscapeControl(st.message(), true).c_str());
  return 1;
}

std::string HumanSize(int64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    u++;
  }
  char buf[32];
  snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.3g%s", v, units[u]);
  return buf;
}

std::string Ago(int64_t t) {
  int64_t d = int64_t(time(nullptr)) - t;
  if (d < 60) return std::to_string(d) + " seconds ago";
  if (d < 3600) return std::to_string(d / 60) + " minutes ago";
  if (d < 86400) return std::to_string(d / 3600) + " hours ago";
  return std::to_string(d / 86400) + " days ago";
}

/// "512MB", "1.5GiB", "1gb", "1000" (bytes) -> bytes; -1 when malformed.
int64_t ParseSize(const std::string& text) {
  char* end = nullptr;
  double v = strtod(text.c_str(), &end);
  if (end == text.c_str() || v < 0) return -1;
  std::string unit = kiln::AsciiLower(end);
  const std::pair<const char*, double> units[] = {
      {"", 1}, {"b", 1}, {"k", 1e3}, {"kb", 1e3}, {"m", 1e6}, {"mb", 1e6}, {"g", 1e9}, {"gb", 1e9}, {"t", 1e12},
      {"tb", 1e12}, {"kib", 1024.0}, {"mib", 1048576.0}, {"gib", 1073741824.0}, {"tib", 1099511627776.0}};
  for (auto& [name, factor] : units)
    if (unit == name) return int64_t(v * factor);
  return -1;
}

/// --memory's value in bytes (0 when not given).
kiln::Result<int64_t> MemoryLimit(const std::string& text) {
  if (text.empty()) return int64_t(0);
  auto bytes = kiln::ParseRamSize(text);
  // Below 6 MiB runc cannot even start the container (as Docker, which refuses less).
  if (!bytes || *bytes < (6 << 20)) {
    return kiln::Status::Error("--memory: bad size \"" + text + "\" (at least 6m; e.g. 512m, 2g)");
  }
  return *bytes;
}

/// "90s", "30m", "24h", "7d", "1h30m" -> seconds; -1 when malformed.
int64_t ParseDuration(const std::string& text) {
  int64_t total = 0;
  const char* p = text.c_str();
  if (!*p) return -1;
  while (*p) {
    char* end = nullptr;
    double v = strtod(p, &end);
    if (end == p || v < 0) return -1;
    switch (*end) {
      case 's': total += int64_t(v); break;
      case 'm': total += int64_t(v * 60); break;
      case 'h': total += int64_t(v * 3600); break;
      case 'd': total += int64_t(v * 86400); break;
      default: return -1;
    }
    p = end + 1;
  }
  return total;
}

/// A password typed at the terminal, not echoed.
kiln::Result<std::string> ReadPassword() {
  if (!isatty(STDIN_FILENO)) return kiln::Status::Error("login: no terminal to ask the password on: use --password-stdin");
  fprintf(stderr, "Password: ");
  termios old;
  tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~tcflag_t(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string line;
  std::getline(std::cin, line);
  tcsetattr(STDIN_FILENO, TCSANOW, &old);
  fprintf(stderr, "\n");
  return line;
}

/// The subcommand the command line names: its first word that is neither an option nor a global option's value.
std::string NamedSubcommand(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--data-root" || a == "--runtime") {
      i++;
    } else if (a.empty() || a[0] != '-') {
      return a;
    }
  }
  return "";
}

}  // namespace

/// --sbom, --provenance and --attest, as docker buildx takes them, into the request.
kiln::Status Attestations(const std::string& sbom, const std::string& provenance, const std::vector<std::string>& attests,
                          kiln::api::BuildRequest& req) {
  auto mode_of = [](const std::string& value, const std::string& flag) -> kiln::Result<std::string> {
    if (value == "true" || value == "min") return std::string("min");
    if (value == "max") return std::string("max");
    if (value == "false") return std::string();
    return kiln::Status::Error(flag + ": expected true, false, min or max, got \"" + value + "\"");
  };
  // One attestation's attributes: type (from --attest only), mode, builder-id (provenance) and disabled.
  auto apply = [&](const std::string& value, const std::string& flag, std::string type) -> kiln::Status {
    auto attrs = kiln::ParseAttributes(value, flag);
    if (!attrs.ok()) return attrs.status();
    std::string mode = "min", builder_id, generator;
    bool disabled = false, mode_given = false;
    for (auto& [k, v] : *attrs) {
      if (k == "type" && flag == "--attest") {
        type = v;
      } else if (k == "mode") {
        mode = v;
        mode_given = true;
      } else if (k == "builder-id") {
        builder_id = v;
      } else if (k == "generator") {
        generator = v;
      } else if (k == "disabled") {
        disabled = v == "true";
      } else {
        return kiln::Status::Error(flag + ": unknown attribute \"" + k + "\" (" +
                                   (flag == "--attest" ? "type, " : "") + "mode, builder-id, generator, disabled)");
      }
    }
    if (type == "sbom") {
      if (!builder_id.empty() || mode_given)
        return kiln::Status::Error(flag + ": type=sbom takes no mode or builder-id (those are provenance's)");
      req.sbom = !disabled;
      req.sbom_generator = generator;
    } else if (type == "provenance") {
      if (!generator.empty()) return kiln::Status::Error(flag + ": generator= is for type=sbom");
      auto m = mode_of(mode, flag + " mode");
      if (!m.ok()) return m.status();
      req.provenance = disabled ? "" : *m;
      req.provenance_builder_id = builder_id;
    } else {
      return kiln::Status::Error("--attest: type must be sbom or provenance, got \"" + type + "\"");
    }
    return kiln::Status::Ok();
  };
  if (!sbom.empty()) {
    // --sbom=true|false, or attributes as --attest type=sbom takes them (generator=IMAGE).
    if (sbom.find('=') != std::string::npos) {
      if (auto s = apply(sbom, "--sbom", "sbom"); !s.ok()) return s;
    } else if (sbom != "true" && sbom != "false") {
      return kiln::Status::Error("--sbom: expected true, false or generator=IMAGE, got \"" + sbom + "\"");
    } else {
      req.sbom = sbom == "true";
    }
  }
  if (!provenance.empty()) {
    // --provenance=true|false|min|max, or attributes as --attest type=provenance takes them (mode=max,builder-id=URI).
    if (provenance.find('=') == std::string::npos) {
      auto mode = mode_of(provenance, "--provenance");
      if (!mode.ok()) return mode.status();
      req.provenance = *mode;
    } else if (auto s = apply(provenance, "--provenance", "provenance"); !s.ok()) {
      return s;
    }
  }
  for (auto& a : attests)
    if (auto s = apply(a, "--attest", ""); !s.ok()) return s;
  return kiln::Status::Ok();
}

int main(int argc, char** argv) {
  // File names are bytes, mostly UTF-8: libarchive converts them through the locale's charset, which must not be
  // plain ASCII or a layer could not hold "café.txt" as BuildKit's do.
  if (!setlocale(LC_CTYPE, "C.UTF-8")) setlocale(LC_CTYPE, "");
  // A plain user's kiln works inside a user namespace of its own (rootless): entered first, while this process
  // has one thread. Help, --version and lint touch no store, and work where user namespaces do not.
  bool needs_store = argc > 1 && std::string(argv[1]) != "lint" && std::string(argv[1]) != "--version";
  for (int i = 1; i < argc && std::string(argv[i]) != "--"; i++)  // what follows "--" is a container's command
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") needs_store = false;
  if (kiln::Status rootless = needs_store ? kiln::EnterUserNamespace() : kiln::Status::Ok(); !rootless.ok()) {
    fprintf(stderr, "ERROR: rootless: %s\n", rootless.message().c_str());
    return 1;
  }
  CLI::App app{"kiln: a daemonless container image builder"};
  app.set_version_flag("--version", "kiln version v" KILN_VERSION);
  app.require_subcommand(1);
  std::string data_root;
  std::string runtime = "runc";
  app.add_option("--data-root", data_root, "State directory (default $KILN_ROOT, /var/lib/kiln as root)");
  app.add_option("--runtime", runtime, "OCI runtime: runc (default) or crun");
  std::vector<std::string> insecure_registries;
  auto allow_insecure = [&](CLI::App* command) {
    command->add_option("--insecure-registry", insecure_registries,
                        "A registry (HOST[:PORT]) reached over plain HTTP or TLS without certificate checks (repeatable)");
  };

  // Only the subcommand the command line names is declared, with its options: declaring every one took CLI11
  // longer than kiln takes for most commands. When none is named (kiln --help) or an unknown one, all are
  // declared, without their options, for the list of commands or the error. The others stand for one that is
  // never parsed.
  static const std::pair<const char*, const char*> kSubcommands[] = {
    {"build", "Build an image from a Dockerfile"},
    {"pull", "Pull an image from a registry"},
    {"push", "Push an image to a registry"},
    {"login", "Check and store a registry's credentials in docker's config.json"},
    {"logout", "Forget a registry's credentials in docker's config.json"},
    {"save", "Write images to a docker save archive (also an OCI layout)"},
    {"load", "Load images from a docker save or OCI archive"},
    {"images", "List images in the local store"},
    {"du", "Show what the store holds: images, build cache, and what prune would free"},
    {"prune", "Remove build cache (images stay)"},
    {"inspect", "Print an image's manifest and config as JSON"},
    {"history", "Show an image's history"},
    {"run", "Run a command in a new container of an image (removed when it exits)"},
    {"import", "Make an image from a root file system tarball"},
    {"tag", "Give an image another name"},
    {"rmi", "Remove image names"},
    {"debug", "Step into the file system a failed RUN step left: kiln debug [--last|BUILD_ID] [-- CMD...] (default: a shell)"},
    {"explain", "Why each step of a build hit or missed the cache"},
    {"lint", "Run BuildKit's build checks on a Dockerfile"},
    {"setup-binfmt", "Register the installed QEMU emulators with binfmt_misc (F flag), for builds and runs of other platforms"},
    {"mcp", "Serve kiln to AI agents over the Model Context Protocol"},
  };
  const std::string named = NamedSubcommand(argc, argv);
  const bool known = std::any_of(std::begin(kSubcommands), std::end(kSubcommands), [&](auto& c) { return named == c.first; });
  for (auto& [name, description] : kSubcommands)
    if (!known || named == name) app.add_subcommand(name, description);
  CLI::App not_named;
  auto subcommand = [&](const char* name) { return named == name ? app.get_subcommand(name) : &not_named; };
  // The subcommand, when it is the named one, to declare its options on.
  auto declared = [&](CLI::App* c) { return c == &not_named ? nullptr : c; };

  auto* build = subcommand("build");
  std::string context = ".", file, target, progress_mode = "auto", network = "host";
  std::vector<std::string> tags, build_args, outputs, secrets, build_contexts, allow, ssh, cache_from, cache_to,
      build_platforms, attests, labels, add_hosts, ulimits, no_cache_filter;
  std::string sbom, provenance, shm_size, cgroup_parent;
  bool no_cache = false, quiet = false, check_only = false, push_tags = false;
  std::string call, call_format = "text", on_error = "fail", build_memory, pull_policy = "missing";
  int max_parallelism = 0;
  int64_t build_pids = 0;
  if (declared(build)) {
    build->add_option("context", context,
                      "Build context: a directory, - for a tar of it (or a Dockerfile) on stdin, a git URL "
                      "(https://host/repo.git#ref:subdir, git@host:repo.git), or an https URL of a tarball or Dockerfile")
        ->required();
    build->add_option("-f,--file", file, "Path to the Dockerfile (default CONTEXT/Dockerfile), or - for stdin");
    build->add_option("-t,--tag", tags, "Name and tag of the image (repeatable)");
    build->add_option("--build-arg", build_args, "Build argument KEY=VALUE (or KEY to take it from the environment)");
    build->add_option("--build-context", build_contexts,
                      "Named context NAME=DIR|docker-image://REF|oci-layout://DIR[:TAG|@DIGEST], for FROM NAME, "
                      "COPY --from=NAME and RUN --mount=from=NAME (repeatable)");
    build->add_option("--target", target, "Build stage to stop at");
    build->add_option("--sbom", sbom, "Attach an SPDX SBOM of each image's packages: true or false");
    build->add_option("--provenance", provenance, "Attach SLSA provenance: true (mode=min), false, or attributes mode=min|max,builder-id=URI");
    build->add_option("--attest", attests,
                      "Attestation: type=sbom[,generator=IMAGE], or type=provenance[,mode=min|max] (repeatable)");
    build->add_option("--platform", build_platforms,
                      "Target platforms os/arch[/variant], comma-separated (default this host's); several make an index");
    build->add_option("--call", call,
                      "Ask about the Dockerfile instead of building: check (the build checks; exits 1 on findings), "
                      "targets (its stages), outline (the target's build args, secrets and ssh ids)")
        ->check(CLI::IsMember({"build", "check", "targets", "outline"}));
    build->add_flag("--check", check_only, "Run the build checks only (--call check)");
    build->add_option("--format", call_format, "How --call answers: text (default) or json")
        ->check(CLI::IsMember({"text", "json"}));
    build->add_flag("--no-cache", no_cache, "Run every step, ignoring the cache");
    build->add_option("--no-cache-filter", no_cache_filter, "Stages whose steps run whatever the cache holds (repeatable, or comma-separated)")
        ->delimiter(',');
    build->add_option("--label", labels, "Label of the image KEY=VALUE, over the Dockerfile's (repeatable)");
    build->add_option("--add-host", add_hosts, "A line of /etc/hosts in RUN steps, NAME:IP (repeatable)");
    build->add_option("--shm-size", shm_size, "Size of /dev/shm in RUN steps, e.g. 128m (default 64m)");
    build->add_option("--cgroup-parent", cgroup_parent, "Cgroup RUN steps' containers go under, e.g. build.slice/ci (as root)");
    build->add_option("--ulimit", ulimits, "Resource limit of RUN steps, NAME=SOFT[:HARD], e.g. nofile=1024:2048 (repeatable)");
    build->add_option("--on-error", on_error, "When a RUN step fails: fail (default), or shell (open a shell in its file system)")
        ->check(CLI::IsMember({"fail", "shell"}));
    build->add_option("--max-parallelism", max_parallelism, "Steps run at once at most (default: one per core)")
        ->check(CLI::Range(1, 1024));
    build->add_option("--progress", progress_mode, "Progress output: auto, plain, tty, rawjson, quiet");
    build->add_option("-o,--output", outputs,
                      "Output: type=image|registry,name=REF[,push=true], type=oci|docker,dest=PATH[,tar=false], "
                      "type=local|tar,dest=PATH (repeatable)");
    build->add_option("--secret", secrets, "Secret for RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VAR");
    build->add_option("--allow", allow, "Entitlement for the build: security.insecure (RUN --security=insecure), network.host");
    build->add_option("--memory", build_memory, "Memory limit of each RUN step, e.g. 512m, 2g");
    build->add_option("--pids-limit", build_pids, "Process limit of each RUN step")->check(CLI::Range(int64_t(1), int64_t(1) << 30));
    build->add_option("--ssh", ssh,
                      "ssh agent for RUN --mount=type=ssh: default|ID (the agent at $SSH_AUTH_SOCK), ID=SOCKET or "
                      "ID=KEY[,KEY...] (repeatable)");
    build->add_option("--network", network, "Network of RUN steps: host (default) or none");
    build->add_flag("-q,--quiet", quiet, "Print only the image digest");
    build->add_flag("--pull{always}", pull_policy,
                    "When to pull base images: missing (default), always (also bare --pull), never");
    build->add_flag("--push", push_tags, "Push every -t name once built");
    build->add_option("--cache-from", cache_from,
                      "Import build cache: type=registry,ref=REF | type=local,src=DIR[,tag=T] (repeatable)");
    build->add_option("--cache-to", cache_to,
                      "Export build cache: type=registry,ref=REF | type=local,dest=DIR | type=inline, [mode=min|max] "
                      "(repeatable)");
    allow_insecure(build);
  }

  auto* pull = subcommand("pull");
  std::string pull_ref, pull_platform, pull_progress = "auto";
  bool pull_quiet = false;
  if (auto* c = declared(pull)) {
    c->add_option("ref", pull_ref, "Image, e.g. alpine or registry:5000/app:1")->required();
    c->add_option("--platform", pull_platform, "Platforms of an index to pull, os/arch[/variant], comma-separated (default this host's)");
    c->add_option("--progress", pull_progress, "Progress output: auto, plain, tty, rawjson, quiet");
    c->add_flag("-q,--quiet", pull_quiet, "Print only the manifest digest");
    allow_insecure(c);
  }

  auto* push = subcommand("push");
  std::string push_ref, push_dest, push_progress = "auto";
  bool push_quiet = false;
  if (auto* c = declared(push)) {
    c->add_option("ref", push_ref, "Local image")->required();
    c->add_option("dest", push_dest, "Where to push it (default: its own name)");
    c->add_option("--progress", push_progress, "Progress output: auto, plain, tty, rawjson, quiet");
    c->add_flag("-q,--quiet", push_quiet, "Print only the manifest digest");
    allow_insecure(c);
  }

  auto* login = subcommand("login");
  std::string login_registry = "docker.io", login_user, login_password;
  bool login_password_stdin = false;
  if (auto* c = declared(login)) {
    c->add_option("registry", login_registry, "Registry (default docker.io)");
    c->add_option("-u,--username", login_user, "User name");
    c->add_option("-p,--password", login_password, "Password (insecure: prefer --password-stdin)");
    c->add_flag("--password-stdin", login_password_stdin, "Read the password from standard input");
    allow_insecure(c);
  }

  auto* logout = subcommand("logout");
  std::string logout_registry = "docker.io";
  if (auto* c = declared(logout)) c->add_option("registry", logout_registry, "Registry (default docker.io)");

  auto* save = subcommand("save");
  std::string save_output;
  std::vector<std::string> save_refs;
  CLI::Option* save_output_option = nullptr;
  if (auto* c = declared(save)) {
    save_output_option = c->add_option("-o,--output", save_output, "The archive to write (default: standard output)");
    c->add_option("refs", save_refs, "Images")->required();
  }

  auto* load = subcommand("load");
  std::string load_input = "-";
  bool load_quiet = false;
  if (auto* c = declared(load)) {
    c->add_option("-i,--input", load_input, "The archive to read, plain or compressed (default: standard input)");
    c->add_flag("-q,--quiet", load_quiet, "Print nothing");
  }

  auto* images = subcommand("images");
  bool images_json = false;
  if (auto* c = declared(images)) c->add_flag("--json", images_json, "Print JSON");

  auto* du = subcommand("du");
  bool du_verbose = false, du_json = false;
  if (auto* c = declared(du)) {
    c->add_flag("-v,--verbose", du_verbose, "List every build cache record");
    c->add_flag("--json", du_json, "Print JSON");
  }

  auto* prune = subcommand("prune");
  std::string prune_keep_storage;
  std::vector<std::string> prune_filters;
  bool prune_all = false;
  if (auto* c = declared(prune)) {
    c->add_option("--keep-storage", prune_keep_storage, "Keep the most recently used cache within this size (e.g. 2GB)");
    c->add_option("--filter", prune_filters, "until=DURATION: keep cache used within DURATION (e.g. 24h)");
    c->add_flag("-a,--all", prune_all, "Also the RUN --mount=type=cache directories");
  }

  auto* inspect = subcommand("inspect");
  std::string inspect_ref, inspect_platform;
  if (auto* c = declared(inspect)) {
    c->add_option("ref", inspect_ref, "Image")->required();
    c->add_option("--platform", inspect_platform, "One platform's image of a multi-platform image");
  }

  auto* setup_binfmt = subcommand("setup-binfmt");
  declared(setup_binfmt);

  auto* history = subcommand("history");
  std::string history_ref;
  if (auto* c = declared(history)) c->add_option("ref", history_ref, "Image")->required();

  auto* run = subcommand("run");
  std::string run_ref, run_network = "none", run_user, run_memory, run_platform;
  std::vector<std::string> run_cmd, run_env;
  bool run_rm = false;
  int64_t run_pids = 0;
  if (auto* c = declared(run)) {
    c->add_flag("--rm", run_rm, "Remove the container when it exits (always the case; accepted for docker compatibility)");
    c->add_option("--network", run_network, "none (default) or host");
    c->add_option("-e,--env", run_env, "Environment variable KEY=VALUE");
    c->add_option("-u,--user", run_user, "User to run as");
    c->add_option("--platform", run_platform, "The platform's image of a multi-platform image (os/arch[/variant])");
    c->add_option("--memory", run_memory, "Memory limit, e.g. 512m, 2g");
    c->add_option("--pids-limit", run_pids, "Process limit")->check(CLI::Range(int64_t(1), int64_t(1) << 30));
    c->add_option("ref", run_ref, "Image")->required();
    c->prefix_command();  // everything after the image belongs to the command, flags included
  }

  auto* import = subcommand("import");
  std::string import_tar, import_name, import_platform;
  if (auto* c = declared(import)) {
    c->add_option("tarball", import_tar, "Root file system tarball")->required();
    c->add_option("name", import_name, "Image name")->required();
    c->add_option("--platform", import_platform,
                  "The image's platform, os/arch[/variant]: it joins the name's other platforms in one index");
  }

  auto* tag = subcommand("tag");
  std::string tag_src, tag_dst;
  if (auto* c = declared(tag)) {
    c->add_option("source", tag_src)->required();
    c->add_option("target", tag_dst)->required();
  }

  auto* rmi = subcommand("rmi");
  std::vector<std::string> rmi_refs;
  if (auto* c = declared(rmi)) c->add_option("refs", rmi_refs)->required();

  auto* debug = subcommand("debug");
  std::string debug_id;
  bool debug_last = false;
  if (auto* c = declared(debug)) {
    c->add_option("build_id", debug_id, "Build id (default: the last failed build)");
    c->add_flag("--last", debug_last, "The last failed build (the default)");
  }

  auto* explain = subcommand("explain");
  std::string explain_id;
  bool explain_last = false;
  if (auto* c = declared(explain)) {
    c->add_option("build_id", explain_id, "Build id (default: the last build)");
    c->add_flag("--last", explain_last, "The last build (the default)");
  }

  auto* lint = subcommand("lint");
  std::string lint_file = "Dockerfile";
  if (auto* c = declared(lint)) c->add_option("-f,--file,dockerfile", lint_file, "The Dockerfile (default ./Dockerfile)");

  auto* mcp = subcommand("mcp");
  std::string mcp_transport = "stdio", mcp_listen = "127.0.0.1:0", mcp_token_file, mcp_memory;
  std::vector<std::string> mcp_roots, mcp_allowed_hosts, mcp_secrets;
  bool mcp_read_only = false, mcp_fixtures = false, mcp_no_auth = false, mcp_generate_token = false;
  size_t mcp_max_connections = 1024;
  int64_t mcp_pids = -1;  // the default: 1024 where limits can be enforced
  if (auto* c = declared(mcp)) {
    c->add_option("--transport", mcp_transport, "stdio (default) or http");
    c->add_option("--listen", mcp_listen, "HTTP address, HOST:PORT (default 127.0.0.1:0, a free port)");
    c->add_option("--root", mcp_roots, "A workspace directory the agent may read and write (repeatable; default .)");
    c->add_flag("--read-only", mcp_read_only, "Expose only tools that change nothing");
    c->add_option("--token-file", mcp_token_file,
                  "HTTP: require 'Authorization: Bearer <token>', a token per line of this file (each its own client)");
    c->add_flag("--generate-token", mcp_generate_token,
                "HTTP: when --token-file does not exist, write a fresh random token there (mode 0600) and use it");
    c->add_flag("--no-auth", mcp_no_auth,
                "HTTP: serve a non-loopback address without a token (anyone who reaches it can build and run)");
    c->add_option("--allowed-host", mcp_allowed_hosts, "HTTP: a further host name Host/Origin headers may carry");
    c->add_option("--max-connections", mcp_max_connections, "HTTP: open connections at most; idle ones make room, then more are refused (503)")
        ->check(CLI::Range(size_t(1), size_t(1) << 20));
    c->add_option("--memory", mcp_memory, "Memory limit of each container an agent starts (default 2g where limits can be enforced; 0 for none)");
    c->add_option("--pids-limit", mcp_pids, "Process limit of each container an agent starts (default 1024 where limits can be enforced; 0 for none)");
    c->add_option("--secret", mcp_secrets,
                  "A secret builds may use by id: id=ID,env=VAR or id=ID,src=FILE (its value never reaches the agent)");
    c->add_flag("--conformance-fixtures", mcp_fixtures, "Also serve the MCP conformance suite's fixture tools");
  }

  // kiln debug's command follows "--" and may hold anything: it is set aside before CLI11 reads the rest.
  std::vector<std::string> debug_command;
  for (int i = 1; i < argc; i++) {
    if (std::string(argv[i]) != "debug") continue;
    for (int j = i + 1; j < argc; j++) {
      if (std::string(argv[j]) != "--") continue;
      debug_command.assign(argv + j + 1, argv + argc);
      argc = j;
      break;
    }
    break;
  }
  // As docker's, a repeatable option takes one value each time it is given: in `kiln build -t app:1 . --pull`,
  // "." is the context, not a second tag.
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    for (CLI::Option* o : sub->get_options())
      if (!o->get_positional()) o->allow_extra_args(false);
  CLI11_PARSE(app, argc, argv);

  if (run->parsed()) run_cmd = run->remaining();  // prefix_command() leaves the command in remaining()

  if (setup_binfmt->parsed()) {
    auto said = kiln::executor::SetupBinfmt();
    if (!said.ok()) return Fail(said.status());
    for (auto& line : *said) printf("%s\n", line.c_str());
    return 0;
  }

  kiln::api::EngineOptions eo;
  eo.data_root = data_root;
  eo.runtime = runtime;
  eo.insecure_registries = insecure_registries;
  for (auto* reader : {images, inspect, history, du, explain, lint, tag, rmi, login, logout})
    eo.makes_nothing = eo.makes_nothing || reader->parsed();
  auto engine = kiln::api::Engine::Open(eo);
  if (!engine.ok()) return Fail(engine.status());
  kiln::api::Engine& e = **engine;

  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  if (build->parsed()) {
    kiln::api::BuildRequest req;
    auto input = kiln::cli::ReadBuildInput(context, file);
    if (!input.ok()) return Fail(input.status());
    req.context = input->context;
    req.dockerfile = file;
    req.dockerfile_text = input->dockerfile_text;
    req.tags = tags;
    req.target = target;
    req.platforms = build_platforms;
    auto attested = Attestations(sbom, provenance, attests, req);
    if (!attested.ok()) return Fail(attested);
    if (check_only && !call.empty() && call != "check") return Fail(kiln::Status::Error("--check and --call " + call + " disagree"));
    req.call = check_only ? "check" : call == "build" ? "" : call;
    req.no_cache = no_cache;
    req.max_parallelism = max_parallelism;
    req.ssh = ssh;
    req.allow = allow;
    auto memory = MemoryLimit(build_memory);
    if (!memory.ok()) return Fail(memory.status());
    req.memory_limit = *memory;
    req.pids_limit = build_pids;
    req.no_cache_filter = no_cache_filter;
    req.cgroup_parent = cgroup_parent;
    for (auto& l : labels) {
      size_t eq = l.find('=');
      if (eq == 0 || l.empty()) return Fail(kiln::Status::Error("--label: \"" + l + "\" has no key (KEY=VALUE)"));
      req.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);  // docker's KEY alone: empty
    }
    for (auto& h : add_hosts) {
      auto host = kiln::graph::ContainerSettings::ParseHost(h);
      if (!host.ok()) return Fail(host.status());
      req.container.extra_hosts.push_back(*host);
    }
    for (auto& u : ulimits) {
      auto limit = kiln::graph::ContainerSettings::ParseUlimit(u);
      if (!limit.ok()) return Fail(limit.status());
      req.container.ulimits.push_back(*limit);
    }
    if (!shm_size.empty()) {
      auto bytes = kiln::ParseRamSize(shm_size);
      if (!bytes || *bytes <= 0) return Fail(kiln::Status::Error("--shm-size: bad size \"" + shm_size + "\" (e.g. 64m, 1g)"));
      req.container.shm_size = *bytes;
    }
    req.push = push_tags;
    auto policy = kiln::api::ParsePullPolicy(pull_policy);
    if (!policy.ok()) return Fail(policy.status());
    req.pull = *policy;
    if (network != "host" && network != "none") {
      return Fail(kiln::Status::Error("--network: unknown mode \"" + network + "\" (host or none)"));
    }
    req.network = network;
    for (auto& a : build_args) {
      size_t eq = a.find('=');
      if (a.empty()) return Fail(kiln::Status::Error("--build-arg: empty (KEY=VALUE, or KEY to take it from the environment)"));
      if (eq == 0) return Fail(kiln::Status::Error("--build-arg: missing name in \"" + a + "\""));
      if (eq == std::string::npos) {
        // As with docker: KEY alone takes the value from the environment, or is skipped when unset.
        if (const char* v = getenv(a.c_str())) req.build_args[a] = v;
      } else {
        req.build_args[a.substr(0, eq)] = a.substr(eq + 1);
      }
    }
    for (auto& c : build_contexts) {
      size_t eq = c.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Fail(kiln::Status::Error("--build-context: \"" + c + "\" is not NAME=VALUE"));
      }
      req.build_contexts[c.substr(0, eq)] = c.substr(eq + 1);
    }
    for (auto& text : secrets) {
      auto source = kiln::api::SecretSource::Parse(text);
      if (!source.ok()) return Fail(source.status());
      auto value = source->Read();
      if (!value.ok()) return Fail(value.status());
      req.secrets[source->id] = *value;
    }
    for (auto& c : cache_from) {
      auto spec = kiln::cache::CacheSpec::Parse(c, false);
      if (!spec.ok()) return Fail(spec.status());
      req.cache_from.push_back(*spec);
    }
    for (auto& c : cache_to) {
      auto spec = kiln::cache::CacheSpec::Parse(c, true);
      if (!spec.ok()) return Fail(spec.status());
      req.cache_to.push_back(*spec);
    }
    for (auto& o : outputs) {
      auto spec = kiln::api::OutputSpec::Parse(o);
      if (!spec.ok()) return Fail(spec.status());
      req.outputs.push_back(*spec);
    }
    if (progress_mode == "plain" && !quiet) fprintf(stderr, "kiln: %s\n", e.RuntimeDescription().c_str());
    auto sink = kiln::progress::MakeRenderer(quiet ? "quiet" : progress_mode, stderr);
    if (!sink.ok()) return Fail(sink.status());
    req.progress = sink->get();
    req.cancelled = [] { return g_interrupted.load(); };
    kiln::api::BuildResult r = e.Build(req);
    if (!req.call.empty() && (r.status.ok() || !r.call_text.empty())) {
      kiln::Json answer = r.call_json;
      if (!r.status.ok()) answer["error"] = r.status.message();
      fputs((call_format == "json" ? answer.dump(2) + "\n" : r.call_text).c_str(), stdout);
      if (!r.status.ok()) return Fail(r.status);
      return req.call == "check" && !r.findings.empty() ? 1 : 0;  // as buildx: findings fail the check
    }
    for (auto& w : r.warnings) fprintf(stderr, "WARNING: %s\n", kiln::EscapeControl(w).c_str());
    for (auto& n : r.notes) fprintf(stderr, "kiln: %s\n", kiln::EscapeControl(n).c_str());
    if (!r.status.ok()) {
      if (r.failure && !r.failure->log_tail.empty() && progress_mode != "plain" && progress_mode != "rawjson") {
        std::string tail = kiln::EscapeControl(r.failure->log_tail, true);
        fprintf(stderr, "------\n%s%s------\n", tail.c_str(), tail.back() == '\n' ? "" : "\n");
      }
      Fail(r.status);
      if (r.failure && r.failure->state && !g_interrupted) {
        if (on_error == "shell") {
          // As the step left it, with its environment: the user looks around, then the build's failure stands.
          fprintf(stderr, "kiln: opening a shell in the failed step (%s); exit to end\n",
                  kiln::EscapeControl(r.failure->step).c_str());
          kiln::api::DebugRequest d;
          d.build_id = r.build_id;
          d.memory_limit = req.memory_limit;
          d.pids_limit = req.pids_limit;
          auto shell = e.Debug(d);
          if (!shell.ok()) Fail(shell.status());
        } else {
          fprintf(stderr, "kiln: the failed step's file system is kept: kiln debug %s\n", r.build_id.c_str());
        }
      }
      return g_interrupted ? 130 : 1;
    }
    if (r.image) {
      // A multi-platform build made an index of its images: that is the image named.
      const std::string& digest = r.index ? r.index->digest : r.image->descriptor.digest;
      if (quiet) {
        printf("%s\n", digest.c_str());
      } else {
        if (r.index)
          for (auto& i : r.platform_images)
            fprintf(stderr, "writing image %s for %s\n", i.descriptor.digest.c_str(),
                    i.config.platform.Normalized().ToString().c_str());
        fprintf(stderr, "writing %s %s\n", r.index ? "image index" : "image", digest.c_str());
        for (auto& t : r.tags) fprintf(stderr, "naming to %s\n", t.c_str());
        for (auto& p : r.pushed) fprintf(stderr, "pushed %s@%s\n", p.name.c_str(), p.digest.c_str());
      }
    }
    if (!quiet) fprintf(stderr, "build id %s\n", r.build_id.c_str());
    return 0;
  }
  if (pull->parsed()) {
    auto sink = kiln::progress::MakeRenderer(pull_quiet ? "quiet" : pull_progress, stderr);
    if (!sink.ok()) return Fail(sink.status());
    kiln::api::PullRequest req;
    req.ref = pull_ref;
    req.platform = pull_platform;
    req.progress = sink->get();
    req.cancelled = [] { return g_interrupted.load(); };
    auto img = e.Pull(req);
    if (!img.ok()) return Fail(img.status());
    if (pull_quiet) {
      printf("%s\n", img->descriptor.digest.c_str());
    } else {
      fprintf(stderr, "Digest: %s\n", img->descriptor.digest.c_str());
    }
    return 0;
  }
  if (push->parsed()) {
    auto sink = kiln::progress::MakeRenderer(push_quiet ? "quiet" : push_progress, stderr);
    if (!sink.ok()) return Fail(sink.status());
    kiln::api::PushRequest req;
    req.ref = push_ref;
    req.dest = push_dest;
    req.progress = sink->get();
    req.cancelled = [] { return g_interrupted.load(); };
    auto r = e.Push(req);
    if (!r.ok()) return Fail(r.status());
    if (push_quiet) {
      printf("%s\n", r->digest.c_str());
    } else {
      fprintf(stderr, "pushed %s@%s\n", r->name.c_str(), r->digest.c_str());
    }
    return 0;
  }
  if (save->parsed()) {
    if (save_output_option && save_output_option->count() > 0 && save_output.empty())
      return Fail(kiln::Status::Error("save: -o: empty file name (leave -o out to write to standard output)"));
    if (save_output.empty() && isatty(STDOUT_FILENO))
      return Fail(kiln::Status::Error("save: refusing to write an archive to a terminal: use -o FILE"));
    kiln::Status st = e.Save(save_refs, save_output.empty() ? "-" : save_output);
    return st.ok() ? 0 : Fail(st);
  }
  if (load->parsed()) {
    auto names = e.Load(load_input);
    if (!names.ok()) return Fail(names.status());
    if (!load_quiet)
      for (auto& n : *names) printf("Loaded image%s: %s\n", n.rfind("sha256:", 0) == 0 ? " ID" : "", n.c_str());
    return 0;
  }
  if (login->parsed()) {
    kiln::remote::Credentials creds;
    creds.username = login_user;
    if (login_password_stdin) {
      if (!login_password.empty()) return Fail(kiln::Status::Error("--password and --password-stdin are exclusive"));
      std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
      while (!all.empty() && (all.back() == '\n' || all.back() == '\r')) all.pop_back();
      creds.password = all;
    } else if (!login_password.empty()) {
      fprintf(stderr, "WARNING! Using --password via the command line is insecure. Use --password-stdin.\n");
      creds.password = login_password;
    } else {
      auto typed = ReadPassword();
      if (!typed.ok()) return Fail(typed.status());
      creds.password = *typed;
    }
    if (creds.username.empty()) return Fail(kiln::Status::Error("login: -u USER is required"));
    if (creds.password.empty()) return Fail(kiln::Status::Error("login: the password is empty"));
    kiln::Status st = e.Login(login_registry, creds);
    if (!st.ok()) return Fail(st);
    printf("Login Succeeded\n");
    return 0;
  }
  if (logout->parsed()) {
    kiln::Status st = e.Logout(logout_registry);
    if (!st.ok()) return Fail(st);
    printf("Removing login credentials for %s\n", logout_registry.c_str());
    return 0;
  }
  if (images->parsed()) {
    auto list = e.Images();
    if (!list.ok()) return Fail(list.status());
    if (images_json) {
      kiln::Json j = kiln::Json::array();
      for (auto& i : *list)
        j.push_back({{"ref", i.name}, {"digest", i.digest}, {"size", i.size}, {"created", i.created}, {"platforms", i.platforms}});
      printf("%s\n", kiln::DumpLenient(j, 2).c_str());
      return 0;
    }
    printf("%-50s %-14s %-16s %-10s %s\n", "REPOSITORY:TAG", "IMAGE ID", "CREATED", "SIZE", "PLATFORMS");
    for (auto& i : *list) {
      std::string platforms;
      for (auto& p : i.platforms) platforms += (platforms.empty() ? "" : ",") + p;
      printf("%-50s %-14s %-16s %-10s %s\n", i.name.c_str(), i.digest.substr(7, 12).c_str(),
             Ago(i.created).c_str(), HumanSize(i.size).c_str(), platforms.c_str());
    }
    return 0;
  }
  if (du->parsed()) {
    auto u = e.DiskUsage();
    if (!u.ok()) return Fail(u.status());
    if (du_json) {
      kiln::Json entries = kiln::Json::array();
      for (auto& c : u->entries) {
        entries.push_back({{"key", c.key}, {"description", c.description}, {"bytes", c.bytes},
                           {"created", c.created}, {"last_used", c.last_used}});
      }
      kiln::Json mounts = kiln::Json::array();
      for (auto& m : u->mounts) {
        mounts.push_back({{"id", m.id}, {"bytes", m.bytes}, {"last_used", m.last_used}});
      }
      kiln::Json out = kiln::store::TotalsJson(*u);
      out["cache"] = entries;
      out["cache_mounts_list"] = mounts;
      printf("%s\n", kiln::DumpLenient(out, 2).c_str());
      return 0;
    }
    if (du_verbose) {
      printf("%-22s %s\n\n", "Running as:", e.RuntimeDescription().c_str());
      printf("%-14s %-10s %-16s %s\n", "ID", "SIZE", "LAST USED", "STEP");
      for (auto& c : u->entries) {
        printf("%-14s %-10s %-16s %s\n", c.key.substr(c.key.find(':') + 1, 12).c_str(), HumanSize(c.bytes).c_str(),
               Ago(c.last_used).c_str(), kiln::EscapeControl(c.description).c_str());
      }
      for (auto& m : u->mounts) {
        printf("%-14s %-10s %-16s %s\n", m.name.substr(0, 12).c_str(), HumanSize(m.bytes).c_str(), Ago(m.last_used).c_str(),
               kiln::EscapeControl("cache mount id=" + m.id).c_str());
      }
      printf("\n");
    }
    printf("%-22s %lld (%s)\n", "Images:", (long long)u->images, HumanSize(u->image_bytes).c_str());
    printf("%-22s %lld records, %lld snapshots (%s)\n", "Build cache:", (long long)u->cache_records,
           (long long)u->snapshots, HumanSize(u->snapshot_bytes).c_str());
    printf("%-22s %s\n", "Cached layer blobs:", HumanSize(u->cache_blob_bytes).c_str());
    printf("%-22s %lld (%s)\n", "Cache mounts:", (long long)u->cache_mounts, HumanSize(u->cache_mount_bytes).c_str());
    printf("%-22s %s\n", "Reclaimable:", HumanSize(u->reclaimable_bytes()).c_str());
    printf("%-22s %s\n", "Total:", HumanSize(u->total_bytes()).c_str());
    return 0;
  }
  if (prune->parsed()) {
    kiln::store::GcPolicy policy;
    if (!prune_keep_storage.empty()) {
      policy.keep_bytes = ParseSize(prune_keep_storage);
      if (policy.keep_bytes < 0) {
        return Fail(kiln::Status::Error("--keep-storage: bad size \"" + prune_keep_storage + "\" (e.g. 512MB, 2GB)"));
      }
    }
    for (auto& f : prune_filters) {
      if (f.rfind("until=", 0) != 0) return Fail(kiln::Status::Error("--filter: unknown filter \"" + f + "\" (until=DURATION)"));
      int64_t seconds = ParseDuration(f.substr(6));
      if (seconds < 0) return Fail(kiln::Status::Error("--filter: bad duration in \"" + f + "\" (e.g. 24h, 30m)"));
      policy.keep_used_since = int64_t(time(nullptr)) - seconds;
    }
    policy.all = prune_all;
    auto r = e.Prune(policy);
    if (!r.ok()) return Fail(r.status());
    printf("Deleted %lld cache records, %lld snapshots, %lld blobs, %lld failed-step states, %lld cache mounts\n"
           "Total reclaimed space: %s\n",
           (long long)r->cache_records, (long long)r->snapshots, (long long)r->blobs, (long long)r->debug_states,
           (long long)r->cache_mounts,
           HumanSize(r->reclaimed_bytes).c_str());
    return 0;
  }
  if (inspect->parsed()) {
    auto d = e.Inspect(inspect_ref, inspect_platform);
    if (!d.ok()) return Fail(d.status());
    kiln::Json j;
    if (d->index) {
      j = {{"digest", d->digest}, {"index", kiln::oci::ToJson(*d->index)}, {"platforms", d->platforms}, {"size", d->size}};
    } else {
      j = {{"digest", d->digest}, {"manifest", kiln::oci::ToJson(d->manifest)},
           {"config", kiln::oci::ToJson(d->config)}, {"size", d->size}};
    }
    printf("%s\n", kiln::DumpLenient(j, 2).c_str());
    return 0;
  }
  if (history->parsed()) {
    auto img = e.FindImage(history_ref);
    if (!img.ok()) return Fail(img.status());
    printf("%-22s %-8s %s\n", "CREATED", "LAYER", "CREATED BY");
    for (auto it = img->config.history.rbegin(); it != img->config.history.rend(); ++it) {
      printf("%-22s %-8s %s\n", it->created.c_str(), it->empty_layer ? "-" : "yes",
             kiln::EscapeControl(it->created_by).c_str());
    }
    return 0;
  }
  if (run->parsed()) {
    if (run_network != "none" && run_network != "host") {
      return Fail(kiln::Status::Error("--network: unknown mode \"" + run_network + "\" (none or host)"));
    }
    kiln::api::RunRequest req;
    req.ref = run_ref;
    req.platform = run_platform;
    req.command = run_cmd;
    req.env = run_env;
    req.network = run_network;
    req.user = run_user;
    req.interactive = true;
    auto memory = MemoryLimit(run_memory);
    if (!memory.ok()) return Fail(memory.status());
    req.memory_limit = *memory;
    req.pids_limit = run_pids;
    std::string limit;
    req.limit_reached = &limit;
    // A kill (not only a terminal's Ctrl-C, which reaches the container too) stops the container: SIGTERM, then
    // SIGKILL after the grace.
    req.cancelled = [] { return g_interrupted.load(); };
    auto code = e.Run(req);
    if (!code.ok()) return Fail(code.status());
    if (!limit.empty()) fprintf(stderr, "kiln: %s\n", limit.c_str());
    return *code;
  }
  if (import->parsed()) {
    std::optional<kiln::oci::Platform> platform;
    if (!import_platform.empty()) {
      auto p = kiln::oci::Platform::Parse(import_platform);
      if (!p.ok()) return Fail(p.status().Prefixed("--platform"));
      platform = *p;
    }
    auto img = e.Import(import_tar, import_name, platform);
    if (!img.ok()) return Fail(img.status());
    printf("%s\n", img->descriptor.digest.c_str());
    return 0;
  }
  if (tag->parsed()) {
    kiln::Status st = e.Tag(tag_src, tag_dst);
    return st.ok() ? 0 : Fail(st);
  }
  if (rmi->parsed()) {
    for (auto& r : rmi_refs) {
      kiln::Status st = e.RemoveImage(r);
      if (!st.ok()) return Fail(st);
      printf("Untagged: %s\n", r.c_str());
    }
    return 0;
  }
  if (lint->parsed()) {
    auto findings = e.Lint(lint_file);
    if (!findings.ok()) return Fail(findings.status());
    for (auto& f : *findings) printf("%s:%d %s: %s\n", kiln::EscapeControl(lint_file).c_str(), f.line, f.rule.c_str(),
                                     kiln::EscapeControl(f.message).c_str());
    return findings->empty() ? 0 : 1;
  }
  if (mcp->parsed()) {
    kiln::cli::McpOptions o;
    o.transport = mcp_transport;
    o.listen = mcp_listen;
    o.roots = mcp_roots;
    o.read_only = mcp_read_only;
    o.token_file = mcp_token_file;
    o.generate_token = mcp_generate_token;
    o.no_auth = mcp_no_auth;
    o.allowed_hosts = mcp_allowed_hosts;
    o.max_connections = mcp_max_connections;
    o.conformance_fixtures = mcp_fixtures;
    o.secrets = mcp_secrets;
    o.memory = mcp_memory;
    o.pids_limit = mcp_pids;
    kiln::Status st = kiln::cli::ServeMcp(e, o);
    return st.ok() ? 0 : Fail(st);
  }
  if (debug->parsed()) {
    kiln::api::DebugRequest d;
    d.build_id = debug_last ? "" : debug_id;
    d.command = debug_command;
    std::vector<std::string> left_out;
    d.left_out = &left_out;
    auto code = e.Debug(d);
    if (!code.ok()) return Fail(code.status());
    for (auto& l : left_out) fprintf(stderr, "kiln: not mounted again: %s\n", kiln::EscapeControl(l).c_str());
    return *code;
  }
  if (explain->parsed()) {
    auto report = e.BuildReport(explain_id);
    if (!report.ok()) return Fail(report.status());
    printf("build %s\n", report->id.c_str());
    for (auto& b : report->bases) printf("base %s %s\n", kiln::EscapeControl(b.name).c_str(), b.digest.c_str());
    for (auto& s : report->steps) {
      std::string line = s.name + (s.cached ? "" : "  (" + s.miss_reason + ")");
      if (s.cached && !s.cache_source.empty()) line += "  (from " + s.cache_source + ")";
      printf("%-8s %s\n", s.cached ? "CACHED" : "RAN", kiln::EscapeControl(line).c_str());
      for (auto& c : s.changes) printf("%-8s changed: %s\n", "", kiln::EscapeControl(c).c_str());
    }
    return 0;
  }
  return 0;
}
