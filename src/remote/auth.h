// Registry authentication, the parts that need no network: reading a registry's WWW-Authenticate challenges
// (Bearer with realm/service/scope, Basic) and the credentials docker keeps in config.json ($DOCKER_CONFIG, else
// ~/.docker), which `kiln login` and `kiln logout` write back in the same form.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace kiln::remote {

/// One challenge of a WWW-Authenticate header: `Bearer realm="https://auth.example/token",service="registry"`.
struct Challenge {
  std::string scheme;                         // lower case: "bearer", "basic"
  std::map<std::string, std::string> params;  // names lower case, values unquoted
};

/// Parses a WWW-Authenticate header value (RFC 7235: several challenges, quoted strings with escapes, tokens).
/// Malformed parts end the list rather than fail: what was understood is returned.
std::vector<Challenge> ParseChallenges(std::string_view header);

struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token;  // an OAuth refresh token some registries hand out instead of a password
  bool empty() const { return username.empty() && password.empty() && identity_token.empty(); }
};

/// The host name docker keys credentials by: "https://index.docker.io/v1/" and "docker.io" are Docker Hub's;
/// a scheme and a path are dropped ("https://ghcr.io/v2/" -> "ghcr.io").
std::string CredentialKey(std::string_view registry);

/// Asks the credential helper docker-credential-<helper> (on PATH) for `registry`'s credentials, as docker does
/// ("get", the server URL on stdin, {"Username", "Secret"} back). None when the helper has none; an error naming
/// the helper (never what it printed, which may hold a secret) when it fails otherwise.
Result<std::optional<Credentials>> HelperGet(const std::string& helper, const std::string& registry);

/// Stores `creds` for `registry` in the helper (`store`, JSON on stdin), as docker login does with a credsStore.
Status HelperStore(const std::string& helper, const std::string& registry, const Credentials& creds);
/// Forgets `registry`'s credentials in the helper (`erase`), as docker logout does.
Status HelperErase(const std::string& helper, const std::string& registry);

/// docker's config.json, as far as credentials go. Other fields are kept as they are when it is written back.
class DockerConfig {
 public:
  /// The directory: $DOCKER_CONFIG, else $HOME/.docker.
  static std::string DefaultDir();
  /// Reads <dir>/config.json; a missing file is an empty configuration, a malformed one an error naming it.
  static Result<DockerConfig> Load(const std::string& dir);

  /// The credentials stored inline ("auths") for `registry`. Registries whose credentials live in a helper
  /// (credsStore, credHelpers) are reported by HelperFor instead.
  Result<std::optional<Credentials>> Inline(const std::string& registry) const;
  /// The docker-credential-<name> helper that holds `registry`'s credentials, if one is configured.
  std::optional<std::string> HelperFor(const std::string& registry) const;
  /// Stores `creds` inline for `registry` and writes the file (atomically, mode 0600).
  Status StoreInline(const std::string& registry, const Credentials& creds);
  /// Forgets `registry` and writes the file; an error when nothing was stored for it.
  Status Erase(const std::string& registry);

 private:
  Status Write() const;
  std::string path_;
  Json json_ = Json::object();
};

}  // namespace kiln::remote
