// A channel for unit tests of the MCP server: it keeps what the server sends.
#pragma once
#include <mutex>
#include <vector>

#include "mcp/server.h"

namespace kiln::mcp {

class RecordingChannel : public Channel {
 public:
  void Send(const Json& m) override {
    std::lock_guard l(mu);
    sent.push_back(m);
  }
  Json Last() {
    std::lock_guard l(mu);
    return sent.empty() ? Json() : sent.back();
  }
  std::mutex mu;
  std::vector<Json> sent;
};

}  // namespace kiln::mcp
