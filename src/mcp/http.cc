#include "mcp/http.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <thread>

#include <openssl/crypto.h>

#include "base/digest.h"
#include "base/text.h"
#include "mcp/http_gate.h"
#include "mcp/http_stateless.h"

namespace kiln::mcp {
namespace {

constexpr size_t kMaxBufferedEvents = 4096;

bool IsRequest(const Json& m) { return m.is_object() && m.contains("method") && m.contains("id"); }

/// The type of JSON answers. The charset parameter also keeps httplib from gzipping them (it compresses exactly
/// "application/json"): JSON-RPC answers are small, and inflating them cost the client more than the round trip.
constexpr const char* kJsonType = "application/json; charset=utf-8";

/// Whether answering `body` may involve messages besides the responses: progress, logs, requests to the client.
/// Those need an SSE stream; anything else is answered with plain JSON, which costs the client much less.
bool MayTalkBack(const Json& body) {
  auto one = [](const Json& m) {
    if (!IsRequest(m)) return false;
    if (m["method"] == "tools/call") return true;
    auto p = m.find("params");
    return p != m.end() && p->is_object() && p->contains("_meta") && (*p)["_meta"].is_object() &&
           (*p)["_meta"].contains("progressToken");
  };
  if (!body.is_array()) return one(body);
  return std::any_of(body.begin(), body.end(), one);
}

/// A resumable SSE stream: what the server sends is numbered and kept, so a client that lost the connection
/// can come back with Last-Event-ID and get the rest.
class EventStream : public Channel {
 public:
  EventStream(std::string id, size_t expected_responses)
      : id_(std::move(id)), expected_responses_(expected_responses) {}
  const std::string& id() const { return id_; }

  void Send(const Json& message) override {
    Push(message.dump(-1, ' ', false, Json::error_handler_t::replace),
         message.is_array() || (message.contains("id") && !message.contains("method")), message.is_array());
  }
  void SendResponseText(const std::string& text) override { Push(text, true, false); }

  void Push(std::string data, bool is_response, bool is_batch) {
    std::lock_guard l(mu_);
    events_.push_back({next_seq_++, std::move(data)});
    if (events_.size() > kMaxBufferedEvents) events_.pop_front();
    if (is_response && expected_responses_ > 0) {
      responses_ += is_batch ? expected_responses_ : 1;
      if (responses_ >= expected_responses_) finished_ = true;
    }
    cv_.notify_all();
  }

  void Disconnect() override {
    std::lock_guard l(mu_);
    disconnect_ = true;
    cv_.notify_all();
  }

  /// Ends the stream for good (session over).
  void Close() {
    std::lock_guard l(mu_);
    finished_ = true;
    closed_ = true;
    cv_.notify_all();
  }

  /// Writes events after `after` to `sink` until the stream finishes, the server asks to disconnect, or the
  /// client goes away. Returns whether the connection should end gracefully.
  void Pump(int64_t after, httplib::DataSink& sink, int retry_ms, bool priming) {
    if (priming) {
      // A priming event (an id and no data) lets the client resume even before the first real message.
      std::string p = "id: " + id_ + "-0\nretry: " + std::to_string(retry_ms) + "\ndata: \n\n";
      if (!sink.write(p.data(), p.size())) return;
    }
    int64_t sent = after;
    std::unique_lock l(mu_);
    disconnect_ = false;
    for (;;) {
      for (auto& e : events_) {
        if (e.seq <= sent) continue;
        std::string frame = "id: " + id_ + "-" + std::to_string(e.seq) + "\nevent: message\ndata: " + e.data + "\n\n";
        sent = e.seq;
        l.unlock();
        bool ok = sink.write(frame.data(), frame.size());
        l.lock();
        if (!ok) return;
      }
      bool all_sent = events_.empty() || events_.back().seq <= sent;
      if ((finished_ && all_sent) || closed_) break;
      if (disconnect_) {
        disconnect_ = false;
        break;
      }
      if (!cv_.wait_for(l, std::chrono::seconds(15), [&] {
            return disconnect_ || closed_ || (!events_.empty() && events_.back().seq > sent) || finished_;
          })) {
        l.unlock();
        bool alive = sink.write(": keepalive\n\n", 13);
        l.lock();
        if (!alive) return;
      }
    }
    l.unlock();
    sink.done();
  }

  int64_t last_seq() {
    std::lock_guard l(mu_);
    return next_seq_ - 1;
  }

 private:
  struct Event {
    int64_t seq;
    std::string data;
  };
  std::string id_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  int64_t next_seq_ = 1;
  size_t expected_responses_;  // 0 for the standalone GET stream, which never finishes by itself
  size_t responses_ = 0;
  bool finished_ = false;
  bool closed_ = false;
  bool disconnect_ = false;
};

/// The transport's part of a session: its streams, by id, for resumption.
struct HttpSession {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<EventStream>> streams;
  int next_stream = 1;
  std::shared_ptr<EventStream> standalone;
};

/// Drops what it is sent: for POST bodies with no request in them.
class NullChannel : public Channel {
 public:
  void Send(const Json&) override {}
};

/// Keeps the answers of a JSON (non-SSE) POST; notifications go to the session's standalone stream.
class JsonChannel : public Channel {
 public:
  explicit JsonChannel(std::shared_ptr<Session> s) : session_(std::move(s)) {}
  void Send(const Json& m) override {
    if (m.is_array() || (m.contains("id") && !m.contains("method"))) {
      std::lock_guard l(mu_);
      answers_.push_back(m);
    } else if (auto c = session_->standalone_channel()) {
      c->Send(m);
    }
  }
  /// A cached answer, as it came. (A batch's answers arrive as one array through Send.)
  void SendResponseText(const std::string& text) override {
    std::lock_guard l(mu_);
    text_ = text;
  }
  /// The answer's text: the one response, or the batch's responses as an array.
  std::string Answer() {
    std::lock_guard l(mu_);
    if (!text_.empty()) return text_;
    Json a = answers_.size() == 1 ? answers_[0] : answers_;
    return a.dump(-1, ' ', false, Json::error_handler_t::replace);
  }

 private:
  std::shared_ptr<Session> session_;
  std::mutex mu_;
  Json answers_ = Json::array();
  std::string text_;
};

/// "localhost:8080" -> "localhost"; "[::1]:80" -> "[::1]".
std::string HostOnly(const std::string& hostport) {
  if (!hostport.empty() && hostport[0] == '[') return AsciiLower(hostport.substr(0, hostport.find(']') + 1));
  return AsciiLower(hostport.substr(0, hostport.find(':')));
}

}  // namespace

struct HttpTransport::Impl {
  Server& server;
  HttpOptions o;
  GatedHttpServer http;
  std::mutex mu;
  std::map<std::string, std::shared_ptr<HttpSession>> sessions;

  /// Each bearer token's client identity: "token:" and 16 hex digits of its SHA-256 (never the token itself),
  /// hashed once here rather than on every request.
  std::vector<std::string> identities;

  Impl(Server& s, HttpOptions options) : server(s), o(std::move(options)), http(GateFor(o)) {
    for (auto& token : o.bearer_tokens) identities.push_back("token:" + DigestHex(DigestOf(token)).substr(0, 16));
  }

  static GateOptions GateFor(const HttpOptions& o) {
    GateOptions g;
    g.max_connections = o.max_connections;
    g.max_buffered_body = std::max(g.max_buffered_body, o.max_body_bytes);
    return g;
  }

  static void JsonError(httplib::Response& res, int status, int code, const std::string& message) {
    res.status = status;
    res.set_content(DumpLenient(MakeError(Json(), {code, message, Json()})), kJsonType);
  }

  bool HostAllowed(const std::string& host) const {
    std::string h = HostOnly(host);
    if (h == "localhost" || h == "127.0.0.1" || h == "[::1]") return true;
    for (auto& a : o.allowed_hosts)
      if (AsciiLower(a) == h) return true;
    return false;
  }

  /// The identity of the client that sent `req` (see `identities`), or "" when the server takes no tokens. None
  /// when a token is required and this one is not valid.
  std::optional<std::string> ClientIdentity(const httplib::Request& req) const {
    if (o.bearer_tokens.empty()) return std::string();
    std::string given = req.get_header_value("Authorization");
    const std::string scheme = "Bearer ";
    if (given.size() <= scheme.size() || AsciiLower(given.substr(0, scheme.size())) != "bearer ") return std::nullopt;
    given.erase(0, scheme.size());
    for (size_t i = 0; i < o.bearer_tokens.size(); i++) {
      const std::string& token = o.bearer_tokens[i];
      // Compared in constant time: how long a refusal takes says nothing about how much of a token was right.
      if (token.size() == given.size() && CRYPTO_memcmp(token.data(), given.data(), token.size()) == 0) {
        return identities[i];
      }
    }
    return std::nullopt;
  }

  /// DNS-rebinding protection and authentication, before any route runs.
  httplib::Server::HandlerResponse Guard(const httplib::Request& req, httplib::Response& res) {
    if (req.has_header("Host") && !HostAllowed(req.get_header_value("Host"))) {
      JsonError(res, 403, kInvalidRequest, "forbidden: Host header \"" + req.get_header_value("Host") + "\" is not allowed");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.has_header("Origin")) {
      std::string origin = req.get_header_value("Origin");
      size_t scheme = origin.find("://");
      std::string host = scheme == std::string::npos ? origin : origin.substr(scheme + 3);
      if (!HostAllowed(host)) {
        JsonError(res, 403, kInvalidRequest, "forbidden: Origin \"" + origin + "\" is not allowed");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (!ClientIdentity(req)) {
      res.set_header("WWW-Authenticate", "Bearer");
      JsonError(res, 401, kInvalidRequest, "unauthorized: a valid bearer token is required");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.path != o.path) {
      JsonError(res, 404, kInvalidRequest, "not found: the MCP endpoint is " + o.path);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }

  /// The session named by Mcp-Session-Id, or an error response (400 without the header, 404 if unknown).
  std::pair<std::shared_ptr<Session>, std::shared_ptr<HttpSession>> FindSession(const httplib::Request& req,
                                                                              httplib::Response& res) {
    std::string id = req.get_header_value("Mcp-Session-Id");
    if (id.empty()) {
      JsonError(res, 400, kInvalidRequest, "bad request: Mcp-Session-Id header is required");
      return {};
    }
    auto s = server.FindSession(id);
    std::lock_guard l(mu);
    auto it = sessions.find(id);
    // A session belongs to the token that opened it: to another token it does not exist.
    if (!s || it == sessions.end() || s->owner() != ClientIdentity(req)) {
      JsonError(res, 404, kInvalidRequest, "session not found (it may have ended): " + id);
      return {};
    }
    return {s, it->second};
  }

  bool VersionHeaderOk(const httplib::Request& req, httplib::Response& res) {
    if (!req.has_header("MCP-Protocol-Version")) return true;  // 2025-03-26 clients do not send it
    std::string v = req.get_header_value("MCP-Protocol-Version");
    for (auto& s : SupportedProtocolVersions())
      if (s == v) return true;
    JsonError(res, 400, kInvalidRequest, "unsupported MCP-Protocol-Version: " + v);
    return false;
  }

  void Post(const httplib::Request& req, httplib::Response& res) {
    if (req.body.size() > o.max_body_bytes) {
      return JsonError(res, 413, kInvalidRequest,
                       "request body of " + std::to_string(req.body.size()) + " bytes exceeds the limit of " +
                           std::to_string(o.max_body_bytes));
    }
    std::string ctype = AsciiLower(req.get_header_value("Content-Type"));
    if (ctype.find("application/json") == std::string::npos) {
      return JsonError(res, 415, kInvalidRequest, "Content-Type must be application/json");
    }
    auto parsed = ParseJson(req.body);
    if (!parsed.ok()) return JsonError(res, 400, kParseError, "parse error: the body is " + parsed.status().message());
    Json& body = *parsed;
    if (IsStatelessPost(req, body)) return ServeStatelessPost(server, body, req, res, ClientIdentity(req).value_or(""));
    if (!VersionHeaderOk(req, res)) return;

    bool initialize = body.is_object() && body.contains("method") && body["method"] == "initialize";
    std::shared_ptr<Session> session;
    std::shared_ptr<HttpSession> hs;
    if (initialize) {
      session = server.CreateSession(nullptr, ClientIdentity(req).value_or(""));
      if (!session) return JsonError(res, 503, kInternalError, "cannot start a session: no random session id could be made");
      hs = std::make_shared<HttpSession>();
      std::lock_guard l(mu);
      sessions[session->id()] = hs;
    } else {
      std::tie(session, hs) = FindSession(req, res);
      if (!session) return;
    }
    res.set_header("Mcp-Session-Id", session->id());

    size_t answers = AnswersExpected(body, VersionAllowsBatches(session->protocol_version()));
    if (answers == 0) {
      NullChannel none;
      server.Handle(session, body, none);
      res.status = 202;
      return;
    }
    std::string accept = AsciiLower(req.get_header_value("Accept"));
    // A stream when the answer may need one, or when the client lists text/event-stream before application/json
    // (or only it): the way it says it prefers streams. Otherwise plain JSON, which is cheaper for both sides.
    size_t stream_pos = accept.find("text/event-stream"), json_pos = accept.find("application/json");
    // A quick tool's call is answered at once, like a listing: it sends nothing before its answer.
    bool talks = MayTalkBack(body) && !server.AnswersAtOnce(body);
    bool sse = stream_pos != std::string::npos && !initialize && (talks || stream_pos < json_pos);
    if (!sse) {
      JsonChannel channel(session);
      server.Handle(session, body, channel);
      res.set_content(channel.Answer(), kJsonType);
      return;
    }
    std::shared_ptr<EventStream> stream;
    {
      std::lock_guard l(hs->mu);
      stream = std::make_shared<EventStream>(std::to_string(hs->next_stream++), answers);
      hs->streams[stream->id()] = stream;
    }
    // The work runs on its own thread: it goes on, and its answers stay resumable, if the connection drops.
    Server* srv = &server;
    std::thread([srv, session, body, stream, hs] {
      srv->Handle(session, body, *stream);
    }).detach();
    int retry = o.retry_ms;
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [stream, retry](size_t, httplib::DataSink& sink) {
      stream->Pump(0, sink, retry, true);
      return true;
    });
  }

  void Get(const httplib::Request& req, httplib::Response& res) {
    if (AsciiLower(req.get_header_value("Accept")).find("text/event-stream") == std::string::npos) {
      return JsonError(res, 406, kInvalidRequest, "GET needs Accept: text/event-stream");
    }
    if (!VersionHeaderOk(req, res)) return;
    auto [session, hs] = FindSession(req, res);
    if (!session) return;
    std::shared_ptr<EventStream> stream;
    int64_t after = 0;
    bool priming = true;
    std::string last = req.get_header_value("Last-Event-ID");
    if (!last.empty()) {
      // Resume the stream the event id belongs to, after that event.
      size_t dash = last.rfind('-');
      std::lock_guard l(hs->mu);
      auto it = dash == std::string::npos ? hs->streams.end() : hs->streams.find(last.substr(0, dash));
      auto seq = dash == std::string::npos ? std::nullopt : ParseDecimal(std::string_view(last).substr(dash + 1), INT64_MAX);
      if (it == hs->streams.end() || !seq) {
        return JsonError(res, 404, kInvalidRequest, "unknown Last-Event-ID " + EscapeControl(last));
      }
      stream = it->second;
      after = int64_t(*seq);
      priming = false;
    } else {
      std::lock_guard l(hs->mu);
      if (!hs->standalone) {
        hs->standalone = std::make_shared<EventStream>(std::to_string(hs->next_stream++), 0);
        hs->streams[hs->standalone->id()] = hs->standalone;
        session->SetStandaloneChannel(hs->standalone);
      }
      stream = hs->standalone;
      after = stream->last_seq();  // a fresh GET starts with what happens next
    }
    int retry = o.retry_ms;
    res.set_header("Mcp-Session-Id", session->id());
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [stream, after, priming, retry](size_t, httplib::DataSink& sink) {
      stream->Pump(after, sink, retry, priming);
      return true;
    });
  }

  void Delete(const httplib::Request& req, httplib::Response& res) {
    auto [session, hs] = FindSession(req, res);
    if (!session) return;
    server.EndSession(session->id());
    {
      std::lock_guard l(hs->mu);
      for (auto& [id, s] : hs->streams) s->Close();
    }
    std::lock_guard l(mu);
    sessions.erase(session->id());
    res.status = 200;
  }
};

HttpTransport::HttpTransport(Server& server, HttpOptions options)
    : impl_(std::make_unique<Impl>(server, std::move(options))) {}

HttpTransport::~HttpTransport() { Stop(); }

Status HttpTransport::Serve() {
  Impl& i = *impl_;
  // Bodies are checked against max_body_bytes in the handler, to answer with a JSON-RPC error.
  i.http.set_payload_max_length(std::max<size_t>(i.o.max_body_bytes * 2, 64 << 20));
  i.http.set_keep_alive_max_count(1000);
  i.http.set_pre_routing_handler([&i](const httplib::Request& req, httplib::Response& res) { return i.Guard(req, res); });
  i.http.Post(i.o.path, [&i](const httplib::Request& req, httplib::Response& res) { i.Post(req, res); });
  i.http.Get(i.o.path, [&i](const httplib::Request& req, httplib::Response& res) { i.Get(req, res); });
  i.http.Delete(i.o.path, [&i](const httplib::Request& req, httplib::Response& res) { i.Delete(req, res); });
  i.http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      std::string msg = res.status == 413 ? "request body too large" : "HTTP error " + std::to_string(res.status);
      res.set_content(DumpLenient(MakeError(Json(), {kInvalidRequest, msg, Json()})), kJsonType);
    }
  });
  int port = i.o.port;
  if (port == 0) {
    port = i.http.bind_to_any_port(i.o.host);
    if (port < 0) return Status::Error("cannot listen on " + i.o.host);
  } else if (!i.http.bind_to_port(i.o.host, port)) {
    return Status::Error("cannot listen on " + i.o.host + ":" + std::to_string(port) + " (address in use?)");
  }
  i.http.Start();
  if (i.o.on_listening) i.o.on_listening(port);
  if (!i.http.listen_after_bind()) return Status::Error("the HTTP server stopped unexpectedly");
  return Status::Ok();
}

void HttpTransport::Stop() {
  if (!impl_) return;
  {
    // Open SSE streams hold worker threads the HTTP server joins when it stops: end them first.
    std::lock_guard l(impl_->mu);
    for (auto& [id, hs] : impl_->sessions) {
      std::lock_guard sl(hs->mu);
      for (auto& [sid, stream] : hs->streams) stream->Close();
    }
  }
  if (impl_->http.is_running()) impl_->http.stop();
  impl_->http.StopGate();
}

}  // namespace kiln::mcp
