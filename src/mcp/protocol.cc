#include "mcp/protocol.h"

#include "base/text.h"

namespace kiln::mcp {

const std::vector<std::string>& SupportedProtocolVersions() {
  static const std::vector<std::string> versions = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};
  return versions;
}

bool VersionAllowsBatches(const std::string& version) { return version == "2025-03-26" || version == "2024-11-05"; }

Json MakeResult(const Json& id, Json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

Json MakeError(const Json& id, const RpcError& error) {
  // Messages quote what the client sent (a method name, a URI): never hand terminal controls back.
  Json e = {{"code", error.code}, {"message", EscapeControl(error.message)}};
  if (!error.data.is_null()) e["data"] = error.data;
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", e}};
}

Json MakeNotification(const std::string& method, Json params) {
  Json n = {{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.is_null()) n["params"] = std::move(params);
  return n;
}

Json MakeRequest(const Json& id, const std::string& method, Json params) {
  Json r = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) r["params"] = std::move(params);
  return r;
}

MessageKind Classify(const Json& m, std::string* why) {
  auto invalid = [&](const char* reason) {
    if (why) *why = reason;
    return MessageKind::kInvalid;
  };
  if (!m.is_object()) return invalid("a JSON-RPC message must be an object");
  auto version = m.find("jsonrpc");
  if (version == m.end() || *version != "2.0") return invalid("\"jsonrpc\" must be \"2.0\"");
  bool has_id = m.contains("id");
  if (has_id && !(m["id"].is_string() || m["id"].is_number_integer() ||
                  (m["id"].is_null() && (m.contains("result") || m.contains("error"))))) {
    return invalid("\"id\" must be a string or an integer");
  }
  if (m.contains("method")) {
    if (!m["method"].is_string()) return invalid("\"method\" must be a string");
    if (m.contains("params") && !m["params"].is_object() && !m["params"].is_array()) {
      return invalid("\"params\" must be an object or an array");
    }
    return has_id ? MessageKind::kRequest : MessageKind::kNotification;
  }
  if (has_id && (m.contains("result") != m.contains("error"))) return MessageKind::kResponse;
  return invalid("a message needs \"method\", or \"id\" with \"result\" or \"error\"");
}

size_t AnswersExpected(const Json& message, bool batches_allowed) {
  auto answered = [](const Json& m) {
    MessageKind k = Classify(m, nullptr);
    return k == MessageKind::kRequest || k == MessageKind::kInvalid;
  };
  if (!message.is_array()) return answered(message) ? 1 : 0;
  if (message.empty() || !batches_allowed) return 1;
  size_t n = 0;
  for (auto& m : message) n += answered(m);
  return n;
}

int LogLevelRank(const std::string& level) {
  static const char* levels[] = {"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};
  for (int i = 0; i < 8; i++)
    if (level == levels[i]) return i;
  return -1;
}

}  // namespace kiln::mcp
