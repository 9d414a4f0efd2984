// Fuzz target: the MCP server's message handling, from raw bytes as a transport receives them: JSON parsing with
// its depth limit, JSON-RPC classification, batches, and dispatch of every protocol method of both eras (with a
// tool whose arguments go through schema validation, and one that asks for input: _meta, inputResponses and
// requestState come from the input). Listings span pages, so cursors (any the input spells, and the server's own
// next one where the input says "$NEXT") are paged; a tool runs as a task, and tasks/* requests reach it where
// the input says "$TASK", from its owner and from another identity, which must never see it. Answers must come
// for requests, and nothing may crash or throw.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/json.h"
#include "mcp/protocol.h"
#include "mcp/server.h"

namespace {

class CountingChannel : public kiln::mcp::Channel {
 public:
  void Send(const kiln::Json& m) override {
    sent += m.dump().size() > 0;
    last = m;
  }
  size_t sent = 0;
  kiln::Json last;
};

/// `m` with every string "$TASK" replaced by `task` and "$NEXT" by `cursor`, at any depth (bounded).
kiln::Json Substitute(const kiln::Json& m, const std::string& task, const std::string& cursor, int depth = 0) {
  if (depth > 16) return m;
  if (m.is_string()) {
    if (m == "$TASK") return task;
    if (m == "$NEXT") return cursor;
    return m;
  }
  if (!m.is_structured()) return m;
  kiln::Json out = m;
  for (auto& [k, v] : out.items()) v = Substitute(v, task, cursor, depth + 1);
  return out;
}

kiln::mcp::Server& TheServer() {
  static kiln::mcp::Server* server = [] {
    auto* s = new kiln::mcp::Server({"fuzz", "1", "", ""});
    s->AddTool({{{"name", "echo"},
                 {"inputSchema",
                  {{"type", "object"},
                   {"properties", {{"text", {{"type", "string"}, {"maxLength", 64}}},
                                   {"n", {{"type", "integer"}, {"minimum", 0}, {"maximum", 9}}},
                                   {"list", {{"type", "array"}, {"items", {{"type", "string"}}}, {"maxItems", 3}}}}},
                   {"required", {"text"}},
                   {"additionalProperties", false}}}},
                [](kiln::mcp::RequestContext&, const kiln::Json& args) {
                  return kiln::mcp::Outcome::Ok({{"content", {{{"type", "text"}, {"text", args["text"]}}}}});
                }});
    s->AddTool({{{"name", "ask"}, {"inputSchema", {{"type", "object"}}}},
                [](kiln::mcp::RequestContext& ctx, const kiln::Json&) {
                  // Only in the modern era: a legacy request would wait for a client that never answers.
                  if (!ctx.modern()) return kiln::mcp::Outcome::Ok({{"content", kiln::Json::array()}});
                  ctx.SetState({{"round", 1}});
                  auto answer = ctx.RequestInput("q", "elicitation/create", {{"message", "?"}});
                  return kiln::mcp::Outcome::Ok({{"content", kiln::Json::array()}, {"isError", !answer.ok()}});
                }});
    kiln::mcp::Tool slow{{{"name", "slow"}, {"inputSchema", {{"type", "object"}}}},
                         [](kiln::mcp::RequestContext& ctx, const kiln::Json&) {
                           ctx.Progress(1, 2, "half way");
                           return kiln::mcp::Outcome::Ok({{"content", kiln::Json::array()}});
                         }};
    slow.tasks = kiln::mcp::TaskSupport::kOptional;
    s->AddTool(slow);
    // Enough tools for tools/list to span two pages.
    for (int i = 0; i < 120; i++)
      s->AddTool({{{"name", "t" + std::to_string(i)}, {"inputSchema", {{"type", "object"}}}},
                  [](kiln::mcp::RequestContext&, const kiln::Json&) { return kiln::mcp::Outcome::Ok({{"content", kiln::Json::array()}}); },
                  kiln::mcp::TaskSupport::kForbidden, false, true});
    s->AddPrompt({{{"name", "p"}, {"arguments", {{{"name", "a"}, {"required", true}}}}},
                  [](kiln::mcp::RequestContext&, const std::map<std::string, std::string>&) {
                    return kiln::mcp::Outcome::Ok({{"messages", kiln::Json::array()}});
                  }});
    return s;
  }();
  return *server;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto message = kiln::ParseJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!message.ok()) return 0;
  auto& server = TheServer();
  auto session = server.CreateSession(nullptr);
  CountingChannel channel;
  // Twice: once as the first message of a session (maybe initialize), once after a 2025-03-26 initialize, which
  // allows batches.
  server.Handle(session, *message, channel);
  auto batches = server.CreateSession(nullptr);
  server.Handle(batches,
                {{"jsonrpc", "2.0"}, {"id", 0}, {"method", "initialize"},
                 {"params", {{"protocolVersion", "2025-03-26"}, {"capabilities", kiln::Json::object()}}}},
                channel);
  CountingChannel answers;
  server.Handle(batches, *message, answers);
  if (kiln::mcp::AnswersExpected(*message, true) > 0 && answers.sent == 0) __builtin_trap();
  // As a 2026-07-28 request, whatever its shape (a listen stream waits for its client to go: not here).
  if (!(message->is_object() && message->value("method", kiln::Json()) == "subscriptions/listen")) {
    CountingChannel modern;
    server.Handle(std::make_shared<kiln::mcp::Session>("", "owner"), *message, modern,
                  {kiln::mcp::Era::kModern, "2026-07-28", nullptr});
    if (!message->is_array() && kiln::mcp::AnswersExpected(*message, false) > 0 && modern.sent == 0) __builtin_trap();
  }
  // With the server's own cursor and a task of "owner": the same message again, from the owner and from a stranger.
  kiln::Json meta = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                     {"io.modelcontextprotocol/clientCapabilities",
                      {{"extensions", {{"io.modelcontextprotocol/tasks", kiln::Json::object()}}}}}};
  CountingChannel started;
  server.Handle(std::make_shared<kiln::mcp::Session>("", "owner"),
                {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/call"},
                 {"params", {{"name", "slow"}, {"arguments", kiln::Json::object()}, {"_meta", meta}}}},
                started, {kiln::mcp::Era::kModern, "2026-07-28", nullptr});
  std::string task = started.last.contains("result") ? started.last["result"].value("taskId", "") : "";
  kiln::Json substituted = Substitute(*message, task, "p100");
  if (substituted.is_object() && substituted.value("method", kiln::Json()) != "subscriptions/listen") {
    for (const char* who : {"owner", "stranger"}) {
      CountingChannel modern;
      server.Handle(std::make_shared<kiln::mcp::Session>("", who), substituted, modern,
                    {kiln::mcp::Era::kModern, "2026-07-28", nullptr});
      // Another identity can neither read, answer nor cancel the owner's task.
      const kiln::Json method = substituted.value("method", kiln::Json());
      const kiln::Json params = substituted.value("params", kiln::Json());
      bool on_task = !task.empty() && method.is_string() && method.get<std::string>().rfind("tasks/", 0) == 0 &&
                     params.is_object() && params.value("taskId", kiln::Json()) == task;
      if (std::string(who) == "stranger" && on_task && modern.last.contains("result")) __builtin_trap();
    }
  }
  server.EndSession(session->id());
  server.EndSession(batches->id());
  return 0;
}
