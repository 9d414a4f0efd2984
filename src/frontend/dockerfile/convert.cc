#include "frontend/dockerfile/convert.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <set>

#include "base/fs.h"
#include "base/text.h"
#include "frontend/dockerfile/mounts.h"
#include "frontend/dockerfile/shell.h"

namespace kiln::dockerfile {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string JoinWords(const std::vector<std::string>& v) {
  std::string out;
  for (auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

/// A Go-style rendering of a string slice, as BuildKit's history lines print them: [a b c].
std::string GoSlice(const std::vector<std::string>& v) { return "[" + JoinWords(v) + "]"; }

/// Go's %q of a []string, as BuildKit writes CMD and ENTRYPOINT into the history: ["/bin/sh" "-c" "x"].
std::string GoQuotedSlice(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); i++) {
    out += i ? " \"" : "\"";
    for (unsigned char c : v[i]) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
          if (c < 0x20 || c == 0x7f) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
          } else {
            out += char(c);
          }
      }
    }
    out += "\"";
  }
  return out + "]";
}

/// Declared build arguments, in declaration order; a value of nullopt means declared without a value.
struct ArgScope {
  std::vector<std::pair<std::string, std::optional<std::string>>> args;
  std::optional<std::string>* Find(const std::string& name) {
    for (auto& [k, v] : args)
      if (k == name) return &v;
    return nullptr;
  }
  void Set(const std::string& name, std::optional<std::string> value) {
    if (auto* v = Find(name)) {
      *v = std::move(value);
    } else {
      args.emplace_back(name, std::move(value));
    }
  }
};

struct Stage {
  std::string name;  // lower case, "" when unnamed
  size_t first = 0, end = 0;  // instruction range after FROM
  const Instruction* from = nullptr;
};

struct StageState {
  bool lowered = false;
  size_t vertex = 0;
  size_t base_vertex = 0;
  oci::ImageConfig config;
  std::vector<HistoryStep> history;
  bool cmd_set = false;
  /// The environment RUN steps get and words expand in: the image's, then each ENV and each ARG with a value in
  /// the order they come, so the later of an ENV and an ARG of one name wins (as in BuildKit). Only ENV reaches
  /// the image config.
  std::vector<std::string> run_env;
};

class Converter {
 public:
  Converter(const Dockerfile& df, const ConvertOptions& o) : df_(df), o_(o), lex_(df.escape) {}

  Result<BuildDefinition> Run() {
    KILN_TRY(SplitStages());
    KILN_ASSIGN(size_t target, TargetStage());
    KILN_TRY(LowerStage(target));
    StageState& st = states_[target];
    def_.result = st.vertex;
    def_.base_vertex = st.base_vertex;
    def_.config = st.config;
    def_.config.created = Time();
    def_.history = st.history;
    for (auto& [k, v] : o_.build_args)
      if (!used_args_.count(k) && !IsPredefined(k))
        def_.warnings.push_back("build argument " + k + " was not consumed by any ARG");
    return std::move(def_);
  }

 private:
  std::string Location(const Instruction& in) const { return df_.path + ":" + std::to_string(in.line); }

  Status Error(const Instruction& in, const std::string& msg) const {
    return Status::Error(df_.path + ":" + std::to_string(in.line) + ": " + msg);
  }

  static bool IsPredefined(const std::string& k) {
    static const std::set<std::string> names = {
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY",
        "no_proxy", "ALL_PROXY", "all_proxy", "SOURCE_DATE_EPOCH"};
    return names.count(k) > 0;
  }

  std::map<std::string, std::string> PlatformArgs() const {
    oci::Platform host = oci::Platform::Host();
    const oci::Platform& t = o_.platform;
    return {{"TARGETPLATFORM", t.ToString()}, {"TARGETOS", t.os}, {"TARGETARCH", t.architecture},
            {"TARGETVARIANT", t.variant}, {"BUILDPLATFORM", host.ToString()}, {"BUILDOS", host.os},
            {"BUILDARCH", host.architecture}, {"BUILDVARIANT", host.variant}};
  }

  /// SOURCE_DATE_EPOCH, or unset: the exporter then dates each step by when its result was made, as BuildKit's
  /// does, so a build that changed nothing makes the same image.
  std::string Time() const { return o_.epoch ? oci::FormatTime(*o_.epoch) : ""; }

  Status SplitStages() {
    const auto& ins = df_.instructions;
    size_t i = 0;
    // Global scope: ARGs before the first FROM.
    auto platform_args = PlatformArgs();
    for (auto& [k, v] : platform_args) global_.Set(k, v);
    for (; i < ins.size() && ins[i].keyword != "from"; i++) {
      if (ins[i].keyword != "arg") return Error(ins[i], "no build stage in current context; " +
                                                                 ins[i].keyword + " must come after FROM");
      KILN_TRY(DeclareArgs(ins[i], global_, [&](const std::string& n) { return LookupIn(global_, n); }));
    }
    if (i == ins.size()) return Status::Error(df_.path + ": the Dockerfile has no FROM instruction");
    while (i < ins.size()) {
      Stage s;
      s.from = &ins[i];
      std::vector<std::string> words = SplitWords(ins[i].args, df_.escape);
      if (words.size() == 3 && AsciiLower(words[1]) == "as") {
        s.name = AsciiLower(words[2]);
        if (s.name.empty() || !(std::isalpha(static_cast<unsigned char>(s.name[0])))) {
          return Error(ins[i], "invalid name for build stage: \"" + words[2] + "\"");
        }
        for (auto& other : stages_)
          if (other.name == s.name) return Error(ins[i], "duplicate stage name \"" + words[2] + "\"");
      } else if (words.size() != 1) {
        return Error(ins[i], "FROM requires either one or three arguments (FROM image [AS name])");
      }
      s.first = ++i;
      while (i < ins.size() && ins[i].keyword != "from") i++;
      s.end = i;
      stages_.push_back(s);
    }
    states_.resize(stages_.size());
    return Status::Ok();
  }

  Result<size_t> TargetStage() const {
    if (o_.target.empty()) return stages_.size() - 1;
    for (size_t i = 0; i < stages_.size(); i++)
      if (stages_[i].name == AsciiLower(o_.target)) return i;
    return Status::Error("target stage \"" + o_.target + "\" could not be found in " + df_.path);
  }

  std::optional<size_t> FindStage(const std::string& ref, size_t before) const {
    std::string l = AsciiLower(ref);
    for (size_t i = 0; i < before; i++)
      if (!stages_[i].name.empty() && stages_[i].name == l) return i;
    if (!l.empty() && std::all_of(l.begin(), l.end(), ::isdigit) && l.size() < 6) {
      size_t n = std::stoul(l);
      if (n < before) return n;
    }
    return std::nullopt;
  }

  static std::optional<std::string> LookupIn(ArgScope& scope, const std::string& name) {
    if (auto* v = scope.Find(name)) return *v;
    return std::nullopt;
  }

  /// ARG name[=default] ...: the value is the --build-arg if given, else the default, else the global value.
  /// Declares the ARGs of `in` in `scope`; `declared`, when given, receives each with the value in effect.
  Status DeclareArgs(const Instruction& in, ArgScope& scope, const Lookup& lookup, ArgScope* global = nullptr,
                     ArgScope* declared = nullptr) {
    for (auto& word : SplitWords(in.args, df_.escape)) {
      size_t eq = word.find('=');
      std::string name = word.substr(0, eq);
      if (name.empty()) return Error(in, "ARG requires a name: \"" + word + "\"");
      std::optional<std::string> value;
      if (eq != std::string::npos) {
        auto v = lex_.ProcessWord(word.substr(eq + 1), lookup);
        if (!v.ok()) return Error(in, v.status().message());
        value = *v;
      } else if (global) {
        if (auto* g = global->Find(name)) value = *g;
      } else if (auto* existing = scope.Find(name)) {
        value = *existing;
      }
      auto it = o_.build_args.find(name);
      if (it != o_.build_args.end()) {
        value = it->second;
        used_args_.insert(name);
      }
      if (global && !value) {
        auto platform_args = PlatformArgs();
        auto p = platform_args.find(name);
        if (p != platform_args.end()) value = p->second;
      }
      scope.Set(name, value);
      if (declared) declared->args.emplace_back(name, value);
    }
    return Status::Ok();
  }

  Status LowerStage(size_t index) {
    if (states_[index].lowered) return Status::Ok();
    if (in_progress_.count(index)) return Error(*stages_[index].from, "circular dependency between stages");
    in_progress_.insert(index);
    const Stage& stage = stages_[index];
    const Instruction& from = *stage.from;
    StageState st;
    ArgScope args;

    auto global_lookup = [&](const std::string& n) { return LookupIn(global_, n); };
    std::vector<std::string> words = SplitWords(from.args, df_.escape);
    auto base_ref = lex_.ProcessWord(words[0], global_lookup);
    if (!base_ref.ok()) return Error(from, base_ref.status().message());
    if (base_ref->empty()) return Error(from, "base name (" + words[0] + ") should not be blank");
    for (auto& f : from.flags)
      if (f.name != "platform") return Error(from, "unknown flag: --" + f.name);
    if (auto p = FlagValue(from, "platform")) {
      auto expanded = lex_.ProcessWord(*p, global_lookup);
      if (!expanded.ok()) return Error(from, expanded.status().message());
      auto plat = oci::Platform::Parse(*expanded);
      if (!plat.ok()) return Error(from, plat.status().message());
      if (plat->ToString() != o_.platform.ToString()) {
        return Error(from, "building for platform " + plat->ToString() + " is not supported yet");
      }
    }
    std::string stage_label = stage.name.empty() ? "stage-" + std::to_string(index) : stage.name;

    if (auto dep = FindStage(*base_ref, index)) {
      KILN_TRY(LowerStage(*dep));
      const StageState& parent = states_[*dep];
      st.vertex = parent.vertex;
      st.base_vertex = parent.base_vertex;
      st.config = parent.config;
      st.history = parent.history;
    } else if (AsciiLower(*base_ref) == "scratch") {
      st.vertex = def_.graph.Add(graph::ImageSource{"scratch", ""}, {}, "[internal] scratch");
      st.base_vertex = st.vertex;
      st.config.platform = o_.platform;
      st.config.config.env = {std::string("PATH=") + kDefaultPath};
    } else {
      if (!o_.resolve) return Error(from, "no image resolver");
      auto img = o_.resolve(*base_ref);
      if (!img.ok()) return Error(from, img.status().message());
      st.vertex = def_.graph.Add(graph::ImageSource{*base_ref, img->manifest_digest}, {},
                                 "[" + stage_label + " 1/" + std::to_string(stage.end - stage.first + 1) +
                                     "] FROM " + *base_ref);
      st.base_vertex = st.vertex;
      st.config = img->config;
      st.config.created.clear();
      for (auto& h : st.config.history) st.history.push_back({h, std::nullopt});
      st.config.history.clear();
      st.config.diff_ids.clear();
    }
    st.cmd_set = false;
    st.run_env = st.config.config.env;
    // ONBUILD triggers of the base belong to the base's consumers, not to this image.
    st.config.config.on_build.clear();

    // Every ARG with a value is in run_env, so it alone answers what a word may name.
    auto lookup = [&](const std::string& n) { return oci::GetEnvIn(st.run_env, n); };
    auto expand = [&](const Instruction& in, const std::string& w) -> Result<std::string> {
      auto r = lex_.ProcessWord(w, lookup);
      if (!r.ok()) return Error(in, r.status().message());
      return r;
    };
    auto expand_words = [&](const Instruction& in, const std::string& text) -> Result<std::vector<std::string>> {
      auto r = lex_.ProcessWords(text, lookup);
      if (!r.ok()) return Error(in, r.status().message());
      return r;
    };
    // BuildKit marks the history of steps it ran (RUN, COPY) with " # buildkit"; a WORKDIR's mkdir is a layer
    // without the mark.
    auto add_history = [&](const std::string& created_by, std::optional<size_t> vertex, bool ran = true) {
      oci::HistoryEntry e;
      e.created = Time();
      e.created_by = created_by + (vertex && ran ? " # buildkit" : "");
      e.comment = "buildkit.dockerfile.v0";
      e.empty_layer = !vertex;
      st.history.push_back({e, vertex});
    };
    auto shell = [&]() {
      return st.config.config.shell.empty() ? std::vector<std::string>{"/bin/sh", "-c"} : st.config.config.shell;
    };
    auto check_flags = [&](const Instruction& in, std::set<std::string> allowed) -> Status {
      for (auto& f : in.flags) {
        if (!allowed.count(f.name)) {
          return Error(in, "unknown flag --" + f.name + " for " + Upper(in.keyword) + " (not supported yet)");
        }
      }
      return Status::Ok();
    };
    size_t total = stage.end - stage.first + 1;
    // The step just added, by its place (for `kiln explain`) and with the build arguments in its scope.
    auto describe = [&](size_t instruction) {
      std::vector<std::string> names;
      for (auto& [name, value] : args.args) names.push_back(name);
      def_.graph.Describe(st.vertex, o_.context_dir + "\n" + df_.path + "\n" + stage_label + "\n" +
                                         std::to_string(instruction - stage.first), std::move(names));
    };

    for (size_t i = stage.first; i < stage.end; i++) {
      const Instruction& in = df_.instructions[i];
      std::string step = "[" + stage_label + " " + std::to_string(i - stage.first + 2) + "/" +
                         std::to_string(total) + "] ";
      const std::string& kw = in.keyword;
      if (kw == "arg") {
        KILN_TRY(check_flags(in, {}));
        ArgScope declared;
        KILN_TRY(DeclareArgs(in, args, lookup, &global_, &declared));
        std::string desc;  // as BuildKit's history shows them: NAME=value (the value in effect), or NAME
        for (auto& [name, value] : declared.args) {
          if (value) oci::SetEnvIn(st.run_env, name, *value);
          desc += (desc.empty() ? "" : " ") + name + (value ? "=" + *value : "");
        }
        add_history("ARG " + desc, std::nullopt);
        continue;
      }
      if (kw == "env" || kw == "label") {
        KILN_TRY(check_flags(in, {}));
        KILN_ASSIGN(auto pairs, KeyValues(in, expand));
        std::string desc;
        for (auto& [k, v] : pairs) {
          if (kw == "env") {
            st.config.config.SetEnv(k, v);
            oci::SetEnvIn(st.run_env, k, v);
          } else {
            st.config.config.labels[k] = v;
          }
          desc += (desc.empty() ? "" : " ") + k + "=" + v;
        }
        add_history(Upper(kw) + " " + desc, std::nullopt);
      } else if (kw == "run") {
        KILN_TRY(check_flags(in, {"network", "mount", "security"}));
        graph::ExecOp op;
        op.network = o_.network;
        std::string flags_label;  // the step's name shows its flags, expanded, as BuildKit's does
        std::vector<size_t> inputs = {st.vertex};
        std::string cwd = st.config.config.working_dir.empty() ? "/" : st.config.config.working_dir;
        int ssh_mounts = 0;
        for (auto& f : in.flags) {
          KILN_ASSIGN(std::string value, expand(in, f.value));
          flags_label += "--" + f.name + "=" + value + " ";
          if (f.name != "mount") continue;
          auto parsed = ParseMount(value, cwd);
          if (!parsed.ok()) return Error(in, "--mount=" + f.value + ": " + parsed.status().message());
          if (auto* secret = std::get_if<graph::SecretMount>(&parsed->mount)) {
            op.secrets.push_back(*secret);
            continue;
          }
          auto& m = std::get<graph::ExecMount>(parsed->mount);
          // What a bind shows (the build context unless from=) and what seeds a cache (from=), as inputs.
          std::optional<size_t> source;
          if (m.type == graph::ExecMount::Type::kBind && parsed->from.empty()) source = ContextVertex();
          if (!parsed->from.empty()) {
            KILN_ASSIGN(source, FromVertex(in, "--mount from=", parsed->from, index));
          }
          if (source) {
            auto at = std::find(inputs.begin() + 1, inputs.end(), *source);
            m.input = size_t(at - inputs.begin());
            if (at == inputs.end()) inputs.push_back(*source);
          }
          // As BuildKit: ssh sockets are /run/buildkit/ssh_agent.N unless given a target.
          if (m.type == graph::ExecMount::Type::kSsh && m.target.empty()) {
            m.target = "/run/buildkit/ssh_agent." + std::to_string(ssh_mounts);
          }
          if (m.type == graph::ExecMount::Type::kSsh) ssh_mounts++;
          op.mounts.push_back(m);
        }
        if (auto sec = FlagValue(in, "security")) {
          KILN_ASSIGN(std::string value, expand(in, *sec));
          if (value != "sandbox" && value != "insecure") {
            return Error(in, "unsupported security mode \"" + value + "\" (sandbox or insecure)");
          }
          op.security = value;
        }
        if (auto n = FlagValue(in, "network")) {
          if (*n != "none" && *n != "host" && *n != "default") {
            return Error(in, "unsupported network mode \"" + *n + "\" (use none, host or default)");
          }
          if (*n != "default") op.network = *n;
        }
        if (in.json_form) {
          op.args = in.json_args;
        } else {
          std::string script = in.args;
          for (auto& h : in.heredocs) script += "\n" + h.content + h.name;
          op.args = shell();
          op.args.push_back(script);
        }
        op.env = st.run_env;
        if (!oci::GetEnvIn(op.env, "PATH")) op.env.insert(op.env.begin(), std::string("PATH=") + kDefaultPath);
        // The first ssh socket is the agent the step's ssh and git use, unless the Dockerfile says otherwise.
        for (auto& m : op.mounts) {
          if (m.type != graph::ExecMount::Type::kSsh) continue;
          if (!oci::GetEnvIn(op.env, "SSH_AUTH_SOCK")) op.env.push_back("SSH_AUTH_SOCK=" + m.target);
          break;
        }
        // History names every build argument in scope with the value the command sees ("" when it has none).
        std::vector<std::string> arg_env;
        for (auto& [k, v] : args.args) arg_env.push_back(k + "=" + oci::GetEnvIn(st.run_env, k).value_or(v.value_or("")));
        op.cwd = st.config.config.working_dir.empty() ? "/" : st.config.config.working_dir;
        op.user = st.config.config.user;
        std::string cmdline = JoinWords(op.args);
        st.vertex = def_.graph.Add(op, inputs, step + "RUN " + flags_label + (in.json_form ? GoSlice(in.json_args) : in.args),
                                   Location(in));
        describe(i);
        std::string prefix = arg_env.empty() ? "" : "|" + std::to_string(arg_env.size()) + " " + JoinWords(arg_env) + " ";
        add_history("RUN " + prefix + cmdline, st.vertex);
      } else if (kw == "copy") {
        KILN_TRY(check_flags(in, {"from", "chown", "chmod"}));
        if (!in.heredocs.empty()) return Error(in, "COPY from a heredoc is not supported yet");
        std::vector<std::string> params;
        if (in.json_form) {
          for (auto& a : in.json_args) {
            KILN_ASSIGN(std::string v, expand(in, a));
            params.push_back(v);
          }
        } else {
          KILN_ASSIGN(params, expand_words(in, in.args));
        }
        if (params.size() < 2) return Error(in, "COPY requires at least two arguments");
        graph::CopyAction c;
        c.sources.assign(params.begin(), params.end() - 1);
        std::string dest = params.back();
        if (c.sources.size() > 1 && (dest.empty() || dest.back() != '/')) {
          return Error(in, "when using COPY with more than one source file, the destination must be a directory "
                           "and end with a /");
        }
        c.dest = AbsoluteDest(dest, st.config.config.working_dir);
        if (auto chown = FlagValue(in, "chown")) {
          KILN_ASSIGN(c.chown, expand(in, *chown));
        }
        if (auto chmod = FlagValue(in, "chmod")) {
          KILN_ASSIGN(std::string m, expand(in, *chmod));
          char* end = nullptr;
          unsigned long mode = strtoul(m.c_str(), &end, 8);
          if (m.empty() || *end || mode > 07777) return Error(in, "invalid --chmod value \"" + m + "\" (octal, e.g. 0755)");
          c.chmod = uint32_t(mode);
        }
        size_t source;
        std::string source_label;
        if (auto from_flag = FlagValue(in, "from")) {
          KILN_ASSIGN(std::string ref, expand(in, *from_flag));
          KILN_ASSIGN(source, FromVertex(in, "COPY --from=", ref, index));
          source_label = "--from=" + ref + " ";
        } else {
          source = ContextVertex();
          c.reset_owner = true;
        }
        graph::FileOp op;
        op.actions.push_back(c);
        st.vertex = def_.graph.Add(op, {st.vertex, source}, step + "COPY " + source_label + JoinWords(params),
                                   Location(in));
        describe(i);
        add_history("COPY " + JoinWords(params), st.vertex);
      } else if (kw == "workdir") {
        KILN_TRY(check_flags(in, {}));
        KILN_ASSIGN(std::string wd, expand(in, in.args));
        std::string cur = st.config.config.working_dir.empty() ? "/" : st.config.config.working_dir;
        wd = CleanPath(wd[0] == '/' ? wd : JoinPath(cur, wd));
        st.config.config.working_dir = wd;
        graph::FileOp op;
        op.actions.push_back(graph::MkdirAction{wd, st.config.config.user});
        st.vertex = def_.graph.Add(op, {st.vertex}, step + "WORKDIR " + wd, Location(in));
        describe(i);
        add_history("WORKDIR " + wd, st.vertex, false);
      } else if (kw == "user") {
        KILN_TRY(check_flags(in, {}));
        KILN_ASSIGN(std::string user, expand(in, in.args));
        st.config.config.user = user;
        add_history("USER " + user, std::nullopt);
      } else if (kw == "cmd" || kw == "entrypoint") {
        KILN_TRY(check_flags(in, {}));
        std::vector<std::string> cmd;
        if (in.json_form) {
          cmd = in.json_args;
        } else {
          cmd = shell();
          cmd.push_back(in.args);
        }
        if (kw == "cmd") {
          st.config.config.cmd = cmd;
          st.config.config.args_escaped = true;
          st.cmd_set = true;
        } else {
          st.config.config.entrypoint = cmd;
          if (!st.cmd_set) st.config.config.cmd.reset();  // an inherited CMD does not survive a new ENTRYPOINT
        }
        add_history(Upper(kw) + " " + GoQuotedSlice(cmd), std::nullopt);
      } else if (kw == "expose") {
        KILN_TRY(check_flags(in, {}));
        KILN_ASSIGN(auto ports, expand_words(in, in.args));
        std::set<std::string> these;  // BuildKit prints a Go map: keys sorted, each once
        for (auto p : ports) {
          if (p.find('/') == std::string::npos) p += "/tcp";
          if (std::find(st.config.config.exposed_ports.begin(), st.config.config.exposed_ports.end(), p) ==
              st.config.config.exposed_ports.end()) {
            st.config.config.exposed_ports.push_back(p);
          }
          these.insert(p);
        }
        std::sort(st.config.config.exposed_ports.begin(), st.config.config.exposed_ports.end());
        std::string desc;
        for (auto& p : these) desc += (desc.empty() ? "" : " ") + p + ":{}";
        add_history("EXPOSE map[" + desc + "]", std::nullopt);
      } else if (kw == "volume") {
        KILN_TRY(check_flags(in, {}));
        std::vector<std::string> vols;
        if (in.json_form) {
          for (auto& a : in.json_args) {
            KILN_ASSIGN(std::string v, expand(in, a));
            vols.push_back(v);
          }
        } else {
          KILN_ASSIGN(vols, expand_words(in, in.args));
        }
        for (auto& v : vols) {
          if (v.empty()) return Error(in, "VOLUME specified can not be an empty string");
          if (std::find(st.config.config.volumes.begin(), st.config.config.volumes.end(), v) ==
              st.config.config.volumes.end()) {
            st.config.config.volumes.push_back(v);
          }
        }
        add_history("VOLUME " + GoSlice(vols), std::nullopt);
      } else if (kw == "stopsignal") {
        KILN_TRY(check_flags(in, {}));
        KILN_ASSIGN(std::string sig, expand(in, in.args));
        st.config.config.stop_signal = sig;
        add_history("STOPSIGNAL " + sig, std::nullopt);
      } else if (kw == "shell") {
        KILN_TRY(check_flags(in, {}));
        if (!in.json_form || in.json_args.empty()) return Error(in, "SHELL requires the arguments in JSON form");
        st.config.config.shell = in.json_args;
        add_history("SHELL " + GoSlice(in.json_args), std::nullopt);
      } else if (kw == "maintainer") {
        KILN_ASSIGN(std::string m, expand(in, in.args));
        st.config.author = m;
        add_history("MAINTAINER " + m, std::nullopt);
      } else if (kw == "onbuild") {
        std::string trigger = in.args;
        std::string first = AsciiLower(trigger.substr(0, trigger.find_first_of(" \t")));
        if (first == "onbuild" || first == "from" || first == "maintainer") {
          return Error(in, Upper(first) + " isn't allowed as an ONBUILD trigger");
        }
        st.config.config.on_build.push_back(trigger);  // BuildKit writes no history for ONBUILD
      } else {
        return Error(in, Upper(kw) + " is not supported yet");
      }
    }
    st.lowered = true;
    states_[index] = std::move(st);
    in_progress_.erase(index);
    return Status::Ok();
  }

  static std::string Upper(std::string s) {
    for (auto& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }

  static std::string AbsoluteDest(const std::string& dest, const std::string& workdir) {
    bool dir = !dest.empty() && (dest.back() == '/' || dest == "." ||
                                     (dest.size() >= 2 && dest.substr(dest.size() - 2) == "/."));
    std::string abs = dest[0] == '/' ? dest : JoinPath(workdir.empty() ? "/" : workdir, dest);
    abs = CleanPath(abs);
    if (dir && abs != "/") abs += "/";
    return abs;
  }

  /// ENV/LABEL arguments: "k=v k2='v 2'" or the legacy "k v w" (one pair, the value is the rest).
  template <typename Expand>
  Result<std::vector<std::pair<std::string, std::string>>> KeyValues(const Instruction& in, Expand& expand) {
    std::vector<std::pair<std::string, std::string>> out;
    auto words = SplitWords(in.args, df_.escape);
    if (words.empty()) return Error(in, Upper(in.keyword) + " requires at least one argument");
    if (words[0].find('=') == std::string::npos) {
      if (words.size() < 2) return Error(in, Upper(in.keyword) + " must have two arguments");
      std::string rest = in.args.substr(in.args.find(words[0]) + words[0].size());
      size_t b = rest.find_first_not_of(" \t");
      KILN_ASSIGN(std::string key, expand(in, words[0]));
      KILN_ASSIGN(std::string value, expand(in, rest.substr(b)));
      out.emplace_back(key, value);
      return out;
    }
    for (auto& w : words) {
      size_t eq = w.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Error(in, "syntax error - can't find = in \"" + w + "\". Must be of the form: name=value");
      }
      KILN_ASSIGN(std::string key, expand(in, w.substr(0, eq)));
      KILN_ASSIGN(std::string value, expand(in, w.substr(eq + 1)));
      out.emplace_back(key, value);
    }
    return out;
  }

  /// The vertex a --from (of COPY, or of a RUN mount) names: a stage defined before this one's instruction, or
  /// else an image.
  Result<size_t> FromVertex(const Instruction& in, const std::string& what, const std::string& ref, size_t index) {
    if (auto dep = FindStage(ref, index)) {
      KILN_TRY(LowerStage(*dep));
      return states_[*dep].vertex;
    }
    if (FindStage(ref, stages_.size())) return Error(in, what + ref + " refers to a stage that is not defined before it");
    if (!o_.resolve) return Error(in, "no image resolver");
    auto img = o_.resolve(ref);
    if (!img.ok()) return Error(in, what + ref + ": " + img.status().message());
    return def_.graph.Add(graph::ImageSource{ref, img->manifest_digest}, {}, "[internal] image " + ref);
  }

  size_t ContextVertex() {
    return def_.graph.Add(graph::LocalSource{"context", o_.context_dir, o_.exclude_patterns}, {},
                          "[internal] load build context");
  }

  const Dockerfile& df_;
  const ConvertOptions& o_;
  ShellLex lex_;
  BuildDefinition def_;
  ArgScope global_;
  std::vector<Stage> stages_;
  std::vector<StageState> states_;
  std::set<size_t> in_progress_;
  std::set<std::string> used_args_;
};

}  // namespace

Result<BuildDefinition> Convert(const Dockerfile& df, const ConvertOptions& options) {
  Converter c(df, options);
  return c.Run();
}

}  // namespace kiln::dockerfile
