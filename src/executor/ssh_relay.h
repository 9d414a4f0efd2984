// The container's end of RUN --mount=type=ssh: a Unix socket that relays every connection to an ssh agent's
// socket on the host, so the step can use the agent's keys without seeing the host's socket or the keys.
#pragma once
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"

namespace kiln::executor {

class SshRelay {
 public:
  /// Listens at `path` (created with `mode` and owned by uid:gid) and relays to the agent at `agent`.
  static Result<std::unique_ptr<SshRelay>> Start(const std::string& path, const std::string& agent, uint32_t mode,
                                                 uint32_t uid, uint32_t gid);
  /// Stops listening and ends every relayed connection.
  ~SshRelay();

 private:
  SshRelay(int listener, std::string agent);
  void AcceptLoop();
  void Relay(int client);

  int listener_;
  int stop_[2] = {-1, -1};  // a pipe: written to when the relay stops, wakes every poll
  std::string agent_;
  std::mutex mu_;
  std::list<std::thread> connections_;
  std::thread acceptor_;
};

}  // namespace kiln::executor
