// Fuzz target: the MCP server's message handling, from raw bytes as a transport receives them: JSON parsing with
// its depth limit, JSON-RPC classification, batches, and dispatch of every protocol method (with a tool whose
// arguments go through schema validation). Answers must come for requests, and nothing may crash or throw.
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
  server.EndSession(session->id());
  server.EndSession(batches->id());
  return 0;
}
