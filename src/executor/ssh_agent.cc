#include "executor/ssh_agent.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "base/process.h"
#include "base/text.h"

namespace kiln::executor {

Result<std::unique_ptr<SshAgents>> SshAgents::Start(const std::vector<std::string>& specs) {
  std::unique_ptr<SshAgents> agents(new SshAgents());
  for (auto& spec : specs) KILN_TRY(agents->Add(spec).Prefixed("--ssh " + spec));
  return agents;
}

SshAgents::~SshAgents() {
  for (pid_t pid : started_) kill(pid, SIGTERM);
}

Status SshAgents::Add(const std::string& spec) {
  size_t eq = spec.find('=');
  std::string id = spec.substr(0, eq);
  if (id.empty()) return Status::Error("an id is needed: default or ID, optionally =SOCKET or =KEY[,KEY...]");
  if (sockets_.count(id)) return Status::Error("id \"" + id + "\" is given twice");
  if (eq == std::string::npos) {
    const char* sock = getenv("SSH_AUTH_SOCK");
    if (!sock || !*sock) {
      return Status::Error("$SSH_AUTH_SOCK is not set: start an ssh agent, or name a socket or key (--ssh " + id + "=PATH)");
    }
    sockets_[id] = sock;
    return Status::Ok();
  }
  std::vector<std::string> paths;
  std::string rest = spec.substr(eq + 1);
  for (size_t start = 0, comma; start <= rest.size(); start = comma + 1) {
    comma = rest.find(',', start);
    if (comma == std::string::npos) comma = rest.size();
    if (comma > start) paths.push_back(rest.substr(start, comma - start));
  }
  if (paths.empty()) return Status::Error("no socket or key after '='");
  struct stat st;
  if (paths.size() == 1 && stat(paths[0].c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    sockets_[id] = paths[0];
    return Status::Ok();
  }
  for (auto& p : paths) {
    if (stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return Status::Error(p + " is neither an agent socket nor a key file");
  }
  KILN_ASSIGN(sockets_[id], StartAgent(id, paths));
  return Status::Ok();
}

Result<std::string> SshAgents::StartAgent(const std::string& id, const std::vector<std::string>& keys) {
  KILN_ASSIGN(TempDir dir, TempDir::Create("/tmp", "kiln-ssh-"));
  std::string sock = dir.path() + "/agent.sock";
  dirs_.push_back(std::make_unique<TempDir>(std::move(dir)));
  // ssh-agent -s forks into the background and prints its pid; it is stopped when the build ends.
  auto out = CaptureProcess({"ssh-agent", "-s", "-a", sock});
  if (!out.ok()) return out.status().Prefixed("start ssh-agent (Debian's openssh-client)");
  size_t at = out->find("SSH_AGENT_PID=");
  if (at == std::string::npos) return Status::Error("ssh-agent did not say its pid");
  pid_t pid = pid_t(atol(out->c_str() + at + 14));
  if (pid <= 0) return Status::Error("ssh-agent did not say its pid");
  started_.push_back(pid);
  std::vector<std::string> add = {"env", "SSH_AUTH_SOCK=" + sock, "SSH_ASKPASS=/bin/false", "ssh-add", "-q"};
  add.insert(add.end(), keys.begin(), keys.end());
  std::string output;
  ProcessOptions po;
  po.on_output = [&](int, std::string_view d) { output.append(d); };
  KILN_ASSIGN(int code, RunProcess(add, po));
  if (code != 0) {
    return Status::Error("ssh-add could not load the key(s) for \"" + id + "\" (a key with a passphrase needs an agent: --ssh " +
                         id + "=$SSH_AUTH_SOCK): " + EscapeControl(output));
  }
  return sock;
}

}  // namespace kiln::executor
