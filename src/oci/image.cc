#include "oci/image.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <set>
#include <ctime>

#include "base/digest.h"
#include "base/text.h"

namespace kiln::oci {

std::string Platform::ToString() const {
  return os + (os_version.empty() ? "" : "(" + os_version + ")") + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

Platform Platform::Normalized() const {
  // containerd's normalisation (platforms.Normalize), which BuildKit applies to every platform it is given.
  Platform p{AsciiLower(os), AsciiLower(architecture), AsciiLower(variant), os_version};
  if (p.os == "macos") p.os = "darwin";
  std::string& a = p.architecture;
  std::string& v = p.variant;
  if (a == "i386" || a == "i486" || a == "i586" || a == "i686" || a == "x86") {
    a = "386";
    v.clear();
  } else if (a == "x86_64" || a == "x86-64" || a == "amd64") {
    a = "amd64";
    if (v == "v1") v.clear();
  } else if (a == "aarch64" || a == "arm64") {
    a = "arm64";
    if (v == "8" || v == "v8" || v == "v8.0") v.clear();
    if (v == "9" || v == "9.0" || v == "v9.0") v = "v9";
  } else if (a == "armhf") {
    a = "arm";
    v = "v7";
  } else if (a == "armel") {
    a = "arm";
    v = "v6";
  } else if (a == "arm") {
    if (v.empty() || v == "7") v = "v7";
    if (v == "5" || v == "6" || v == "8") v = "v" + v;
  }
  return p;
}

Result<Platform> Platform::Parse(const std::string& s) {
  std::vector<std::string> parts = SplitString(s, '/');
  auto invalid = [&](const std::string& why) {
    return Status::Error("invalid platform \"" + s + "\": " + why + " (os/arch[/variant], as linux/arm64 or linux/arm/v7)");
  };
  // An OS version follows the OS in parentheses, as containerd writes it: "windows(10.0.17763)/amd64".
  std::string os_version;
  if (!parts.empty() && parts[0].size() > 2 && parts[0].back() == ')') {
    size_t open = parts[0].find('(');
    if (open == std::string::npos || open == 0) return invalid("a bad OS version");
    os_version = parts[0].substr(open + 1, parts[0].size() - open - 2);
    parts[0].resize(open);
    for (char c : os_version)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') return invalid("a bad OS version");
  }
  for (auto& p : parts) {
    if (p.empty()) return invalid("an empty part");
    for (char c : p)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return invalid("a bad character");
  }
  if (parts.size() > 3) return invalid("too many parts");
  Platform p = Host();
  p.variant.clear();
  static const std::set<std::string> kKnownOs = {"linux", "windows", "darwin", "freebsd", "netbsd", "openbsd",
                                                 "solaris", "illumos", "android", "ios", "aix", "plan9", "macos"};
  // containerd's known architectures (and the spellings Normalized turns into them).
  static const std::set<std::string> kKnownArch = {
      "386",     "amd64",    "amd64p32", "arm",    "armbe",     "arm64",       "arm64be", "ppc64",  "ppc64le",
      "loong64", "mips",     "mipsle",   "mips64", "mips64le",  "mips64p32",   "mips64p32le", "ppc", "riscv",
      "riscv64", "s390",     "s390x",    "sparc",  "sparc64",   "wasm",        "i386",    "i486",   "i586",
      "i686",    "x86",      "x86_64",   "x86-64", "aarch64",   "armhf",       "armel"};
  if (parts.size() == 1) {
    // One word is an OS (with this host's architecture) or an architecture (with this host's OS), as containerd;
    // a word that is neither is a mistake, not an architecture called "garbage".
    std::string word = AsciiLower(parts[0]);
    if (kKnownOs.count(word)) {
      p.os = parts[0];
      p.variant = Host().variant;
    } else if (kKnownArch.count(word)) {
      p.architecture = parts[0];
    } else {
      return invalid("\"" + parts[0] + "\" is no operating system or architecture kiln knows");
    }
  } else {
    p.os = parts[0];
    p.architecture = parts[1];
    if (parts.size() == 3) p.variant = parts[2];
  }
  p.os_version = os_version;
  return p.Normalized();
}

Result<std::vector<Platform>> Platform::ParseList(const std::vector<std::string>& lists) {
  std::vector<Platform> out;
  for (const std::string& list : lists) {
    for (std::string item : SplitString(list, ',')) {
      item.erase(0, item.find_first_not_of(' '));
      item.erase(item.find_last_not_of(' ') + 1);
      KILN_ASSIGN(Platform p, Parse(item));
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
  }
  return out;
}

Platform Platform::Host() {
  // Asked for every RUN step of every build: uname once.
  static const Platform host = [] {
    Platform p;
    utsname u;
    uname(&u);
    p.architecture = u.machine;
    return p.Normalized();
  }();
  return host;
}

Json ToJson(const Platform& p) {
  Json j = {{"architecture", p.architecture}, {"os", p.os}};
  if (!p.os_version.empty()) j["os.version"] = p.os_version;
  if (!p.variant.empty()) j["variant"] = p.variant;
  return j;
}

Json ToJson(const Descriptor& d) {
  Json j = {{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (d.platform) j["platform"] = ToJson(*d.platform);
  return j;
}

Json ToJson(const Manifest& m) {
  Json j = {{"schemaVersion", 2}, {"mediaType", m.media_type}, {"config", ToJson(m.config)}};
  j["layers"] = Json::array();
  for (auto& l : m.layers) j["layers"].push_back(ToJson(l));
  if (!m.annotations.empty()) j["annotations"] = m.annotations;
  return j;
}

Json ToJson(const Index& i) {
  Json j = {{"schemaVersion", 2}, {"mediaType", i.media_type}, {"manifests", Json::array()}};
  for (auto& d : i.manifests) j["manifests"].push_back(ToJson(d));
  if (!i.annotations.empty()) j["annotations"] = i.annotations;
  return j;
}

Json ToJson(const ImageConfig& c) {
  Json j;
  if (!c.created.empty()) j["created"] = c.created;
  if (!c.author.empty()) j["author"] = c.author;
  j["architecture"] = c.platform.architecture;
  if (!c.platform.variant.empty()) j["variant"] = c.platform.variant;
  j["os"] = c.platform.os;
  if (!c.platform.os_version.empty()) j["os.version"] = c.platform.os_version;
  const ContainerConfig& cc = c.config;
  Json cfg = Json::object();
  if (!cc.user.empty()) cfg["User"] = cc.user;
  if (!cc.exposed_ports.empty()) {
    cfg["ExposedPorts"] = Json::object();
    for (auto& p : cc.exposed_ports) cfg["ExposedPorts"][p] = Json::object();
  }
  if (!cc.env.empty()) cfg["Env"] = cc.env;
  if (cc.entrypoint) cfg["Entrypoint"] = *cc.entrypoint;
  if (cc.cmd) cfg["Cmd"] = *cc.cmd;
  if (cc.args_escaped) cfg["ArgsEscaped"] = true;
  if (!cc.volumes.empty()) {
    cfg["Volumes"] = Json::object();
    for (auto& v : cc.volumes) cfg["Volumes"][v] = Json::object();
  }
  if (!cc.working_dir.empty()) cfg["WorkingDir"] = cc.working_dir;
  if (!cc.labels.empty()) cfg["Labels"] = cc.labels;
  if (!cc.stop_signal.empty()) cfg["StopSignal"] = cc.stop_signal;
  if (!cc.shell.empty()) cfg["Shell"] = cc.shell;
  if (!cc.on_build.empty()) cfg["OnBuild"] = cc.on_build;
  if (cc.healthcheck) {
    const Healthcheck& h = *cc.healthcheck;
    Json hc = Json::object();  // Go's omitempty fields
    if (!h.test.empty()) hc["Test"] = h.test;
    if (h.interval) hc["Interval"] = h.interval;
    if (h.timeout) hc["Timeout"] = h.timeout;
    if (h.start_period) hc["StartPeriod"] = h.start_period;
    if (h.start_interval) hc["StartInterval"] = h.start_interval;
    if (h.retries) hc["Retries"] = h.retries;
    cfg["Healthcheck"] = hc;
  }
  j["config"] = cfg;
  j["rootfs"] = {{"type", "layers"}, {"diff_ids", c.diff_ids}};
  Json h = Json::array();
  for (auto& e : c.history) {
    Json x = Json::object();
    if (!e.created.empty()) x["created"] = e.created;
    if (!e.created_by.empty()) x["created_by"] = e.created_by;
    if (!e.comment.empty()) x["comment"] = e.comment;
    if (e.empty_layer) x["empty_layer"] = true;
    h.push_back(x);
  }
  j["history"] = h;
  return j;
}

static std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

/// j[key] when it is a boolean; false when it is missing or of another type (value() would throw).
static bool Bool(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

static std::vector<std::string> Strings(const Json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (auto& x : j)
      if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

Result<Descriptor> DescriptorFromJson(const Json& j) {
  if (!j.is_object()) return Status::Error("descriptor is not an object");
  Descriptor d;
  d.media_type = Str(j, "mediaType");
  d.digest = Str(j, "digest");
  if (j.contains("size") && j["size"].is_number_integer()) d.size = j["size"].get<int64_t>();
  if (!IsValidDigest(d.digest)) return Status::Error("descriptor has an invalid digest \"" + d.digest + "\"");
  if (j.contains("annotations") && j["annotations"].is_object())
    for (auto& [k, v] : j["annotations"].items())
      if (v.is_string()) d.annotations[k] = v.get<std::string>();
  if (j.contains("platform") && j["platform"].is_object()) {
    Platform p;
    p.os = Str(j["platform"], "os");
    p.architecture = Str(j["platform"], "architecture");
    p.variant = Str(j["platform"], "variant");
    p.os_version = Str(j["platform"], "os.version");
    d.platform = p;
  }
  return d;
}

static Result<Json> ParseObject(const std::string& text, const char* what) {
  auto j = ParseJson(text);
  if (!j.ok()) return j.status().Prefixed(std::string("malformed ") + what);
  if (!j->is_object()) return Status::Error(std::string("malformed ") + what + ": not a JSON object");
  return j;
}

Result<Manifest> ManifestFromJson(const std::string& text) {
  KILN_ASSIGN(Json j, ParseObject(text, "manifest"));
  Manifest m;
  m.media_type = Str(j, "mediaType");
  if (m.media_type.empty()) m.media_type = kMediaTypeManifest;
  KILN_ASSIGN(m.config, DescriptorFromJson(j.value("config", Json())));
  if (j.contains("layers"))
    for (auto& l : j["layers"]) {
      KILN_ASSIGN(Descriptor d, DescriptorFromJson(l));
      m.layers.push_back(std::move(d));
    }
  if (j.contains("annotations") && j["annotations"].is_object())
    for (auto& [k, v] : j["annotations"].items())
      if (v.is_string()) m.annotations[k] = v.get<std::string>();
  return m;
}

Result<Index> IndexFromJson(const std::string& text) {
  KILN_ASSIGN(Json j, ParseObject(text, "index"));
  Index i;
  if (j.contains("mediaType") && j["mediaType"].is_string()) i.media_type = j["mediaType"];
  if (j.contains("annotations") && j["annotations"].is_object())
    for (auto& [k, v] : j["annotations"].items())
      if (v.is_string()) i.annotations[k] = v;
  if (j.contains("manifests"))
    for (auto& m : j["manifests"]) {
      KILN_ASSIGN(Descriptor d, DescriptorFromJson(m));
      i.manifests.push_back(std::move(d));
    }
  return i;
}

Result<ImageConfig> ImageConfigFromJson(const std::string& text) {
  KILN_ASSIGN(Json j, ParseObject(text, "image config"));
  ImageConfig c;
  c.created = Str(j, "created");
  c.author = Str(j, "author");
  c.platform.os = Str(j, "os");
  c.platform.architecture = Str(j, "architecture");
  c.platform.variant = Str(j, "variant");
  c.platform.os_version = Str(j, "os.version");
  if (j.contains("config") && j["config"].is_object()) {
    const Json& cfg = j["config"];
    ContainerConfig& cc = c.config;
    cc.user = Str(cfg, "User");
    cc.env = Strings(cfg.value("Env", Json()));
    if (cfg.contains("Entrypoint") && cfg["Entrypoint"].is_array()) cc.entrypoint = Strings(cfg["Entrypoint"]);
    if (cfg.contains("Cmd") && cfg["Cmd"].is_array()) cc.cmd = Strings(cfg["Cmd"]);
    cc.args_escaped = Bool(cfg, "ArgsEscaped");
    cc.working_dir = Str(cfg, "WorkingDir");
    if (cfg.contains("Labels") && cfg["Labels"].is_object())
      for (auto& [k, v] : cfg["Labels"].items())
        if (v.is_string()) cc.labels[k] = v.get<std::string>();
    if (cfg.contains("ExposedPorts") && cfg["ExposedPorts"].is_object())
      for (auto& [k, v] : cfg["ExposedPorts"].items()) cc.exposed_ports.push_back(k);
    if (cfg.contains("Volumes") && cfg["Volumes"].is_object())
      for (auto& [k, v] : cfg["Volumes"].items()) cc.volumes.push_back(k);
    cc.stop_signal = Str(cfg, "StopSignal");
    cc.shell = Strings(cfg.value("Shell", Json()));
    cc.on_build = Strings(cfg.value("OnBuild", Json()));
    if (cfg.contains("Healthcheck") && cfg["Healthcheck"].is_object()) {
      const Json& hc = cfg["Healthcheck"];
      auto number = [&](const char* key) -> int64_t {
        return hc.contains(key) && hc[key].is_number_integer() ? hc[key].get<int64_t>() : 0;
      };
      Healthcheck h;
      h.test = Strings(hc.value("Test", Json()));
      h.interval = number("Interval");
      h.timeout = number("Timeout");
      h.start_period = number("StartPeriod");
      h.start_interval = number("StartInterval");
      int64_t retries = number("Retries");
      h.retries = retries >= 0 && retries <= INT32_MAX ? int(retries) : 0;
      cc.healthcheck = h;
    }
  }
  if (j.contains("rootfs") && j["rootfs"].is_object()) c.diff_ids = Strings(j["rootfs"].value("diff_ids", Json()));
  if (j.contains("history") && j["history"].is_array())
    for (auto& h : j["history"]) {
      if (!h.is_object()) continue;
      HistoryEntry e;
      e.created = Str(h, "created");
      e.created_by = Str(h, "created_by");
      e.comment = Str(h, "comment");
      e.empty_layer = Bool(h, "empty_layer");
      c.history.push_back(e);
    }
  return c;
}

std::optional<std::string> GetEnvIn(const std::vector<std::string>& env, const std::string& key) {
  for (auto& e : env)
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=')
      return e.substr(key.size() + 1);
  return std::nullopt;
}

void SetEnvIn(std::vector<std::string>& env, const std::string& key, const std::string& value) {
  for (auto& e : env)
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') {
      e = key + "=" + value;
      return;
    }
  env.push_back(key + "=" + value);
}

std::optional<std::string> ContainerConfig::GetEnv(const std::string& key) const { return GetEnvIn(env, key); }

void ContainerConfig::SetEnv(const std::string& key, const std::string& value) { SetEnvIn(env, key, value); }

std::string Serialize(const Json& j) { return DumpLenient(j); }

std::string FormatTime(int64_t unix_seconds) {
  time_t t = time_t(unix_seconds);
  tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool IsIndexDocument(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) return false;
  if (j.contains("mediaType") && j["mediaType"].is_string()) return IsIndexType(j["mediaType"].get<std::string>());
  return j.contains("manifests") && !j.contains("config");
}

bool IsManifestType(std::string_view t) {
  return t == kMediaTypeManifest || t == kDockerMediaTypeManifest;
}

bool IsIndexType(std::string_view t) { return t == kMediaTypeIndex || t == kDockerMediaTypeManifestList; }

Result<Descriptor> SelectPlatform(const Index& index, const Platform& want, const std::string& what) {
  Platform w = want.Normalized();
  std::vector<std::string> offered;
  for (auto& m : index.manifests) {
    if (!m.platform) continue;
    // Attestation manifests BuildKit adds to indexes say unknown/unknown.
    if (m.platform->os == "unknown") continue;
    Platform p = m.platform->Normalized();
    offered.push_back(p.ToString());
    // An OS version asked for must be the image's, as containerd matches Windows images by their build.
    if (!w.os_version.empty() && !p.os_version.empty() && p.os_version != w.os_version) continue;
    if (p.os == w.os && p.architecture == w.architecture && (w.variant.empty() || p.variant == w.variant)) return m;
  }
  std::string list;
  for (auto& o : offered) list += (list.empty() ? "" : ", ") + o;
  return Status::Error(what + ": no image for platform " + want.ToString() + " (the index has " +
                       (list.empty() ? std::string("none") : list) + ")");
}

}  // namespace kiln::oci
