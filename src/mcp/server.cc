#include "mcp/server.h"

#include <random>

#include "mcp/schema.h"

namespace kiln::mcp {
namespace {

constexpr size_t kPageSize = 100;

std::string NewSessionId() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard l(mu);
  char buf[33];
  snprintf(buf, sizeof buf, "%016llx%016llx", (unsigned long long)rng(), (unsigned long long)rng());
  return buf;
}

/// One page of `items` after `params.cursor`; the cursor is the index of the next item, opaque to clients.
Outcome Page(const std::vector<Json>& items, const Json& params, const char* key) {
  size_t start = 0;
  if (params.is_object() && params.contains("cursor")) {
    const Json& c = params["cursor"];
    std::string s = c.is_string() ? c.get<std::string>() : "";
    if (s.rfind("p", 0) != 0 || s.size() < 2 || s.find_first_not_of("0123456789", 1) != std::string::npos ||
        std::stoul(s.substr(1)) > items.size()) {
      return Outcome::Fail(kInvalidParams, "invalid cursor");
    }
    start = std::stoul(s.substr(1));
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

void Session::CancelAll() {
  std::lock_guard l(mu_);
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
  if (progress_token_.is_null() || cancelled()) return;
  Json p = {{"progressToken", progress_token_}, {"progress", progress}};
  if (total) p["total"] = *total;
  if (!message.empty()) p["message"] = message;
  channel_->Send(MakeNotification("notifications/progress", p));
}

void RequestContext::Log(const std::string& level, const Json& data, const std::string& logger) {
  int rank = LogLevelRank(level);
  {
    std::lock_guard l(session_->mu_);
    if (rank < session_->log_level_) return;
  }
  Json p = {{"level", level}, {"data", data}};
  if (!logger.empty()) p["logger"] = logger;
  channel_->Send(MakeNotification("notifications/message", p));
}

const Json& RequestContext::client_capabilities() const { return session_->client_capabilities_; }

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

void Server::AddTool(Tool tool) {
  std::lock_guard l(mu_);
  tools_.push_back(std::move(tool));
}

void Server::RemoveTool(const std::string& name) {
  std::lock_guard l(mu_);
  std::erase_if(tools_, [&](const Tool& t) { return t.definition.value("name", "") == name; });
}

void Server::AddResource(Resource r) {
  std::lock_guard l(mu_);
  resources_.push_back(std::move(r));
}

void Server::AddResourceTemplate(ResourceTemplate t) {
  std::lock_guard l(mu_);
  templates_.push_back(std::move(t));
}

void Server::AddPrompt(Prompt p) {
  std::lock_guard l(mu_);
  prompts_.push_back(std::move(p));
}

void Server::AddResourceLister(std::function<std::vector<Json>()> lister) {
  std::lock_guard l(mu_);
  listers_.push_back(std::move(lister));
}

std::shared_ptr<Session> Server::CreateSession(std::shared_ptr<Channel> standalone) {
  auto s = std::make_shared<Session>(NewSessionId());
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

void Server::EndSession(const std::string& id) {
  std::shared_ptr<Session> s;
  {
    std::lock_guard l(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    s = it->second;
    sessions_.erase(it);
  }
  s->CancelAll();
}

bool Server::Shutdown(std::chrono::milliseconds grace) {
  std::map<std::string, std::shared_ptr<Session>> ending;
  {
    std::lock_guard l(mu_);
    ending.swap(sessions_);
  }
  for (auto& [id, s] : ending) s->CancelAll();
  std::unique_lock l(mu_);
  return idle_.wait_for(l, grace, [&] { return requests_running_ == 0; });
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
  Broadcast(MakeNotification("notifications/resources/updated", {{"uri", uri}}),
            [&](Session& s) { return s.Subscribed(uri); });
}

void Server::NotifyListChanged(const std::string& kind) {
  Broadcast(MakeNotification("notifications/" + kind + "/list_changed", Json()), [](Session&) { return true; });
}

// --- Message handling ---

void Server::Handle(const std::shared_ptr<Session>& session, const Json& message, Channel& channel) {
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
      std::lock_guard l(session->mu_);
      auto it = session->in_flight_.find(params["requestId"].dump());
      if (it != session->in_flight_.end()) it->second->store(true);
    }
    return;  // other notifications (roots/list_changed, progress) need no answer
  }

  const Json& id = m["id"];
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  {
    std::lock_guard l(session->mu_);
    if (!session->in_flight_.emplace(id.dump(), cancelled).second) {
      channel.Send(MakeError(id, {kInvalidRequest, "request id " + id.dump() + " is already in use", Json()}));
      return;
    }
  }
  {
    std::lock_guard l(mu_);
    requests_running_++;
  }
  RequestContext ctx(session, id, params, &channel, cancelled);
  Outcome out;
  try {
    out = Dispatch(session, method, ctx);
  } catch (const nlohmann::json::exception& e) {
    // A parameter of a JSON type its handler did not check for makes nlohmann throw: that is the client's
    // mistake, answered as such, and never takes the server down.
    out = Outcome::Fail(kInvalidParams, std::string("invalid params: ") + e.what());
  }
  {
    std::lock_guard l(session->mu_);
    session->in_flight_.erase(id.dump());
  }
  {
    std::lock_guard l(mu_);
    if (--requests_running_ == 0) idle_.notify_all();
  }
  if (cancelled->load()) return;  // a cancelled request gets no answer
  channel.Send(out.error ? MakeError(id, *out.error) : MakeResult(id, std::move(out.result)));
}

Outcome Server::Dispatch(const std::shared_ptr<Session>& s, const std::string& method, RequestContext& ctx) {
  const Json& params = ctx.params();
  if (method == "initialize") return Initialize(*s, params);
  if (method == "ping") return Outcome::Ok(Json::object());
  if (!params.is_object()) return Outcome::Fail(kInvalidParams, "params must be an object");
  if (method == "tools/list") {
    std::vector<Json> items;
    std::lock_guard l(mu_);
    for (auto& t : tools_) items.push_back(t.definition);
    return Page(items, params, "tools");
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
  if (method == "resources/templates/list") {
    std::vector<Json> items;
    std::lock_guard l(mu_);
    for (auto& t : templates_) items.push_back(t.definition);
    return Page(items, params, "resourceTemplates");
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
  if (method == "prompts/list") {
    std::vector<Json> items;
    std::lock_guard l(mu_);
    for (auto& p : prompts_) items.push_back(p.definition);
    return Page(items, params, "prompts");
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
  Json caps = {{"tools", {{"listChanged", true}}},
               {"resources", {{"subscribe", true}, {"listChanged", true}}},
               {"prompts", {{"listChanged", true}}},
               {"logging", Json::object()},
               {"completions", Json::object()}};
  Json server_info = {{"name", info_.name}, {"version", info_.version}};
  if (!info_.title.empty()) server_info["title"] = info_.title;
  Json result = {{"protocolVersion", version}, {"capabilities", caps}, {"serverInfo", server_info}};
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
  return tool.call(ctx, args);
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
  if (direct) return direct(ctx, uri);
  if (matched.read) return matched.read(ctx, uri, vars);
  Outcome o = Outcome::Fail(kResourceNotFound, "resource not found: " + uri);
  o.error->data = {{"uri", uri}};
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
  return prompt.get(ctx, args);
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

}  // namespace kiln::mcp
