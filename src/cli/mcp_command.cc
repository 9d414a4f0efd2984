#include "cli/mcp_command.h"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>

#include "base/digest.h"
#include "base/fs.h"
#include "base/text.h"
#include "executor/limits.h"
#include "mcp/fixtures.h"
#include "mcp/http.h"
#include "mcp/stdio.h"
#include "mcptools/tools.h"

namespace kiln::cli {
namespace {

/// Runs `serve` with SIGINT and SIGTERM turned into a call to `stop` on a thread of their own, so that a
/// server being stopped cancels its builds (which remove their containers and mounts) instead of dying mid-step.
/// `stop` returns once the work in flight has ended; serve() then has half a second to return.
Status ServeUntilSignalled(const std::function<Status()>& serve, const std::function<void()>& stop) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);  // only ever sent by us, to end the watcher
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts, so every thread inherits it
  std::mutex mu;
  std::condition_variable served;
  bool done = false;
  std::thread watcher([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig != SIGINT && sig != SIGTERM) return;
    fprintf(stderr, "kiln mcp: %s, stopping\n", sig == SIGINT ? "interrupted" : "terminated");
    stop();
    // The work has ended; what may still hold serve() up is idle keep-alive connections, which the HTTP server
    // only lets go when they time out. Nothing is lost by not waiting for that.
    std::unique_lock l(mu);
    if (!served.wait_for(l, std::chrono::milliseconds(500), [&] { return done; })) std::_Exit(0);
  });
  Status st = serve();
  {
    std::lock_guard l(mu);
    done = true;
    served.notify_all();
  }
  pthread_kill(watcher.native_handle(), SIGUSR1);
  watcher.join();
  return st;
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1" || host == "[::1]";
}

/// The tokens of --token-file, one per line (blank lines and # comments skipped). With `generate`, a missing file
/// is first written with a fresh 256-bit token, readable by its owner alone.
Result<std::vector<std::string>> LoadTokens(const std::string& path, bool generate) {
  if (generate && !PathExists(path)) {
    KILN_ASSIGN(std::string token, RandomHex(32));
    KILN_TRY(WriteFileAtomic(path, token + "\n", 0600).Prefixed("--token-file"));
    fprintf(stderr, "kiln mcp: wrote a new token to %s (mode 0600): clients send 'Authorization: Bearer <its content>'\n",
            path.c_str());
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return Status::Error("--token-file " + path + ": no such file (add --generate-token to write a fresh token there)");
  }
  if (st.st_mode & 077) {
    fprintf(stderr, "kiln mcp: warning: --token-file %s can be read by other users (chmod 600 %s)\n", path.c_str(),
            path.c_str());
  }
  KILN_ASSIGN(std::string text, ReadFile(path));
  std::vector<std::string> tokens;
  for (std::string line : SplitString(text, '\n')) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    line.erase(0, line.find_first_not_of(" \t"));
    if (line.empty() || line[0] == '#') continue;
    // A token travels in an HTTP header: printable ASCII without spaces.
    if (!std::all_of(line.begin(), line.end(), [](char c) { return c > ' ' && c < 0x7f; })) {
      return Status::Error("--token-file " + path + ": a token must be printable ASCII without spaces");
    }
    if (line.size() < 16) {
      fprintf(stderr, "kiln mcp: warning: a token of --token-file %s is shorter than 16 characters: easy to guess "
                      "(--generate-token makes a strong one)\n", path.c_str());
    }
    tokens.push_back(line);
  }
  if (tokens.empty()) return Status::Error("--token-file " + path + " holds no token");
  return tokens;
}

}  // namespace

Status ServeMcp(api::Engine& engine, const McpOptions& o) {
  mcp::Server server({"kiln", "0.1.0", "kiln image builder",
                      "kiln builds container images from Dockerfiles without a daemon. Write a Dockerfile with "
                      "write_file, build it with build_image (progress arrives as notifications), read failures from "
                      "the structured error, look inside images with list_image_files/read_image_file, run them with "
                      "run_container, and ask explain_cache why steps ran."});
  mcptools::Options to;
  for (auto& r : o.roots.empty() ? std::vector<std::string>{"."} : o.roots) {
    char real[PATH_MAX];
    if (!realpath(r.c_str(), real) || !IsDirectory(real)) return Status::Error("--root " + r + ": not a directory");
    to.roots.push_back(real);
  }
  to.read_only = o.read_only;
  // The default limits (2g, 1024 processes) where they can be enforced. A rootless kiln without a delegated cgroup
  // cannot: it says so and serves without them; limits asked for explicitly fail each container, saying why.
  bool defaults = o.memory.empty() && o.pids_limit < 0;
  std::string memory = o.memory.empty() ? "2g" : o.memory;
  int64_t pids = o.pids_limit < 0 ? 1024 : o.pids_limit;
  if (!executor::LimitCgroup::Available()) {
    if (o.memory.empty()) memory = "0";
    if (o.pids_limit < 0) pids = 0;
    if (defaults) {
      fprintf(stderr, "kiln mcp: warning: rootless without a delegated cgroup: containers run without the default "
                      "--memory 2g and --pids-limit 1024\n");
    }
  }
  if (memory == "0") {
    to.memory_limit = 0;
  } else {
    auto bytes = ParseRamSize(memory);
    if (!bytes || *bytes < (6 << 20)) return Status::Error("--memory: bad size \"" + memory + "\" (at least 6m, or 0 for none)");
    to.memory_limit = *bytes;
  }
  if (o.pids_limit < -1) return Status::Error("--pids-limit: must be 0 (none) or more");
  to.pids_limit = pids;
  for (auto& text : o.secrets) {
    KILN_ASSIGN(api::SecretSource source, api::SecretSource::Parse(text));
    to.secrets.push_back(source);
  }
  auto surface = mcptools::Register(server, engine, to);
  if (o.conformance_fixtures) mcp::AddConformanceFixtures(server);

  // Time cancelled builds get to clean up (containers, mounts) when the server is told to stop.
  constexpr auto kShutdownGrace = std::chrono::seconds(20);
  if (o.transport == "stdio") {
    if (!o.token_file.empty() || o.generate_token || o.no_auth) {
      return Status::Error("--token-file, --generate-token and --no-auth apply to --transport http only");
    }
    int stop_pipe[2];
    if (pipe(stop_pipe) != 0) return Status::Error("pipe: cannot create");
    mcp::StdioOptions so;
    so.stop_fd = stop_pipe[0];
    Status st = ServeUntilSignalled(
        [&] {
          mcp::ServeStdio(server, so);
          return Status::Ok();
        },
        [&] {
          (void)!write(stop_pipe[1], "x", 1);
          server.Shutdown(kShutdownGrace);
        });
    close(stop_pipe[0]);
    close(stop_pipe[1]);
    return st;
  }
  if (o.transport != "http") return Status::Error("--transport: unknown transport \"" + o.transport + "\" (stdio or http)");
  if (o.no_auth && !o.token_file.empty()) return Status::Error("--no-auth and --token-file contradict each other");
  if (o.generate_token && o.token_file.empty()) return Status::Error("--generate-token needs --token-file FILE to write to");
  mcp::HttpOptions ho;
  size_t colon = o.listen.rfind(':');
  if (colon == std::string::npos) return Status::Error("--listen: expected HOST:PORT, got \"" + o.listen + "\"");
  ho.host = o.listen.substr(0, colon);
  auto port = ParseDecimal(std::string_view(o.listen).substr(colon + 1), 65535);
  if (!port) return Status::Error("--listen: bad port in \"" + o.listen + "\"");
  ho.port = int(*port);
  ho.allowed_hosts = o.allowed_hosts;
  ho.max_connections = o.max_connections;
  if (ho.host != "127.0.0.1" && ho.host != "localhost" && ho.host != "::1") ho.allowed_hosts.push_back(ho.host);
  if (!o.token_file.empty()) {
    KILN_ASSIGN(ho.bearer_tokens, LoadTokens(o.token_file, o.generate_token));
  } else if (!IsLoopbackHost(ho.host) && !o.no_auth) {
    // Host and Origin checks stop a browser, not a client on the network: an address other machines can reach
    // takes requests with a token only, unless the user says otherwise in so many words.
    return Status::Error("--listen " + o.listen + " can be reached from other machines, and without a token anyone who "
                         "reaches it could build and run containers as this user: add --token-file FILE "
                         "--generate-token (then give clients 'Authorization: Bearer <FILE's content>'), or "
                         "--no-auth to serve it open");
  }
  ho.on_listening = [&](int p) {
    fprintf(stderr, "kiln mcp: listening on http://%s:%d%s\n", ho.host.c_str(), p, ho.path.c_str());
    if (o.no_auth && ho.bearer_tokens.empty() && !IsLoopbackHost(ho.host)) {
      fprintf(stderr, "kiln mcp: WARNING: --no-auth: anyone who can reach http://%s:%d%s can build and run containers "
                      "as this user, with no token\n", ho.host.c_str(), p, ho.path.c_str());
    }
    fflush(stderr);
  };
  mcp::HttpTransport transport(server, ho);
  return ServeUntilSignalled([&] { return transport.Serve(); },
                             [&] {
                               server.Shutdown(kShutdownGrace);
                               transport.Stop();
                             });
}

}  // namespace kiln::cli
