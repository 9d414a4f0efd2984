#include "mcp/http_gate.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/text.h"

namespace kiln::mcp {
namespace {

using Clock = std::chrono::steady_clock;

/// Runs each task at once on the caller's thread: httplib's accept loop hands sockets straight to the gate.
class InlineTaskQueue : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

bool WaitFor(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  for (;;) {
    int n = poll(&p, 1, int(timeout.count()));
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

/// httplib's Stream over a non-blocking socket whose first bytes the gate already read.
class BufferedStream : public httplib::Stream {
 public:
  BufferedStream(int fd, std::string buffered, std::chrono::milliseconds read_timeout,
                 std::chrono::milliseconds write_timeout)
      : fd_(fd), buffer_(std::move(buffered)), read_timeout_(read_timeout), write_timeout_(write_timeout) {}

  bool is_readable() const override { return pos_ < buffer_.size() || WaitFor(fd_, POLLIN, read_timeout_); }
  bool is_writable() const override { return WaitFor(fd_, POLLOUT, write_timeout_); }

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ < buffer_.size()) {
      size_t n = std::min(size, buffer_.size() - pos_);
      memcpy(ptr, buffer_.data() + pos_, n);
      pos_ += n;
      return ssize_t(n);
    }
    for (;;) {
      ssize_t n = recv(fd_, ptr, size, 0);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if ((errno != EAGAIN && errno != EWOULDBLOCK) || !WaitFor(fd_, POLLIN, read_timeout_)) return -1;
    }
  }

  ssize_t write(const char* ptr, size_t size) override {
    size_t done = 0;
    while (done < size) {
      ssize_t n = send(fd_, ptr + done, size - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += size_t(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && WaitFor(fd_, POLLOUT, write_timeout_)) {
        continue;
      } else {
        return done > 0 ? ssize_t(done) : -1;
      }
    }
    return ssize_t(done);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { Address(getpeername, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { Address(getsockname, ip, port); }
  socket_t socket() const override { return fd_; }

  /// How much of the buffered bytes has been read.
  size_t consumed() const { return pos_; }
  const std::string& buffer() const { return buffer_; }

 private:
  template <typename Get>
  void Address(Get get, std::string& ip, int& port) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    ip.clear();
    port = 0;
    if (get(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return;
    char text[INET6_ADDRSTRLEN] = "";
    if (addr.ss_family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&addr);
      inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
      port = ntohs(a->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
      inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
      port = ntohs(a->sin6_port);
    }
    ip = text;
  }
  int fd_;
  std::string buffer_;
  size_t pos_ = 0;
  std::chrono::milliseconds read_timeout_, write_timeout_;
};

/// An answer written by the gate itself (too many connections, a head too large, too slow), then the socket
/// closes. Best effort: the socket is non-blocking and the answer small.
void Answer(int fd, int status, const char* reason, const std::string& message) {
  std::string body = R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":")" + message + R"("}})";
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                     "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n";
  std::string all = head + body;
  (void)send(fd, all.data(), all.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

enum class Arrival { kIncomplete, kComplete, kTooLarge };

/// The request at the start of `buffer`: where its head ends (npos until it has arrived) and how long its body is
/// (npos for a chunked or oversized body, which the worker reads from the socket instead).
struct RequestFrame {
  size_t head_end = std::string::npos;  // just past the blank line
  size_t body_length = 0;
  /// Bytes of the whole request, when head and body are known to fit in the buffer; npos otherwise.
  size_t size() const {
    return head_end == std::string::npos || body_length == std::string::npos ? std::string::npos : head_end + body_length;
  }
};

/// `searched`: how much of `buffer` an earlier call already looked through for the blank line, so that a head
/// arriving a byte at a time is scanned once, not once per byte; updated.
RequestFrame Frame(const std::string& buffer, const GateOptions& o, size_t* searched = nullptr) {
  RequestFrame f;
  size_t from = searched && *searched > 3 ? *searched - 3 : 0;  // the blank line may straddle the old end
  size_t blank = buffer.find("\r\n\r\n", from);
  if (searched) *searched = blank == std::string::npos ? buffer.size() : blank;
  if (blank == std::string::npos) return f;
  f.head_end = blank + 4;
  std::string head = AsciiLower(std::string_view(buffer).substr(0, blank + 2));
  size_t cl = head.find("\r\ncontent-length:");
  if (head.find("\r\ntransfer-encoding:") != std::string::npos) {
    f.body_length = std::string::npos;
  } else if (cl != std::string::npos) {
    f.body_length = strtoull(head.c_str() + cl + 17, nullptr, 10);
    if (f.body_length > o.max_buffered_body) f.body_length = std::string::npos;
  }
  return f;
}

/// Reads what the non-blocking socket has into `buffer` (up to `limit` bytes in all). False when the client closed
/// the connection or it failed.
bool ReadAvailable(int fd, std::string& buffer, size_t limit) {
  char chunk[16 << 10];
  while (buffer.size() <= limit) {
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer.append(chunk, size_t(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
  }
  return true;
}

/// Whether `buffer` holds a whole request: its head and, for bodies of a known, bufferable length, its body.
Arrival CheckArrival(const std::string& buffer, const GateOptions& o, size_t* searched) {
  RequestFrame f = Frame(buffer, o, searched);
  if (f.head_end == std::string::npos) return buffer.size() > o.max_head_bytes ? Arrival::kTooLarge : Arrival::kIncomplete;
  if (f.head_end > o.max_head_bytes) return Arrival::kTooLarge;
  if (f.size() == std::string::npos) return Arrival::kComplete;  // the worker reads the body from the socket
  return buffer.size() >= f.size() ? Arrival::kComplete : Arrival::kIncomplete;
}

}  // namespace

class GatedHttpServer::Gate {
 public:
  Gate(GatedHttpServer& server, GateOptions o) : server_(server), o_(o) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    wake_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
  }

  ~Gate() {
    Stop();
    close(epoll_);
    close(wake_);
  }

  const GateOptions& options() const { return o_; }

  void Start() {
    // Each waiting connection is a file descriptor: allow as many as the hard limit lets us.
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
      lim.rlim_cur = lim.rlim_max;
      setrlimit(RLIMIT_NOFILE, &lim);
      if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur > 128) {
        o_.max_connections = std::min<size_t>(o_.max_connections, lim.rlim_cur - 64);
      }
    }
    loop_ = std::thread([this] { Loop(); });
  }

  void Admit(int fd) {
    std::lock_guard l(mu_);
    // At the cap, a connection that is only waiting gives way to the new one: sockets that send nothing (or a
    // head a byte at a time) must not keep out the clients that have requests. Only connections being served
    // hold their place.
    if (!stopping_ && open_ >= o_.max_connections) EvictWaiting();
    if (stopping_ || open_ >= o_.max_connections) {
      Answer(fd, 503, "Service Unavailable",
             "too many connections (" + std::to_string(o_.max_connections) + " are open): try again later");
      close(fd);
      return;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // small JSON-RPC answers must not wait for Nagle
    open_++;
    Wait(fd, std::string(), /*served=*/false);
  }

  void Stop() {
    {
      std::lock_guard l(mu_);
      if (stopping_) return;
      stopping_ = true;
      for (auto& [fd, c] : waiting_) close(fd);
      waiting_.clear();
      for (auto& [fd, buffer] : queue_) close(fd);
      queue_.clear();
      for (int fd : serving_) shutdown(fd, SHUT_RDWR);  // unblocks the workers' reads and writes
    }
    uint64_t one = 1;
    (void)write(wake_, &one, sizeof one);
    work_.notify_all();
    if (loop_.joinable()) loop_.join();
    std::unique_lock l(mu_);
    workers_done_.wait_for(l, std::chrono::seconds(10), [&] { return threads_ == 0; });
  }

 private:
  struct Connection {
    std::string buffer;
    Clock::time_point since;  // when it began to wait
    Clock::time_point deadline;
    bool started = false;  // some of a request has arrived
    bool served = false;   // a request of it was served before (a keep-alive connection)
    size_t searched = 0;   // bytes of `buffer` already searched for the end of the head
  };

  /// Closes the waiting connection that has least claim to its place: one that never brought a whole request,
  /// sending nothing before one sending a partial head, then an idle keep-alive connection; the longest waiting
  /// first. REQUIRES: mu_ held.
  void EvictWaiting() {
    auto claim = [](const Connection& c) { return c.served ? 2 : c.started ? 1 : 0; };
    auto victim = waiting_.end();
    for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
      if (victim == waiting_.end() || claim(it->second) < claim(victim->second) ||
          (claim(it->second) == claim(victim->second) && it->second.since < victim->second.since)) {
        victim = it;
      }
    }
    if (victim == waiting_.end()) return;
    if (victim->second.started) Answer(victim->first, 503, "Service Unavailable", "closed to make room: too many connections");
    CloseLocked(victim->first);
  }

  /// Puts a connection (back) into the event loop, or straight to a worker when it already holds a request.
  /// REQUIRES: mu_ held.
  void Wait(int fd, std::string buffer, bool served) {
    if (!buffer.empty() && CheckArrival(buffer, o_, nullptr) == Arrival::kComplete) return Submit(fd, std::move(buffer));
    Connection c;
    c.since = Clock::now();
    c.served = served;
    c.started = !buffer.empty();
    c.deadline = Clock::now() + (c.started ? o_.request_timeout : o_.idle_timeout);
    c.buffer = std::move(buffer);
    waiting_[fd] = std::move(c);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
  }

  /// REQUIRES: mu_ held.
  void CloseLocked(int fd) {
    epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    waiting_.erase(fd);
    close(fd);
    open_--;
  }

  void Loop() {
    epoll_event events[256];
    auto last_sweep = Clock::now();
    for (;;) {
      int n = epoll_wait(epoll_, events, 256, 100);
      std::lock_guard l(mu_);
      if (stopping_) return;
      for (int i = 0; i < n; i++) {
        int fd = events[i].data.fd;
        if (fd == wake_) continue;
        auto it = waiting_.find(fd);
        if (it != waiting_.end()) OnReadable(fd, it->second);
      }
      auto now = Clock::now();
      if (now - last_sweep < std::chrono::milliseconds(100)) continue;
      last_sweep = now;
      std::vector<int> late;
      for (auto& [fd, c] : waiting_)
        if (c.deadline <= now) late.push_back(fd);
      for (int fd : late) {
        // An idle keep-alive connection just closes; a request that stalls half-way is told why.
        if (waiting_[fd].started) Answer(fd, 408, "Request Timeout", "the request did not arrive in time");
        CloseLocked(fd);
      }
    }
  }

  /// REQUIRES: mu_ held.
  void OnReadable(int fd, Connection& c) {
    if (!ReadAvailable(fd, c.buffer, o_.max_head_bytes + o_.max_buffered_body)) return CloseLocked(fd);
    if (!c.started && !c.buffer.empty()) {
      c.started = true;
      c.deadline = Clock::now() + o_.request_timeout;
    }
    switch (CheckArrival(c.buffer, o_, &c.searched)) {
      case Arrival::kIncomplete:
        return;
      case Arrival::kTooLarge:
        Answer(fd, 431, "Request Header Fields Too Large", "the request head is larger than the limit");
        return CloseLocked(fd);
      case Arrival::kComplete: {
        std::string buffer = std::move(c.buffer);
        epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
        waiting_.erase(fd);
        return Submit(fd, std::move(buffer));
      }
    }
  }

  enum class Next { kRequest, kGate, kClosed };

  /// Waits up to `linger` for the next request on a kept-alive connection. kRequest: `buffer` holds a whole one;
  /// kGate: none came in time (or it is too large), the gate takes over with what arrived; kClosed: the client left.
  Next AwaitNext(int fd, std::string& buffer) {
    auto until = Clock::now() + o_.linger;
    size_t searched = 0;
    for (;;) {
      Arrival a = CheckArrival(buffer, o_, &searched);
      if (a == Arrival::kComplete) return Next::kRequest;
      if (a == Arrival::kTooLarge) return Next::kGate;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0 || !WaitFor(fd, POLLIN, left)) return Next::kGate;
      if (!ReadAvailable(fd, buffer, o_.max_head_bytes + o_.max_buffered_body)) return Next::kClosed;
    }
  }

  /// Hands a complete request to a worker, starting one when none is free. REQUIRES: mu_ held.
  void Submit(int fd, std::string buffer) {
    queue_.emplace_back(fd, std::move(buffer));
    // Idle workers each take one queued request (they count as idle until they wake): more requests than idle
    // workers need another thread, or a request could wait behind long SSE streams.
    if (queue_.size() > idle_ && threads_ < o_.max_workers) {
      threads_++;
      std::thread([this] { Work(); }).detach();
    }
    work_.notify_one();
  }

  void Work() {
    std::unique_lock l(mu_);
    for (;;) {
      idle_++;
      bool got = work_.wait_for(l, std::chrono::seconds(60), [&] { return stopping_ || !queue_.empty(); });
      idle_--;
      if (stopping_ || !got) break;
      auto [fd, buffer] = std::move(queue_.front());
      queue_.pop_front();
      serving_.insert(fd);
      l.unlock();
      bool keep = server_.ServeRequest(fd, buffer);
      // A client that sends its next request right away (an agent's call sequence) is served on this worker,
      // without a round through the event loop; one that dawdles goes back to the gate.
      Next next = Next::kGate;
      while (keep && !stopping_ && (next = AwaitNext(fd, buffer)) == Next::kRequest) keep = server_.ServeRequest(fd, buffer);
      if (next == Next::kClosed) keep = false;
      l.lock();
      serving_.erase(fd);
      if (keep && !stopping_) {
        Wait(fd, std::move(buffer), /*served=*/true);
      } else {
        close(fd);
        open_--;
      }
    }
    threads_--;
    workers_done_.notify_all();
  }

  GatedHttpServer& server_;
  GateOptions o_;
  int epoll_ = -1;
  int wake_ = -1;
  std::thread loop_;
  std::mutex mu_;
  std::map<int, Connection> waiting_;              // connections waiting for a (whole) request
  std::deque<std::pair<int, std::string>> queue_;  // complete requests no worker has taken yet
  std::set<int> serving_;                          // connections a worker is handling
  size_t open_ = 0;                                // all of the above
  size_t threads_ = 0, idle_ = 0;
  std::condition_variable work_, workers_done_;
  std::atomic<bool> stopping_{false};
};

GatedHttpServer::GatedHttpServer(GateOptions options) : gate_(std::make_unique<Gate>(*this, options)) {
  new_task_queue = [] { return new InlineTaskQueue; };
}

GatedHttpServer::~GatedHttpServer() { gate_->Stop(); }

void GatedHttpServer::Start() {
  // httplib listens with a backlog of 5; a burst of connects must not be dropped while the gate keeps up.
  ::listen(svr_sock_, 1024);
  gate_->Start();
}

void GatedHttpServer::StopGate() { gate_->Stop(); }

bool GatedHttpServer::process_and_close_socket(socket_t sock) {
  gate_->Admit(sock);
  return true;
}

namespace {
thread_local int current_fd = -1;  // the connection whose request this thread is handling
}  // namespace

bool GatedHttpServer::ClientGone() {
  if (current_fd < 0) return false;
  // The whole request was read before the handler ran, so readable-with-nothing-to-read or a hang-up means the
  // peer closed; bytes of a pipelined next request mean it is still there.
  pollfd p{current_fd, POLLIN | POLLRDHUP, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
  char c;
  return recv(current_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

bool GatedHttpServer::ServeRequest(int fd, std::string& buffered) {
  current_fd = fd;
  struct Reset {
    ~Reset() { current_fd = -1; }
  } reset;
  size_t request_size = Frame(buffered, gate_->options()).size();
  BufferedStream stream(fd, std::move(buffered), std::chrono::seconds(read_timeout_sec_),
                        std::chrono::seconds(write_timeout_sec_));
  bool closed = false;
  bool ok = process_request(stream, /*close_connection=*/false, closed, nullptr);
  // A handler may answer without reading the body (a refused token): the next request starts after it all. When
  // the body was not all buffered, where it ends in the socket is unknown, so the connection ends instead.
  if (!ok || closed || request_size == std::string::npos || stream.consumed() > request_size) return false;
  buffered = stream.buffer().substr(request_size);
  return true;
}

}  // namespace kiln::mcp
