// JSON-RPC 2.0 and MCP protocol constants: error codes, message shapes, protocol versions.
#pragma once
#include <string>
#include <vector>

#include "base/json.h"

namespace kiln::mcp {

enum ErrorCode : int {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
  kResourceNotFound = -32002,  // MCP: resources/read of an unknown URI
};

/// A JSON-RPC error object, returned by handlers that reject a request.
struct RpcError {
  int code = kInternalError;
  std::string message;
  Json data;  // null when absent
};

/// Protocol versions kiln speaks, newest first; the first is what it offers when the client asks for another.
const std::vector<std::string>& SupportedProtocolVersions();
/// Whether `version` allows JSON-RPC batches (2025-03-26 and earlier; 2025-06-18 removed them).
bool VersionAllowsBatches(const std::string& version);

Json MakeResult(const Json& id, Json result);
Json MakeError(const Json& id, const RpcError& error);
Json MakeNotification(const std::string& method, Json params);
Json MakeRequest(const Json& id, const std::string& method, Json params);

/// The kinds of JSON-RPC message.
enum class MessageKind { kRequest, kNotification, kResponse, kInvalid };
/// Classifies a parsed message; `why` says what is wrong with an invalid one.
MessageKind Classify(const Json& message, std::string* why);
/// How many answers a message or a batch gets, as Server::Handle gives them: one per request and per invalid
/// message (JSON-RPC 2.0 answers `1` or `[1,2,3]` with Invalid Request errors), and one error for an empty batch
/// or for a batch where the protocol version has none. Notifications and responses get none.
size_t AnswersExpected(const Json& message, bool batches_allowed);

/// Logging levels of MCP (RFC 5424 severities), least severe first; -1 for an unknown name.
int LogLevelRank(const std::string& level);

}  // namespace kiln::mcp
