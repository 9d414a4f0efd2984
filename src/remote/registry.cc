#include "remote/registry.h"

#include <algorithm>

#include "base/digest.h"
#include "base/json.h"
#include "base/text.h"

namespace kiln::remote {
namespace {

constexpr size_t kMaxManifestBytes = 4 << 20;  // as containerd: a larger "manifest" is not one

constexpr const char* kManifestAccept =
    "Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// A registry's JSON answer, or null when it is not JSON.
Json JsonOrNull(std::string_view text) {
  auto j = ParseJson(text);
  return j.ok() ? std::move(*j) : Json();
}

std::string PullScope(const std::string& repository) { return "repository:" + repository + ":pull"; }
std::string PushScope(const std::string& repository) { return "repository:" + repository + ":pull,push"; }

/// What a registry said in its error body ({"errors":[{"code","message"}]}), else the HTTP status.
std::string RegistryError(const HttpResponse& r) {
  Json j = JsonOrNull(r.body);
  if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty() &&
      j["errors"][0].is_object()) {
    const Json& e = j["errors"][0];
    std::string code = e.value("code", std::string());
    std::string message = e.value("message", std::string());
    if (!code.empty() || !message.empty())
      return EscapeControl(AsciiLower(code) + (message.empty() ? "" : ": " + message));
  }
  return "HTTP " + std::to_string(r.status);
}

/// The media type of a Content-Type header (parameters dropped).
std::string MediaTypeOf(std::string content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') content_type.pop_back();
  return content_type;
}

/// A query parameter appended to a URL that may already have a query (upload locations do).
std::string WithParam(const std::string& url, const std::string& param) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
}

/// The host part of a registry name for credentials: Docker Hub's API host stores them as docker.io.
std::string CredentialHost(const std::string& host) {
  return host == "registry-1.docker.io" ? "docker.io" : host;
}

bool Is2xx(long status) { return status >= 200 && status < 300; }

/// Whether kiln may send a registry's credentials to its token service at `realm`: over HTTPS anywhere (Docker
/// Hub's is another host), over plain HTTP only to a host the user marked insecure or a loopback one, never by
/// any other scheme. A registry chooses its realm, so a hostile one could otherwise collect the user's password
/// in the clear, or point kiln at a file.
Status CheckRealm(const std::string& realm, const Hosts& hosts, const std::string& registry) {
  std::string lower = AsciiLower(realm);
  std::string shown = EscapeControl(realm.substr(0, realm.find('?')));
  auto refuse = [&](const std::string& why) {
    return Status::Error("registry " + registry + ": its token realm " + shown + " " + why);
  };
  size_t scheme_end = lower.find("://");
  std::string scheme = scheme_end == std::string::npos ? "" : lower.substr(0, scheme_end);
  if (scheme != "https" && scheme != "http") {
    return refuse("is not an https:// URL: kiln sends credentials to none other");
  }
  std::string authority = realm.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority.empty() || authority.find('@') != std::string::npos) return refuse("is not a plain host URL");
  std::string host = AsciiLower(authority);
  if (scheme == "http" && !hosts.IsInsecureHost(host) && !hosts.IsInsecureHost(HostWithoutPort(host))) {
    return refuse("is plain HTTP to a host not marked insecure: kiln sends credentials there over HTTPS only "
                  "(--insecure-registry " + EscapeControl(authority) + " if that host is yours)");
  }
  return Status::Ok();
}

}  // namespace

/// What kiln knows of one registry host: how to reach it, its last challenge, the tokens it gave.
struct Registry::HostState {
  std::string host;
  std::string base;  // "https://host" or "http://host"
  bool verify_tls = true;
  std::mutex mu;
  std::vector<Challenge> challenges;
  std::map<std::string, std::string> authorization;  // scope -> Authorization header value
  bool credentials_loaded = false;
  std::optional<Credentials> credentials;
};

Registry::Registry(RegistryOptions options) : options_(std::move(options)) {}
Registry::~Registry() = default;

Result<HttpResponse> Registry::Transport(HttpRequest& req) {
  std::unique_ptr<HttpClient> client;
  {
    std::lock_guard l(mu_);
    if (!idle_clients_.empty()) {
      client = std::move(idle_clients_.back());
      idle_clients_.pop_back();
    }
  }
  if (!client) client = std::make_unique<HttpClient>();
  if (!req.cancelled) req.cancelled = options_.cancelled;
  auto r = client->Do(req);
  std::lock_guard l(mu_);
  idle_clients_.push_back(std::move(client));
  return r;
}

Result<Registry::HostState*> Registry::State(const Endpoint& e) {
  std::lock_guard l(mu_);
  auto it = hosts_.find(e.host);
  if (it != hosts_.end()) return it->second.get();
  auto h = std::make_unique<HostState>();
  h->host = e.host;
  // An insecure registry is tried over HTTPS without checks first, then over plain HTTP, as docker does.
  std::vector<std::pair<std::string, bool>> candidates = {{"https://" + e.host, true}};
  if (e.insecure) candidates = {{"https://" + e.host, false}, {"http://" + e.host, false}};
  std::string why;
  for (auto& [base, verify] : candidates) {
    HttpRequest ping;
    ping.url = base + "/v2/";
    ping.verify_tls = verify;
    ping.cancelled = options_.cancelled;
    HttpClient client;
    auto r = client.Do(ping);
    if (!r.ok()) {
      why = r.status().message();
      continue;
    }
    if (r->status == 404) {
      why = "no registry API at " + base + "/v2/";
      continue;
    }
    h->base = base;
    h->verify_tls = verify;
    if (r->status == 401) h->challenges = ParseChallenges(r->Header("www-authenticate"));
    HostState* raw = h.get();
    hosts_[e.host] = std::move(h);
    return raw;
  }
  return Status::Error("registry " + e.host + ": cannot connect: " + why +
                       (e.insecure ? "" : " (if it serves plain HTTP or a self-signed certificate: --insecure-registry " + e.host + ")"));
}

Result<std::optional<Credentials>> Registry::CredentialsFor(HostState& h) {
  if (h.credentials_loaded) return h.credentials;
  std::string dir = options_.docker_config_dir.empty() ? DockerConfig::DefaultDir() : options_.docker_config_dir;
  KILN_ASSIGN(DockerConfig config, DockerConfig::Load(dir));
  std::string key = CredentialHost(h.host);
  if (auto helper = config.HelperFor(key)) {
    KILN_ASSIGN(h.credentials, HelperGet(*helper, key));
  } else {
    KILN_ASSIGN(h.credentials, config.Inline(key));
  }
  h.credentials_loaded = true;
  return h.credentials;
}

Status Registry::Authorize(HostState& h, const std::string& scope, const std::vector<Challenge>& challenges,
                           bool basic_refused) {
  const Challenge* bearer = nullptr;
  const Challenge* basic = nullptr;
  for (auto& c : challenges) {
    if (c.scheme == "bearer" && !bearer) bearer = &c;
    if (c.scheme == "basic" && !basic) basic = &c;
  }
  std::string name = CredentialHost(h.host);
  KILN_ASSIGN(auto creds, CredentialsFor(h));
  if (!bearer) {
    if (!basic) return Status::Error("registry " + name + " asks for an authentication scheme kiln does not speak");
    if (basic_refused || !creds || creds->username.empty()) return Refused(h);
    h.authorization[scope] = "Basic " + Base64Encode(creds->username + ":" + creds->password);
    return Status::Ok();
  }
  auto realm = bearer->params.find("realm");
  if (realm == bearer->params.end() || realm->second.empty())
    return Status::Error("registry " + name + ": its Bearer challenge names no token realm");
  KILN_TRY(CheckRealm(realm->second, options_.hosts, name));
  std::string service = bearer->params.count("service") ? bearer->params.at("service") : "";
  // The scopes asked for: ours (several, space-separated, for a cross-repository mount) and the challenge's.
  std::vector<std::string> scopes;
  for (const std::string* list : {&scope, bearer->params.count("scope") ? &bearer->params.at("scope") : nullptr}) {
    if (!list) continue;
    size_t start = 0;
    while (start < list->size()) {
      size_t sp = list->find(' ', start);
      if (sp == std::string::npos) sp = list->size();
      std::string s = list->substr(start, sp - start);
      if (!s.empty() && std::find(scopes.begin(), scopes.end(), s) == scopes.end()) scopes.push_back(s);
      start = sp + 1;
    }
  }
  HttpRequest req;
  req.verify_tls = h.verify_tls;
  if (creds && !creds->identity_token.empty()) {
    // An OAuth2 refresh token (docker login to some registries stores one): POST it for an access token.
    req.method = "POST";
    req.url = realm->second;
    req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    req.body = "grant_type=refresh_token&client_id=kiln&service=" + UrlEscape(service) +
               "&refresh_token=" + UrlEscape(creds->identity_token);
    for (auto& s : scopes) req.body += "&scope=" + UrlEscape(s);
  } else {
    req.url = realm->second;
    std::string query;
    if (!service.empty()) query += "service=" + UrlEscape(service);
    for (auto& s : scopes) query += std::string(query.empty() ? "" : "&") + "scope=" + UrlEscape(s);
    if (!query.empty()) req.url = WithParam(req.url, query);
    if (creds && !creds->username.empty())
      req.headers.push_back("Authorization: Basic " + Base64Encode(creds->username + ":" + creds->password));
  }
  KILN_ASSIGN(HttpResponse r, Transport(req));
  if (r.status == 401 || r.status == 403) return Refused(h);
  if (!Is2xx(r.status)) return Status::Error("registry " + name + ": its token service answered " + RegistryError(r));
  Json j = JsonOrNull(r.body);
  std::string token;
  if (j.is_object()) {
    token = j.value("token", std::string());
    if (token.empty()) token = j.value("access_token", std::string());
  }
  if (token.empty()) return Status::Error("registry " + name + ": its token service returned no token");
  h.authorization[scope] = "Bearer " + token;
  return Status::Ok();
}

Result<HttpResponse> Registry::Send(const Endpoint& e, const std::string& scope, HttpRequest req) {
  KILN_ASSIGN(HostState* h, State(e));
  if (req.url.rfind("http://", 0) != 0 && req.url.rfind("https://", 0) != 0)
    req.url = h->base + (req.url.rfind("/", 0) == 0 ? req.url : "/v2/" + req.url);
  req.verify_tls = h->verify_tls;
  // Credentials go to the registry only, never to another host an upload location may name.
  bool ours = req.url.rfind(h->base + "/", 0) == 0;
  std::vector<std::string> headers = req.headers;
  for (int attempt = 0;; attempt++) {
    req.headers = headers;
    if (ours) {
      std::lock_guard l(h->mu);
      if (!h->authorization.count(scope) && !h->challenges.empty()) KILN_TRY(Authorize(*h, scope, h->challenges, false));
      auto it = h->authorization.find(scope);
      if (it != h->authorization.end()) req.headers.push_back("Authorization: " + it->second);
    }
    KILN_ASSIGN(HttpResponse r, Transport(req));
    if (r.status != 401 || !ours) return r;
    std::lock_guard l(h->mu);
    bool sent_credentials = h->authorization.count(scope) > 0;
    h->authorization.erase(scope);
    if (attempt == 1) return Refused(*h);
    // A first 401: no token yet for this scope, or an expired one. Ask again with the challenge it came with.
    h->challenges = ParseChallenges(r.Header("www-authenticate"));
    KILN_TRY(Authorize(*h, scope, h->challenges, sent_credentials));
  }
}

Status Registry::Refused(HostState& h) {
  std::string name = CredentialHost(h.host);
  return h.credentials ? Status::Error("registry " + name + " refused the credentials (kiln login " + name + ")")
                       : Status::Error("registry " + name + " requires authentication: kiln login " + name);
}

template <typename F>
auto Registry::OnPullEndpoints(const oci::Reference& ref, F&& f) -> decltype(f(std::declval<const Endpoint&>())) {
  Route route = options_.hosts.For(ref.registry, ref.repository);
  if (route.blocked) return Status::Error("registry " + ref.registry + " is blocked by registries.conf");
  for (size_t i = 0;; i++) {
    auto r = f(route.pull[i]);
    // A mirror that fails (down, or without the image) is passed over for the next, then the registry itself.
    if (r.ok() || i + 1 == route.pull.size()) return r;
  }
}

Result<FetchedManifest> Registry::GetManifest(const oci::Reference& ref) {
  std::string reference = ref.digest.empty() ? ref.tag : ref.digest;
  return OnPullEndpoints(ref, [&](const Endpoint& e) -> Result<FetchedManifest> {
    HttpRequest req;
    req.url = e.repository + "/manifests/" + reference;
    req.headers.push_back(kManifestAccept);
    KILN_ASSIGN(HttpResponse r, Send(e, PullScope(e.repository), req));
    if (r.status == 404) return Status::Error(ref.Familiar() + ": not found in registry " + ref.registry);
    if (!Is2xx(r.status)) return Status::Error(ref.Familiar() + ": registry " + ref.registry + " answered " + RegistryError(r));
    if (r.body.size() >= kMaxManifestBytes) return Status::Error(ref.Familiar() + ": the manifest is larger than 4 MiB");
    FetchedManifest m;
    m.data = std::move(r.body);
    m.digest = DigestOf(m.data);
    if (!ref.digest.empty() && m.digest != ref.digest)
      return Status::Error(ref.Familiar() + ": registry " + ref.registry + " sent a manifest whose digest is " + m.digest);
    m.media_type = MediaTypeOf(r.Header("content-type"));
    if (!oci::IsManifestType(m.media_type) && !oci::IsIndexType(m.media_type)) {
      // Some registries say application/json: the document says what it is.
      Json j = JsonOrNull(m.data);
      if (j.is_object()) m.media_type = j.value("mediaType", std::string());
      if (m.media_type.empty() && j.is_object()) m.media_type = j.contains("manifests") ? oci::kMediaTypeIndex : oci::kMediaTypeManifest;
    }
    if (!oci::IsManifestType(m.media_type) && !oci::IsIndexType(m.media_type))
      return Status::Error(ref.Familiar() + ": unsupported manifest type \"" + EscapeControl(m.media_type) + "\"");
    return m;
  });
}

Status Registry::GetBlob(const oci::Reference& ref, const oci::Descriptor& d,
                         const std::function<Status(std::string_view)>& sink, const ByteProgress& progress) {
  if (!IsValidDigest(d.digest)) return Status::Error("invalid blob digest \"" + EscapeControl(d.digest) + "\"");
  bool sent_any = false;
  auto fetch = [&](const Endpoint& e) -> Result<bool> {
    if (sent_any) return Status::Error("already partly received");
    Sha256 hash;
    int64_t got = 0;
    HttpRequest req;
    req.url = e.repository + "/blobs/" + d.digest;
    req.follow_redirects = true;
    req.on_body = [&](std::string_view data) -> Status {
      got += int64_t(data.size());
      if (got > d.size) return Status::Error("blob " + d.digest + " is larger than its descriptor's " + std::to_string(d.size) + " bytes");
      hash.Update(data);
      sent_any = true;
      return sink(data);
    };
    req.on_progress = [&](int64_t done, int64_t) {
      if (progress) progress(done, d.size);
    };
    KILN_ASSIGN(HttpResponse r, Send(e, PullScope(e.repository), req));
    if (r.status == 404) return Status::Error("blob " + d.digest + " not found in " + ref.registry + "/" + ref.repository);
    if (!Is2xx(r.status)) return Status::Error("blob " + d.digest + ": registry " + ref.registry + " answered " + RegistryError(r));
    if (got != d.size)
      return Status::Error("blob " + d.digest + ": received " + std::to_string(got) + " of " + std::to_string(d.size) + " bytes");
    std::string actual = hash.Finish();
    if (actual != d.digest)
      return Status::Error("blob " + d.digest + " from " + ref.registry + " does not match its digest (got " + actual + ")");
    if (progress) progress(d.size, d.size);
    return true;
  };
  return OnPullEndpoints(ref, fetch).status();
}

Result<bool> Registry::HasBlob(const oci::Reference& ref, const std::string& digest) {
  Route route = options_.hosts.For(ref.registry, ref.repository);
  HttpRequest req;
  req.method = "HEAD";
  req.url = route.push.repository + "/blobs/" + digest;
  KILN_ASSIGN(HttpResponse r, Send(route.push, PushScope(route.push.repository), req));
  if (r.status == 404) return false;
  if (!Is2xx(r.status)) return Status::Error("registry " + ref.registry + ": checking blob " + digest + ": HTTP " + std::to_string(r.status));
  return true;
}

Result<bool> Registry::MountBlob(const oci::Reference& ref, const std::string& digest, const std::string& from) {
  Route route = options_.hosts.For(ref.registry, ref.repository);
  HttpRequest req;
  req.method = "POST";
  req.headers.push_back("Content-Type: application/octet-stream");
  req.url = route.push.repository + "/blobs/uploads/?mount=" + UrlEscape(digest) + "&from=" + UrlEscape(from);
  std::string scope = PushScope(route.push.repository) + " " + PullScope(from);
  auto r = Send(route.push, scope, req);
  // Not allowed to read `from`, or any other refusal: the blob is uploaded instead.
  if (!r.ok()) return false;
  if (r->status == 201) return true;
  if (r->status == 202) {
    // The registry opened an upload instead of mounting: close it, the caller uploads afresh.
    HttpRequest cancel;
    cancel.method = "DELETE";
    cancel.url = r->Header("location");
    if (!cancel.url.empty()) (void)Send(route.push, PushScope(route.push.repository), cancel);
  }
  return false;
}

Status Registry::PutBlob(const oci::Reference& ref, const oci::Descriptor& d, const std::string& path,
                         const ByteProgress& progress) {
  Route route = options_.hosts.For(ref.registry, ref.repository);
  if (route.blocked) return Status::Error("registry " + ref.registry + " is blocked by registries.conf");
  const Endpoint& e = route.push;
  std::string scope = PushScope(e.repository);
  HttpRequest start;
  start.method = "POST";
  start.headers.push_back("Content-Type: application/octet-stream");
  start.url = e.repository + "/blobs/uploads/";
  KILN_ASSIGN(HttpResponse r, Send(e, scope, start));
  if (r.status != 202) return Status::Error("registry " + ref.registry + ": starting the upload of " + d.digest + ": " + RegistryError(r));
  std::string location = r.Header("location");
  if (location.empty()) return Status::Error("registry " + ref.registry + ": no upload location for " + d.digest);
  if (options_.chunk_size > 0 && d.size > options_.chunk_size) return PutChunked(e, scope, location, d, path, progress);
  HttpRequest put;
  put.method = "PUT";
  put.url = WithParam(location, "digest=" + UrlEscape(d.digest));
  put.headers.push_back("Content-Type: application/octet-stream");
  put.body_file = path;
  put.body_length = d.size;
  put.on_progress = [&](int64_t done, int64_t) {
    if (progress) progress(done, d.size);
  };
  KILN_ASSIGN(HttpResponse done, Send(e, scope, put));
  if (done.status != 201) return Status::Error("registry " + ref.registry + ": uploading " + d.digest + ": " + RegistryError(done));
  return Status::Ok();
}

Status Registry::PutChunked(const Endpoint& e, const std::string& scope, std::string location, const oci::Descriptor& d,
                            const std::string& path, const ByteProgress& progress) {
  for (int64_t offset = 0; offset < d.size;) {
    int64_t length = std::min(options_.chunk_size, d.size - offset);
    HttpRequest patch;
    patch.method = "PATCH";
    patch.url = location;
    patch.headers.push_back("Content-Type: application/octet-stream");
    patch.headers.push_back("Content-Range: " + std::to_string(offset) + "-" + std::to_string(offset + length - 1));
    patch.body_file = path;
    patch.body_offset = offset;
    patch.body_length = length;
    patch.on_progress = [&](int64_t done, int64_t) {
      if (progress) progress(offset + done, d.size);
    };
    KILN_ASSIGN(HttpResponse r, Send(e, scope, patch));
    if (r.status != 202) return Status::Error("registry " + e.host + ": uploading a chunk of " + d.digest + ": " + RegistryError(r));
    if (!r.Header("location").empty()) location = r.Header("location");
    offset += length;
  }
  HttpRequest close;
  close.method = "PUT";
  close.url = WithParam(location, "digest=" + UrlEscape(d.digest));
  close.headers.push_back("Content-Type: application/octet-stream");
  KILN_ASSIGN(HttpResponse done, Send(e, scope, close));
  if (done.status != 201) return Status::Error("registry " + e.host + ": completing the upload of " + d.digest + ": " + RegistryError(done));
  return Status::Ok();
}

Status Registry::PutManifest(const oci::Reference& ref, const std::string& media_type, const std::string& data) {
  Route route = options_.hosts.For(ref.registry, ref.repository);
  if (route.blocked) return Status::Error("registry " + ref.registry + " is blocked by registries.conf");
  HttpRequest put;
  put.method = "PUT";
  put.url = route.push.repository + "/manifests/" + (ref.digest.empty() ? ref.tag : ref.digest);
  put.headers.push_back("Content-Type: " + media_type);
  put.body = data;
  KILN_ASSIGN(HttpResponse r, Send(route.push, PushScope(route.push.repository), put));
  if (r.status != 201 && r.status != 200)
    return Status::Error("registry " + ref.registry + ": storing the manifest of " + ref.Familiar() + ": " + RegistryError(r));
  return Status::Ok();
}

Status Registry::CheckCredentials(const std::string& registry, const Credentials& creds) {
  Route route = options_.hosts.For(registry, "");
  KILN_ASSIGN(HostState* h, State(route.push));
  std::lock_guard l(h->mu);
  h->credentials = creds;
  h->credentials_loaded = true;
  h->authorization.clear();
  if (h->challenges.empty()) return Status::Ok();  // the registry asks for no credentials at all
  // With the challenge of GET /v2/: a token (for no repository) or Basic, then /v2/ must answer 200 with it.
  KILN_TRY(Authorize(*h, "", h->challenges, false));
  HttpRequest req;
  req.url = h->base + "/v2/";
  req.verify_tls = h->verify_tls;
  req.headers.push_back("Authorization: " + h->authorization[""]);
  KILN_ASSIGN(HttpResponse r, Transport(req));
  if (r.status == 401 || r.status == 403)
    return Status::Error("registry " + CredentialHost(h->host) + " refused the credentials");
  if (!Is2xx(r.status)) return Status::Error("registry " + CredentialHost(h->host) + " answered " + RegistryError(r));
  return Status::Ok();
}

}  // namespace kiln::remote
