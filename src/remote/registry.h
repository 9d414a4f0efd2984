// The OCI distribution client: manifests and blobs from and to any registry (distribution, Harbor, GHCR, ...),
// with the WWW-Authenticate flow (Bearer tokens, anonymous or with docker's credentials, and Basic), insecure
// registries and pull mirrors. Blobs are verified against their digest and size before anyone may keep them.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "oci/image.h"
#include "oci/reference.h"
#include "remote/auth.h"
#include "remote/hosts.h"
#include "remote/http.h"

namespace kiln::remote {

struct RegistryOptions {
  Hosts hosts;
  std::string docker_config_dir;  // "" is DockerConfig::DefaultDir()
  /// Blobs larger than this are uploaded in chunks of this size (PATCH, then PUT); smaller ones in one PUT.
  int64_t chunk_size = 64 << 20;
  std::function<bool()> cancelled;
};

/// A manifest or index as the registry serves it.
struct FetchedManifest {
  std::string media_type;
  std::string digest;  // of `data`, computed here
  std::string data;
};

/// Progress of one blob: bytes done of total.
using ByteProgress = std::function<void(int64_t done, int64_t total)>;

/// Thread-safe: tokens are shared, connections are pooled (one HttpClient per concurrent request).
class Registry {
 public:
  explicit Registry(RegistryOptions options);
  ~Registry();

  /// The manifest or index `ref` names (by digest when it has one, else by tag). Manifests fetched by digest are
  /// checked against it.
  Result<FetchedManifest> GetManifest(const oci::Reference& ref);
  /// Streams blob `d` of `ref`'s repository to `sink`; an error unless every byte arrived and they hash to the
  /// descriptor's digest and size (the sink must then throw away what it got).
  Status GetBlob(const oci::Reference& ref, const oci::Descriptor& d, const std::function<Status(std::string_view)>& sink,
                 const ByteProgress& progress);
  /// Whether the registry has blob `digest` in `ref`'s repository.
  Result<bool> HasBlob(const oci::Reference& ref, const std::string& digest);
  /// Asks the registry to link blob `digest` from its repository `from` into `ref`'s (cross-repository mount);
  /// false when it would not (then upload it).
  Result<bool> MountBlob(const oci::Reference& ref, const std::string& digest, const std::string& from);
  /// Uploads the file at `path` as blob `d` to `ref`'s repository: in one PUT, or in chunks when it is large.
  Status PutBlob(const oci::Reference& ref, const oci::Descriptor& d, const std::string& path, const ByteProgress& progress);
  /// Stores a manifest or index under `ref`'s tag (or digest).
  Status PutManifest(const oci::Reference& ref, const std::string& media_type, const std::string& data);
  /// Checks that `creds` open `registry` (for kiln login): an error saying they were refused otherwise.
  Status CheckCredentials(const std::string& registry, const Credentials& creds);

 private:
  struct HostState;
  struct Call;
  /// Sends `req` (its URL a path below /v2/) to the endpoint with auth for `scope`: a 401 is answered with the
  /// registry's challenge (a token for the scope, or Basic) and the request sent once more.
  Result<HttpResponse> Send(const Endpoint& e, const std::string& scope, HttpRequest req);
  /// The scheme and auth state of a host, probed once (GET /v2/).
  Result<HostState*> State(const Endpoint& e);
  /// Gets what answers `challenges` for `scope` (a token, or Basic credentials) into `h`. REQUIRES: h.mu held.
  Status Authorize(HostState& h, const std::string& scope, const std::vector<Challenge>& challenges, bool basic_refused);
  /// The error for a registry that said 401 to what kiln sent: credentials refused, or none to send.
  Status Refused(HostState& h);
  Result<std::optional<Credentials>> CredentialsFor(HostState& h);
  Result<HttpResponse> Transport(HttpRequest& req);
  /// Tries each pull endpoint of `ref` in order (mirrors first) until one answers other than by failing.
  template <typename F>
  auto OnPullEndpoints(const oci::Reference& ref, F&& f) -> decltype(f(std::declval<const Endpoint&>()));
  Status PutChunked(const Endpoint& e, const std::string& scope, std::string location, const oci::Descriptor& d,
                    const std::string& path, const ByteProgress& progress);

  RegistryOptions options_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<HostState>> hosts_;
  std::vector<std::unique_ptr<HttpClient>> idle_clients_;
};

}  // namespace kiln::remote
