#include "mcp/tasks.h"

#include <ctime>

#include "base/digest.h"

namespace kiln::mcp {

std::string IsoNow() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  time_t seconds = time_t(ms / 1000);
  struct tm tm;
  gmtime_r(&seconds, &tm);
  char buf[80];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms % 1000));
  return buf;
}

Task::Task(std::string id, std::string owner, std::chrono::milliseconds ttl, std::chrono::milliseconds poll_interval,
           std::function<void(const Task&)> changed)
    : id_(std::move(id)), owner_(std::move(owner)), ttl_(ttl), poll_interval_(poll_interval), created_at_(IsoNow()),
      created_(std::chrono::steady_clock::now()), changed_(std::move(changed)), updated_at_(created_at_) {}

void Task::Touch() { updated_at_ = IsoNow(); }

void Task::Changed() {
  if (changed_) changed_(*this);
}

Json Task::Detailed() const {
  std::lock_guard l(mu_);
  Json t = {{"taskId", id_},          {"status", status_},          {"createdAt", created_at_},
            {"lastUpdatedAt", updated_at_}, {"ttlMs", ttl_.count()}, {"pollIntervalMs", poll_interval_.count()}};
  if (!status_message_.empty()) t["statusMessage"] = status_message_;
  if (status_ == "input_required") t["inputRequests"] = pending_;
  if (status_ == "completed") t["result"] = result_;
  if (status_ == "failed") t["error"] = error_;
  return t;
}

bool Task::terminal() const {
  std::lock_guard l(mu_);
  return status_ == "completed" || status_ == "failed" || status_ == "cancelled";
}

std::chrono::steady_clock::time_point Task::expires() const { return created_ + ttl_; }

void Task::SetStatusMessage(const std::string& message) {
  {
    std::lock_guard l(mu_);
    if (status_ != "working" || message == status_message_) return;
    status_message_ = message;
    Touch();
  }
  Changed();
}

Result<Json> Task::AwaitInputs(const Json& requests) {
  {
    std::lock_guard l(mu_);
    if (status_ != "working") return Status::Error("the task is " + status_);
    pending_ = requests;
    answers_ = Json::object();
    status_ = "input_required";
    Touch();
  }
  Changed();
  std::unique_lock l(mu_);
  answered_.wait(l, [&] { return pending_.empty() || status_ == "cancelled"; });
  if (status_ == "cancelled") return Status::Error("the task was cancelled");
  status_ = "working";
  Touch();
  Json answers = std::move(answers_);
  l.unlock();
  Changed();
  return answers;
}

void Task::Answer(const Json& responses) {
  bool progressed = false;
  {
    std::lock_guard l(mu_);
    if (status_ != "input_required" || !responses.is_object()) return;
    for (auto& [key, value] : responses.items()) {
      if (!pending_.contains(key)) continue;  // never issued, already answered, or superseded
      answers_[key] = value;
      pending_.erase(key);
      progressed = true;
    }
    if (progressed) Touch();
  }
  if (progressed) {
    answered_.notify_all();
    Changed();
  }
}

void Task::Complete(Json result) { Finish("completed", std::move(result)); }

void Task::Fail(Json error) { Finish("failed", std::move(error)); }

void Task::Finish(const char* status, Json outcome) {
  {
    std::lock_guard l(mu_);
    if (status_ == "completed" || status_ == "failed" || status_ == "cancelled") return;
    status_ = status;
    (status_ == "completed" ? result_ : error_) = std::move(outcome);
    status_message_.clear();
    Touch();
  }
  Changed();
}

void Task::Cancel() {
  cancelled_->store(true);
  {
    std::lock_guard l(mu_);
    if (status_ == "completed" || status_ == "failed" || status_ == "cancelled") return;
    status_ = "cancelled";
    status_message_ = "cancelled by the client";
    pending_ = Json::object();
    Touch();
  }
  answered_.notify_all();
  Changed();
}

Result<std::shared_ptr<Task>> TaskStore::Create(const std::string& owner) {
  KILN_ASSIGN(std::string random, RandomHex(16));
  std::string id = "task-" + random;
  auto observer = observer_;
  auto task = std::make_shared<Task>(id, owner, o_.ttl, o_.poll_interval, [observer](const Task& t) {
    if (observer) observer(t);
  });
  std::lock_guard l(mu_);
  Evict();
  tasks_[id] = task;
  return task;
}

std::shared_ptr<Task> TaskStore::Find(const std::string& id, const std::string& owner) {
  std::lock_guard l(mu_);
  Evict();
  auto it = tasks_.find(id);
  return it == tasks_.end() || it->second->owner() != owner ? nullptr : it->second;
}

void TaskStore::CancelAll() {
  std::map<std::string, std::shared_ptr<Task>> tasks;
  {
    std::lock_guard l(mu_);
    tasks = tasks_;
  }
  for (auto& [id, t] : tasks) t->Cancel();
}

void TaskStore::Evict() {
  auto now = std::chrono::steady_clock::now();
  // A finished task past its time to live is gone; one still running stays until it ends (its work holds it).
  std::erase_if(tasks_, [&](auto& kv) { return kv.second->terminal() && kv.second->expires() < now; });
  while (tasks_.size() >= o_.max_tasks) {
    auto oldest = tasks_.end();
    for (auto it = tasks_.begin(); it != tasks_.end(); ++it)
      if (it->second->terminal() && (oldest == tasks_.end() || it->second->expires() < oldest->second->expires()))
        oldest = it;
    if (oldest == tasks_.end()) break;
    tasks_.erase(oldest);
  }
}

}  // namespace kiln::mcp
