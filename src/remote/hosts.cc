#include "remote/hosts.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "base/fs.h"
#include "base/toml_file.h"

namespace kiln::remote {
namespace {

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string item = s.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

/// "https://host:5000/" -> "host:5000": people paste registries with a scheme.
std::string BareHost(std::string s) {
  for (const char* scheme : {"https://", "http://"})
    if (s.rfind(scheme, 0) == 0) s = s.substr(strlen(scheme));
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

/// Whether `name` ("host/repo") lies under `prefix` ("host" or "host/path"), at a path boundary.
bool Under(const std::string& name, const std::string& prefix) {
  return name.rfind(prefix, 0) == 0 && (name.size() == prefix.size() || name[prefix.size()] == '/');
}

/// "host[:port]/path/repo" -> {"host[:port]", "path/repo"}.
Endpoint SplitLocation(const std::string& location, bool insecure, bool mirror) {
  size_t slash = location.find('/');
  Endpoint e;
  e.host = slash == std::string::npos ? location : location.substr(0, slash);
  e.repository = slash == std::string::npos ? "" : location.substr(slash + 1);
  e.insecure = insecure;
  e.mirror = mirror;
  return e;
}

std::vector<std::string> StringArray(toml::node_view<toml::node> node) {
  std::vector<std::string> out;
  if (auto* arr = node.as_array())
    for (auto& v : *arr)
      if (auto s = v.value<std::string>()) out.push_back(BareHost(*s));
  return out;
}

}  // namespace

std::string ApiHost(const std::string& registry) {
  return registry == "docker.io" || registry == "index.docker.io" ? "registry-1.docker.io" : registry;
}

Result<Hosts> Hosts::Load(const std::vector<std::string>& insecure, std::string conf) {
  Hosts h;
  for (auto& i : insecure) h.insecure_hosts_.push_back(BareHost(i));
  if (const char* env = getenv("KILN_INSECURE_REGISTRIES"))
    for (auto& i : SplitCommas(env)) h.insecure_hosts_.push_back(BareHost(i));
  if (conf.empty()) {
    const char* env = getenv("CONTAINERS_REGISTRIES_CONF");
    conf = env && *env ? env : "/etc/containers/registries.conf";
  }
  KILN_TRY(h.LoadFile(conf));
  auto names = ListDir(conf + ".d");
  if (names.ok()) {
    std::sort(names->begin(), names->end());
    for (auto& n : *names)
      if (n.size() > 5 && n.substr(n.size() - 5) == ".conf") KILN_TRY(h.LoadFile(JoinPath(conf + ".d", n)));
  }
  return h;
}

Status Hosts::LoadFile(const std::string& path) {
  if (!PathExists(path)) return Status::Ok();
  KILN_ASSIGN(toml::table conf, ParseTomlFile(path));
  // Version 1 of the format: [registries.insecure] registries = [...], [registries.block] registries = [...].
  for (auto& host : StringArray(conf["registries"]["insecure"]["registries"])) insecure_hosts_.push_back(host);
  for (auto& host : StringArray(conf["registries"]["block"]["registries"])) blocked_hosts_.push_back(host);
  // Version 2: [[registry]] tables with prefix, location, insecure, blocked and [[registry.mirror]] tables.
  if (auto* registries = conf["registry"].as_array()) {
    for (auto& node : *registries) {
      auto* table = node.as_table();
      if (!table) return Status::Error(path + ": [[registry]] entries must be tables");
      Entry e;
      e.location = BareHost((*table)["location"].value_or(std::string()));
      e.prefix = BareHost((*table)["prefix"].value_or(e.location));
      if (e.prefix.empty()) return Status::Error(path + ": a [[registry]] entry needs a prefix or a location");
      if (e.prefix.find('*') != std::string::npos) continue;  // wildcard prefixes name host patterns kiln skips
      e.insecure = (*table)["insecure"].value_or(false);
      e.blocked = (*table)["blocked"].value_or(false);
      if (auto* mirrors = (*table)["mirror"].as_array()) {
        for (auto& m : *mirrors) {
          auto* mt = m.as_table();
          if (!mt) continue;
          Mirror mirror;
          mirror.location = BareHost((*mt)["location"].value_or(std::string()));
          mirror.insecure = (*mt)["insecure"].value_or(false);
          if (!mirror.location.empty()) e.mirrors.push_back(mirror);
        }
      }
      // A later file's entry for the same prefix replaces the earlier one, as containers-registries.conf.d says.
      entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [&](const Entry& x) { return x.prefix == e.prefix; }),
                     entries_.end());
      entries_.push_back(e);
    }
  }
  return Status::Ok();
}

std::string HostWithoutPort(const std::string& h) {
  return h.substr(0, !h.empty() && h[0] == '[' ? h.find(']') + 1 : h.find(':'));
}

bool Hosts::IsInsecureHost(const std::string& host) const {
  if (host.empty()) return false;
  if (std::find(insecure_hosts_.begin(), insecure_hosts_.end(), host) != insecure_hosts_.end()) return true;
  std::string name = HostWithoutPort(host);
  // As docker does, loopback registries are insecure unless said otherwise: a registry a test or a developer
  // started on this machine rarely has a certificate.
  return name == "localhost" || name.rfind("127.", 0) == 0 || name == "[::1]";
}

Route Hosts::For(const std::string& registry, const std::string& repository) const {
  std::string name = registry + "/" + repository;
  const Entry* best = nullptr;
  for (auto& e : entries_)
    if (Under(name, e.prefix) && (!best || e.prefix.size() > best->prefix.size())) best = &e;
  Route r;
  r.blocked = std::find(blocked_hosts_.begin(), blocked_hosts_.end(), registry) != blocked_hosts_.end();
  // Where the name lives: the entry's location in place of its prefix.
  std::string rest = best ? name.substr(best->prefix.size()) : "";
  std::string location = best && !best->location.empty() ? best->location + rest : name;
  r.push = SplitLocation(location, false, false);
  r.push.host = ApiHost(r.push.host);
  r.push.insecure = (best && best->insecure) || IsInsecureHost(r.push.host) || IsInsecureHost(registry);
  if (best) {
    r.blocked |= best->blocked;
    for (auto& m : best->mirrors) {
      Endpoint e = SplitLocation(m.location + rest, m.insecure, true);
      e.insecure |= IsInsecureHost(e.host);
      r.pull.push_back(e);
    }
  }
  r.pull.push_back(r.push);
  return r;
}

}  // namespace kiln::remote
