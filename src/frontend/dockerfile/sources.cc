#include "frontend/dockerfile/sources.h"

#include <cctype>
#include <cstring>
#include <set>

#include "base/text.h"

namespace kiln::dockerfile {
namespace {

/// "%2F" and "+" of a query value, as Go's url.ParseQuery decodes them.
std::string QueryUnescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      auto hex = [](char c) { return isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10; };
      out += char(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Result<bool> ParseBoolValue(const std::string& key, const std::optional<std::string>& value) {
  if (!value || value->empty()) return true;  // "?keep-git-dir" alone means true
  std::string v = AsciiLower(*value);
  if (v == "1" || v == "t" || v == "true") return true;
  if (v == "0" || v == "f" || v == "false") return false;
  return Status::Error("invalid " + key + " value: \"" + *value + "\"");
}

Status LoadQuery(const std::string& query, GitRef& ref) {
  std::string tag, branch;
  std::set<std::string> seen;
  size_t i = 0;
  while (i <= query.size() && !query.empty()) {
    size_t amp = query.find('&', i);
    std::string part = query.substr(i, amp == std::string::npos ? std::string::npos : amp - i);
    i = amp == std::string::npos ? query.size() + 1 : amp + 1;
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string key = QueryUnescape(part.substr(0, eq));
    std::optional<std::string> value;
    if (eq != std::string::npos) value = QueryUnescape(part.substr(eq + 1));
    if (!seen.insert(key).second) return Status::Error("query \"" + key + "\" has multiple values");
    if ((!value || value->empty()) && key != "submodules" && key != "keep-git-dir") {
      return Status::Error("query \"" + key + "\" has no value");
    }
    if (key == "ref") {
      if (!ref.ref.empty() && ref.ref != *value) return Status::Error("ref conflicts: \"" + ref.ref + "\" vs \"" + *value + "\"");
      ref.ref = *value;
    } else if (key == "tag") {
      tag = *value;
    } else if (key == "branch") {
      branch = *value;
    } else if (key == "subdir") {
      if (!ref.subdir.empty() && ref.subdir != *value) {
        return Status::Error("subdir conflicts: \"" + ref.subdir + "\" vs \"" + *value + "\"");
      }
      ref.subdir = *value;
    } else if (key == "checksum" || key == "commit") {
      ref.checksum = *value;
    } else if (key == "keep-git-dir") {
      KILN_ASSIGN(bool keep, ParseBoolValue(key, value));
      ref.keep_git_dir = keep;
    } else if (key == "submodules") {
      KILN_ASSIGN(ref.submodules, ParseBoolValue(key, value));
    } else {
      return Status::Error("unexpected query \"" + key + "\"");
    }
  }
  if (!tag.empty()) {
    if (tag.rfind("refs/tags/", 0) != 0) tag = "refs/tags/" + tag;
    if (!ref.ref.empty() && ref.ref != tag) return Status::Error("ref conflicts: \"" + ref.ref + "\" vs \"" + tag + "\"");
    ref.ref = tag;
  }
  if (!branch.empty()) {
    if (!tag.empty()) return Status::Error("branch conflicts with tag");
    if (branch.rfind("refs/heads/", 0) != 0) branch = "refs/heads/" + branch;
    if (!ref.ref.empty() && ref.ref != branch) {
      return Status::Error("ref conflicts: \"" + ref.ref + "\" vs \"" + branch + "\"");
    }
    ref.ref = branch;
  }
  return Status::Ok();
}

}  // namespace

Result<std::optional<GitRef>> ParseGitRef(const std::string& source) {
  // No std::regex here: its matcher recurses once per character, and a source may be as long as a hostile
  // Dockerfile line.
  auto word_end = [&](size_t from, const char* extra) {
    size_t i = from;
    while (i < source.size() && (std::isalnum(static_cast<unsigned char>(source[i])) || strchr(extra, source[i]))) i++;
    return i;
  };
  std::string query, fragment, remote;
  size_t scheme_end = word_end(0, "");
  if (scheme_end > 0 && source.compare(scheme_end, 3, "://") == 0) {
    std::string proto = AsciiLower(source.substr(0, scheme_end));
    if (proto != "http" && proto != "https" && proto != "ssh" && proto != "git") return std::optional<GitRef>();
    size_t hash = source.find('#');
    fragment = hash == std::string::npos ? "" : source.substr(hash + 1);
    std::string url = source.substr(0, hash);
    size_t q = url.find('?');
    query = q == std::string::npos ? "" : url.substr(q + 1);
    remote = url.substr(0, q);
    if (proto == "http" || proto == "https") {
      size_t path = remote.find('/', scheme_end + 3);
      std::string p = path == std::string::npos ? "" : remote.substr(path);
      if (p.size() < 4 || p.substr(p.size() - 4) != ".git") return std::optional<GitRef>();
    }
  } else {
    // scp-like "user@host:path[?query][#fragment]", as BuildKit's sshutil reads it.
    size_t user_end = word_end(0, "_-");
    if (user_end == 0 || user_end >= source.size() || source[user_end] != '@') return std::optional<GitRef>();
    size_t host_end = word_end(user_end + 1, ".-");
    if (host_end == user_end + 1 || host_end >= source.size() || source[host_end] != ':') return std::optional<GitRef>();
    size_t hash = source.find('#', host_end);
    fragment = hash == std::string::npos ? "" : source.substr(hash + 1);
    std::string rest = source.substr(0, hash);
    size_t q = rest.find('?', host_end);
    query = q == std::string::npos ? "" : rest.substr(q + 1);
    remote = rest.substr(0, q);
  }
  GitRef ref;
  ref.remote = remote;
  size_t colon = fragment.find(':');
  ref.ref = fragment.substr(0, colon);
  if (colon != std::string::npos) ref.subdir = fragment.substr(colon + 1);
  KILN_TRY(LoadQuery(query, ref));
  return std::optional<GitRef>(ref);
}

bool IsHttpUrl(const std::string& source) {
  return source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0;
}

std::string UrlFileName(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : url.find('/', start + 3);
  if (start == std::string::npos) return "__unnamed__";
  std::string path = url.substr(start, url.find_first_of("?#", start) - start);
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  std::string base = path.substr(path.rfind('/') + 1);
  return base.empty() || base == "." ? "__unnamed__" : base;
}

}  // namespace kiln::dockerfile
