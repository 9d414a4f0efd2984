// Where a registry's requests go and how: insecure registries (plain HTTP, or TLS without verification), blocked
// ones, and pull mirrors, from --insecure-registry flags, $KILN_INSECURE_REGISTRIES and the containers-registries.conf
// files buildah, podman and skopeo read (/etc/containers/registries.conf and registries.conf.d/*.conf).
#pragma once
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::remote {

/// One place to send a repository's requests.
struct Endpoint {
  std::string host;        // "registry-1.docker.io", "127.0.0.1:5000"
  std::string repository;  // the repository's name there (a mirror may hold it under another path)
  bool insecure = false;   // HTTPS without certificate checks, then plain HTTP
  bool mirror = false;
};

/// The endpoints of one repository: mirrors first (pulls only), then the registry itself.
struct Route {
  std::vector<Endpoint> pull;
  Endpoint push;
  bool blocked = false;
};

class Hosts {
 public:
  /// Reads `conf` and `conf`.d/*.conf (in name order, later files win per prefix); missing files are no
  /// configuration, malformed ones an error naming the file, line and column. "" reads $CONTAINERS_REGISTRIES_CONF,
  /// else /etc/containers/registries.conf, as podman does. `insecure` holds HOST[:PORT] entries from flags;
  /// $KILN_INSECURE_REGISTRIES adds its comma-separated ones.
  static Result<Hosts> Load(const std::vector<std::string>& insecure, std::string conf = "");
  /// The route of `repository` at `registry` ("docker.io", "library/alpine").
  Route For(const std::string& registry, const std::string& repository) const;
  /// Whether `host` ("name" or "name:port") may be spoken to over plain HTTP: the user marked it insecure, or it
  /// is a loopback address.
  bool IsInsecureHost(const std::string& host) const;

 private:
  struct Mirror {
    std::string location;
    bool insecure = false;
  };
  struct Entry {
    std::string prefix;    // "host[:port][/path]"
    std::string location;  // where the prefix really lives; "" is the prefix itself
    bool insecure = false;
    bool blocked = false;
    std::vector<Mirror> mirrors;
  };
  Status LoadFile(const std::string& path);
  std::vector<Entry> entries_;
  std::vector<std::string> insecure_hosts_;
  std::vector<std::string> blocked_hosts_;
};

/// "host" of "host:port" ("[::1]" of "[::1]:5000"); the text itself when it has no port.
std::string HostWithoutPort(const std::string& host_port);

/// The host that serves `registry`'s API: Docker Hub's is registry-1.docker.io.
std::string ApiHost(const std::string& registry);

}  // namespace kiln::remote
