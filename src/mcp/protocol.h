// JSON-RPC 2.0 and MCP protocol constants: error codes, message shapes, protocol versions.
#pragma once
#include <optional>
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
  kResourceNotFound = -32002,  // MCP until 2025-11-25: resources/read of an unknown URI (2026-07-28: kInvalidParams)
  // MCP 2026-07-28's own range (-32020 to -32099).
  kHeaderMismatch = -32020,             // an HTTP header disagrees with the body, or a required one is missing
  kMissingClientCapability = -32021,    // serving the request needs a capability the client did not declare
  kUnsupportedProtocolVersion = -32022,  // data: {supported: [...], requested}
};

/// A JSON-RPC error object, returned by handlers that reject a request.
struct RpcError {
  int code = kInternalError;
  std::string message;
  Json data;  // null when absent
  /// The HTTP status a stateless (2026-07-28) request gets for this error: 400 for a malformed envelope, 404 for
  /// an unknown method. 200 (the error travels in the body) otherwise. Only the HTTP transport reads it.
  int http_status = 200;
};

/// The revisions of the two eras. Legacy ones open a session with initialize; modern ones (2026-07-28 on) carry
/// the version and the client's capabilities in every request's _meta and keep no session.
const std::vector<std::string>& ModernProtocolVersions();
bool IsModernVersion(const std::string& version);
/// Every version kiln speaks, newest first: what server/discover and UnsupportedProtocolVersion list.
std::vector<std::string> AllProtocolVersions();

/// The reserved _meta keys of 2026-07-28.
inline constexpr const char* kMetaProtocolVersion = "io.modelcontextprotocol/protocolVersion";
inline constexpr const char* kMetaClientCapabilities = "io.modelcontextprotocol/clientCapabilities";
inline constexpr const char* kMetaClientInfo = "io.modelcontextprotocol/clientInfo";
inline constexpr const char* kMetaLogLevel = "io.modelcontextprotocol/logLevel";
inline constexpr const char* kMetaServerInfo = "io.modelcontextprotocol/serverInfo";
inline constexpr const char* kMetaSubscriptionId = "io.modelcontextprotocol/subscriptionId";
inline constexpr const char* kTasksExtension = "io.modelcontextprotocol/tasks";

/// What a modern request says about itself in params._meta.
struct RequestMeta {
  std::string protocol_version;
  Json client_capabilities = Json::object();
  Json client_info = Json::object();
  int log_level = -1;  // -1: the client asked for no log messages
};
/// Reads params._meta of a modern request; an Invalid Params error (HTTP 400) when a required field is missing.
std::optional<RpcError> ParseRequestMeta(const Json& params, RequestMeta* meta);
/// Whether a message is shaped as a modern request: _meta names a protocol version, or the method exists only in
/// the modern era. Used where nothing else tells the eras apart (stdio).
bool LooksModern(const Json& message);
/// Whether `capabilities` (a ClientCapabilities object) declares `name` ("sampling") or, for an extension id
/// containing '/', the extension of that id.
bool DeclaresCapability(const Json& capabilities, const std::string& name);
/// The ClientCapabilities object naming just `name`: {"sampling": {}} or {"extensions": {"<id>": {}}}.
Json CapabilityObject(const std::string& name);
/// The MissingRequiredClientCapability error for `name`.
RpcError MissingCapabilityError(const std::string& name);

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
