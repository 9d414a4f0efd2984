// kiln's MCP surface: tools, resources and prompts registered on a mcp::Server. Thin: each validates its
// arguments and calls the engine API.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "api/engine.h"
#include "mcp/server.h"

namespace kiln::mcptools {

struct Options {
  /// Workspace directories the agent may touch (MCP roots in the user's sense); at least one.
  std::vector<std::string> roots;
  /// Only tools that change nothing.
  bool read_only = false;
  /// The secrets builds may use, configured on the server side (kiln mcp --secret). Agents name them by id;
  /// their values are read at build time and never sent to a client.
  std::vector<api::SecretSource> secrets;
  /// Limits of every container an agent starts (RUN steps of build_image, run_container); 0: none. An agent's
  /// build must not be able to take the machine down: kiln mcp sets 2 GiB and 1,024 processes unless told.
  int64_t memory_limit = int64_t(2) << 30;
  int64_t pids_limit = 1024;
};

/// kiln's tools, resources and prompts as registered on a server; keep it alive while the server serves.
class Surface {
 public:
  struct State;
  explicit Surface(std::unique_ptr<State> s);
  ~Surface();

 private:
  std::unique_ptr<State> s_;
};

/// Registers every kiln tool, resource and prompt on `server`. `engine` must outlive the returned Surface.
std::unique_ptr<Surface> Register(mcp::Server& server, api::Engine& engine, const Options& options);

}  // namespace kiln::mcptools
