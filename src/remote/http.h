// HTTP for the registry client, over libcurl: keep-alive connections reused by each client, HTTP/2 where a TLS
// server offers it, bodies streamed both ways, stalls detected, cancellation between any two reads.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

typedef void CURL;

namespace kiln::remote {

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, POST, PUT, PATCH, DELETE
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  /// A body held in memory (manifests, small uploads).
  std::string body;
  /// Or a byte range of a file, streamed (blob uploads); `body_file` wins when set.
  std::string body_file;
  int64_t body_offset = 0;
  int64_t body_length = 0;
  /// When set, a successful (2xx) response's body goes here as it arrives instead of into HttpResponse::body;
  /// returning an error stops the transfer with it.
  std::function<Status(std::string_view)> on_body;
  /// Bytes moved so far in the direction that matters (down for GET, up for uploads).
  std::function<void(int64_t done, int64_t total)> on_progress;
  std::function<bool()> cancelled;
  bool verify_tls = true;
  bool follow_redirects = false;  // blob downloads: registries redirect them to storage
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower case, of the final response only
  std::string body;  // of an error response, or of a success without on_body (at most 16 MiB kept)
  /// The value of the first header named `name` (lower case), or "".
  std::string Header(std::string_view name) const;
};

/// One connection cache; not thread-safe: each thread uses its own client (see remote::Registry's pool).
class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  /// The response, whatever its status; an error only when no response came (connection refused, TLS failure,
  /// timeout, stall, cancellation, or the on_body callback's error).
  Result<HttpResponse> Do(const HttpRequest& request);

 private:
  CURL* curl_;
};

/// "a b/c" -> "a%20b%2Fc": a query parameter's value.
std::string UrlEscape(std::string_view s);

}  // namespace kiln::remote
