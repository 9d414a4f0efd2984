#include "graph/graph.h"

#include <arpa/inet.h>

#include <cctype>
#include <set>

#include "base/digest.h"
#include "base/text.h"

namespace kiln::graph {
namespace {

struct ToJson {
  Json operator()(const ImageSource& s) const { return {{"image", s.manifest_digest}}; }
  Json operator()(const LocalSource& s) const {
    return {{"local", s.name}, {"path", s.path}, {"exclude", s.exclude_patterns}};
  }
  Json operator()(const HttpSource& s) const {
    return {{"http", s.url}, {"filename", s.filename}, {"checksum", s.checksum}};
  }
  Json operator()(const GitSource& s) const {
    Json j = {{"git", s.remote}, {"ref", s.ref}, {"subdir", s.subdir}, {"keep_git_dir", s.keep_git_dir},
              {"checksum", s.checksum}};
    if (!s.submodules) j["submodules"] = false;
    return j;
  }
  Json operator()(const MergeOp&) const { return {{"merge", true}}; }
  Json operator()(const ExecOp& e) const {
    Json j = {{"exec", e.args}, {"env", e.env}, {"cwd", e.cwd}, {"user", e.user}, {"network", e.network}};
    // Only present when used, so the digests of ops without secrets stay what they were.
    for (auto& s : e.secrets) {
      j["secrets"].push_back({{"id", s.id}, {"target", s.target}, {"env", s.env}, {"required", s.required},
                              {"mode", s.mode}, {"uid", s.uid}, {"gid", s.gid}});
    }
    if (e.security != "sandbox") j["security"] = e.security;
    if (!e.platform.empty()) j["platform"] = e.platform;
    if (!e.hostname.empty()) j["hostname"] = e.hostname;  // what the command sees, so part of the key
    for (auto& h : e.container.extra_hosts) j["extra_hosts"].push_back({h.name, h.ip});
    if (e.container.shm_size) j["shm_size"] = e.container.shm_size;
    for (auto& u : e.container.ulimits) j["ulimits"].push_back({u.name, u.soft, u.hard});
    for (auto& d : e.devices) j["devices"].push_back({d.name, d.required});
    for (auto& m : e.mounts) {
      Json mj = {{"type", MountTypeName(m.type)}, {"target", m.target}, {"readonly", m.readonly}};
      if (m.input) mj["input"] = *m.input;
      if (!m.source.empty()) mj["source"] = m.source;
      if (m.type == ExecMount::Type::kCache || m.type == ExecMount::Type::kSsh) {
        mj["mode"] = m.mode;
        mj["uid"] = m.uid;
        mj["gid"] = m.gid;
      }
      if (m.type == ExecMount::Type::kCache || m.type == ExecMount::Type::kSsh) mj["id"] = m.id;
      if (m.type == ExecMount::Type::kCache) mj["sharing"] = m.sharing;
      if (m.type == ExecMount::Type::kSsh) mj["required"] = m.required;
      if (m.type == ExecMount::Type::kTmpfs) mj["size"] = m.size;
      j["mounts"].push_back(mj);
    }
    return j;
  }
  Json operator()(const FileOp& f) const {
    Json actions = Json::array();
    for (auto& a : f.actions) {
      if (auto* c = std::get_if<CopyAction>(&a)) {
        Json j = {{"copy", c->sources}, {"from", c->source_input}, {"dest", c->dest}, {"chown", c->chown},
                  {"reset_owner", c->reset_owner}};
        if (c->chmod) j["chmod"] = *c->chmod;
        if (!c->chmod_symbolic.empty()) j["chmod_symbolic"] = c->chmod_symbolic;
        if (c->unpack) j["unpack"] = true;
        if (!c->exclude.empty()) j["exclude"] = c->exclude;
        if (c->parents) j["parents"] = true;
        actions.push_back(j);
      } else if (auto* m = std::get_if<MkdirAction>(&a)) {
        actions.push_back({{"mkdir", m->path}, {"chown", m->chown}});
      } else {
        auto& f = std::get<MkfileAction>(a);
        actions.push_back({{"mkfile", f.path}, {"data", f.data}, {"mode", f.mode}});
      }
    }
    return {{"file", actions}};
  }
};

}  // namespace

Json OpToJson(const Op& op) { return std::visit(ToJson{}, op); }

Result<ContainerSettings::Host> ContainerSettings::ParseHost(const std::string& text) {
  // "name=ip" (docker 25+) or "name:ip": the name ends at the first '=' or ':', so an IPv6 address keeps its colons.
  size_t sep = text.find('=');
  if (sep == std::string::npos) sep = text.find(':');
  auto bad = [&](const std::string& why) { return Status::Error("--add-host \"" + text + "\": " + why + " (NAME:IP)"); };
  if (sep == std::string::npos || sep == 0 || sep + 1 == text.size()) return bad("no name and address");
  Host h{text.substr(0, sep), text.substr(sep + 1)};
  if (h.ip.size() > 2 && h.ip.front() == '[' && h.ip.back() == ']') h.ip = h.ip.substr(1, h.ip.size() - 2);
  unsigned char buf[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, h.ip.c_str(), buf) != 1 && inet_pton(AF_INET6, h.ip.c_str(), buf) != 1) {
    return bad("\"" + h.ip + "\" is not an IP address");
  }
  for (char c : h.name)
    if (std::isspace(static_cast<unsigned char>(c)) || c == '#') return bad("a bad host name");
  return h;
}

Result<ContainerSettings::Ulimit> ContainerSettings::ParseUlimit(const std::string& text) {
  static const std::set<std::string> kNames = {"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
                                               "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"};
  auto bad = [&](const std::string& why) { return Status::Error("--ulimit \"" + text + "\": " + why + " (NAME=SOFT[:HARD])"); };
  size_t eq = text.find('=');
  if (eq == std::string::npos) return bad("no value");
  Ulimit u;
  u.name = text.substr(0, eq);
  if (!kNames.count(u.name)) return bad("unknown limit \"" + u.name + "\"");
  auto number = [&](const std::string& s, int64_t& out) {
    if (s == "-1") return out = -1, true;
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    out = std::stoll(s);
    return true;
  };
  std::string value = text.substr(eq + 1);
  size_t colon = value.find(':');
  if (!number(value.substr(0, colon), u.soft)) return bad("a bad soft limit");
  u.hard = u.soft;
  if (colon != std::string::npos && !number(value.substr(colon + 1), u.hard)) return bad("a bad hard limit");
  if (u.hard != -1 && (u.soft == -1 || u.soft > u.hard)) return bad("the soft limit is above the hard one");
  return u;
}

std::string ContainerSettings::RlimitType(const std::string& name) { return "RLIMIT_" + AsciiUpper(name); }

const char* MountTypeName(ExecMount::Type type) {
  switch (type) {
    case ExecMount::Type::kBind: return "bind";
    case ExecMount::Type::kCache: return "cache";
    case ExecMount::Type::kTmpfs: return "tmpfs";
    default: return "ssh";
  }
}

const char* OpKind(const Op& op) {
  switch (op.index()) {
    case 0: return "image";
    case 1: return "local";
    case 2: return "exec";
    case 3: return "file";
    case 4: return "http";
    case 5: return "git";
    default: return "merge";
  }
}

size_t Graph::Add(Op op, std::vector<size_t> inputs, std::string name, std::string location) {
  Json j = {{"op", OpToJson(op)}, {"inputs", Json::array()}};
  for (size_t i : inputs) j["inputs"].push_back(vertices_.at(i).digest);
  std::string digest = DigestOf(DigestText(j));
  auto it = by_digest_.find(digest);
  if (it != by_digest_.end()) return it->second;
  vertices_.push_back(Vertex{std::move(op), std::move(inputs), digest, std::move(name), std::move(location), "", {}, false});
  by_digest_[digest] = vertices_.size() - 1;
  return vertices_.size() - 1;
}

std::vector<size_t> Graph::Merge(const Graph& other) {
  std::vector<size_t> where;
  for (const Vertex& v : other.vertices_) {
    std::vector<size_t> inputs;
    for (size_t in : v.inputs) inputs.push_back(where.at(in));
    size_t before = vertices_.size();
    size_t i = Add(v.op, inputs, v.name, v.location);
    if (vertices_.size() > before) Describe(i, v.step_id, v.arg_names);
    if (v.ignore_cache) IgnoreCache(i);
    where.push_back(i);
  }
  return where;
}

void Graph::Describe(size_t i, std::string step_id, std::vector<std::string> arg_names) {
  vertices_.at(i).step_id = std::move(step_id);
  vertices_.at(i).arg_names = std::move(arg_names);
}

}  // namespace kiln::graph
