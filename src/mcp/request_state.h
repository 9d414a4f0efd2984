// The requestState of multi-round-trip requests (MCP 2026-07-28): what a handler wants back on the client's retry,
// and the answers the client gave in earlier rounds (a retry carries only the latest round's). The client holds
// it as an opaque string; the server keeps nothing between rounds. It is encrypted and authenticated (AES-256-GCM
// under a key of this process), bound to the request it was made for, and expires: a client can neither read an
// answer it gave in it (a secret asked for stays out of every reply), nor alter it, nor replay it elsewhere.
#pragma once
#include <chrono>
#include <optional>
#include <string>

#include "base/json.h"

namespace kiln::mcp {

class RequestStateSeal {
 public:
  /// A random key: states sealed by one server process open only in it.
  RequestStateSeal();
  /// Seals `state` to `scope` (what the request was: method, name, arguments); it opens for `ttl`.
  std::string Seal(const std::string& scope, const Json& state, std::chrono::seconds ttl = std::chrono::hours(1)) const;
  /// The state sealed by Seal for the same scope, or none when it was altered, made for another request, or expired.
  std::optional<Json> Open(const std::string& scope, const std::string& sealed) const;

 private:
  unsigned char key_[32];
};

}  // namespace kiln::mcp
