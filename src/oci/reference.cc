#include "oci/reference.h"

#include <cctype>

#include "base/digest.h"
#include "base/text.h"

namespace kiln::oci {
namespace {

// The distribution spec's limit on a repository name with its registry, as docker enforces it.
constexpr size_t kMaxNameLength = 255;
// How much of a rejected reference an error quotes: enough to recognise it, never a 100 KB echo.
constexpr size_t kMaxQuoted = 120;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/// One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*, as the distribution spec's grammar has it.
bool ValidComponent(std::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (IsLowerAlnum(c[i])) {
      i++;
      continue;
    }
    size_t start = i;
    while (i < c.size() && !IsLowerAlnum(c[i])) i++;
    std::string_view sep = c.substr(start, i - start);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (sep != "." && sep != "_" && sep != "__" && !dashes) return false;
  }
  return true;
}

bool ValidRepository(const std::string& repo) {
  for (const std::string& component : SplitString(repo, '/'))
    if (!ValidComponent(component)) return false;
  return true;
}

/// host[:port], the host's labels letters, digits and inner hyphens, or a bracketed IPv6 address.
bool ValidRegistry(std::string_view r) {
  auto valid_port = [](std::string_view port) { return port.empty() || (port[0] == ':' && ParseDecimal(port.substr(1), 65535)); };
  if (!r.empty() && r.front() == '[') {
    size_t close = r.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : r.substr(1, close - 1))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    return valid_port(r.substr(close + 1));
  }
  size_t colon = r.find(':');
  std::string_view host = r.substr(0, colon);
  if (host.empty() || !valid_port(colon == std::string_view::npos ? std::string_view() : r.substr(colon))) return false;
  for (const std::string& label : SplitString(host, '.')) {
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

bool ValidTag(const std::string& tag) {
  if (tag.empty() || tag.size() > 128 || tag[0] == '.' || tag[0] == '-') return false;
  for (char c : tag)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  return true;
}

}  // namespace

std::string RedactReference(std::string_view text) {
  size_t scheme = text.find("://");
  size_t start = scheme != std::string_view::npos && scheme < text.find('@') ? scheme + 3 : 0;
  // An "@" after a path separator, or one followed by nothing but a digest, separates a digest. Any other sits
  // where URLs keep user:password (someone pasted "user:pass@registry/app", or a password with an "@" in it):
  // everything up to the last such "@" is never repeated.
  size_t path = text.find('/', start);
  size_t userinfo_end = std::string_view::npos;
  for (size_t at = text.find('@', start); at != std::string_view::npos && at < path; at = text.find('@', at + 1)) {
    if (!IsValidDigest(text.substr(at + 1))) userinfo_end = at;
  }
  if (userinfo_end == std::string_view::npos) return std::string(text);
  return std::string(text.substr(0, start)) + "<redacted>" + std::string(text.substr(userinfo_end));
}

std::string Reference::String() const {
  std::string s = registry + "/" + repository;
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string Reference::Familiar() const {
  std::string s = String();
  for (const char* prefix : {"docker.io/library/", "docker.io/"})
    if (s.rfind(prefix, 0) == 0) return s.substr(std::string(prefix).size());
  return s;
}

Result<Reference> ParseReference(const std::string& input) {
  auto bad = [&](const std::string& why) {
    std::string shown = EscapeControl(RedactReference(input));
    if (shown.size() > kMaxQuoted) shown = shown.substr(0, kMaxQuoted) + "...";
    return Status::Error("invalid reference \"" + shown + "\": " + why);
  };
  if (input.empty()) return bad("empty");
  Reference r;
  std::string rest = input;
  size_t at = rest.find('@');
  if (at != std::string::npos) {
    r.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (!IsValidDigest(r.digest)) return bad("invalid digest (sha256: and 64 lowercase hex digits)");
  }
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    r.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!ValidTag(r.tag)) return bad("invalid tag (up to 128 letters, digits, _ . -, not starting with . or -)");
  }
  // Checked on what is typed first, so that a 100 KB name is refused before any work on it.
  if (rest.size() > kMaxNameLength) return bad("the name is longer than 255 characters");
  size_t first = rest.find('/');
  std::string head = first == std::string::npos ? "" : rest.substr(0, first);
  // The first component is a registry when it looks like a host: a dot, a port, or "localhost".
  if (!head.empty() && (head.find('.') != std::string::npos || head.find(':') != std::string::npos ||
                        head == "localhost" || head.front() == '[')) {
    r.registry = head;
    r.repository = rest.substr(first + 1);
    if (!ValidRegistry(r.registry)) return bad("invalid registry host \"" + r.registry + "\"");
  } else {
    r.registry = "docker.io";
    r.repository = rest;
    if (r.repository.find('/') == std::string::npos) r.repository = "library/" + r.repository;
  }
  if (!ValidRepository(r.repository)) {
    return bad("repository name must be lowercase letters and digits, separated by . _ __ - or /");
  }
  // As docker counts it: the registry and the repository, once normalized ("docker.io/library/...").
  if (r.registry.size() + 1 + r.repository.size() > kMaxNameLength) {
    return bad("the name is longer than 255 characters (with its registry, " + r.registry + ")");
  }
  if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
  return r;
}

}  // namespace kiln::oci
