// The stdio transport: newline-delimited JSON-RPC on stdin/stdout. Nothing but protocol messages is ever
// written to stdout; logs belong on stderr.
#pragma once
#include <cstddef>

#include "mcp/server.h"

namespace kiln::mcp {

struct StdioOptions {
  int in_fd = 0;
  int out_fd = 1;
  /// Lines longer than this are answered with a parse error and skipped.
  size_t max_message_bytes = 16 << 20;
  /// When this descriptor becomes readable, serving ends as if the input had: how a signal handler stops it.
  int stop_fd = -1;
};

/// Serves one client until its input ends (or stop_fd is readable); then cancels what is still running and
/// returns.
void ServeStdio(Server& server, const StdioOptions& options = {});

}  // namespace kiln::mcp
