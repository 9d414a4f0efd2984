#include "mcp/protocol.h"

#include "base/text.h"

namespace kiln::mcp {

const std::vector<std::string>& SupportedProtocolVersions() {
  static const std::vector<std::string> versions = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};
  return versions;
}

const std::vector<std::string>& ModernProtocolVersions() {
  static const std::vector<std::string> versions = {"2026-07-28"};
  return versions;
}

bool IsModernVersion(const std::string& version) {
  for (auto& v : ModernProtocolVersions())
    if (v == version) return true;
  return false;
}

std::vector<std::string> AllProtocolVersions() {
  std::vector<std::string> all = ModernProtocolVersions();
  for (auto& v : SupportedProtocolVersions()) all.push_back(v);
  return all;
}

std::optional<RpcError> ParseRequestMeta(const Json& params, RequestMeta* meta) {
  auto invalid = [](const std::string& why) { return RpcError{kInvalidParams, "invalid params: " + why, Json(), 400}; };
  if (!params.is_object() || !params.contains("_meta") || !params["_meta"].is_object()) {
    return invalid("params._meta is required (protocol version and client capabilities)");
  }
  const Json& m = params["_meta"];
  auto version = m.find(kMetaProtocolVersion);
  if (version == m.end() || !version->is_string()) return invalid(std::string("_meta needs ") + kMetaProtocolVersion);
  auto caps = m.find(kMetaClientCapabilities);
  if (caps == m.end() || !caps->is_object()) return invalid(std::string("_meta needs ") + kMetaClientCapabilities);
  meta->protocol_version = version->get<std::string>();
  meta->client_capabilities = *caps;
  if (auto info = m.find(kMetaClientInfo); info != m.end() && info->is_object()) meta->client_info = *info;
  meta->log_level = -1;
  if (auto level = m.find(kMetaLogLevel); level != m.end()) {
    meta->log_level = level->is_string() ? LogLevelRank(level->get<std::string>()) : -1;
    if (meta->log_level < 0) return invalid("unknown log level " + level->dump());
  }
  return std::nullopt;
}

bool LooksModern(const Json& m) {
  if (!m.is_object()) return false;
  auto method = m.find("method");
  if (method != m.end() && method->is_string() &&
      (*method == "server/discover" || *method == "subscriptions/listen" || method->get<std::string>().rfind("tasks/", 0) == 0)) {
    return true;
  }
  auto params = m.find("params");
  return params != m.end() && params->is_object() && params->contains("_meta") && (*params)["_meta"].is_object() &&
         (*params)["_meta"].contains(kMetaProtocolVersion);
}

bool DeclaresCapability(const Json& capabilities, const std::string& name) {
  if (!capabilities.is_object()) return false;
  if (name.find('/') != std::string::npos) {
    auto ext = capabilities.find("extensions");
    return ext != capabilities.end() && ext->is_object() && ext->contains(name);
  }
  return capabilities.contains(name);
}

Json CapabilityObject(const std::string& name) {
  if (name.find('/') != std::string::npos) return {{"extensions", {{name, Json::object()}}}};
  return {{name, Json::object()}};
}

RpcError MissingCapabilityError(const std::string& name) {
  return {kMissingClientCapability, "missing required client capability: " + name,
          {{"requiredCapabilities", CapabilityObject(name)}}, 400};
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
