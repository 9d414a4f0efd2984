#include "frontend/dockerfile/mounts.h"

#include <cstdlib>
#include <map>
#include <vector>

#include "base/fs.h"
#include "base/text.h"

namespace kiln::dockerfile {
namespace {

/// "a=1,b,c=x" -> {{a,1},{b,""},{c,x}}, keys lower-cased; a value may be quoted to hold commas.
Result<std::vector<std::pair<std::string, std::string>>> SplitFields(const std::string& spec) {
  std::vector<std::pair<std::string, std::string>> fields;
  std::string field;
  bool quoted = false;
  auto flush = [&]() -> Status {
    if (field.empty()) return Status::Ok();
    size_t eq = field.find('=');
    std::string key = AsciiLower(field.substr(0, eq)), value = eq == std::string::npos ? "" : field.substr(eq + 1);
    if (key.empty()) return Status::Error("empty key in \"" + field + "\"");
    fields.emplace_back(key, eq == std::string::npos ? "\x01" : value);  // \x01: given without '='
    field.clear();
    return Status::Ok();
  };
  for (char c : spec) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      KILN_TRY(flush());
    } else {
      field += c;
    }
  }
  if (quoted) return Status::Error("unterminated quote");
  KILN_TRY(flush());
  return fields;
}

Result<bool> ParseBool(const std::string& key, const std::string& v) {
  if (v == "\x01" || v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return Status::Error(key + ": expected true or false, got \"" + v + "\"");
}

Result<uint32_t> ParseNumber(const std::string& key, const std::string& v, int base) {
  char* end = nullptr;
  unsigned long n = strtoul(v.c_str(), &end, base);
  if (v.empty() || v == "\x01" || *end || n > 0xffffffffUL) return Status::Error(key + ": bad number \"" + v + "\"");
  return uint32_t(n);
}

}  // namespace

Result<graph::SecretMount> ParseMount(const std::string& spec) {
  KILN_ASSIGN(auto fields, SplitFields(spec));
  std::string type = "bind";  // BuildKit's default type
  for (auto& [k, v] : fields)
    if (k == "type") type = v;
  if (type != "secret") {
    if (type == "bind" || type == "cache" || type == "tmpfs" || type == "ssh") {
      return Status::Error("--mount=type=" + type + " is not supported yet (only type=secret is)");
    }
    return Status::Error("unknown mount type \"" + type + "\"");
  }
  graph::SecretMount m;
  bool env_only = true;
  for (auto& [k, v] : fields) {
    std::string value = v == "\x01" ? "" : v;
    if (k == "type") continue;
    if (k == "id") {
      m.id = value;
    } else if (k == "target" || k == "dst" || k == "destination") {
      m.target = value;
      env_only = false;
    } else if (k == "env") {
      m.env = value;
    } else if (k == "required") {
      KILN_ASSIGN(m.required, ParseBool(k, v));
    } else if (k == "mode") {
      KILN_ASSIGN(m.mode, ParseNumber(k, v, 8));
    } else if (k == "uid") {
      KILN_ASSIGN(m.uid, ParseNumber(k, v, 10));
    } else if (k == "gid") {
      KILN_ASSIGN(m.gid, ParseNumber(k, v, 10));
    } else {
      return Status::Error("unexpected key \"" + k + "\" in a secret mount");
    }
  }
  if (m.id.empty()) {
    if (m.target.empty()) return Status::Error("a secret mount needs id= or target=");
    m.id = BaseName(m.target);
  }
  // As BuildKit: with env= and no target the secret is only an environment variable; otherwise it is a file,
  // by default /run/secrets/<id>.
  if (!m.target.empty()) {
    if (m.target[0] != '/') return Status::Error("secret target must be an absolute path, got \"" + m.target + "\"");
    m.target = CleanPath(m.target);
  } else if (env_only && m.env.empty()) {
    m.target = "/run/secrets/" + m.id;
  }
  return m;
}

}  // namespace kiln::dockerfile
