#include "oci/reference.h"

#include <cctype>

#include "base/digest.h"

namespace kiln::oci {
namespace {

bool ValidRepository(const std::string& repo) {
  if (repo.empty()) return false;
  for (char c : repo) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '.' || c == '_' || c == '-' || c == '/')) {
      return false;
    }
  }
  return repo.front() != '/' && repo.back() != '/' && repo.find("//") == std::string::npos;
}

bool ValidTag(const std::string& tag) {
  if (tag.empty() || tag.size() > 128 || tag[0] == '.' || tag[0] == '-') return false;
  for (char c : tag)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  return true;
}

}  // namespace

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
    return Status::Error("invalid reference \"" + input + "\": " + why);
  };
  if (input.empty()) return bad("empty");
  Reference r;
  std::string rest = input;
  size_t at = rest.find('@');
  if (at != std::string::npos) {
    r.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (!IsValidDigest(r.digest)) return bad("invalid digest");
  }
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    r.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!ValidTag(r.tag)) return bad("invalid tag");
  }
  size_t first = rest.find('/');
  std::string head = first == std::string::npos ? "" : rest.substr(0, first);
  // The first component is a registry when it looks like a host: a dot, a port, or "localhost".
  if (!head.empty() && (head.find('.') != std::string::npos || head.find(':') != std::string::npos ||
                        head == "localhost")) {
    r.registry = head;
    r.repository = rest.substr(first + 1);
  } else {
    r.registry = "docker.io";
    r.repository = rest;
    if (r.repository.find('/') == std::string::npos) r.repository = "library/" + r.repository;
  }
  if (!ValidRepository(r.repository)) return bad("repository name must be lowercase letters, digits and . _ - /");
  if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
  return r;
}

}  // namespace kiln::oci
