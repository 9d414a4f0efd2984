// The tasks extension (io.modelcontextprotocol/tasks, SEP-2663): a long tools/call answers at once with a task
// handle, and the client polls tasks/get, answers the task's input requests with tasks/update, cancels it with
// tasks/cancel, or listens for notifications/tasks. A task outlives the request and the connection that started it,
// so its result can be fetched from another connection; the store forgets it once its time to live has passed.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/json.h"
#include "base/status.h"

namespace kiln::mcp {

/// One task: its status and what it has to show, shared by the thread doing the work and the tasks/* requests.
class Task {
 public:
  Task(std::string id, std::string owner, std::chrono::milliseconds ttl, std::chrono::milliseconds poll_interval,
       std::function<void(const Task&)> changed);
  const std::string& id() const { return id_; }
  /// Who created it (Session::owner): only they may read, answer or cancel it.
  const std::string& owner() const { return owner_; }
  /// Set by tasks/cancel; the work stops at its next check.
  std::shared_ptr<std::atomic<bool>> cancelled_flag() const { return cancelled_; }

  /// The task's state as tasks/get returns it (a DetailedTask without resultType).
  Json Detailed() const;
  bool terminal() const;
  std::chrono::steady_clock::time_point expires() const;

  /// A message describing the work now ("step 3/7: RUN make"), shown while it runs.
  void SetStatusMessage(const std::string& message);
  /// Parks the task in input_required with `requests` ({key: {method, params}}) until tasks/update answered every
  /// key; returns the answers by key. An error when the task is cancelled meanwhile.
  Result<Json> AwaitInputs(const Json& requests);
  /// tasks/update: takes the answers for keys that are outstanding and ignores the rest.
  void Answer(const Json& responses);
  /// The work's end: `result` (completed) or `error` (failed, a JSON-RPC error object). No-op once terminal.
  void Complete(Json result);
  void Fail(Json error);
  /// tasks/cancel: the task becomes cancelled unless it already ended.
  void Cancel();

 private:
  void Touch();                // REQUIRES: mu_ held; sets lastUpdatedAt
  void Changed();              // REQUIRES: mu_ not held
  void Finish(const char* status, Json outcome);

  const std::string id_;
  const std::string owner_;
  const std::chrono::milliseconds ttl_, poll_interval_;
  const std::string created_at_;
  const std::chrono::steady_clock::time_point created_;
  std::function<void(const Task&)> changed_;
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
  mutable std::mutex mu_;
  std::condition_variable answered_;
  std::string status_ = "working";
  std::string status_message_;
  std::string updated_at_;
  Json pending_ = Json::object();  // input requests not answered yet
  Json answers_ = Json::object();  // answers to the requests of the current AwaitInputs
  Json result_, error_;
};

class TaskStore {
 public:
  struct Options {
    std::chrono::milliseconds ttl{std::chrono::hours(1)};
    std::chrono::milliseconds poll_interval{500};
    /// Tasks kept at most; the oldest finished ones go first.
    size_t max_tasks = 1000;
  };
  explicit TaskStore(Options options) : o_(options) {}
  /// Called (without locks held) whenever a task's status or message changes: for notifications/tasks.
  void OnChange(std::function<void(const Task&)> observer) { observer_ = std::move(observer); }
  /// A new task of `owner` in status working, with an unguessable id; an error when no random id can be made.
  Result<std::shared_ptr<Task>> Create(const std::string& owner);
  /// The task of that id, unless unknown, expired, or another owner's: to anyone else a task does not exist, as
  /// the tasks extension recommends.
  std::shared_ptr<Task> Find(const std::string& id, const std::string& owner);
  /// Cancels every task still running (the server is stopping).
  void CancelAll();

 private:
  void Evict();  // REQUIRES: mu_ held

  Options o_;
  std::function<void(const Task&)> observer_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Task>> tasks_;
};

/// RFC 3339 UTC time with milliseconds: "2026-12-02T16:30:00.123Z".
std::string IsoNow();

}  // namespace kiln::mcp
