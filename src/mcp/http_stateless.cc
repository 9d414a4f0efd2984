#include "mcp/http_stateless.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "base/text.h"
#include "mcp/http_gate.h"

namespace kiln::mcp {
namespace {

constexpr const char* kJsonType = "application/json; charset=utf-8";

bool IsLegacyVersion(const std::string& v) {
  for (auto& s : SupportedProtocolVersions())
    if (s == v) return true;
  return false;
}

/// A header's value without the optional white space around it (RFC 9110 5.5); none when absent.
std::optional<std::string> Header(const httplib::Request& req, const char* name) {
  if (!req.has_header(name)) return std::nullopt;
  std::string v = req.get_header_value(name);
  size_t b = v.find_first_not_of(" \t"), e = v.find_last_not_of(" \t");
  return b == std::string::npos ? "" : v.substr(b, e - b + 1);
}

/// A header value as SEP-2243 encodes it: "=?base64?...?=" carries base64 of UTF-8; anything else is literal.
/// None when the base64 is malformed.
std::optional<std::string> DecodeHeaderValue(const std::string& v) {
  const std::string prefix = "=?base64?", suffix = "?=";
  if (v.size() < prefix.size() + suffix.size() || v.compare(0, prefix.size(), prefix) != 0 ||
      v.compare(v.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return v;
  }
  return Base64Decode(std::string_view(v).substr(prefix.size(), v.size() - prefix.size() - suffix.size()));
}

/// The body field Mcp-Name mirrors, for the methods that have one.
const char* NameField(const std::string& method) {
  if (method == "tools/call" || method == "prompts/get") return "name";
  if (method == "resources/read") return "uri";
  if (method == "tasks/get" || method == "tasks/update" || method == "tasks/cancel") return "taskId";
  return nullptr;
}

/// A primitive argument as its header carries it.
std::optional<std::string> HeaderForm(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return v.dump();
  return std::nullopt;
}

std::string Dotted(const std::vector<std::string>& path) {
  std::string out;
  for (auto& p : path) out += (out.empty() ? "" : ".") + p;
  return out;
}

/// Walks the properties chains of a tool's input schema for x-mcp-header marks: (header name, argument path).
void MarkedArguments(const Json& schema, std::vector<std::string>& path,
                     std::vector<std::pair<std::string, std::vector<std::string>>>& out) {
  if (!schema.is_object() || !schema.contains("properties") || !schema["properties"].is_object()) return;
  for (auto& [name, prop] : schema["properties"].items()) {
    path.push_back(name);
    if (prop.is_object() && prop.contains("x-mcp-header") && prop["x-mcp-header"].is_string()) {
      out.push_back({prop["x-mcp-header"].get<std::string>(), path});
    }
    MarkedArguments(prop, path, out);
    path.pop_back();
  }
}

/// Where a request's messages go until the HTTP answer takes its form: JSON if the answer comes first, an SSE
/// stream if a notification does.
class ResponseChannel : public Channel {
 public:
  void Send(const Json& m) override {
    Push(m.dump(-1, ' ', false, Json::error_handler_t::replace), m.contains("id") && !m.contains("method"));
  }
  void SendResponseText(const std::string& text) override { Push(text, true); }
  /// The handler returned; nothing more will be sent.
  void Finish() {
    std::lock_guard l(mu_);
    finished_ = true;
    cv_.notify_all();
  }
  struct Event {
    std::string data;
    bool response;
  };
  void Push(std::string data, bool response) {
    std::lock_guard l(mu_);
    events_.push_back({std::move(data), response});
    cv_.notify_all();
  }
  /// Waits up to `timeout` for an event; none when there is none yet (or ever: `*finished` says which).
  std::optional<Event> Next(std::chrono::milliseconds timeout, bool* finished) {
    std::unique_lock l(mu_);
    cv_.wait_for(l, timeout, [&] { return !events_.empty() || finished_; });
    *finished = finished_ && events_.empty();
    if (events_.empty()) return std::nullopt;
    Event e = std::move(events_.front());
    events_.pop_front();
    return e;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  bool finished_ = false;
};

void Refuse(httplib::Response& res, const Json& id, int code, const std::string& message, int status) {
  res.status = status;
  res.set_content(DumpLenient(MakeError(id, {code, message, Json()})), kJsonType);
}

}  // namespace

bool IsStatelessPost(const httplib::Request& req, const Json& body) {
  if (req.has_header("Mcp-Session-Id") || !body.is_object()) return false;
  if (LooksModern(body) && body.value("method", "") != "initialize") return true;
  auto version = Header(req, "MCP-Protocol-Version");
  return version && !version->empty() && !IsLegacyVersion(*version);
}

std::string CheckStandardHeaders(const httplib::Request& req, const Json& body, const Json& tool) {
  if (!Header(req, "MCP-Protocol-Version")) return "the MCP-Protocol-Version header is required";
  if (!body.contains("id")) return "";  // no header rules for notifications in this revision
  std::string method = body.value("method", "");
  auto method_header = Header(req, "Mcp-Method");
  if (!method_header) return "the Mcp-Method header is required";
  if (*method_header != method) return "the Mcp-Method header (" + *method_header + ") differs from the method (" + method + ")";
  const Json params = body.value("params", Json::object());
  if (const char* field = NameField(method); field && params.is_object() && params.contains(field) && params[field].is_string()) {
    auto name = Header(req, "Mcp-Name");
    if (!name) return "the Mcp-Name header is required for " + method;
    auto decoded = DecodeHeaderValue(*name);
    if (!decoded) return "the Mcp-Name header is malformed base64";
    if (*decoded != params[field].get<std::string>()) return "the Mcp-Name header differs from params." + std::string(field);
  }
  if (method != "tools/call" || !tool.is_object()) return "";
  std::vector<std::pair<std::string, std::vector<std::string>>> marked;
  std::vector<std::string> path;
  MarkedArguments(tool.value("inputSchema", Json::object()), path, marked);
  const Json args = params.is_object() ? params.value("arguments", Json::object()) : Json::object();
  for (auto& [suffix, where] : marked) {
    const Json* value = &args;
    for (auto& key : where) value = value->is_object() && value->contains(key) ? &(*value)[key] : nullptr;
    std::string header = "Mcp-Param-" + suffix;
    auto given = Header(req, header.c_str());
    if (!value) {
      if (given) return "the " + header + " header names an argument the call does not have";
      continue;
    }
    auto expected = HeaderForm(*value);
    if (!expected) continue;  // not a primitive: nothing to mirror
    if (!given) return "the " + header + " header is required (argument " + Dotted(where) + ")";
    auto decoded = DecodeHeaderValue(*given);
    if (!decoded) return "the " + header + " header is malformed base64";
    if (*decoded != *expected) return "the " + header + " header differs from argument " + Dotted(where);
  }
  return "";
}

void ServeStatelessPost(Server& server, const Json& body, const httplib::Request& req, httplib::Response& res,
                        const std::string& owner) {
  Json id = body.contains("id") ? body["id"] : Json();
  std::string method = body.value("method", "");
  Json tool;
  if (method == "tools/call" && body.contains("params") && body["params"].is_object() &&
      body["params"].contains("name") && body["params"]["name"].is_string()) {
    tool = server.ToolDefinition(body["params"]["name"].get<std::string>());
  }
  std::string mismatch = CheckStandardHeaders(req, body, tool);
  if (!mismatch.empty()) return Refuse(res, id, kHeaderMismatch, "header mismatch: " + mismatch, 400);

  // No session: each request gets a fresh one, for its cancellation flag and the client's identity alone.
  auto session = std::make_shared<Session>("", owner);
  auto channel = std::make_shared<ResponseChannel>();
  auto status = std::make_shared<int>(200);
  Server::Envelope envelope{Era::kModern, Header(req, "MCP-Protocol-Version"), status.get()};
  if (!body.contains("id")) {
    server.Handle(session, body, *channel, envelope);
    res.status = 202;
    return;
  }
  // What may run long or talk back before answering runs on a thread of its own while this one watches the
  // connection; the rest is answered here.
  if (server.AnswersAtOnce(body)) {
    server.Handle(session, body, *channel, envelope);
    channel->Finish();
  } else {
    std::thread([&server, session, body, channel, status, envelope] {
      server.Handle(session, body, *channel, envelope);
      channel->Finish();
    }).detach();
  }
  // Wait for the first message: the answer itself makes a JSON response, a notification an SSE stream.
  std::optional<ResponseChannel::Event> first;
  for (;;) {
    bool finished = false;
    first = channel->Next(std::chrono::milliseconds(100), &finished);
    if (first || finished) break;
    if (GatedHttpServer::ClientGone()) {
      session->CancelAll();
      res.status = 499;  // nobody reads it
      return;
    }
  }
  if (!first) {
    res.status = 204;  // cancelled: the request gets no answer
    return;
  }
  if (first->response) {
    res.status = *status;
    res.set_content(first->data, kJsonType);
    return;
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  auto pending = std::make_shared<std::optional<ResponseChannel::Event>>(std::move(first));
  res.set_chunked_content_provider("text/event-stream", [channel, session, pending](size_t, httplib::DataSink& sink) {
    auto quiet = std::chrono::steady_clock::now();
    for (;;) {
      std::optional<ResponseChannel::Event> e = std::move(*pending);
      pending->reset();
      bool finished = false;
      if (!e) e = channel->Next(std::chrono::milliseconds(250), &finished);
      if (e) {
        std::string frame = "event: message\ndata: " + e->data + "\n\n";
        if (!sink.write(frame.data(), frame.size())) {
          session->CancelAll();  // closing the stream cancels the request
          return false;
        }
        quiet = std::chrono::steady_clock::now();
        if (e->response) break;
        continue;
      }
      if (finished) break;
      if (GatedHttpServer::ClientGone()) {
        session->CancelAll();
        return false;
      }
      if (std::chrono::steady_clock::now() - quiet > std::chrono::seconds(15)) {
        // A comment now and then keeps intermediaries from closing a quiet stream (a listen stream mostly is).
        if (!sink.write(":\n\n", 3)) {
          session->CancelAll();
          return false;
        }
        quiet = std::chrono::steady_clock::now();
      }
    }
    sink.done();
    return true;
  });
}

}  // namespace kiln::mcp
