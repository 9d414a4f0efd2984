#include "cli/mcp_command.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>

#include "base/fs.h"
#include "base/text.h"
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
  if (o.memory == "0") {
    to.memory_limit = 0;
  } else {
    auto bytes = ParseRamSize(o.memory);
    if (!bytes || *bytes < (6 << 20)) return Status::Error("--memory: bad size \"" + o.memory + "\" (at least 6m, or 0 for none)");
    to.memory_limit = *bytes;
  }
  if (o.pids_limit < 0) return Status::Error("--pids-limit: must be 0 (none) or more");
  to.pids_limit = o.pids_limit;
  for (auto& text : o.secrets) {
    KILN_ASSIGN(api::SecretSource source, api::SecretSource::Parse(text));
    to.secrets.push_back(source);
  }
  auto surface = mcptools::Register(server, engine, to);
  if (o.conformance_fixtures) mcp::AddConformanceFixtures(server);

  // Time cancelled builds get to clean up (containers, mounts) when the server is told to stop.
  constexpr auto kShutdownGrace = std::chrono::seconds(20);
  if (o.transport == "stdio") {
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
  mcp::HttpOptions ho;
  size_t colon = o.listen.rfind(':');
  if (colon == std::string::npos) return Status::Error("--listen: expected HOST:PORT, got \"" + o.listen + "\"");
  ho.host = o.listen.substr(0, colon);
  char* end = nullptr;
  long port = strtol(o.listen.c_str() + colon + 1, &end, 10);
  if (*end || port < 0 || port > 65535) return Status::Error("--listen: bad port in \"" + o.listen + "\"");
  ho.port = int(port);
  ho.allowed_hosts = o.allowed_hosts;
  ho.max_connections = o.max_connections;
  if (ho.host != "127.0.0.1" && ho.host != "localhost" && ho.host != "::1") ho.allowed_hosts.push_back(ho.host);
  if (!o.token_file.empty()) {
    KILN_ASSIGN(std::string token, ReadFile(o.token_file));
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) return Status::Error("--token-file " + o.token_file + " is empty");
    ho.bearer_token = token;
  }
  ho.on_listening = [&](int p) {
    fprintf(stderr, "kiln mcp: listening on http://%s:%d%s\n", ho.host.c_str(), p, ho.path.c_str());
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
