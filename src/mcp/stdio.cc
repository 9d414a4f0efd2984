#include "mcp/stdio.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <functional>
#include <set>
#include <thread>

namespace kiln::mcp {
namespace {

class FdChannel : public Channel {
 public:
  explicit FdChannel(int fd) : fd_(fd) {}
  void Send(const Json& message) override {
    std::string line = message.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
    std::lock_guard l(mu_);
    size_t off = 0;
    while (off < line.size()) {
      ssize_t n = write(fd_, line.data() + off, line.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;  // the client is gone; its session ends when stdin closes
      }
      off += size_t(n);
    }
  }

 private:
  int fd_;
  std::mutex mu_;
};

/// Runs requests on threads of their own, so a long tool call never holds up ping, cancellation or answers;
/// threads are kept a while once idle and reused, since starting one costs more than answering a ping. The
/// state is shared with the threads, which may outlive ServeStdio when a handler ignores cancellation.
class Workers {
 public:
  Workers() : s_(std::make_shared<State>()) {}
  void Run(std::function<void()> job) {
    std::lock_guard l(s_->mu);
    s_->queue.push_back(std::move(job));
    s_->busy++;
    if (s_->idle < s_->queue.size()) {
      std::thread(Loop, s_).detach();
    } else {
      s_->work.notify_one();
    }
  }
  /// Waits up to `timeout` for every job to finish, then lets the idle threads go.
  void Finish(std::chrono::seconds timeout) {
    std::unique_lock l(s_->mu);
    s_->done.wait_for(l, timeout, [&] { return s_->busy == 0; });
    s_->stopping = true;
    s_->work.notify_all();
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable work, done;
    std::deque<std::function<void()>> queue;
    size_t idle = 0;  // threads waiting for work
    int busy = 0;     // jobs queued or running
    bool stopping = false;
  };
  static void Loop(std::shared_ptr<State> s) {
    std::unique_lock l(s->mu);
    for (;;) {
      if (!s->queue.empty()) {
        auto job = std::move(s->queue.front());
        s->queue.pop_front();
        l.unlock();
        job();
        l.lock();
        if (--s->busy == 0) s->done.notify_all();
        continue;
      }
      if (s->stopping) return;
      s->idle++;
      bool woken = s->work.wait_for(l, std::chrono::seconds(30), [&] { return !s->queue.empty() || s->stopping; });
      s->idle--;
      if (!woken) return;
    }
  }
  std::shared_ptr<State> s_;
};

/// Notifications, responses, and requests answered at once: the protocol's own methods and listings, unlike tool
/// calls, resource reads and prompts, which may take as long as the application needs.
bool AnswersAtOnce(const Json& m) {
  if (!m.is_object() || !m.contains("method") || !m.contains("id")) return !m.is_array();
  static const std::set<std::string> kQuick = {
      "initialize",       "ping",           "tools/list",          "resources/list", "resources/templates/list",
      "prompts/list",     "logging/setLevel", "completion/complete", "resources/subscribe", "resources/unsubscribe"};
  return m["method"].is_string() && kQuick.count(m["method"].get<std::string>());
}

}  // namespace

void ServeStdio(Server& server, const StdioOptions& options) {
  auto out = std::make_shared<FdChannel>(options.out_fd);
  auto session = server.CreateSession(out);
  Workers workers;

  auto handle_line = [&](const std::string& line) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) return;
    auto parsed = ParseJson(line);
    if (!parsed.ok()) {
      out->Send(MakeError(Json(), {kParseError, "parse error: " + parsed.status().message(), Json()}));
      return;
    }
    Json& message = *parsed;
    if (AnswersAtOnce(message)) {
      server.Handle(session, message, *out);  // in order, and without a hand-over to another thread
      return;
    }
    workers.Run([&server, session, out, message] { server.Handle(session, message, *out); });
  };

  std::string buffer;
  char chunk[1 << 16];
  bool skipping = false;  // inside an oversized line
  for (;;) {
    pollfd fds[2] = {{options.in_fd, POLLIN, 0}, {options.stop_fd, POLLIN, 0}};
    if (poll(fds, options.stop_fd >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (options.stop_fd >= 0 && fds[1].revents) break;
    ssize_t n = read(options.in_fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, size_t(n));
    size_t start = 0, nl;
    while ((nl = buffer.find('\n', start)) != std::string::npos) {
      if (!skipping) handle_line(buffer.substr(start, nl - start));
      skipping = false;
      start = nl + 1;
    }
    buffer.erase(0, start);
    if (buffer.size() > options.max_message_bytes) {
      if (!skipping) {
        out->Send(MakeError(Json(), {kParseError, "message larger than " + std::to_string(options.max_message_bytes) +
                                                     " bytes", Json()}));
      }
      skipping = true;
      buffer.clear();
    }
  }
  if (!skipping && !buffer.empty()) handle_line(buffer);
  // stdin closed: the client is gone. Stop the work in flight and wait for it to wind down.
  server.EndSession(session->id());
  workers.Finish(std::chrono::seconds(30));
}

}  // namespace kiln::mcp
