#include "remote/auth.h"


#include <cstdlib>
#include <cstring>

#include "base/fs.h"
#include "base/process.h"
#include "base/text.h"

namespace kiln::remote {
namespace {

constexpr const char* kDockerHubKey = "https://index.docker.io/v1/";

bool IsTokenChar(char c) {
  return c > ' ' && c != ',' && c != '=' && c != '"' && c != 0x7f;
}

std::string StringAt(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::vector<Challenge> ParseChallenges(std::string_view h) {
  std::vector<Challenge> out;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) i++;
  };
  auto token = [&] {
    size_t start = i;
    while (i < h.size() && IsTokenChar(h[i])) i++;
    return std::string(h.substr(start, i - start));
  };
  for (;;) {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t' || h[i] == ',')) i++;
    std::string scheme = token();
    if (scheme.empty()) return out;
    Challenge c{AsciiLower(scheme), {}};
    for (;;) {
      skip_space();
      size_t before = i;
      std::string name = token();
      skip_space();
      if (name.empty() || i >= h.size() || h[i] != '=') {
        i = before;  // not a parameter: the next challenge's scheme (or the end)
        break;
      }
      i++;  // '='
      skip_space();
      std::string value;
      if (i < h.size() && h[i] == '"') {
        i++;
        bool closed = false;
        while (i < h.size()) {
          char ch = h[i++];
          if (ch == '"') {
            closed = true;
            break;
          }
          if (ch == '\\' && i < h.size()) ch = h[i++];
          value += ch;
        }
        if (!closed) {
          out.push_back(std::move(c));
          return out;
        }
      } else {
        value = token();
      }
      c.params[AsciiLower(name)] = value;
      skip_space();
      if (i < h.size() && h[i] == ',') i++;
    }
    out.push_back(std::move(c));
    if (i >= h.size()) return out;
  }
}

std::string CredentialKey(std::string_view registry) {
  std::string r = AsciiLower(registry);
  for (const char* scheme : {"https://", "http://"})
    if (r.rfind(scheme, 0) == 0) r = r.substr(strlen(scheme));
  r = r.substr(0, r.find('/'));
  if (r == "docker.io" || r == "index.docker.io" || r == "registry-1.docker.io") return kDockerHubKey;
  return r;
}

Result<std::optional<Credentials>> HelperGet(const std::string& helper, const std::string& registry) {
  std::string program = "docker-credential-" + helper;
  std::string out, err;
  ProcessOptions o;
  o.input = CredentialKey(registry);
  o.on_output = [&](int fd, std::string_view d) { (fd == 1 ? out : err).append(d); };
  auto code = RunProcess({program, "get"}, o);
  if (!code.ok()) return Status::Error("credential helper " + program + ": " + code.status().message());
  if (*code != 0) {
    // Helpers say so on stdout (docker-credential-pass, -secretservice) or stderr when they hold nothing.
    if ((out + err).find("credentials not found") != std::string::npos) return std::optional<Credentials>();
    return Status::Error("credential helper " + program + " failed (exit " + std::to_string(*code) + ") for " + registry);
  }
  auto j = ParseJson(out);
  if (!j.ok() || !j->is_object()) return Status::Error("credential helper " + program + " answered something not JSON");
  Credentials c;
  std::string user = StringAt(*j, "Username"), secret = StringAt(*j, "Secret");
  if (user == "<token>") {
    c.identity_token = secret;  // docker's marker for an identity token
  } else {
    c.username = user;
    c.password = secret;
  }
  if (c.empty()) return std::optional<Credentials>();
  return std::optional<Credentials>(c);
}

namespace {

/// Runs `docker-credential-<helper> <action>` with `input` on stdin; its output is never repeated (it may hold a
/// secret), only its exit status.
Status RunHelper(const std::string& helper, const std::string& action, const std::string& input, const std::string& registry) {
  std::string program = "docker-credential-" + helper;
  ProcessOptions o;
  o.input = input;
  o.on_output = [](int, std::string_view) {};
  auto code = RunProcess({program, action}, o);
  if (!code.ok()) return Status::Error("credential helper " + program + ": " + code.status().message());
  if (*code != 0) return Status::Error("credential helper " + program + " could not " + action + " the credentials of " + registry);
  return Status::Ok();
}

}  // namespace

Status HelperStore(const std::string& helper, const std::string& registry, const Credentials& creds) {
  Json j = {{"ServerURL", CredentialKey(registry)},
            {"Username", creds.identity_token.empty() ? creds.username : "<token>"},
            {"Secret", creds.identity_token.empty() ? creds.password : creds.identity_token}};
  return RunHelper(helper, "store", j.dump(), registry);
}

Status HelperErase(const std::string& helper, const std::string& registry) {
  return RunHelper(helper, "erase", CredentialKey(registry), registry);
}

std::string DockerConfig::DefaultDir() {
  if (const char* d = getenv("DOCKER_CONFIG"); d && *d) return d;
  const char* home = getenv("HOME");
  return JoinPath(home && *home ? home : "/root", ".docker");
}

Result<DockerConfig> DockerConfig::Load(const std::string& dir) {
  DockerConfig c;
  c.path_ = JoinPath(dir, "config.json");
  if (!PathExists(c.path_)) return c;
  KILN_ASSIGN(std::string text, ReadFile(c.path_));
  auto j = ParseJson(text);
  if (!j.ok() || !j->is_object()) {
    return Status::Error(c.path_ + ": " + (j.ok() ? "not a JSON object" : j.status().message()));
  }
  c.json_ = std::move(*j);
  return c;
}

Result<std::optional<Credentials>> DockerConfig::Inline(const std::string& registry) const {
  auto auths = json_.find("auths");
  if (auths == json_.end() || !auths->is_object()) return std::optional<Credentials>();
  std::string key = CredentialKey(registry);
  for (auto& [name, entry] : auths->items()) {
    if (CredentialKey(name) != key || !entry.is_object()) continue;
    Credentials creds;
    creds.username = StringAt(entry, "username");
    creds.password = StringAt(entry, "password");
    creds.identity_token = StringAt(entry, "identitytoken");
    if (std::string auth = StringAt(entry, "auth"); !auth.empty()) {
      auto decoded = Base64Decode(auth);
      size_t colon = decoded ? decoded->find(':') : std::string::npos;
      if (colon == std::string::npos) {
        return Status::Error(path_ + ": the \"auth\" of " + name + " is not base64 of user:password");
      }
      creds.username = decoded->substr(0, colon);
      creds.password = decoded->substr(colon + 1);
    }
    if (!creds.empty()) return std::optional<Credentials>(creds);
  }
  return std::optional<Credentials>();
}

std::optional<std::string> DockerConfig::HelperFor(const std::string& registry) const {
  std::string key = CredentialKey(registry);
  auto helpers = json_.find("credHelpers");
  if (helpers != json_.end() && helpers->is_object()) {
    for (auto& [name, helper] : helpers->items())
      if (CredentialKey(name) == key && helper.is_string() && !helper.get<std::string>().empty()) return helper.get<std::string>();
  }
  std::string store = StringAt(json_, "credsStore");
  if (!store.empty()) return store;
  return std::nullopt;
}

Status DockerConfig::StoreInline(const std::string& registry, const Credentials& creds) {
  Json entry = Json::object();
  if (!creds.username.empty() || !creds.password.empty()) entry["auth"] = Base64Encode(creds.username + ":" + creds.password);
  if (!creds.identity_token.empty()) entry["identitytoken"] = creds.identity_token;
  std::string key = CredentialKey(registry);
  if (!json_.contains("auths") || !json_["auths"].is_object()) json_["auths"] = Json::object();
  Json& auths = json_["auths"];
  for (auto it = auths.begin(); it != auths.end();) {
    it = CredentialKey(it.key()) == key ? auths.erase(it) : std::next(it);
  }
  auths[key] = entry;
  return Write();
}

Status DockerConfig::Erase(const std::string& registry) {
  std::string key = CredentialKey(registry);
  bool found = false;
  if (json_.contains("auths") && json_["auths"].is_object()) {
    Json& auths = json_["auths"];
    for (auto it = auths.begin(); it != auths.end();) {
      bool match = CredentialKey(it.key()) == key;
      found |= match;
      it = match ? auths.erase(it) : std::next(it);
    }
  }
  if (!found) return Status::Error("not logged in to " + registry);
  return Write();
}

Status DockerConfig::Write() const {
  KILN_TRY(MakeDirs(DirName(path_), 0700));
  return WriteFileAtomic(path_, DumpLenient(json_, 1) + "\n", 0600);
}

}  // namespace kiln::remote
