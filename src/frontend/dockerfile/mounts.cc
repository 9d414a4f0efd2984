#include "frontend/dockerfile/mounts.h"

#include <cstdlib>
#include <map>
#include <optional>
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

/// " (did you mean X?)" when one of `options` is close to `word`, as BuildKit's suggest.WrapError adds.
std::string DidYouMean(const std::string& word, const std::vector<std::string>& options) {
  std::string closest = SuggestClosest(word, options);
  return closest.empty() ? "" : " (did you mean " + closest + "?)";
}

/// Every key a --mount takes.
const std::vector<std::string> kMountKeys = {"type", "from", "source", "src", "target", "dst", "destination",
                                             "readonly", "ro", "readwrite", "rw", "id", "sharing", "mode", "uid",
                                             "gid", "size", "required", "env"};

/// A key no mount takes, in BuildKit's words.
Status UnexpectedKey(const std::string& key, const std::string& value) {
  return Status::Error("unexpected key '" + key + "' in '" + key + (value == "\x01" ? "" : "=" + value) + "'" +
                       DidYouMean(key, kMountKeys));
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

Result<graph::SecretMount> SecretOf(const std::vector<std::pair<std::string, std::string>>& fields) {
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
    } else if (k == "from" || k == "sharing") {
      return Status::Error("a secret mount has no " + k);
    } else {
      return UnexpectedKey(k, v);
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

}  // namespace

Status CheckMountAsWritten(const std::string& spec) {
  KILN_ASSIGN(auto fields, SplitFields(spec));
  for (auto& [k, v] : fields) {
    size_t dollar = v.find('$');
    if (AsciiLower(k) == "from" && dollar != std::string::npos && dollar != v.size() - 1) {
      return Status::Error("'from' doesn't support variable expansion, define alias stage instead");
    }
  }
  return Status::Ok();
}

Result<ParsedMount> ParseMount(const std::string& spec, const std::string& cwd) {
  KILN_ASSIGN(auto fields, SplitFields(spec));
  std::string type = "bind";  // BuildKit's default type
  for (auto& [k, v] : fields)
    if (k == "type") type = AsciiLower(v);
  ParsedMount out;
  if (type == "secret") {
    KILN_ASSIGN(out.mount, SecretOf(fields));
    return out;
  }
  using Type = graph::ExecMount::Type;
  graph::ExecMount m;
  if (type == "bind") {
    m.type = Type::kBind;
  } else if (type == "cache") {
    m.type = Type::kCache;
  } else if (type == "tmpfs") {
    m.type = Type::kTmpfs;
  } else if (type == "ssh") {
    m.type = Type::kSsh;
  } else {
    std::string hint = DidYouMean(type, {"bind", "cache", "tmpfs", "secret", "ssh"});
    return Status::Error("unsupported mount type \"" + type + "\"" +
                         (hint.empty() ? " (bind, cache, tmpfs, secret or ssh)" : hint));
  }
  std::optional<bool> readonly;
  bool has_sharing = false;
  for (auto& [k, v] : fields) {
    std::string value = v == "\x01" ? "" : v;
    if (k == "type") continue;
    if (v == "\x01" && k != "readonly" && k != "ro" && k != "readwrite" && k != "rw" && k != "required") {
      return Status::Error("invalid field \"" + k + "\": it must be a key=value pair");
    }
    if (k == "target" || k == "dst" || k == "destination") {
      m.target = value;
    } else if (k == "source" || k == "src") {
      m.source = value;
    } else if (k == "from") {
      out.from = value;
    } else if (k == "readonly" || k == "ro") {
      KILN_ASSIGN(bool b, ParseBool(k, v));
      readonly = b;
    } else if (k == "readwrite" || k == "rw") {
      KILN_ASSIGN(bool b, ParseBool(k, v));
      readonly = !b;
    } else if (k == "id") {
      m.id = value;
    } else if (k == "sharing") {
      m.sharing = AsciiLower(value);
      has_sharing = true;
      if (m.sharing != "shared" && m.sharing != "private" && m.sharing != "locked") {
        std::string hint = DidYouMean(m.sharing, {"shared", "private", "locked"});
        return Status::Error("unsupported sharing value \"" + value + "\"" +
                             (hint.empty() ? " (shared, private or locked)" : hint));
      }
    } else if (k == "required") {
      if (m.type != Type::kSsh) return Status::Error("unexpected key 'required' for mount type '" + type + "'");
      KILN_ASSIGN(m.required, ParseBool(k, v));
    } else if (k == "size") {
      if (m.type != Type::kTmpfs) return Status::Error("unexpected key 'size' for mount type '" + type + "'");
      auto size = ParseRamSize(v == "\x01" ? "" : v);
      if (!size) return Status::Error(k + ": bad size \"" + value + "\" (bytes, or with k, m, g)");
      m.size = *size;
    } else if (k == "mode" || k == "uid" || k == "gid") {
      if (m.type != Type::kCache && m.type != Type::kSsh) return Status::Error(k + " not allowed for " + type + " mounts");
      KILN_ASSIGN(uint32_t n, ParseNumber(k, v, k == "mode" ? 8 : 10));
      (k == "mode" ? m.mode : k == "uid" ? m.uid : m.gid) = n;
    } else if (k == "env") {
      return Status::Error("env= is for secret mounts only");
    } else {
      return UnexpectedKey(k, v);
    }
  }
  if (has_sharing && m.type != Type::kCache) return Status::Error("sharing is for cache mounts only");
  if (m.type == Type::kSsh) {
    if (!m.source.empty()) return Status::Error("an ssh mount has no source");
    if (!out.from.empty()) return Status::Error("an ssh mount has no from");
    if (m.id.empty()) m.id = "default";
    if (m.mode == 0755) m.mode = 0600;  // BuildKit's default for the socket
    // Its default target depends on how many ssh mounts come before it: the converter sets it.
  } else if (m.target.empty()) {
    return Status::Error("a " + type + " mount needs target=");
  }
  if (m.type == Type::kTmpfs && !out.from.empty()) return Status::Error("a tmpfs mount has no from");
  if (!m.target.empty()) {
    m.target = CleanPath(m.target[0] == '/' ? m.target : JoinPath(cwd.empty() ? "/" : cwd, m.target));
    if (m.target == "/") return Status::Error("invalid mount target \"/\"");
  }
  m.readonly = readonly.value_or(m.type == Type::kBind || m.type == Type::kSsh);
  if (m.type == Type::kCache && m.id.empty()) m.id = m.target;
  if (!m.source.empty()) m.source = CleanPath("/" + m.source);
  out.mount = m;
  return out;
}

}  // namespace kiln::dockerfile
