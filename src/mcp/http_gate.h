// The HTTP server's front door: connections wait for a whole request in one event loop, not in a worker thread,
// so clients that open sockets and send a few header bytes (or nothing) cost a file descriptor each, never a
// worker. Only complete requests reach httplib's request handling, on a pool that grows with the work.
//
// httplib's own server gives every connection a pool thread that blocks reading it: 150 half-open sockets made a
// ping wait 8 s and 1,000 made it time out. Slow or idle connections are closed when their deadline passes. At the
// cap on open connections, a new one takes the place of one that is only waiting (never one being served), so that
// idle sockets cannot keep clients with requests out; only when every connection is busy is it refused at once
// with a 503 that says why.
#pragma once
#include <httplib.h>

#include <chrono>
#include <memory>
#include <string>

namespace kiln::mcp {

struct GateOptions {
  /// Open connections at most (past it, waiting ones make room; with none waiting, a 503); lowered to fit the
  /// process's file descriptor limit.
  size_t max_connections = 1024;
  /// Threads handling complete requests at most (an open SSE stream holds one).
  size_t max_workers = 512;
  /// How long a connection may sit without starting a request (keep-alive idle time).
  std::chrono::milliseconds idle_timeout{30'000};
  /// How long a worker that answered a request waits for the next one on the same connection before handing the
  /// connection back to the event loop (saves two thread switches per request of a busy client).
  std::chrono::milliseconds linger{20};
  /// How long a request may take to arrive in full once its first byte came.
  std::chrono::milliseconds request_timeout{10'000};
  /// Bytes a request head may take.
  size_t max_head_bytes = 64 << 10;
  /// Bodies up to this size are read before a worker is given the request; larger ones are read by the worker.
  size_t max_buffered_body = 8 << 20;
};

/// An httplib::Server whose connections go through the gate. REQUIRES: configure it as any httplib::Server, then
/// call Start() before listen_after_bind() and Stop() after stop().
class GatedHttpServer : public httplib::Server {
 public:
  explicit GatedHttpServer(GateOptions options = {});
  ~GatedHttpServer() override;
  /// Starts the gate's event loop and sets the listen backlog. Call after binding.
  void Start();
  /// Closes every connection and waits for the gate and the workers to finish.
  void StopGate();
  /// Whether the client of the request this thread is handling has closed its connection (or reset it): how a
  /// handler learns that nobody waits for its answer any more. False outside a request.
  static bool ClientGone();

 private:
  class Gate;
  friend class Gate;
  /// Called by httplib for each accepted socket (on the accepting thread, through an inline task queue).
  bool process_and_close_socket(socket_t sock) override;
  /// Handles one buffered request on a worker; returns whether the connection stays open for another.
  bool ServeRequest(int fd, std::string& buffered);
  std::unique_ptr<Gate> gate_;
};

}  // namespace kiln::mcp
