#include "executor/ssh_relay.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/fs.h"

namespace kiln::executor {
namespace {

Result<sockaddr_un> AddressOf(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Status::Error("socket path " + path + " is too long for a Unix socket (" + std::to_string(path.size()) +
                         " bytes, at most " + std::to_string(sizeof addr.sun_path - 1) + "): use a shorter data root");
  }
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

/// Writes all of `data`; false when the peer is gone.
bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= size_t(w);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<SshRelay>> SshRelay::Start(const std::string& path, const std::string& agent, uint32_t mode,
                                                  uint32_t uid, uint32_t gid) {
  KILN_ASSIGN(sockaddr_un addr, AddressOf(path));
  KILN_TRY(AddressOf(agent).status());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoError("socket", path);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || chown(path.c_str(), uid, gid) != 0 ||
      chmod(path.c_str(), mode) != 0 || listen(fd, 16) != 0) {
    Status st = ErrnoError("listen on ssh socket", path);
    close(fd);
    return st;
  }
  std::unique_ptr<SshRelay> relay(new SshRelay(fd, agent));
  if (pipe2(relay->stop_, O_CLOEXEC) != 0) return ErrnoError("pipe", path);
  relay->acceptor_ = std::thread([r = relay.get()] { r->AcceptLoop(); });
  return relay;
}

SshRelay::SshRelay(int listener, std::string agent) : listener_(listener), agent_(std::move(agent)) {}

SshRelay::~SshRelay() {
  if (stop_[1] >= 0) {
    char c = 1;
    (void)!write(stop_[1], &c, 1);
  }
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard l(mu_);
    for (auto& t : connections_) t.join();
  }
  close(listener_);
  for (int fd : stop_)
    if (fd >= 0) close(fd);
}

void SshRelay::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listener_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    std::lock_guard l(mu_);
    connections_.emplace_back([this, client] { Relay(client); });
  }
}

void SshRelay::Relay(int client) {
  int agent = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto addr = AddressOf(agent_);
  if (agent < 0 || !addr.ok() || connect(agent, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0) {
    if (agent >= 0) close(agent);
    close(client);  // the step's ssh sees a closed agent: its own error says what failed
    return;
  }
  char buf[16384];
  while (true) {
    pollfd fds[3] = {{client, POLLIN, 0}, {agent, POLLIN, 0}, {stop_[0], POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[2].revents) break;
    bool open = true;
    for (int i = 0; i < 2 && open; i++) {
      if (!fds[i].revents) continue;
      ssize_t n = recv(fds[i].fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      open = n > 0 && WriteAll(fds[1 - i].fd, buf, size_t(n));
    }
    if (!open) break;
  }
  close(agent);
  close(client);
}

}  // namespace kiln::executor
