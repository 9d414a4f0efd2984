// Fuzz target: the MCP server's message handling, from raw bytes as a transport receives them: JSON parsing with
// its depth limit, JSON-RPC classification, batches, and dispatch of every protocol method of both eras (with a
// tool whose arguments go through schema validation, and one that asks for input: _meta, inputResponses and
// requestState come from the input). Answers must come for requests, and nothing may crash or throw.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/json.h"
#include "mcp/protocol.h"
#include "mcp/server.h"

namespace {

class CountingChannel : public kiln::mcp::Channel {
 public:
  void Send(const kiln::Json& m) override { sent += m.dump().size() > 0; }
  size_t sent = 0;
};

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
    server.Handle(std::make_shared<kiln::mcp::Session>(""), *message, modern,
                  {kiln::mcp::Era::kModern, "2026-07-28", nullptr});
    if (!message->is_array() && kiln::mcp::AnswersExpected(*message, false) > 0 && modern.sent == 0) __builtin_trap();
  }
  server.EndSession(session->id());
  server.EndSession(batches->id());
  return 0;
}
