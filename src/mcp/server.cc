#include "mcp/server.h"

#include <set>
#include <thread>

#include "base/cleanup.h"
#include "base/digest.h"
#include "base/text.h"
#include "mcp/schema.h"

namespace kiln::mcp {
namespace {

constexpr size_t kPageSize = 100;

/// One page of `items` after `params.cursor`; the cursor is the index of the next item, opaque to clients.
Outcome Page(const std::vector<Json>& items, const Json& params, const char* key) {
  size_t start = 0;
  if (params.is_object() && params.contains("cursor")) {
    const Json& c = params["cursor"];
    std::string s = c.is_string() ? c.get<std::string>() : "";
    // A cursor is "p" and the index of the next item; anything else (or an index past the end) is not one of ours.
    auto index = s.rfind("p", 0) == 0 ? ParseDecimal(std::string_view(s).substr(1), items.size()) : std::nullopt;
    if (!index) return Outcome::Fail(kInvalidParams, "invalid cursor");
    start = size_t(*index);
  }
  Json page = Json::array();
  for (size_t i = start; i < items.size() && i < start + kPageSize; i++) page.push_back(items[i]);
  Json result = {{key, page}};
  if (start + kPageSize < items.size()) result["nextCursor"] = "p" + std::to_string(start + kPageSize);
  return Outcome::Ok(result);
}

/// A channel that keeps what it is sent, to answer a batch with one array.
class CollectingChannel : public Channel {
 public:
  explicit CollectingChannel(Channel& out) : out_(out) {}
  void Send(const Json& m) override {
    if (m.contains("id") && (m.contains("result") || m.contains("error"))) {
      std::lock_guard l(mu_);
      responses_.push_back(m);
    } else {
      out_.Send(m);  // notifications and our own requests go out at once
    }
  }
  Json responses() {
    std::lock_guard l(mu_);
    return responses_;
  }

 private:
  Channel& out_;
  std::mutex mu_;
  Json responses_ = Json::array();
};

/// A request's answer on its channel: a serialized result is spliced in as it is.
void SendOutcome(Channel& channel, const Json& id, Outcome out) {
  if (out.error) return channel.Send(MakeError(id, *out.error));
  if (out.result_text.empty()) return channel.Send(MakeResult(id, std::move(out.result)));
  channel.SendResponseText("{\"jsonrpc\":\"2.0\",\"id\":" + id.dump() + ",\"result\":" + out.result_text + "}");
}

}  // namespace

bool MatchUriTemplate(const std::string& tmpl, const std::string& uri, std::map<std::string, std::string>* vars) {
  size_t t = 0, u = 0;
  while (t < tmpl.size()) {
    if (tmpl[t] == '{') {
      size_t close = tmpl.find('}', t);
      if (close == std::string::npos) return false;
      std::string name = tmpl.substr(t + 1, close - t - 1);
      t = close + 1;
      // A variable runs to the next literal character of the template (or the end); it is never empty.
      size_t end = t < tmpl.size() ? uri.find(tmpl[t], u) : uri.size();
      if (end == std::string::npos || end == u) return false;
      if (vars) (*vars)[name] = uri.substr(u, end - u);
      u = end;
    } else {
      if (u >= uri.size() || uri[u] != tmpl[t]) return false;
      t++;
      u++;
    }
  }
  return u == uri.size();
}

// --- Session ---

std::string Session::protocol_version() const {
  std::lock_guard l(mu_);
  return protocol_version_;
}

bool Session::initialized() const {
  std::lock_guard l(mu_);
  return initialized_;
}

void Session::SetStandaloneChannel(std::shared_ptr<Channel> c) {
  std::lock_guard l(mu_);
  standalone_ = std::move(c);
}

std::shared_ptr<Channel> Session::standalone_channel() const {
  std::lock_guard l(mu_);
  return standalone_;
}

bool Session::Subscribed(const std::string& uri) const {
  std::lock_guard l(mu_);
  return subscriptions_.count(uri) > 0;
}

void Session::CancelByClient(const Json& request_id) {
  std::lock_guard l(mu_);
  auto it = in_flight_.find(request_id.dump());
  if (it == in_flight_.end()) return;
  cancelled_by_client_.insert(it->first);
  it->second->store(true);
}

void Session::CancelAll(bool answer) {
  std::lock_guard l(mu_);
  answer_cancelled_ |= answer;
  for (auto& [id, flag] : in_flight_) flag->store(true);
  for (auto& [id, p] : pending_) {
    std::lock_guard pl(p->mu);
    p->done = true;
    p->response = MakeError(Json(), RpcError{kInternalError, "session ended", Json()});
    p->cv.notify_all();
  }
}

// --- RequestContext ---

RequestContext::RequestContext(std::shared_ptr<Session> session, Json id, Json params, Channel* channel,
                               std::shared_ptr<std::atomic<bool>> cancelled)
    : session_(std::move(session)), id_(std::move(id)), params_(std::move(params)), channel_(channel),
      cancelled_(std::move(cancelled)) {
  if (params_.is_object() && params_.contains("_meta") && params_["_meta"].is_object() &&
      params_["_meta"].contains("progressToken")) {
    progress_token_ = params_["_meta"]["progressToken"];
  }
}

void RequestContext::Progress(double progress, std::optional<double> total, const std::string& message) {
  if (cancelled()) return;
  if (task_) {
    // A task's request was answered long ago: its progress shows as the task's status message.
    if (!message.empty()) task_->SetStatusMessage(message);
    return;
  }
  if (progress_token_.is_null()) return;
  Json p = {{"progressToken", progress_token_}, {"progress", progress}};
  if (total) p["total"] = *total;
  if (!message.empty()) p["message"] = message;
  channel_->Send(MakeNotification("notifications/progress", p));
}

void RequestContext::Log(const std::string& level, const Json& data, const std::string& logger) {
  int rank = LogLevelRank(level);
  if (modern_) {
    // 2026-07-28: no log messages unless this request asked for them, and none at all from a task.
    if (log_level_ < 0 || rank < log_level_ || task_) return;
  } else {
    std::lock_guard l(session_->mu_);
    if (rank < session_->log_level_) return;
  }
  Json p = {{"level", level}, {"data", data}};
  if (!logger.empty()) p["logger"] = logger;
  channel_->Send(MakeNotification("notifications/message", p));
}

const Json& RequestContext::client_capabilities() const {
  return modern_ ? client_capabilities_ : session_->client_capabilities_;
}

namespace {
/// The client capability an input request needs.
std::string CapabilityFor(const std::string& method) {
  if (method == "elicitation/create") return "elicitation";
  if (method == "sampling/createMessage") return "sampling";
  if (method == "roots/list") return "roots";
  return "";
}
}  // namespace

Result<Json> RequestContext::RequestInputs(const Json& requests) {
  if (!requests.is_object() || requests.empty()) return Status::Error("no input requests");
  for (auto& [key, request] : requests.items()) {
    std::string method = request.value("method", "");
    std::string capability = CapabilityFor(method);
    if (capability.empty()) return Status::Error("cannot ask the client for " + method);
    if (!DeclaresCapability(client_capabilities(), capability)) {
      if (modern_ && !task_) missing_capability_ = capability;
      return Status::Error("the client does not support " + capability);
    }
  }
  if (task_) return task_->AwaitInputs(requests);
  Json answers = Json::object();
  if (!modern_) {
    for (auto& [key, request] : requests.items()) {
      auto answer = RequestClient(request["method"].get<std::string>(), request.value("params", Json::object()));
      if (!answer.ok()) return answer.status();
      answers[key] = std::move(*answer);
    }
    return answers;
  }
  for (auto& [key, request] : requests.items()) {
    auto given = input_responses_.find(key);
    if (given != input_responses_.end()) {
      answers[key] = *given;
    } else {
      unanswered_[key] = request;
    }
  }
  if (!unanswered_.empty()) return Status::Error("waiting for the client's input");
  return answers;
}

Result<Json> RequestContext::RequestInput(const std::string& key, const std::string& method, Json params) {
  auto answers = RequestInputs({{key, {{"method", method}, {"params", std::move(params)}}}});
  if (!answers.ok()) return answers.status();
  return (*answers)[key];
}

Result<Json> RequestContext::RequestClient(const std::string& method, Json params,
                                           std::chrono::milliseconds timeout) {
  auto pending = std::make_shared<Session::Pending>();
  Json id;
  {
    std::lock_guard l(session_->mu_);
    id = "kiln-" + std::to_string(session_->next_request_id_++);
    session_->pending_[id.dump()] = pending;
  }
  channel_->Send(MakeRequest(id, method, std::move(params)));
  std::unique_lock pl(pending->mu);
  bool answered = pending->cv.wait_for(pl, timeout, [&] { return pending->done || cancelled(); });
  {
    std::lock_guard l(session_->mu_);
    session_->pending_.erase(id.dump());
  }
  if (!answered || !pending->done) {
    return Status::Error(cancelled() ? "request cancelled" : "the client did not answer " + method + " in time");
  }
  if (pending->response.contains("error")) {
    return Status::Error(method + " failed: " + pending->response["error"].value("message", "error"));
  }
  return pending->response.value("result", Json::object());
}

// --- Server: registries and sessions ---

Server::Server(Info info) : info_(std::move(info)) {
  tasks_.OnChange([this](const Task& task) {
    Json detailed = task.Detailed();
    NotifyListeners(MakeNotification("notifications/tasks", detailed), [&](const Listener& l) {
      auto ids = l.filter.find("taskIds");
      return l.owner == task.owner() && ids != l.filter.end() &&
             std::find(ids->begin(), ids->end(), Json(task.id())) != ids->end();
    });
  });
}

void Server::AddTool(Tool tool) {
  // The definition says what the registration says: clients read task support from it.
  if (tool.tasks != TaskSupport::kForbidden) {
    tool.definition["execution"] = {{"taskSupport", tool.tasks == TaskSupport::kRequired ? "required" : "optional"}};
  }
  std::lock_guard l(mu_);
  listing_cache_.clear();
  tools_.push_back(std::move(tool));
}

bool Server::AnswersAtOnce(const Json& m) {
  if (!m.is_object() || !m.contains("method") || !m.contains("id")) return !m.is_array();
  static const std::set<std::string> kQuick = {
      "initialize",       "ping",             "tools/list",          "resources/list",      "resources/templates/list",
      "prompts/list",     "logging/setLevel", "completion/complete", "resources/subscribe", "resources/unsubscribe",
      "server/discover",  "tasks/get",        "tasks/update",        "tasks/cancel"};
  const Json& method = m["method"];
  if (!method.is_string()) return true;  // answered with an error at once
  if (kQuick.count(method.get<std::string>())) return true;
  if (method != "tools/call") return false;
  auto params = m.find("params");
  if (params == m.end() || !params->is_object() || !params->contains("name") || !(*params)["name"].is_string()) return true;
  const std::string& name = (*params)["name"].get_ref<const std::string&>();
  std::lock_guard l(mu_);
  for (auto& t : tools_)
    if (t.quick && t.definition.value("name", "") == name) return true;
  return false;
}

Json Server::ToolDefinition(const std::string& name) {
  std::lock_guard l(mu_);
  for (auto& t : tools_)
    if (t.definition.value("name", "") == name) return t.definition;
  return Json();
}

void Server::RemoveTool(const std::string& name) {
  std::lock_guard l(mu_);
  listing_cache_.clear();
  std::erase_if(tools_, [&](const Tool& t) { return t.definition.value("name", "") == name; });
}

void Server::AddResource(Resource r) {
  std::lock_guard l(mu_);
  resources_.push_back(std::move(r));
}

void Server::AddResourceTemplate(ResourceTemplate t) {
  std::lock_guard l(mu_);
  listing_cache_.clear();
  templates_.push_back(std::move(t));
}

void Server::AddPrompt(Prompt p) {
  std::lock_guard l(mu_);
  listing_cache_.clear();
  prompts_.push_back(std::move(p));
}

void Server::AddResourceLister(std::function<std::vector<Json>()> lister) {
  std::lock_guard l(mu_);
  listers_.push_back(std::move(lister));
}

std::shared_ptr<Session> Server::CreateSession(std::shared_ptr<Channel> standalone, const std::string& owner) {
  // 128 bits from OpenSSL's CSPRNG, as MCP's security guidance asks of session ids: unguessable, never repeated.
  auto id = RandomHex(16);
  if (!id.ok()) return nullptr;
  auto s = std::make_shared<Session>(*id, owner);
  s->SetStandaloneChannel(std::move(standalone));
  std::lock_guard l(mu_);
  sessions_[s->id()] = s;
  return s;
}

std::shared_ptr<Session> Server::FindSession(const std::string& id) {
  std::lock_guard l(mu_);
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second;
}

void Server::EndSession(const std::string& id, bool answer) {
  std::shared_ptr<Session> s;
  {
    std::lock_guard l(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    s = it->second;
    sessions_.erase(it);
  }
  s->CancelAll(answer);
}

void Server::Drain(const std::shared_ptr<Session>& session, const std::function<bool()>& give_up) {
  {
    std::lock_guard l(session->mu_);
    session->draining_ = true;
  }
  listeners_end_.notify_all();
  std::unique_lock l(session->mu_);
  while (!session->in_flight_.empty()) {
    l.unlock();
    if (give_up()) return;
    l.lock();
    session->in_flight_changed_.wait_for(l, std::chrono::milliseconds(100));
  }
}

bool Server::Shutdown(std::chrono::milliseconds grace) {
  std::map<std::string, std::shared_ptr<Session>> ending;
  {
    std::lock_guard l(mu_);
    ending.swap(sessions_);
    stopping_ = true;  // listen streams end with a result
  }
  listeners_end_.notify_all();
  for (auto& [id, s] : ending) s->CancelAll(/*answer=*/true);
  tasks_.CancelAll();
  return WaitIdle(grace);
}

bool Server::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock l(mu_);
  return idle_.wait_for(l, timeout, [&] { return requests_running_ == 0; });
}

void Server::Broadcast(const Json& notification, const std::function<bool(Session&)>& want) {
  std::vector<std::shared_ptr<Session>> targets;
  {
    std::lock_guard l(mu_);
    for (auto& [id, s] : sessions_)
      if (s->initialized() && want(*s)) targets.push_back(s);
  }
  for (auto& s : targets)
    if (auto c = s->standalone_channel()) c->Send(notification);
}

void Server::NotifyResourceUpdated(const std::string& uri) {
  Json n = MakeNotification("notifications/resources/updated", {{"uri", uri}});
  Broadcast(n, [&](Session& s) { return s.Subscribed(uri); });
  NotifyListeners(n, [&](const Listener& l) {
    auto uris = l.filter.find("resourceSubscriptions");
    return uris != l.filter.end() && std::find(uris->begin(), uris->end(), Json(uri)) != uris->end();
  });
}

void Server::NotifyListChanged(const std::string& kind) {
  Json n = MakeNotification("notifications/" + kind + "/list_changed", Json());
  Broadcast(n, [](Session&) { return true; });
  NotifyListeners(n, [&](const Listener& l) { return l.filter.value(kind + "ListChanged", false); });
}

void Server::NotifyListeners(const Json& notification, const std::function<bool(const Listener&)>& want) {
  std::vector<std::shared_ptr<Listener>> targets;
  {
    std::lock_guard l(mu_);
    for (auto& listener : listeners_)
      if (want(*listener)) targets.push_back(listener);
  }
  for (auto& listener : targets) {
    Json tagged = notification;
    if (!tagged.contains("params") || !tagged["params"].is_object()) tagged["params"] = Json::object();
    tagged["params"]["_meta"][kMetaSubscriptionId] = listener->id;
    std::lock_guard l(listener->mu);
    if (listener->open) listener->channel->Send(tagged);
  }
}

// --- Message handling ---

void Server::Handle(const std::shared_ptr<Session>& session, const Json& message, Channel& channel) {
  Handle(session, message, channel, Envelope{});
}

void Server::Handle(const std::shared_ptr<Session>& session, const Json& message, Channel& channel,
                    const Envelope& envelope) {
  // Requests' handlers are guarded in RunInFlight; this is the last line for what comes before them, so that no
  // message, however malformed, ends the process (stdio has no one else to catch it).
  try {
    HandleMessage(session, message, channel, envelope);
  } catch (const std::exception& e) {
    Json id = message.is_object() && message.contains("id") && (message["id"].is_string() || message["id"].is_number_integer())
                  ? message["id"]
                  : Json();
    channel.Send(MakeError(id, {kInternalError, std::string("internal error: ") + e.what(), Json()}));
  }
}

void Server::HandleMessage(const std::shared_ptr<Session>& session, const Json& message, Channel& channel,
                           const Envelope& envelope) {
  Era era = envelope.era;
  if (era == Era::kDetect) era = LooksModern(message) ? Era::kModern : Era::kLegacy;
  if (era == Era::kModern && !message.is_array()) return HandleModern(session, message, channel, envelope);
  if (!message.is_array()) return HandleOne(session, message, channel);
  if (!VersionAllowsBatches(session->protocol_version()) || message.empty()) {
    channel.Send(MakeError(Json(), {kInvalidRequest,
                                    message.empty() ? "empty batch"
                                                    : "JSON-RPC batches are not supported in protocol version " +
                                                          session->protocol_version(),
                                    Json()}));
    return;
  }
  CollectingChannel collect(channel);
  for (auto& m : message) HandleOne(session, m, collect);
  Json responses = collect.responses();
  if (!responses.empty()) channel.Send(responses);
}

void Server::HandleOne(const std::shared_ptr<Session>& session, const Json& m, Channel& channel) {
  std::string why;
  MessageKind kind = Classify(m, &why);
  if (kind == MessageKind::kInvalid) {
    Json id = (m.is_object() && m.contains("id") && (m["id"].is_string() || m["id"].is_number_integer())) ? m["id"] : Json();
    channel.Send(MakeError(id, {kInvalidRequest, "invalid request: " + why, Json()}));
    return;
  }
  if (kind == MessageKind::kResponse) {
    std::shared_ptr<Session::Pending> p;
    {
      std::lock_guard l(session->mu_);
      auto it = session->pending_.find(m["id"].dump());
      if (it != session->pending_.end()) p = it->second;
    }
    if (p) {
      std::lock_guard pl(p->mu);
      p->response = m;
      p->done = true;
      p->cv.notify_all();
    }
    return;
  }
  const std::string method = m["method"].get<std::string>();
  Json params = m.value("params", Json::object());
  if (kind == MessageKind::kNotification) {
    if (method == "notifications/initialized") {
      std::lock_guard l(session->mu_);
      session->initialized_ = true;
    } else if (method == "notifications/cancelled" && params.is_object() && params.contains("requestId")) {
      session->CancelByClient(params["requestId"]);
    }
    return;  // other notifications (roots/list_changed, progress) need no answer
  }

  const Json& id = m["id"];
  std::optional<Outcome> out = RunInFlight(session, id, params, channel, [&](RequestContext& ctx) {
    return Dispatch(session, method, ctx);
  });
  if (out) SendOutcome(channel, id, std::move(*out));
}

std::optional<Outcome> Server::RunInFlight(const std::shared_ptr<Session>& session, const Json& id, const Json& params,
                                           Channel& channel, const std::function<Outcome(RequestContext&)>& dispatch,
                                           const std::function<void(RequestContext&)>& prepare) {
  const std::string key = id.dump();
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  {
    std::lock_guard l(session->mu_);
    if (!session->in_flight_.emplace(key, cancelled).second) {
      return Outcome{Json(), RpcError{kInvalidRequest, "request id " + key + " is already in use", Json(), 400}};
    }
  }
  {
    std::lock_guard l(mu_);
    requests_running_++;
  }
  // However the handler ends, the id is free again and the server no longer counts the request as running: a
  // request that leaked either would keep its id "in use" and make a stopping server wait for it forever.
  bool client_cancelled = false, answer_cancelled = false;
  Outcome out;
  {
    Cleanup done([&] {
      {
        std::lock_guard l(session->mu_);
        session->in_flight_.erase(key);
        client_cancelled = session->cancelled_by_client_.erase(key) > 0;
        answer_cancelled = session->answer_cancelled_;
        session->in_flight_changed_.notify_all();
      }
      std::lock_guard l(mu_);
      if (--requests_running_ == 0) idle_.notify_all();
    });
    RequestContext ctx(session, id, params, &channel, cancelled);
    ctx.server_ = this;
    try {
      if (prepare) prepare(ctx);
      out = dispatch(ctx);
    } catch (const nlohmann::json::exception& e) {
      // A parameter of a JSON type its handler did not check for makes nlohmann throw: that is the client's
      // mistake, answered as such, and never takes the server down.
      out = Outcome::Fail(kInvalidParams, std::string("invalid params: ") + e.what());
    } catch (const std::exception& e) {
      // Anything else a handler throws is the server's fault: one request fails, the server lives on.
      out = Outcome::Fail(kInternalError, std::string("internal error: ") + e.what());
    }
  }
  // A request the client cancelled gets no answer (the spec says so), nor does one whose client went away; one the
  // server cancelled because it is stopping is answered, so that no client waits for an answer that never comes.
  if (cancelled->load() && (client_cancelled || !answer_cancelled)) return std::nullopt;
  return out;
}

Outcome Server::Dispatch(const std::shared_ptr<Session>& s, const std::string& method, RequestContext& ctx) {
  const Json& params = ctx.params();
  if (method == "initialize") return Initialize(*s, params);
  if (method == "ping") return Outcome::Ok(Json::object());
  if (!params.is_object()) return Outcome::Fail(kInvalidParams, "params must be an object");
  if (method == "tools/list" || method == "prompts/list" || method == "resources/templates/list") {
    return CachedListing(method, ctx);
  }
  if (method == "tools/call") return CallTool(ctx);
  if (method == "resources/list") {
    std::vector<Json> items;
    std::vector<std::function<std::vector<Json>()>> listers;
    {
      std::lock_guard l(mu_);
      for (auto& r : resources_) items.push_back(r.definition);
      listers = listers_;
    }
    for (auto& lister : listers)
      for (auto& r : lister()) items.push_back(std::move(r));
    return Page(items, params, "resources");
  }
  if (method == "resources/read") return ReadResource(ctx);
  if (method == "resources/subscribe" || method == "resources/unsubscribe") {
    if (!params.contains("uri") || !params["uri"].is_string()) return Outcome::Fail(kInvalidParams, "uri is required");
    std::lock_guard l(s->mu_);
    if (method == "resources/subscribe") {
      s->subscriptions_.insert(params["uri"].get<std::string>());
    } else {
      s->subscriptions_.erase(params["uri"].get<std::string>());
    }
    return Outcome::Ok(Json::object());
  }
  if (method == "prompts/get") return GetPrompt(ctx);
  if (method == "completion/complete") return Complete(params);
  if (method == "logging/setLevel") {
    int rank = LogLevelRank(params.value("level", ""));
    if (rank < 0) return Outcome::Fail(kInvalidParams, "unknown logging level " + params.value("level", Json("")).dump());
    std::lock_guard l(s->mu_);
    s->log_level_ = rank;
    return Outcome::Ok(Json::object());
  }
  return Outcome::Fail(kMethodNotFound, "method not found: " + method);
}

Outcome Server::CachedListing(const std::string& method, RequestContext& ctx) {
  const Json& params = ctx.params();
  std::string cursor = params.contains("cursor") ? params["cursor"].dump() : "";
  std::string key = method + "\n" + cursor + "\n" + (ctx.modern() ? "modern" : "legacy");
  std::lock_guard l(mu_);
  auto hit = listing_cache_.find(key);
  if (hit != listing_cache_.end()) return {Json(), std::nullopt, hit->second};
  std::vector<Json> items;
  const char* field = "tools";
  if (method == "tools/list") {
    for (auto& t : tools_) items.push_back(t.definition);
  } else if (method == "prompts/list") {
    for (auto& p : prompts_) items.push_back(p.definition);
    field = "prompts";
  } else {
    for (auto& t : templates_) items.push_back(t.definition);
    field = "resourceTemplates";
  }
  Outcome page = Page(items, params, field);
  if (page.error) return page;
  if (ctx.modern()) FinishModernResult(method, page.result);
  std::string text = page.result.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (listing_cache_.size() > 256) listing_cache_.clear();  // cursors are the client's to choose
  listing_cache_[key] = text;
  return {Json(), std::nullopt, std::move(text)};
}

Outcome Server::Initialize(Session& s, const Json& params) {
  if (!params.is_object() || !params.contains("protocolVersion") || !params["protocolVersion"].is_string()) {
    return Outcome::Fail(kInvalidParams, "initialize needs protocolVersion");
  }
  std::string asked = params["protocolVersion"].get<std::string>();
  const auto& supported = SupportedProtocolVersions();
  std::string version = supported.front();
  for (auto& v : supported)
    if (v == asked) version = v;
  {
    std::lock_guard l(s.mu_);
    s.protocol_version_ = version;
    s.client_capabilities_ = params.value("capabilities", Json::object());
    s.client_info_ = params.value("clientInfo", Json::object());
  }
  Json result = {{"protocolVersion", version}, {"capabilities", Capabilities(false)}, {"serverInfo", ServerInfo()}};
  if (!info_.instructions.empty()) result["instructions"] = info_.instructions;
  return Outcome::Ok(result);
}

Outcome Server::CallTool(RequestContext& ctx) {
  const Json& params = ctx.params();
  if (!params.contains("name") || !params["name"].is_string()) return Outcome::Fail(kInvalidParams, "name is required");
  std::string name = params["name"].get<std::string>();
  Json args = params.value("arguments", Json::object());
  if (!args.is_object()) return Outcome::Fail(kInvalidParams, "arguments must be an object");
  Tool tool;
  {
    std::lock_guard l(mu_);
    auto it = std::find_if(tools_.begin(), tools_.end(),
                           [&](const Tool& t) { return t.definition.value("name", "") == name; });
    if (it == tools_.end()) return Outcome::Fail(kInvalidParams, "unknown tool: " + name);
    tool = *it;
  }
  // Bad arguments are reported as a tool error, so the model reading it can correct the call.
  std::string problem = ValidateSchema(tool.definition.value("inputSchema", Json::object()), args);
  if (!problem.empty()) {
    return Outcome::Ok({{"content", {{{"type", "text"}, {"text", "invalid arguments: " + problem}}}}, {"isError", true}});
  }
  if (ctx.modern() && tool.tasks != TaskSupport::kForbidden) {
    bool declared = DeclaresCapability(ctx.client_capabilities(), kTasksExtension);
    if (!declared && tool.tasks == TaskSupport::kRequired) return {Json(), MissingCapabilityError(kTasksExtension)};
    if (declared && !tool.task_after_input) {
      auto call = tool.call;
      return StartTask(ctx, [call, args](RequestContext& task) { return call(task, args); });
    }
  }
  return RunWithInput(ctx, "tools/call\n" + name + "\n" + args.dump(), [&] { return tool.call(ctx, args); });
}

Outcome Server::ReadResource(RequestContext& ctx) {
  const Json& params = ctx.params();
  if (!params.contains("uri") || !params["uri"].is_string()) return Outcome::Fail(kInvalidParams, "uri is required");
  std::string uri = params["uri"].get<std::string>();
  std::function<Outcome(RequestContext&, const std::string&)> direct;
  ResourceTemplate matched;
  std::map<std::string, std::string> vars;
  {
    std::lock_guard l(mu_);
    for (auto& r : resources_)
      if (r.definition.value("uri", "") == uri) direct = r.read;
    if (!direct)
      for (auto& t : templates_) {
        vars.clear();
        if (MatchUriTemplate(t.definition.value("uriTemplate", ""), uri, &vars)) {
          matched = t;
          break;
        }
      }
  }
  std::string scope = "resources/read\n" + uri;
  Outcome o = direct         ? RunWithInput(ctx, scope, [&] { return direct(ctx, uri); })
              : matched.read ? RunWithInput(ctx, scope, [&] { return matched.read(ctx, uri, vars); })
                             : Outcome::Fail(kResourceNotFound, "resource not found: " + uri);
  if (o.error && o.error->code == kResourceNotFound) {
    // 2026-07-28 answers an unknown URI as invalid params (SEP-2164); earlier revisions had a code of their own.
    if (ctx.modern()) o.error->code = kInvalidParams;
    if (o.error->data.is_null()) o.error->data = {{"uri", uri}};
  }
  return o;
}

Outcome Server::GetPrompt(RequestContext& ctx) {
  const Json& params = ctx.params();
  if (!params.contains("name") || !params["name"].is_string()) return Outcome::Fail(kInvalidParams, "name is required");
  std::string name = params["name"].get<std::string>();
  Prompt prompt;
  {
    std::lock_guard l(mu_);
    auto it = std::find_if(prompts_.begin(), prompts_.end(),
                           [&](const Prompt& p) { return p.definition.value("name", "") == name; });
    if (it == prompts_.end()) return Outcome::Fail(kInvalidParams, "unknown prompt: " + name);
    prompt = *it;
  }
  std::map<std::string, std::string> args;
  if (params.contains("arguments") && params["arguments"].is_object())
    for (auto& [k, v] : params["arguments"].items()) args[k] = v.is_string() ? v.get<std::string>() : v.dump();
  for (auto& a : prompt.definition.value("arguments", Json::array()))
    if (a.value("required", false) && !args.count(a.value("name", ""))) {
      return Outcome::Fail(kInvalidParams, "prompt " + name + " needs argument " + a.value("name", ""));
    }
  Json scope_args(args);
  return RunWithInput(ctx, "prompts/get\n" + name + "\n" + scope_args.dump(), [&] { return prompt.get(ctx, args); });
}

Outcome Server::Complete(const Json& params) {
  const Json& ref = params.value("ref", Json::object());
  const Json& arg = params.value("argument", Json::object());
  if (!ref.is_object() || !arg.is_object() || !arg.contains("name")) {
    return Outcome::Fail(kInvalidParams, "completion/complete needs ref and argument");
  }
  std::string type = ref.value("type", ""), name = arg.value("name", ""), value = arg.value("value", "");
  std::vector<std::string> values;
  std::lock_guard l(mu_);
  if (type == "ref/prompt") {
    auto it = std::find_if(prompts_.begin(), prompts_.end(),
                           [&](const Prompt& p) { return p.definition.value("name", "") == ref.value("name", ""); });
    if (it == prompts_.end()) return Outcome::Fail(kInvalidParams, "unknown prompt: " + ref.value("name", ""));
    if (it->complete) values = it->complete(name, value);
  } else if (type == "ref/resource") {
    auto it = std::find_if(templates_.begin(), templates_.end(), [&](const ResourceTemplate& t) {
      return t.definition.value("uriTemplate", "") == ref.value("uri", "");
    });
    if (it == templates_.end()) return Outcome::Fail(kInvalidParams, "unknown resource template: " + ref.value("uri", ""));
    if (it->complete) values = it->complete(name, value);
  } else {
    return Outcome::Fail(kInvalidParams, "unknown reference type \"" + type + "\"");
  }
  size_t total = values.size();
  if (values.size() > 100) values.resize(100);  // the spec's limit per answer
  return Outcome::Ok({{"completion", {{"values", values}, {"total", total}, {"hasMore", total > values.size()}}}});
}

// --- The modern era (2026-07-28) ---

namespace {

/// Results a client may cache, and for how long: the lists of what the server offers change only when its
/// configuration does; the store's content (images, logs) at any time.
void AddCachingHints(const std::string& method, Json& result) {
  static const std::set<std::string> kStable = {"server/discover", "tools/list", "prompts/list",
                                                "resources/templates/list"};
  if (kStable.count(method)) {
    if (!result.contains("ttlMs")) result["ttlMs"] = 60'000;
    if (!result.contains("cacheScope")) result["cacheScope"] = "public";
  } else if (method == "resources/list" || method == "resources/read") {
    if (!result.contains("ttlMs")) result["ttlMs"] = 0;
    if (!result.contains("cacheScope")) result["cacheScope"] = "private";
  }
}

/// A modern error answer, with the HTTP status it travels with.
Outcome Refuse(int code, std::string message, int http_status, Json data = Json()) {
  return {Json(), RpcError{code, std::move(message), std::move(data), http_status}};
}

/// Where a task's work talks: nowhere, since the request that started it has been answered (its progress
/// becomes the task's status message, see RequestContext::Progress).
class DiscardChannel : public Channel {
 public:
  void Send(const Json&) override {}
};

}  // namespace

Json Server::ServerInfo() const {
  Json info = {{"name", info_.name}, {"version", info_.version}};
  if (!info_.title.empty()) info["title"] = info_.title;
  return info;
}

Json Server::Capabilities(bool modern) const {
  Json caps = {{"tools", {{"listChanged", true}}},
               {"resources", {{"subscribe", true}, {"listChanged", true}}},
               {"prompts", {{"listChanged", true}}},
               {"logging", Json::object()},
               {"completions", Json::object()}};
  if (modern) caps["extensions"] = {{kTasksExtension, Json::object()}};
  return caps;
}

void Server::FinishModernResult(const std::string& method, Json& result) {
  if (!result.is_object()) return;
  if (!result.contains("resultType")) result["resultType"] = "complete";
  AddCachingHints(method, result);
  if (!result.contains("_meta") || !result["_meta"].is_object()) result["_meta"] = Json::object();
  result["_meta"][kMetaServerInfo] = ServerInfo();
}

void Server::HandleModern(const std::shared_ptr<Session>& session, const Json& m, Channel& channel,
                          const Envelope& envelope) {
  std::string why;
  MessageKind kind = Classify(m, &why);
  if (kind == MessageKind::kInvalid) {
    Json id = (m.is_object() && m.contains("id") && (m["id"].is_string() || m["id"].is_number_integer())) ? m["id"] : Json();
    if (envelope.http_status) *envelope.http_status = 400;
    channel.Send(MakeError(id, {kInvalidRequest, "invalid request: " + why, Json(), 400}));
    return;
  }
  if (kind == MessageKind::kResponse) return;  // the modern era has no requests from server to client
  const std::string method = m["method"].get<std::string>();
  Json params = m.value("params", Json::object());
  if (kind == MessageKind::kNotification) {
    // stdio's cancellation; on HTTP closing the response stream cancels.
    if (method == "notifications/cancelled" && params.is_object() && params.contains("requestId")) {
      session->CancelByClient(params["requestId"]);
    }
    return;
  }
  const Json& id = m["id"];
  auto answer = [&](Outcome out) {
    if (envelope.http_status) *envelope.http_status = out.error ? out.error->http_status : 200;
    SendOutcome(channel, id, std::move(out));
  };
  RequestMeta meta;
  if (auto bad = ParseRequestMeta(params, &meta)) return answer({Json(), *bad});
  if (envelope.version_header && *envelope.version_header != meta.protocol_version) {
    return answer(Refuse(kHeaderMismatch,
                         "the MCP-Protocol-Version header (" + *envelope.version_header +
                             ") differs from the protocol version in _meta (" + meta.protocol_version + ")",
                         400));
  }
  if (!IsModernVersion(meta.protocol_version)) {
    return answer(Refuse(kUnsupportedProtocolVersion, "unsupported protocol version " + meta.protocol_version, 400,
                         {{"supported", AllProtocolVersions()}, {"requested", meta.protocol_version}}));
  }

  std::optional<Outcome> out = RunInFlight(
      session, id, params, channel, [&](RequestContext& ctx) { return DispatchModern(method, ctx); },
      [&](RequestContext& ctx) {
        ctx.modern_ = true;
        ctx.client_capabilities_ = meta.client_capabilities;
        ctx.log_level_ = meta.log_level;
      });
  if (!out) return;  // the client went away or cancelled: no answer
  if (!out->error && out->result_text.empty()) FinishModernResult(method, out->result);
  answer(std::move(*out));
}

Outcome Server::DispatchModern(const std::string& method, RequestContext& ctx) {
  static const std::set<std::string> kShared = {"tools/list",     "tools/call",    "resources/list",
                                                "resources/read", "prompts/list",  "prompts/get",
                                                "resources/templates/list",        "completion/complete"};
  if (method == "server/discover") return Discover();
  if (method == "subscriptions/listen") return Listen(ctx);
  if (method == "tasks/get" || method == "tasks/update" || method == "tasks/cancel") return TaskRequest(method, ctx);
  // initialize, ping, logging/setLevel and resources/(un)subscribe are gone in this era, as are tasks/result and
  // tasks/list of the experimental tasks of 2025-11-25.
  if (!kShared.count(method)) return Refuse(kMethodNotFound, "method not found: " + method, 404);
  if (ctx.params().contains("inputResponses") && !ctx.params()["inputResponses"].is_object()) {
    return Outcome::Fail(kInvalidParams, "inputResponses must be an object");
  }
  return Dispatch(ctx.session_, method, ctx);
}

Outcome Server::RunWithInput(RequestContext& ctx, const std::string& scope, const std::function<Outcome()>& handler) {
  if (ctx.modern_ && !ctx.task_) {
    const Json& params = ctx.params();
    // The sealed state holds the handler's own state and the answers of earlier rounds; this round's answers
    // come on top of them.
    if (params.contains("requestState")) {
      const Json& sealed = params["requestState"];
      auto state = sealed.is_string() ? seal_.Open(scope, sealed.get<std::string>()) : std::nullopt;
      if (!state || !state->is_object()) {
        return Outcome::Fail(kInvalidParams,
                             "requestState integrity check failed: it was altered, expired, or made for another request");
      }
      ctx.state_ = (*state)["handler"];
      ctx.next_state_ = ctx.state_;
      ctx.input_responses_ = state->value("answers", Json::object());
    }
    if (params.contains("inputResponses")) {
      for (auto& [key, response] : params["inputResponses"].items()) {
        if (!response.is_object()) return Outcome::Fail(kInvalidParams, "inputResponses." + key + " must be an object");
        ctx.input_responses_[key] = response;
      }
    }
  }
  Outcome out = handler();
  if (!ctx.modern_ || ctx.task_) return out;
  if (!ctx.missing_capability_.empty()) return {Json(), MissingCapabilityError(ctx.missing_capability_)};
  if (ctx.unanswered_.empty()) return out;
  // Whatever the handler answered without its input is replaced by the request for it; the handler's state rides
  // along, sealed to this request.
  return Outcome::Ok({{"resultType", "input_required"},
                      {"inputRequests", ctx.unanswered_},
                      {"requestState", seal_.Seal(scope, {{"handler", ctx.next_state_}, {"answers", ctx.input_responses_}})}});
}

Outcome Server::Discover() {
  Json result = {{"supportedVersions", AllProtocolVersions()}, {"capabilities", Capabilities(true)}};
  if (!info_.instructions.empty()) result["instructions"] = info_.instructions;
  return Outcome::Ok(result);
}

Outcome Server::Listen(RequestContext& ctx) {
  const Json& params = ctx.params();
  if (!params.contains("notifications") || !params["notifications"].is_object()) {
    return Outcome::Fail(kInvalidParams, "subscriptions/listen needs params.notifications");
  }
  const Json& asked = params["notifications"];
  Json honoured = Json::object();
  for (const char* kind : {"toolsListChanged", "promptsListChanged", "resourcesListChanged"})
    if (asked.value(kind, false) == true) honoured[kind] = true;
  for (const char* list : {"resourceSubscriptions", "taskIds"}) {
    if (!asked.contains(list)) continue;
    if (!asked[list].is_array()) return Outcome::Fail(kInvalidParams, std::string(list) + " must be an array");
    Json strings = Json::array();
    for (auto& v : asked[list])
      if (v.is_string()) strings.push_back(v);
    honoured[list] = strings;
  }
  if (honoured.contains("taskIds") && !DeclaresCapability(ctx.client_capabilities(), kTasksExtension)) {
    return {Json(), MissingCapabilityError(kTasksExtension)};
  }
  auto listener = std::make_shared<Listener>();
  listener->id = ctx.id();
  listener->channel = ctx.channel_;
  listener->filter = honoured;
  listener->owner = ctx.session().owner();
  // The acknowledgement comes first on the stream, before any notification the listener could receive.
  ctx.channel_->Send(MakeNotification("notifications/subscriptions/acknowledged",
                                      {{"_meta", {{kMetaSubscriptionId, ctx.id()}}}, {"notifications", honoured}}));
  std::unique_lock l(mu_);
  listeners_.push_back(listener);
  auto draining = [&] {
    std::lock_guard sl(ctx.session().mu_);
    return ctx.session().draining_;
  };
  while (!stopping_ && !ctx.cancelled() && !draining()) listeners_end_.wait_for(l, std::chrono::milliseconds(200));
  std::erase(listeners_, listener);
  l.unlock();
  {
    std::lock_guard ll(listener->mu);
    listener->open = false;
  }
  // A graceful end (the server stops) closes the stream with a result naming it.
  return Outcome::Ok({{"_meta", {{kMetaSubscriptionId, ctx.id()}}}});
}

Outcome RequestContext::RunAsTask(std::function<Outcome(RequestContext&)> work) {
  if (modern_ && !task_ && server_ && DeclaresCapability(client_capabilities(), kTasksExtension)) {
    return server_->StartTask(*this, std::move(work));
  }
  return work(*this);
}

Outcome Server::StartTask(RequestContext& ctx, std::function<Outcome(RequestContext&)> work) {
  auto created_task = tasks_.Create(ctx.session().owner());
  if (!created_task.ok()) return Outcome::Fail(kInternalError, "cannot start a task: " + created_task.status().message());
  std::shared_ptr<Task> task = *created_task;
  {
    std::lock_guard l(mu_);
    requests_running_++;
  }
  // The work outlives this request: it gets a context of its own, which progress and input requests reach the
  // task through.
  std::thread([this, task, work = std::move(work), id = ctx.id(), params = ctx.params(), caps = ctx.client_capabilities()] {
    auto session = std::make_shared<Session>("", task->owner());
    DiscardChannel channel;
    RequestContext tctx(session, id, params, &channel, task->cancelled_flag());
    tctx.modern_ = true;
    tctx.client_capabilities_ = caps;
    tctx.task_ = task;
    tctx.server_ = this;
    Outcome out;
    try {
      out = work(tctx);
    } catch (const std::exception& e) {
      out = Outcome::Fail(kInternalError, std::string("the tool failed: ") + e.what());
    }
    if (out.error) {
      Json error = {{"code", out.error->code}, {"message", out.error->message}};
      if (!out.error->data.is_null()) error["data"] = out.error->data;
      task->Fail(error);
    } else {
      task->Complete(out.result);
    }
    std::lock_guard l(mu_);
    if (--requests_running_ == 0) idle_.notify_all();
  }).detach();
  Json created = task->Detailed();
  created["resultType"] = "task";
  return Outcome::Ok(created);
}

Outcome Server::TaskRequest(const std::string& method, RequestContext& ctx) {
  if (!DeclaresCapability(ctx.client_capabilities(), kTasksExtension)) {
    return {Json(), MissingCapabilityError(kTasksExtension)};
  }
  const Json& params = ctx.params();
  if (!params.contains("taskId") || !params["taskId"].is_string()) return Outcome::Fail(kInvalidParams, "taskId is required");
  auto task = tasks_.Find(params["taskId"].get<std::string>(), ctx.session().owner());
  if (!task) return Outcome::Fail(kInvalidParams, "unknown task: " + params["taskId"].get<std::string>());
  if (method == "tasks/get") return Outcome::Ok(task->Detailed());
  if (method == "tasks/update") {
    if (!params.contains("inputResponses") || !params["inputResponses"].is_object()) {
      return Outcome::Fail(kInvalidParams, "tasks/update needs inputResponses");
    }
    task->Answer(params["inputResponses"]);
  } else {
    task->Cancel();
  }
  return Outcome::Ok(Json::object());
}

}  // namespace kiln::mcp
