// `kiln mcp`: the MCP server over stdio or Streamable HTTP.
#pragma once
#include <string>
#include <vector>

#include "api/engine.h"
#include "base/status.h"

namespace kiln::cli {

struct McpOptions {
  std::string transport = "stdio";
  std::string listen = "127.0.0.1:0";
  std::vector<std::string> roots;
  bool read_only = false;
  std::string token_file;
  bool generate_token = false;  // write a fresh token to token_file when it does not exist
  bool no_auth = false;         // allow a non-loopback listen address without a token
  std::vector<std::string> allowed_hosts;
  size_t max_connections = 1024;  // HTTP: open connections at most; idle ones make room, then a 503
  bool conformance_fixtures = false;
  std::vector<std::string> secrets;  // --secret id=X,env=VAR|src=FILE
  std::string memory;                // --memory of each container an agent starts; "0" for none; "" the default
  int64_t pids_limit = -1;           // --pids-limit; 0 for none; -1 the default
};

Status ServeMcp(api::Engine& engine, const McpOptions& options);

}  // namespace kiln::cli
