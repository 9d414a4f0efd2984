// The Streamable HTTP transport of MCP 2026-07-28: no sessions, every request a POST of its own carrying the
// MCP-Protocol-Version, Mcp-Method and Mcp-Name headers (and Mcp-Param-* for tool arguments marked x-mcp-header),
// which must agree with the body. A request is answered with JSON, or with an SSE stream when it sends
// notifications (progress, logs) before its answer; closing that stream cancels the request. No resumption.
#pragma once
#include <httplib.h>

#include "base/json.h"
#include "mcp/server.h"

namespace kiln::mcp {

/// Whether a POST belongs to the 2026-07-28 era: no session id, and a modern version in _meta or in the
/// MCP-Protocol-Version header (anything but a legacy version there counts, so that an unknown one is answered
/// with UnsupportedProtocolVersion rather than as a legacy request without a session).
bool IsStatelessPost(const httplib::Request& req, const Json& body);

/// Serves one such POST, `body` parsed already.
/// `owner`: the client's identity (HttpTransport's, from its bearer token), to which its tasks are bound.
void ServeStatelessPost(Server& server, const Json& body, const httplib::Request& req, httplib::Response& res,
                        const std::string& owner);

/// The checks of the standard headers against the body: the reason a request must be refused with
/// HeaderMismatch, or "" when they agree. `tool` is the definition of the tool a tools/call names (null if none).
std::string CheckStandardHeaders(const httplib::Request& req, const Json& body, const Json& tool);

}  // namespace kiln::mcp
