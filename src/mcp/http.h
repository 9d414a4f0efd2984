// The Streamable HTTP transport (MCP 2025-03-26 and later): one endpoint; POST answers with JSON or an SSE
// stream; GET opens the server-to-client stream; DELETE ends a session. Sessions (Mcp-Session-Id), the
// MCP-Protocol-Version header, resumable streams (event ids, Last-Event-ID), Origin/Host validation against DNS
// rebinding, and an optional bearer token.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "mcp/server.h"

namespace kiln::mcp {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 picks a free port
  std::string path = "/mcp";
  /// Host names (besides localhost, 127.0.0.1 and [::1]) that Host and Origin headers may name.
  std::vector<std::string> allowed_hosts;
  /// When not empty, every request needs "Authorization: Bearer <one of these>". Each token is a client identity:
  /// sessions and tasks belong to the token they were made with, and no other token reaches them.
  std::vector<std::string> bearer_tokens;
  size_t max_body_bytes = 4 << 20;
  /// Open connections at most; idle ones make room for new ones, and with none idle a 503 (see http_gate.h).
  size_t max_connections = 1024;
  /// The reconnection delay suggested to clients in SSE "retry:" fields.
  int retry_ms = 1000;
  /// Called once the socket listens, with the port.
  std::function<void(int port)> on_listening;
};

class HttpTransport {
 public:
  HttpTransport(Server& server, HttpOptions options);
  ~HttpTransport();
  /// Listens and serves until Stop(); an error if the address cannot be bound.
  Status Serve();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::mcp
