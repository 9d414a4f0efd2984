// A self-contained MCP server of both eras: the legacy revisions (2024-11-05 to 2025-11-25: an initialize handshake,
// sessions, requests from server to client) and the modern one (2026-07-28: stateless requests that carry their
// version and the client's capabilities, server/discover, input-required results the client retries, listen
// streams, and the tasks extension). Tools, resources (with templates and subscriptions), prompts, completion,
// logging, progress and cancellation serve both. It knows nothing of what its tools do, nor of transports:
// stdio.h and http.h feed it messages and say which era a message belongs to where they can tell.
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
#include "mcp/request_state.h"
#include "mcp/tasks.h"

namespace kiln::mcp {

/// Where messages to the client go; implemented by the transports. Thread-safe.
class Channel {
 public:
  virtual ~Channel() = default;
  virtual void Send(const Json& message) = 0;
  /// A response already serialized (the server's cached listings): transports that write text take it as it is.
  virtual void SendResponseText(const std::string& text) { Send(Json::parse(text)); }
  /// Ends the connection carrying this channel while the work goes on; the client resumes it later
  /// (Streamable HTTP, SEP-1699). A no-op where connections cannot be resumed.
  virtual void Disconnect() {}
};

/// A handler's answer: a result, or a JSON-RPC error.
struct Outcome {
  Json result;
  std::optional<RpcError> error;
  /// The result already serialized, instead of `result`: what a cached listing answers with.
  std::string result_text = {};
  static Outcome Ok(Json r) { return {std::move(r), std::nullopt}; }
  static Outcome Fail(int code, std::string message) { return {Json(), RpcError{code, std::move(message), Json()}}; }
};

class Session;

/// Which protocol era a message belongs to. kDetect: tell by its shape (see LooksModern).
enum class Era { kDetect, kLegacy, kModern };

/// One request in progress, and the ways to talk back while it runs.
class RequestContext {
 public:
  RequestContext(std::shared_ptr<Session> session, Json id, Json params, Channel* channel,
                 std::shared_ptr<std::atomic<bool>> cancelled);
  const Json& id() const { return id_; }
  const Json& params() const { return params_; }
  /// Whether the request is of the 2026-07-28 era (no session; input comes by retries).
  bool modern() const { return modern_; }
  /// True once the client sent notifications/cancelled for this request (or went away).
  bool cancelled() const { return cancelled_->load(); }
  /// notifications/progress, when the request carried a progressToken; otherwise nothing.
  void Progress(double progress, std::optional<double> total = std::nullopt, const std::string& message = "");
  bool has_progress_token() const { return !progress_token_.is_null(); }
  /// notifications/message, when `level` passes the session's logging/setLevel.
  void Log(const std::string& level, const Json& data, const std::string& logger = "");
  /// Sends a request to the client and waits for its answer: sampling/createMessage, elicitation/create...
  /// Legacy era only; handlers that serve both eras ask with RequestInputs.
  Result<Json> RequestClient(const std::string& method, Json params,
                             std::chrono::milliseconds timeout = std::chrono::minutes(5));
  /// Asks the client for input: `requests` maps keys of the handler's choosing to {method, params}
  /// (elicitation/create, sampling/createMessage, roots/list); returns the answers by key. In the legacy era the
  /// requests go to the client one by one and are waited for; in a task, the task waits in input_required for
  /// tasks/update. In the modern era the answers come with the client's retry of the whole request: when they
  /// are not there yet this returns an error and the handler returns whatever it likes; the server answers the
  /// request with an input-required result asking for them instead (keep SetState for the retry). Answers of
  /// earlier rounds are remembered (in the sealed requestState), so a handler simply asks again for all it needs,
  /// round after round, and runs to its end once everything is answered. An error too
  /// when the client did not declare the capability a request needs (modern: answered as MissingCapability).
  Result<Json> RequestInputs(const Json& requests);
  Result<Json> RequestInput(const std::string& key, const std::string& method, Json params);
  /// What the handler saved with SetState in the round before this retry (null in the first round); the server
  /// checked it was not altered, and refused the retry if it was.
  const Json& state() const { return state_; }
  void SetState(Json state) { next_state_ = std::move(state); }
  /// The capabilities the client declared: in initialize (legacy) or in this request's _meta (modern).
  const Json& client_capabilities() const;
  /// Runs `work` as a task when the client declared the tasks extension in a modern request (the answer is then the
  /// task's handle, at once), else here and now. For tools that gather their input first (Tool::task_after_input).
  Outcome RunAsTask(std::function<Outcome(RequestContext&)> work);
  /// Closes the connection this request answers on; the answer still arrives when the client resumes.
  void DisconnectStream() { channel_->Disconnect(); }
  Session& session() { return *session_; }

 private:
  friend class Server;
  std::shared_ptr<Session> session_;
  Json id_;
  Json params_;
  Json progress_token_;
  Channel* channel_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  bool modern_ = false;
  Json client_capabilities_;  // modern: from _meta
  int log_level_ = -1;        // modern: from _meta; -1 for none
  Json input_responses_ = Json::object();
  Json state_, next_state_;
  Json unanswered_ = Json::object();  // modern: input requests the retry must answer
  std::string missing_capability_;    // modern: a capability an input request needed
  std::shared_ptr<Task> task_;        // set while the request runs as a task
  class Server* server_ = nullptr;
};

/// Whether a tool may run as a task (tasks extension): never, when the client allows it, or only as one.
enum class TaskSupport { kForbidden, kOptional, kRequired };

struct Tool {
  /// name, title, description, inputSchema, outputSchema, annotations: listed as they are.
  Json definition;
  /// Returns a CallToolResult ({content, structuredContent?, isError?}).
  std::function<Outcome(RequestContext&, const Json& arguments)> call;
  /// kOptional/kRequired: a modern client that declared the tasks extension gets a task handle at once and the
  /// call runs on; kRequired refuses clients that did not declare it.
  TaskSupport tasks = TaskSupport::kForbidden;
  /// The tool asks for its input in the request itself and then calls RequestContext::RunAsTask: the task starts
  /// only once the input is there.
  bool task_after_input = false;
  /// It answers in well under a millisecond whatever its arguments (its work and its output are bounded), so
  /// transports answer it on the thread that read it, with no hand-over, as they answer ping.
  bool quick = false;
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
  /// `owner`: who the transport says the client is (a digest of its bearer token), "" when it cannot tell clients
  /// apart. Tasks are bound to it: another owner never sees them.
  explicit Session(std::string id, std::string owner = "") : id_(std::move(id)), owner_(std::move(owner)) {}
  const std::string& id() const { return id_; }
  const std::string& owner() const { return owner_; }
  std::string protocol_version() const;
  bool initialized() const;
  /// Where messages unrelated to any request go (list_changed, resources/updated); may be null (HTTP: no GET).
  void SetStandaloneChannel(std::shared_ptr<Channel> c);
  std::shared_ptr<Channel> standalone_channel() const;
  bool Subscribed(const std::string& uri) const;
  /// Marks every request in flight cancelled. Without `answer` the client went away and nobody reads an answer;
  /// with it the server is stopping, and each request the client did not cancel itself still gets the answer its
  /// handler gives once it has stopped.
  void CancelAll(bool answer = false);
  /// notifications/cancelled: the request of that id, if in flight, stops and gets no answer.
  void CancelByClient(const Json& request_id);

 private:
  friend class Server;
  friend class RequestContext;
  std::string id_;
  std::string owner_;
  mutable std::mutex mu_;
  bool initialized_ = false;
  std::string protocol_version_ = "2025-03-26";  // until initialize says otherwise
  Json client_capabilities_ = Json::object();
  Json client_info_ = Json::object();
  int log_level_ = 1;  // "info"
  std::set<std::string> subscriptions_;
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> in_flight_;  // request id (dumped) -> cancelled
  std::set<std::string> cancelled_by_client_;  // ids in flight the client cancelled (no answer, per the spec)
  bool answer_cancelled_ = false;              // set by CancelAll(true)
  bool draining_ = false;                      // Server::Drain: its listen streams end
  std::condition_variable in_flight_changed_;
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
  explicit Server(Info info);

  void AddTool(Tool tool);
  void RemoveTool(const std::string& name);
  void AddResource(Resource resource);
  void AddResourceTemplate(ResourceTemplate t);
  void AddPrompt(Prompt prompt);
  /// Resources that come and go (images, build logs): listed by calling `lister` on each resources/list.
  void AddResourceLister(std::function<std::vector<Json>()> lister);

  std::shared_ptr<Session> CreateSession(std::shared_ptr<Channel> standalone, const std::string& owner = "");
  std::shared_ptr<Session> FindSession(const std::string& id);
  /// Ends a session, cancelling its requests: answered (`answer`), or not when nobody is there to read them.
  void EndSession(const std::string& id, bool answer = false);
  /// For a client that closed its input but may still read (stdio's end of input): the session's listen streams
  /// end with their result, and this waits until its other requests are answered, or until `give_up()` (asked
  /// every 100 ms) says the client is gone or the server must stop.
  void Drain(const std::shared_ptr<Session>& session, const std::function<bool()>& give_up);
  /// Ends every session, cancelling its requests (each answered with an error saying the server stops), and
  /// waits up to `grace` for their handlers to return (a build being cancelled removes its containers and mounts).
  /// True when nothing is left running.
  bool Shutdown(std::chrono::milliseconds grace);
  /// Waits up to `timeout` until no request of any session runs. True when none does.
  bool WaitIdle(std::chrono::milliseconds timeout);

  /// Handles one message (or batch) of `session`. Answers and request-related notifications go to `channel`.
  /// Blocks until a request is answered; transports call it from as many threads as they like.
  void Handle(const std::shared_ptr<Session>& session, const Json& message, Channel& channel);

  /// notifications/resources/updated to every session subscribed to `uri`.
  void NotifyResourceUpdated(const std::string& uri);
  /// notifications/{tools,resources,prompts}/list_changed to every initialized session and every listen stream
  /// that asked for them.
  void NotifyListChanged(const std::string& kind);

  /// Tells the server which era a message is of, and what HTTP headers said about it: see Handle.
  struct Envelope {
    Era era = Era::kDetect;
    /// The MCP-Protocol-Version header of a modern HTTP request; must equal the version in _meta.
    std::optional<std::string> version_header;
    /// Where a modern request's answer says the HTTP status it travels with (see RpcError::http_status).
    int* http_status = nullptr;
  };
  /// Handle, for a message whose era the transport knows or lets the server tell.
  void Handle(const std::shared_ptr<Session>& session, const Json& message, Channel& channel, const Envelope& envelope);

  TaskStore& tasks() { return tasks_; }
  /// Whether a message is answered at once, so a transport handles it on the thread that read it, in order:
  /// notifications, the protocol's own methods and listings, and calls of quick tools; not tool calls in general,
  /// resource reads or prompts, which may take as long as the application needs.
  bool AnswersAtOnce(const Json& message);
  /// The definition of the tool of that name (null if none): for transports that check headers against it.
  Json ToolDefinition(const std::string& name);

 private:
  struct Listener;
  void HandleMessage(const std::shared_ptr<Session>& session, const Json& message, Channel& channel,
                     const Envelope& envelope);
  Outcome Dispatch(const std::shared_ptr<Session>& s, const std::string& method, RequestContext& ctx);
  Outcome DispatchModern(const std::string& method, RequestContext& ctx);
  void HandleModern(const std::shared_ptr<Session>& session, const Json& message, Channel& channel,
                    const Envelope& envelope);
  /// Adds what every modern result carries (resultType, serverInfo, caching hints for `method`).
  void FinishModernResult(const std::string& method, Json& result);
  Outcome Discover();
  Outcome Listen(RequestContext& ctx);
  friend class RequestContext;
  Outcome StartTask(RequestContext& ctx, std::function<Outcome(RequestContext&)> work);
  Outcome TaskRequest(const std::string& method, RequestContext& ctx);
  /// Runs a handler of a request that may ask for input, and turns its asking into the era's answer.
  Outcome RunWithInput(RequestContext& ctx, const std::string& scope, const std::function<Outcome()>& handler);
  Json ServerInfo() const;
  Json Capabilities(bool modern) const;
  void NotifyListeners(const Json& notification, const std::function<bool(const Listener&)>& want);
  Outcome CachedListing(const std::string& method, RequestContext& ctx);
  Outcome Initialize(Session& s, const Json& params);
  Outcome ListTools(const Json& params);
  Outcome CallTool(RequestContext& ctx);
  Outcome ListResources(const Json& params);
  Outcome ReadResource(RequestContext& ctx);
  Outcome Complete(const Json& params);
  Outcome GetPrompt(RequestContext& ctx);
  void HandleOne(const std::shared_ptr<Session>& session, const Json& message, Channel& channel);
  /// Runs one request: in flight (cancellable by its id) while `dispatch` answers it, `prepare` setting up its
  /// context first. None when it was cancelled: it gets no answer.
  std::optional<Outcome> RunInFlight(const std::shared_ptr<Session>& session, const Json& id, const Json& params,
                                     Channel& channel, const std::function<Outcome(RequestContext&)>& dispatch,
                                     const std::function<void(RequestContext&)>& prepare = nullptr);
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
  struct Listener {
    Json id;  // the subscriptions/listen request's, which tags every notification it carries
    Channel* channel;
    Json filter;  // what the client opted in to (and the server honours)
    std::string owner;  // the listening client's identity: it hears of its own tasks only
    std::mutex mu;     // held while sending, so the stream cannot end under a sender
    bool open = true;  // guarded by mu
  };
  std::vector<std::shared_ptr<Listener>> listeners_;  // guarded by mu_
  std::condition_variable listeners_end_;
  bool stopping_ = false;  // guarded by mu_
  /// Serialized pages of tools/list, prompts/list and resources/templates/list, by method, cursor and era: they
  /// change only when a tool, prompt or template is added or removed, and building them anew cost most of a
  /// listing's time. Guarded by mu_.
  std::map<std::string, std::string> listing_cache_;
  RequestStateSeal seal_;
  TaskStore tasks_{TaskStore::Options{}};
};

/// Matches `uri` against an RFC 6570 level-1 template ("test://template/{id}/data"); fills `vars`.
bool MatchUriTemplate(const std::string& tmpl, const std::string& uri, std::map<std::string, std::string>* vars);

}  // namespace kiln::mcp
