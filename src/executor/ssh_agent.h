// The ssh agents a build forwards to RUN --mount=type=ssh, from `kiln build --ssh` values as docker buildx reads
// them: `default` or `ID` (the agent at $SSH_AUTH_SOCK), `ID=SOCKET` (another agent), or `ID=KEY[,KEY...]` (private
// key files, loaded into an ssh-agent that kiln starts for the build and stops after it).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

#include "base/fs.h"
#include "base/status.h"

namespace kiln::executor {

class SshAgents {
 public:
  static Result<std::unique_ptr<SshAgents>> Start(const std::vector<std::string>& specs);
  ~SshAgents();
  /// Agent sockets by id.
  const std::map<std::string, std::string>& sockets() const { return sockets_; }

 private:
  SshAgents() = default;
  Status Add(const std::string& spec);
  Result<std::string> StartAgent(const std::string& id, const std::vector<std::string>& keys);
  std::map<std::string, std::string> sockets_;
  std::vector<pid_t> started_;                // ssh-agent processes of ours
  std::vector<std::unique_ptr<TempDir>> dirs_;  // their sockets' directories
};

}  // namespace kiln::executor
