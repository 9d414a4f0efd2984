// A self-contained MCP server: lifecycle, tools, resources (with templates and subscriptions), prompts,
// completion, logging, progress, cancellation, and requests from server to client (sampling, elicitation).
// It knows nothing of what its tools do, nor of transports: stdio.h and http.h feed it messages.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "mcp/protocol.h"

namespace kiln::mcp {

/// Where messages to the client go; implemented by the transports. Thread-safe.
class Channel {
 public:
  virtual ~Channel() = default;
  virtual void Send(const Json& message) = 0;
  /// Ends the connection carrying this channel while the work goes on; the client resumes it later
  /// (Streamable HTTP, SEP-1699). A no-op where connections cannot be resumed.
  virtual void Disconnect() {}
};

/// A handler's answer: a result, or a JSON-RPC error.
struct Outcome {
  Json result;
  std::optional<RpcError> error;
  static Outcome Ok(Json r) { return {std::move(r), std::nullopt}; }
  static Outcome Fail(int code, std::string message) { return {Json(), RpcError{code, std::move(message), Json()}}; }
};

class Session;

/// One request in progress, and the ways to talk back while it runs.
class RequestContext {
 public:
  RequestContext(std::shared_ptr<Session> session, Json id, Json params, Channel* channel,
                 std::shared_ptr<std::atomic<bool>> cancelled);
  const Json& id() const { return id_; }
  const Json& params() const { return params_; }
  /// True once the client sent notifications/cancelled for this request (or went away).
  bool cancelled() const { return cancelled_->load(); }
  /// notifications/progress, when the request carried a progressToken; otherwise nothing.
  void Progress(double progress, std::optional<double> total = std::nullopt, const std::string& message = "");
  bool has_progress_token() const { return !progress_token_.is_null(); }
  /// notifications/message, when `level` passes the session's logging/setLevel.
  void Log(const std::string& level, const Json& data, const std::string& logger = "");
  /// Sends a request to the client and waits for its answer: sampling/createMessage, elicitation/create...
  Result<Json> RequestClient(const std::string& method, Json params,
                             std::chrono::milliseconds timeout = std::chrono::minutes(5));
  /// The capabilities the client declared in initialize.
  const Json& client_capabilities() const;
  /// Closes the connection this request answers on; the answer still arrives when the client resumes.
  void DisconnectStream() { channel_->Disconnect(); }
  Session& session() { return *session_; }

 private:
  std::shared_ptr<Session> session_;
  Json id_;
  Json params_;
  Json progress_token_;
  Channel* channel_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
};

struct Tool {
  /// name, title, description, inputSchema, outputSchema, annotations: listed as they are.
  Json definition;
  /// Returns a CallToolResult ({content, structuredContent?, isError?}).
  std::function<Outcome(RequestContext&, const Json& arguments)> call;
};

struct Resource {
  Json definition;  // uri, name, title, description, mimeType
  std::function<Outcome(RequestContext&, const std::string& uri)> read;  // returns {contents: [...]}
};

struct ResourceTemplate {
  Json definition;  // uriTemplate ("kiln://images/{ref}"), name, description, mimeType
  std::function<Outcome(RequestContext&, const std::string& uri, const std::map<std::string, std::string>& vars)>
      read;
  /// Values for a template variable starting with `prefix` (completion/complete).
  std::function<std::vector<std::string>(const std::string& variable, const std::string& prefix)> complete;
};

struct Prompt {
  Json definition;  // name, title, description, arguments [{name, description, required}]
  std::function<Outcome(RequestContext&, const std::map<std::string, std::string>& arguments)> get;
  std::function<std::vector<std::string>(const std::string& argument, const std::string& prefix)> complete;
};

/// One client's connection state, from initialize to its end.
class Session {
 public:
  explicit Session(std::string id) : id_(std::move(id)) {}
  const std::string& id() const { return id_; }
  std::string protocol_version() const;
  bool initialized() const;
  /// Where messages unrelated to any request go (list_changed, resources/updated); may be null (HTTP: no GET).
  void SetStandaloneChannel(std::shared_ptr<Channel> c);
  std::shared_ptr<Channel> standalone_channel() const;
  bool Subscribed(const std::string& uri) const;
  /// Marks every request in flight cancelled (the client went away).
  void CancelAll();

 private:
  friend class Server;
  friend class RequestContext;
  std::string id_;
  mutable std::mutex mu_;
  bool initialized_ = false;
  std::string protocol_version_ = "2025-03-26";  // until initialize says otherwise
  Json client_capabilities_ = Json::object();
  Json client_info_ = Json::object();
  int log_level_ = 1;  // "info"
  std::set<std::string> subscriptions_;
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> in_flight_;  // request id (dumped) -> cancelled
  struct Pending {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Json response;
  };
  std::map<std::string, std::shared_ptr<Pending>> pending_;  // our requests to the client, by id
  int64_t next_request_id_ = 1;
  std::shared_ptr<Channel> standalone_;
};

class Server {
 public:
  struct Info {
    std::string name;
    std::string version;
    std::string title;
    std::string instructions;
  };
  explicit Server(Info info) : info_(std::move(info)) {}

  void AddTool(Tool tool);
  void RemoveTool(const std::string& name);
  void AddResource(Resource resource);
  void AddResourceTemplate(ResourceTemplate t);
  void AddPrompt(Prompt prompt);
  /// Resources that come and go (images, build logs): listed by calling `lister` on each resources/list.
  void AddResourceLister(std::function<std::vector<Json>()> lister);

  std::shared_ptr<Session> CreateSession(std::shared_ptr<Channel> standalone);
  std::shared_ptr<Session> FindSession(const std::string& id);
  void EndSession(const std::string& id);
  /// Ends every session, cancelling its requests, and waits up to `grace` for their handlers to return (a build
  /// being cancelled removes its containers and mounts). True when nothing is left running.
  bool Shutdown(std::chrono::milliseconds grace);

  /// Handles one message (or batch) of `session`. Answers and request-related notifications go to `channel`.
  /// Blocks until a request is answered; transports call it from as many threads as they like.
  void Handle(const std::shared_ptr<Session>& session, const Json& message, Channel& channel);

  /// notifications/resources/updated to every session subscribed to `uri`.
  void NotifyResourceUpdated(const std::string& uri);
  /// notifications/{tools,resources,prompts}/list_changed to every initialized session.
  void NotifyListChanged(const std::string& kind);

 private:
  Outcome Dispatch(const std::shared_ptr<Session>& s, const std::string& method, RequestContext& ctx);
  Outcome Initialize(Session& s, const Json& params);
  Outcome ListTools(const Json& params);
  Outcome CallTool(RequestContext& ctx);
  Outcome ListResources(const Json& params);
  Outcome ReadResource(RequestContext& ctx);
  Outcome Complete(const Json& params);
  Outcome GetPrompt(RequestContext& ctx);
  void HandleOne(const std::shared_ptr<Session>& session, const Json& message, Channel& channel);
  void Broadcast(const Json& notification, const std::function<bool(Session&)>& want);

  Info info_;
  std::mutex mu_;  // guards the registries and sessions
  std::vector<Tool> tools_;
  std::vector<Resource> resources_;
  std::vector<ResourceTemplate> templates_;
  std::vector<Prompt> prompts_;
  std::vector<std::function<std::vector<Json>()>> listers_;
  std::map<std::string, std::shared_ptr<Session>> sessions_;
  std::condition_variable idle_;
  int requests_running_ = 0;  // across sessions, guarded by mu_
};

/// Matches `uri` against an RFC 6570 level-1 template ("test://template/{id}/data"); fills `vars`.
bool MatchUriTemplate(const std::string& tmpl, const std::string& uri, std::map<std::string, std::string>* vars);

}  // namespace kiln::mcp
