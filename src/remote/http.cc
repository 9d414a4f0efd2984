#include "remote/http.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <mutex>

#include "base/cleanup.h"
#include "base/text.h"

namespace kiln::remote {
namespace {

constexpr size_t kMaxKeptBody = 16 << 20;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

/// The state of one transfer, seen by curl's callbacks.
struct Transfer {
  const HttpRequest* request;
  CURL* curl;
  HttpResponse response;
  Status body_error;
  bool streaming = false;  // decided at the first body byte: a 2xx response with on_body
  bool decided = false;
  int fd = -1;
  int64_t sent = 0;
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  // Every response (a 401 before the retry, a redirect before the blob) starts with a status line: keep only the
  // last response's headers.
  if (line.rfind("HTTP/", 0) == 0) {
    t->response.headers.clear();
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
  t->response.headers.emplace_back(AsciiLower(line.substr(0, colon)), std::string(value));
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * n;
  if (!t->decided) {
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    t->streaming = t->request->on_body && code >= 200 && code < 300;
    t->decided = true;
  }
  if (t->streaming) {
    Status st = t->request->on_body(std::string_view(data, bytes));
    if (!st.ok()) {
      t->body_error = st;
      return 0;  // curl stops with CURLE_WRITE_ERROR
    }
    return bytes;
  }
  if (t->response.body.size() < kMaxKeptBody) t->response.body.append(data, std::min(bytes, kMaxKeptBody - t->response.body.size()));
  return bytes;
}

size_t OnRead(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  int64_t left = t->request->body_length - t->sent;
  if (left <= 0) return 0;
  ssize_t got = pread(t->fd, buffer, size_t(std::min<int64_t>(left, int64_t(size * n))), t->request->body_offset + t->sent);
  if (got < 0) return CURL_READFUNC_ABORT;
  t->sent += got;
  return size_t(got);
}

int OnProgress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
  auto* t = static_cast<Transfer*>(user);
  if (t->request->cancelled && t->request->cancelled()) return 1;
  if (t->request->on_progress) {
    bool upload = !t->request->body_file.empty() || !t->request->body.empty();
    if (upload) {
      t->request->on_progress(ulnow, ultotal);
    } else if (dlnow > 0) {
      t->request->on_progress(dlnow, dltotal);
    }
  }
  return 0;
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  for (auto& [k, v] : headers)
    if (k == name) return v;
  return "";
}

HttpClient::HttpClient() {
  GlobalInit();
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() { curl_easy_cleanup(curl_); }

Result<HttpResponse> HttpClient::Do(const HttpRequest& req) {
  if (!curl_) return Status::Error("cannot start libcurl");
  CURL* c = curl_;
  curl_easy_reset(c);  // keeps the connection cache
  Transfer t{&req, c, {}, {}, false, false, -1, 0};
  Cleanup close_file([&] {
    if (t.fd >= 0) close(t.fd);
  });
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "kiln/v" KILN_VERSION);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, long(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  // A transfer that moves less than a byte a second for a minute is stalled: fail it rather than hang.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, nullptr);  // bytes as stored: a blob's digest is of those
  // HTTP(S) only, whatever a registry's answers name (a token realm, an upload location, a redirect): never file:,
  // ftp:, or another of libcurl's protocols.
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  if (!req.verify_tls) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (req.follow_redirects) {
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    // Credentials are for the registry, never for the storage it redirects to: libcurl (7.83 and later) drops the
    // Authorization header on a redirect to another scheme, host or port (registry_auth_test checks it).
    curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
  }
  curl_slist* headers = nullptr;
  Cleanup free_headers([&] { curl_slist_free_all(headers); });
  for (auto& h : req.headers) headers = curl_slist_append(headers, h.c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip before uploads
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

  if (req.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (!req.body_file.empty()) {
    t.fd = open(req.body_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (t.fd < 0) return Status::Error("cannot open " + req.body_file + " to upload");
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(c, CURLOPT_READDATA, &t);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, curl_off_t(req.body_length));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  } else if (req.method != "GET") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(req.body.size()));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }

  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    if (!t.body_error.ok()) return t.body_error;
    if (rc == CURLE_ABORTED_BY_CALLBACK) return Status::Error("cancelled");
    return Status::Error(curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &t.response.status);
  return std::move(t.response);
}

std::string UrlEscape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += char(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

}  // namespace kiln::remote
