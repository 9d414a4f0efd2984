#include "mcp/stdio.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <functional>
#include <thread>

namespace kiln::mcp {
namespace {

class FdChannel : public Channel {
 public:
  explicit FdChannel(int fd) : fd_(fd) {}
  void Send(const Json& message) override { Write(message.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n"); }
  void SendResponseText(const std::string& text) override { Write(text + "\n"); }
  /// While held, what is sent gathers and goes out in one write when released: while requests that were read
  /// together are answered, their answers wake the client once, not once each.
  void Hold(bool hold) {
    std::lock_guard l(mu_);
    held_ = hold;
    if (!hold && !pending_.empty()) {
      WriteAll(pending_);
      pending_.clear();
    }
  }

 private:
  void Write(const std::string& line) {
    std::lock_guard l(mu_);
    if (held_ && pending_.size() < (1 << 20)) {
      pending_ += line;
      return;
    }
    if (!pending_.empty()) {
      WriteAll(pending_);
      pending_.clear();
    }
    WriteAll(line);
  }
  void WriteAll(const std::string& text) {  // REQUIRES: mu_ held
    size_t off = 0;
    while (off < text.size()) {
      ssize_t n = write(fd_, text.data() + off, text.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;  // the client is gone; its session ends when stdin closes
      }
      off += size_t(n);
    }
  }

  int fd_;
  std::mutex mu_;
  bool held_ = false;
  std::string pending_;
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

}  // namespace

/// The input side, shared by the threads serving it (leader/followers): one thread at a time reads the input and
/// answers what is quick there and then, in order. A request that may take long (a tool call) never holds up the
/// others: when more input is waiting, it goes to a worker and reading goes on (throughput); when none is, the
/// reading thread lets another take over reading and handles the request itself, so that it never waits for a
/// thread to wake up (latency). The state outlives ServeStdio when a handler ignores cancellation.
class StdioLoop : public std::enable_shared_from_this<StdioLoop> {
 public:
  StdioLoop(Server& server, const StdioOptions& options)
      : server_(server), o_(options), out_(std::make_shared<FdChannel>(options.out_fd)),
        session_(server.CreateSession(out_)) {}

  /// Serves until the input ends; then answers what is still running before returning.
  void Run() {
    if (!session_) {
      out_->Send(MakeError(Json(), {kInternalError, "cannot start a session: no random session id could be made", Json()}));
      return;
    }
    StartLeader();
    {
      std::unique_lock l(mu_);
      ended_.wait(l, [&] { return eof_; });
    }
    // A client that closed its input may still be reading (a script that wrote its requests and closed stdin):
    // what runs finishes and is answered. Only when the client is gone too (stdout closed), or the server is told
    // to stop, is it cancelled; stopping, each request still gets its answer.
    auto give_up = [&] { return StopRequested() || OutputClosed(); };
    server_.Drain(session_, give_up);
    {
      // Requests read but not started yet (queued for a worker) are not in flight in the server's eyes.
      std::unique_lock l(mu_);
      while (handling_ > 0 && !give_up()) ended_.wait_for(l, std::chrono::milliseconds(100));
    }
    server_.EndSession(session_->id(), /*answer=*/!OutputClosed());
    workers_.Finish(std::chrono::seconds(30));
    std::unique_lock l(mu_);
    ended_.wait_for(l, std::chrono::seconds(30), [&] { return threads_ == 0; });
  }

 private:
  void StartLeader() {
    std::lock_guard l(mu_);
    threads_++;
    waiting_++;  // it counts as waiting to lead until it does
    std::thread([self = shared_from_this()] { self->Lead(); }).detach();
  }

  void Lead() {
    for (;;) {
      std::unique_lock reading(read_mu_);
      {
        std::lock_guard l(mu_);
        waiting_--;
      }
      std::optional<std::string> line;
      while (!eof_ && !(line = NextLine())) {
      }
      if (!line) break;
      auto parsed = ParseJson(*line);
      if (!parsed.ok()) {
        out_->Send(MakeError(Json(), {kParseError, "parse error: " + parsed.status().message(), Json()}));
      } else if (server_.AnswersAtOnce(*parsed)) {
        server_.Handle(session_, *parsed, *out_);  // in order, on the reading thread
      } else if (InputWaiting()) {
        Json message = std::move(*parsed);
        Started();
        workers_.Run([self = shared_from_this(), message] {
          self->server_.Handle(self->session_, message, *self->out_);
          self->Finished();
        });
      } else {
        // Someone else reads on; this thread answers the request.
        bool start = false;
        {
          std::lock_guard l(mu_);
          start = waiting_ == 0;
        }
        if (start) StartLeader();
        Started();
        reading.unlock();
        server_.Handle(session_, *parsed, *out_);
        Finished();
        std::lock_guard l(mu_);
        if (waiting_ > 0) break;  // enough threads wait to read: this one ends
        waiting_++;
        continue;
      }
      reading.unlock();
      std::lock_guard l(mu_);
      waiting_++;
    }
    std::lock_guard l(mu_);
    threads_--;
    ended_.notify_all();
  }

  /// A request handed to a thread of its own, until it is answered: what the end of input waits for.
  void Started() {
    std::lock_guard l(mu_);
    handling_++;
  }
  void Finished() {
    std::lock_guard l(mu_);
    handling_--;
    ended_.notify_all();
  }

  bool StopRequested() const {
    pollfd p{o_.stop_fd, POLLIN, 0};
    return o_.stop_fd >= 0 && poll(&p, 1, 0) > 0;
  }

  /// Whether nobody reads the output any more (a pipe whose reading end closed reports an error).
  bool OutputClosed() const {
    pollfd p{o_.out_fd, 0, 0};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP)) != 0;
  }

  /// Whether more input is there already. REQUIRES: read_mu_ held.
  bool InputWaiting() {
    if (buffer_.find('\n') != std::string::npos) return true;
    pollfd p{o_.in_fd, POLLIN, 0};
    return poll(&p, 1, 0) > 0;
  }

  /// The next non-empty input line; none when there is none yet (call again) or the input ended (eof_ set).
  /// REQUIRES: read_mu_ held.
  std::optional<std::string> NextLine() {
    size_t nl;
    while ((nl = buffer_.find('\n')) != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      bool was_skipping = skipping_;
      skipping_ = false;
      // Answers are held while more requests that came together are waiting to be read.
      out_->Hold(buffer_.find('\n') != std::string::npos);
      if (!was_skipping && line.find_first_not_of(" \t\r") != std::string::npos) return line;
    }
    out_->Hold(false);  // nothing more to read now: what is held goes out before waiting
    pollfd fds[2] = {{o_.in_fd, POLLIN, 0}, {o_.stop_fd, POLLIN, 0}};
    if (poll(fds, o_.stop_fd >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) return std::nullopt;
      return End();
    }
    if (o_.stop_fd >= 0 && fds[1].revents) return End();
    char chunk[1 << 16];
    ssize_t n = read(o_.in_fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) return std::nullopt;
    if (n <= 0) {
      // A last line without a newline still counts.
      std::string rest = skipping_ ? "" : buffer_;
      buffer_.clear();
      End();
      if (rest.find_first_not_of(" \t\r") != std::string::npos) return rest;
      return std::nullopt;
    }
    buffer_.append(chunk, size_t(n));
    if (buffer_.find('\n') == std::string::npos && buffer_.size() > o_.max_message_bytes) {
      if (!skipping_) {
        out_->Send(MakeError(Json(), {kParseError, "message larger than " + std::to_string(o_.max_message_bytes) +
                                                      " bytes", Json()}));
      }
      skipping_ = true;
      buffer_.clear();
    }
    return std::nullopt;
  }

  std::optional<std::string> End() {
    std::lock_guard l(mu_);
    eof_ = true;
    ended_.notify_all();
    return std::nullopt;
  }

  Server& server_;
  const StdioOptions o_;
  std::shared_ptr<FdChannel> out_;
  std::shared_ptr<Session> session_;
  Workers workers_;
  std::mutex read_mu_;  // held by the thread reading the input
  std::string buffer_;  // guarded by read_mu_
  bool skipping_ = false;  // inside an oversized line; guarded by read_mu_
  std::mutex mu_;
  std::condition_variable ended_;
  bool eof_ = false;  // guarded by mu_ (read without it by the reading thread, which alone sets it)
  int threads_ = 0;   // guarded by mu_
  int waiting_ = 0;   // threads waiting to read; guarded by mu_
  int handling_ = 0;  // requests handed to a thread and not yet answered; guarded by mu_
};

void ServeStdio(Server& server, const StdioOptions& options) {
  std::make_shared<StdioLoop>(server, options)->Run();
}

}  // namespace kiln::mcp
