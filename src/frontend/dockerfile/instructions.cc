// Each Dockerfile instruction after FROM, lowered by its own function: the table in StageLowering::Handlers.
#include <algorithm>

#include "base/file_mode.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/text.h"
#include "frontend/dockerfile/history_format.h"
#include "frontend/dockerfile/lowering.h"
#include "frontend/dockerfile/mounts.h"
#include "frontend/dockerfile/sources.h"

namespace kiln::dockerfile::internal {

StageLowering::StageLowering(Converter& c, size_t index, StageState& st)
    : c_(c), index_(index), stage_(c.stage(index)), st_(st),
      name_(stage_.name.empty() ? "stage-" + std::to_string(index) : stage_.name),
      label_((c.options().name_platform ? st.platform.ToString() + " " : "") + name_) {}

const std::map<std::string, StageLowering::Handler>& StageLowering::Handlers() {
  static const std::map<std::string, Handler> table = {
      {"arg", &StageLowering::Arg},
      {"env", &StageLowering::EnvOrLabel},
      {"label", &StageLowering::EnvOrLabel},
      {"run", &StageLowering::Run},
      {"copy", &StageLowering::Copy},
      {"add", &StageLowering::Copy},
      {"workdir", &StageLowering::Workdir},
      {"user", &StageLowering::User},
      {"cmd", &StageLowering::CmdOrEntrypoint},
      {"entrypoint", &StageLowering::CmdOrEntrypoint},
      {"expose", &StageLowering::Expose},
      {"volume", &StageLowering::Volume},
      {"stopsignal", &StageLowering::StopSignal},
      {"shell", &StageLowering::Shell},
      {"maintainer", &StageLowering::Maintainer},
      {"onbuild", &StageLowering::OnBuild},
      {"healthcheck", &StageLowering::Healthcheck},
  };
  return table;
}

Status StageLowering::Lower(const std::vector<std::string>& triggers, const std::string& base) {
  if (!triggers.empty()) {
    std::string text;
    for (auto& t : triggers) text += t + "\n";
    auto parsed = Parse(text, c_.df().path + " (ONBUILD triggers of " + base + ")");
    if (!parsed.ok()) return Status::Error(parsed.status().message());
    for (size_t i = 0; i < parsed->instructions.size(); i++) {
      const Instruction& in = parsed->instructions[i];
      const std::string kw = in.keyword;
      if (kw == "onbuild" || kw == "from" || kw == "maintainer") {
        return c_.Error(*stage_.from, AsciiUpper(kw) + " isn't allowed as an ONBUILD trigger (in " + base + ")");
      }
      place_ = "onbuild " + std::to_string(i);
      step_ = "[" + label_ + " ONBUILD " + std::to_string(i + 1) + "/" + std::to_string(parsed->instructions.size()) + "] ";
      auto handler = Handlers().find(kw);
      if (handler == Handlers().end()) return c_.Error(*stage_.from, AsciiUpper(kw) + " is not supported yet (ONBUILD of " + base + ")");
      trigger_of_ = base;
      KILN_TRY((this->*handler->second)(in));
      ReportUndefined(in);
    }
    trigger_of_.clear();
  }
  // The FROM is step 1, unless it is scratch (nothing to fetch: no step).
  const size_t from_steps = st_.from_scratch ? 0 : 1;
  size_t total = stage_.end - stage_.first + from_steps;
  for (size_t i = stage_.first; i < stage_.end; i++) {
    const Instruction& in = c_.df().instructions[i];
    place_ = std::to_string(i - stage_.first);
    step_ = "[" + label_ + " " + std::to_string(i - stage_.first + 1 + from_steps) + "/" + std::to_string(total) + "] ";
    auto handler = Handlers().find(in.keyword);
    if (handler == Handlers().end()) return Error(in, AsciiUpper(in.keyword) + " is not supported yet");
    KILN_TRY((this->*handler->second)(in));
    ReportUndefined(in);
  }
  return Status::Ok();
}

// Helpers.

std::optional<std::string> StageLowering::LookupVar(const std::string& name) {
  auto v = oci::GetEnvIn(st_.run_env, name);
  if (!v) unmatched_.insert(name);
  return v;
}

void StageLowering::ReportUndefined(const Instruction& in) {
  std::set<std::string> names = std::move(unmatched_);
  unmatched_.clear();
  if (!trigger_of_.empty()) return;  // a trigger's text is the base image's, not this Dockerfile's
  std::vector<std::string> defined;
  for (auto& e : st_.run_env) defined.push_back(e.substr(0, e.find('=')));
  for (auto& name : names) {
    if (st_.args.Find(name)) continue;  // a declared ARG, even without a value
    std::string closest = SuggestClosest(name, defined);
    c_.AddFinding("UndefinedVar", in, "Usage of undefined variable '$" + name + "'" +
                                          (closest.empty() ? "" : " (did you mean $" + closest + "?)"));
  }
}

Status StageLowering::Error(const Instruction& in, const std::string& msg, int column) const {
  // A trigger's line is in the base image's config, not in this Dockerfile: name the FROM that brought it.
  if (!trigger_of_.empty()) return c_.Error(*stage_.from, "ONBUILD " + in.original + " (from " + trigger_of_ + "): " + msg);
  return c_.Error(in, msg, column);
}

Result<std::string> StageLowering::Expand(const Instruction& in, const std::string& word) {
  // Every ARG with a value is in run_env, so it alone answers what a word may name.
  auto r = c_.lex().ProcessWord(word, [&](const std::string& n) { return LookupVar(n); });
  if (!r.ok()) return Error(in, r.status().message());
  return r;
}

Result<std::vector<std::string>> StageLowering::ExpandWords(const Instruction& in, const std::string& text) {
  auto r = c_.lex().ProcessWords(text, [&](const std::string& n) { return LookupVar(n); });
  if (!r.ok()) return Error(in, r.status().message());
  return r;
}

Result<std::vector<std::string>> StageLowering::ExpandArgs(const Instruction& in) {
  if (!in.json_form) return ExpandWords(in, in.args);
  std::vector<std::string> out;
  for (auto& a : in.json_args) {
    KILN_ASSIGN(std::string v, Expand(in, a));
    out.push_back(v);
  }
  return out;
}

Status StageLowering::CheckFlags(const Instruction& in, const std::vector<std::string>& allowed) const {
  for (auto& f : in.flags) {
    if (std::find(allowed.begin(), allowed.end(), f.name) != allowed.end()) continue;
    std::string closest = SuggestClosest(f.name, allowed);
    return Error(in, "unknown flag: --" + f.name + (closest.empty() ? "" : " (did you mean " + closest + "?)"), f.column);
  }
  return Status::Ok();
}

void StageLowering::AddHistory(const std::string& created_by, std::optional<size_t> vertex, bool ran) {
  oci::HistoryEntry e;
  e.created = c_.Time();
  e.created_by = created_by + (vertex && ran ? " # buildkit" : "");
  e.comment = "buildkit.dockerfile.v0";
  e.empty_layer = !vertex;
  st_.history.push_back({e, vertex});
}

std::vector<std::string> StageLowering::ShellArgs() const {
  if (!st_.config.config.shell.empty()) return st_.config.config.shell;
  if (st_.platform.os == "windows") return {"cmd", "/S", "/C"};  // as BuildKit's default shell for Windows
  return {"/bin/sh", "-c"};
}

std::string StageLowering::WorkingDir() const {
  return st_.config.config.working_dir.empty() ? "/" : st_.config.config.working_dir;
}

void StageLowering::AddStep(graph::Op op, std::vector<size_t> inputs, const std::string& name, const Instruction& in) {
  st_.vertex = c_.graph().Add(std::move(op), std::move(inputs), step_ + name,
                              c_.Location(trigger_of_.empty() ? in : *stage_.from));
  // The step's place (for `kiln explain`) and the build arguments in its scope.
  std::vector<std::string> names;
  for (auto& [arg, value] : st_.args.args) names.push_back(arg);
  c_.graph().Describe(st_.vertex, c_.options().context_dir + "\n" + c_.df().path + "\n" + label_ + "\n" +
                                      place_, std::move(names));
}

Result<std::vector<std::pair<std::string, std::string>>> StageLowering::KeyValues(const Instruction& in) {
  std::vector<std::pair<std::string, std::string>> out;
  // The parser has checked the shape (CheckNameValues): "KEY name value", or name=value words.
  auto words = SplitWords(in.args, c_.df().escape);
  if (words.empty()) return Error(in, AsciiUpper(in.keyword) + " requires at least one argument");
  if (words[0].find('=') == std::string::npos) {
    std::string rest = in.args.substr(in.args.find(words[0]) + words[0].size());
    size_t b = rest.find_first_not_of(" \t");
    KILN_ASSIGN(std::string key, Expand(in, words[0]));
    KILN_ASSIGN(std::string value, Expand(in, rest.substr(b)));
    out.emplace_back(key, value);
    return out;
  }
  for (auto& w : words) {
    size_t eq = w.find('=');
    KILN_ASSIGN(std::string key, Expand(in, w.substr(0, eq)));
    KILN_ASSIGN(std::string value, Expand(in, w.substr(eq + 1)));
    out.emplace_back(key, value);
  }
  return out;
}

namespace {

/// `text` with each use of variable `name` ($name, ${name}) shown as "****": the step's name says where a secret's
/// value goes without looking like a value of its own (as BuildKit's withSecretEnvMask).
std::string MaskVariable(const std::string& text, const std::string& name) {
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '$' && text.compare(i + 1, name.size(), name) == 0 &&
        (i + 1 + name.size() == text.size() || !ident(text[i + 1 + name.size()]))) {
      out += "****";
      i += 1 + name.size();
    } else if (text.compare(i, name.size() + 3, "${" + name + "}") == 0) {
      out += "****";
      i += name.size() + 3;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::string AbsoluteDest(const std::string& dest, const std::string& workdir) {
  // As BuildKit: "" (an empty variable) is the working directory, as "." is: a directory, whatever is there.
  bool dir = dest.empty() || dest.back() == '/' || dest == "." ||
             (dest.size() >= 2 && dest.substr(dest.size() - 2) == "/.");
  std::string abs = !dest.empty() && dest[0] == '/' ? dest : JoinPath(workdir.empty() ? "/" : workdir, dest);
  abs = CleanPath(abs);
  if (dir && abs != "/") abs += "/";
  return abs;
}

int ParsePortNumber(const std::string& text) {
  return int(ParseDecimal(text, 65535).value_or(-1));
}

/// The heredoc of a RUN whose whole command is one heredoc ("RUN <<EOF"), else null.
const Heredoc* SoleHeredoc(const Instruction& in) {
  if (in.heredocs.size() != 1) return nullptr;
  const Heredoc& h = in.heredocs[0];
  std::string args = in.args;
  args.erase(0, args.find_first_not_of(" \t"));
  args.erase(args.find_last_not_of(" \t") + 1);
  std::string dash = h.strip_tabs ? "-" : "";
  for (std::string quote : {"", "'", "\""})
    if (args == "<<" + dash + quote + h.name + quote) return &h;
  return nullptr;
}

}  // namespace

Result<std::vector<std::string>> ParsePort(const std::string& raw) {
  // [ip:][host-port:]container-port[-end][/proto], as BuildKit's EXPOSE reads it; only the container side counts.
  std::string container = raw.substr(raw.rfind(':') == std::string::npos ? 0 : raw.rfind(':') + 1);
  std::string port = container.substr(0, container.find('/'));
  std::string proto = container.find('/') == std::string::npos ? "" : container.substr(container.find('/') + 1);
  std::string lower = AsciiLower(proto);
  if (port.empty()) return Status::Error("invalid port: \"" + raw + "\": no port specified");
  if (lower.empty()) {
    lower = "tcp";
  } else if (lower != "tcp" && lower != "udp" && lower != "sctp") {
    return Status::Error("invalid port: \"" + raw + "\": invalid proto: " + proto);
  }
  std::string start_text = port.substr(0, port.find('-'));
  std::string end_text = port.find('-') == std::string::npos ? start_text : port.substr(port.find('-') + 1);
  int start = ParsePortNumber(start_text), end = ParsePortNumber(end_text);
  if (start < 0 || end < 0) return Status::Error("invalid containerPort: " + port);
  if (end < start) return Status::Error("invalid port range: " + port);
  std::vector<std::string> out;
  for (int p = start; p <= end; p++) out.push_back(std::to_string(p) + "/" + lower);
  return out;
}

// The instructions.

Status StageLowering::Arg(const Instruction& in) {
  KILN_TRY(CheckFlags(in, {}));
  ArgScope declared;
  KILN_TRY(c_.DeclareArgs(in, st_.args, [&](const std::string& n) { return LookupVar(n); }, st_.outline,
                          &c_.global_args(), &declared));
  std::string desc;  // as BuildKit's history shows them: NAME=value (the value in effect), or NAME
  for (auto& [name, value] : declared.args) {
    if (value) oci::SetEnvIn(st_.run_env, name, *value);
    desc += (desc.empty() ? "" : " ") + name + (value ? "=" + *value : "");
  }
  AddHistory("ARG " + desc, std::nullopt);
  return Status::Ok();
}

Status StageLowering::EnvOrLabel(const Instruction& in) {
  KILN_TRY(CheckFlags(in, {}));
  KILN_ASSIGN(auto pairs, KeyValues(in));
  std::string desc;
  for (auto& [k, v] : pairs) {
    if (in.keyword == "env") {
      st_.config.config.SetEnv(k, v);
      oci::SetEnvIn(st_.run_env, k, v);
    } else {
      st_.config.config.labels[k] = v;
    }
    desc += (desc.empty() ? "" : " ") + k + "=" + v;
  }
  AddHistory(AsciiUpper(in.keyword) + " " + desc, std::nullopt);
  return Status::Ok();
}

Status StageLowering::Run(const Instruction& in) {
  KILN_TRY(CheckFlags(in, {"mount", "network", "security", "device"}));
  graph::ExecOp op;
  for (auto& f : in.flags) {
    if (f.name != "device") continue;
    // NAME[,required[=true|false]], as BuildKit reads --device.
    std::vector<std::string> fields = SplitString(f.value, ',');
    graph::DeviceRequest d;
    d.name = fields.empty() ? "" : fields[0];
    if (d.name.empty()) return Error(in, "RUN --device needs a device name (vendor.com/class=name)", f.column);
    for (size_t i = 1; i < fields.size(); i++) {
      if (fields[i] == "required" || fields[i] == "required=true") {
        d.required = true;
      } else if (fields[i] != "required=false") {
        return Error(in, "RUN --device: unknown option \"" + fields[i] + "\" (required)", f.column);
      }
    }
    op.devices.push_back(d);
  }
  op.network = c_.options().network;
  op.platform = st_.platform.ToString();
  std::string flags_label;  // the step's name shows its flags, expanded, as BuildKit's does
  std::vector<size_t> inputs = {st_.vertex};
  std::string cwd = WorkingDir();
  int ssh_mounts = 0;
  for (auto& f : in.flags) {
    if (f.name == "mount") {
      if (Status written = CheckMountAsWritten(f.value); !written.ok()) {
        return Error(in, "--mount=" + f.value + ": " + written.message(), f.column);
      }
    }
    KILN_ASSIGN(std::string value, Expand(in, f.value));
    flags_label += "--" + f.name + "=" + value + " ";
    if (f.name != "mount") continue;
    auto parsed = ParseMount(value, cwd);
    if (!parsed.ok()) return Error(in, "--mount=" + f.value + ": " + parsed.status().message(), f.column);
    if (auto* secret = std::get_if<graph::SecretMount>(&parsed->mount)) {
      op.secrets.push_back(*secret);
      c_.AddOutlineMount(index_, true, secret->id, secret->required, in);
      continue;
    }
    auto& m = std::get<graph::ExecMount>(parsed->mount);
    if (m.type == graph::ExecMount::Type::kSsh) c_.AddOutlineMount(index_, false, m.id, m.required, in);
    // What a bind shows (the build context unless from=) and what seeds a cache (from=), as inputs.
    std::optional<size_t> source;
    if (m.type == graph::ExecMount::Type::kBind && parsed->from.empty()) source = c_.ContextVertex();
    if (!parsed->from.empty()) {
      KILN_ASSIGN(source, c_.FromVertex(in, "--mount from=", parsed->from, index_, st_.platform,
                                        "cannot mount from stage \"" + parsed->from + "\" to \"" + m.target +
                                            "\", stage needs to be defined before current command"));
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
    KILN_ASSIGN(std::string value, Expand(in, *sec));
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
    op.args = ShellArgs();
    if (const Heredoc* only = SoleHeredoc(in)) {
      // RUN <<EOF: the document is the script, as in BuildKit; with a shebang it is a file run by its interpreter.
      std::string content = ChompedContent(*only);
      if (content.rfind("#!", 0) == 0) {
        graph::FileOp make;
        make.actions.push_back(graph::MkfileAction{"/" + only->name, content, 0755});
        size_t scratch = c_.graph().Add(graph::ImageSource{"scratch", ""}, {}, "[internal] scratch");
        inputs.push_back(c_.graph().Add(make, {scratch}, "[internal] preparing inline document"));
        graph::ExecMount pipe;
        pipe.type = graph::ExecMount::Type::kBind;
        pipe.target = "/dev/pipes";
        pipe.input = inputs.size() - 1;
        pipe.source = "/";
        op.mounts.push_back(pipe);
        op.args.push_back("/dev/pipes/" + only->name);
      } else {
        op.args.push_back(content);
      }
    } else {
      op.args.push_back(script);
    }
  }
  op.env = st_.run_env;
  op.container = c_.options().container;
  if (auto it = c_.options().build_args.find("BUILDKIT_SANDBOX_HOSTNAME"); it != c_.options().build_args.end()) {
    op.hostname = it->second;  // as BuildKit: the containers of RUN steps have this name
  }
  for (auto& [name, value] : c_.options().build_args) {
    // The proxy build arguments reach every RUN without ARG, in both cases, and stay out of its key (BuildKit's
    // proxyEnvFromBuildArgs).
    for (const char* proxy : {"HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY"}) {
      if (AsciiUpper(name) != proxy) continue;
      op.proxy_env.push_back(std::string(proxy) + "=" + value);
      op.proxy_env.push_back(AsciiLower(proxy) + "=" + value);
    }
  }
  if (!oci::GetEnvIn(op.env, "PATH")) op.env.insert(op.env.begin(), std::string("PATH=") + kDefaultPath);
  // The first ssh socket is the agent the step's ssh and git use, unless the Dockerfile says otherwise.
  for (auto& m : op.mounts) {
    if (m.type != graph::ExecMount::Type::kSsh) continue;
    if (!oci::GetEnvIn(op.env, "SSH_AUTH_SOCK")) op.env.push_back("SSH_AUTH_SOCK=" + m.target);
    break;
  }
  // History names every build argument in scope with the value the command sees ("" when it has none).
  std::vector<std::string> arg_env;
  for (auto& [k, v] : st_.args.args) arg_env.push_back(k + "=" + oci::GetEnvIn(st_.run_env, k).value_or(v.value_or("")));
  op.cwd = WorkingDir();
  op.user = st_.config.config.user;
  std::string cmdline = JoinWords(op.args);
  std::string shown = in.json_form ? GoSlice(in.json_args) : in.args;
  for (auto& secret : op.secrets) {
    if (!secret.env.empty()) shown = MaskVariable(shown, secret.env);
  }
  AddStep(op, inputs, "RUN " + flags_label + shown, in);
  std::string prefix = arg_env.empty() ? "" : "|" + std::to_string(arg_env.size()) + " " + JoinWords(arg_env) + " ";
  AddHistory("RUN " + prefix + cmdline, st_.vertex);
  return Status::Ok();
}

Result<StageLowering::CopyFlags> StageLowering::ReadCopyFlags(const Instruction& in) {
  CopyFlags f;
  f.add = in.keyword == "add";
  f.keyword = f.add ? "ADD" : "COPY";
  KILN_TRY(f.add ? CheckFlags(in, {"exclude", "chown", "chmod", "link", "keep-git-dir", "checksum", "unpack"})
                 : CheckFlags(in, {"exclude", "parents", "chown", "from", "chmod", "link"}));
  if (auto chown = FlagValue(in, "chown")) {
    KILN_ASSIGN(f.base.chown, Expand(in, *chown));
  }
  if (auto chmod = FlagValue(in, "chmod")) {
    KILN_ASSIGN(f.chmod_text, Expand(in, *chmod));
    const std::string& m = f.chmod_text;
    char* end = nullptr;
    unsigned long mode = strtoul(m.c_str(), &end, 8);
    // As BuildKit's mode parser: what starts with a digit is an octal number, or no mode at all ("64a").
    bool numeric = !m.empty() && std::isdigit(static_cast<unsigned char>(m[0]));
    if (!m.empty() && !*end && mode <= 07777) {
      f.base.chmod = uint32_t(mode);
    } else if (numeric) {
      return Error(in, "invalid chmod parameter: '" + m + "'. it should be octal string and between 0 and 07777");
    } else {
      // A symbolic mode, as chmod(1) takes it, applied to each entry's own mode.
      auto symbolic = SymbolicMode::Parse(m);
      if (!symbolic.ok()) return Error(in, "--chmod=" + m + ": " + symbolic.status().message());
      f.base.chmod_symbolic = m;
    }
  }
  KILN_ASSIGN(f.unpack, BoolFlag(in, "unpack"));
  KILN_ASSIGN(f.keep_git_dir, BoolFlag(in, "keep-git-dir"));
  KILN_ASSIGN(std::optional<bool> parents, BoolFlag(in, "parents"));
  f.base.parents = parents.value_or(false);
  for (auto& flag : in.flags) {
    if (flag.name != "exclude") continue;
    KILN_ASSIGN(std::string pattern, Expand(in, flag.value));
    if (pattern.empty()) return Error(in, "--exclude needs a pattern", flag.column);
    f.base.exclude.push_back(pattern);
  }
  if (auto checksum = FlagValue(in, "checksum")) {
    KILN_ASSIGN(f.checksum, Expand(in, *checksum));
  }
  // --link makes the copy's layer on its own, then stacks it (BuildKit ignores it with --chmod).
  KILN_ASSIGN(std::optional<bool> link, BoolFlag(in, "link"));
  f.link = link.value_or(false) && f.chmod_text.empty();
  if (f.link && !f.base.chown.empty()) {
    std::string user = f.base.chown.substr(0, f.base.chown.find(':'));
    std::string group = f.base.chown.find(':') == std::string::npos ? "" : f.base.chown.substr(f.base.chown.find(':') + 1);
    auto numeric = [](const std::string& s) { return std::all_of(s.begin(), s.end(), ::isdigit); };
    if (!numeric(user) || !numeric(group)) {
      // The layer is made apart from the image, so there is no /etc/passwd to read (BuildKit: "invalid user index").
      auto chown_flag = std::find_if(in.flags.begin(), in.flags.end(), [](const Flag& x) { return x.name == "chown"; });
      return Error(in, f.keyword + " --link --chown=" + f.base.chown + ": a linked layer has no /etc/passwd or "
                       "/etc/group to look names up in; give numeric ids", chown_flag->column);
    }
  }
  for (auto& flag : in.flags) {
    KILN_ASSIGN(std::string value, Expand(in, flag.value));
    f.label += "--" + flag.name + (flag.has_value ? "=" + value : "") + " ";
  }
  return f;
}

Result<bool> StageLowering::AddRemoteSource(const Instruction& in, const CopyFlags& f, const std::string& src,
                                            graph::FileOp& op, std::vector<size_t>& inputs) {
  auto git = ParseGitRef(src);
  if (!git.ok()) return Error(in, src + ": " + git.status().message());
  graph::CopyAction copy = f.base;
  copy.reset_owner = true;
  if (*git) {
    const GitRef& ref = **git;
    if (!f.add) return Error(in, "source can't be a git ref for COPY");
    if (f.keep_git_dir && ref.keep_git_dir && *f.keep_git_dir != *ref.keep_git_dir) {
      return Error(in, "inconsistent keep-git-dir configuration");
    }
    if (!f.checksum.empty() && !ref.checksum.empty() && f.checksum != ref.checksum) {
      return Error(in, "checksum mismatch \"" + f.checksum + "\" != \"" + ref.checksum + "\"");
    }
    graph::GitSource source{ref.remote, ref.ref, ref.subdir, ref.keep_git_dir.value_or(f.keep_git_dir.value_or(false)),
                            f.checksum.empty() ? ref.checksum : f.checksum, ref.submodules};
    inputs.push_back(c_.graph().Add(source, {}, step_ + "ADD " + src + " (git fetch)"));
    copy.sources = {"/"};
  } else if (IsHttpUrl(src)) {
    if (!f.add) return Error(in, "source can't be a URL for COPY");
    if (!f.checksum.empty() && f.checksum.rfind("sha256:", 0) != 0) {
      return Error(in, "--checksum=" + f.checksum + ": only sha256 digests are supported (sha256:...)");
    }
    std::string filename = UrlFileName(src);
    inputs.push_back(c_.graph().Add(graph::HttpSource{src, filename, f.checksum}, {}, step_ + "ADD " + src + " (download)"));
    copy.sources = {filename};
    copy.unpack = f.unpack.value_or(false);  // downloads are not extracted unless asked, as in BuildKit
  } else {
    return false;
  }
  copy.source_input = inputs.size() - 1;
  op.actions.push_back(copy);
  return true;
}

Status StageLowering::Copy(const Instruction& in) {
  KILN_ASSIGN(CopyFlags f, ReadCopyFlags(in));
  KILN_ASSIGN(std::vector<std::string> params, ExpandArgs(in));
  if (params.size() < 2) return Error(in, f.keyword + " requires at least two arguments");
  std::string dest = params.back();
  f.base.dest = AbsoluteDest(dest, st_.config.config.working_dir);

  graph::FileOp op;
  std::vector<size_t> inputs = {st_.vertex};
  graph::CopyAction local = f.base;  // the paths of the context (or of --from), in one action
  local.unpack = f.add && f.unpack.value_or(true);
  std::vector<std::string> shown;  // BuildKit's history: the sources as written, the inline documents last
  std::vector<const Heredoc*> inline_docs;
  for (auto it = params.begin(); it != params.end() - 1; ++it) {
    const std::string& src = *it;
    // Sources that name a heredoc ("<<EOF", "<<-EOF") are files made from its text, as BuildKit's inline documents.
    if (src.rfind("<<", 0) == 0) {
      std::string name = src.substr(src.size() > 2 && src[2] == '-' ? 3 : 2);
      auto doc = std::find_if(in.heredocs.begin(), in.heredocs.end(), [&](const Heredoc& h) { return h.name == name; });
      if (doc != in.heredocs.end()) {
        inline_docs.push_back(&*doc);
        continue;
      }
    }
    shown.push_back(src);
    KILN_ASSIGN(bool remote, AddRemoteSource(in, f, src, op, inputs));
    if (remote) continue;
    if (!FlagValue(in, "from") && c_.IgnoredInContext(src)) {
      c_.AddFinding("CopyIgnoredFile", in, "Attempting to " + std::string(f.add ? "Add" : "Copy") + " file \"" + src +
                                               "\" that is excluded by .dockerignore");
    }
    local.sources.push_back(src);
  }
  if (!f.checksum.empty()) {
    if (params.size() != 2) return Error(in, "checksum can't be specified for multiple sources");
    if (op.actions.empty()) return Error(in, "checksum requires HTTP(S) or Git sources");
  }
  if (params.size() > 2 && (dest.empty() || dest.back() != '/')) {
    return Error(in, "when using " + f.keyword + " with more than one source file, the destination must be a "
                     "directory and end with a /");
  }
  if (auto from_flag = FlagValue(in, "from")) {
    // As BuildKit: --from is taken as written; a variable (or quoting) in it is refused, never expanded.
    auto plain = c_.lex().ProcessWord(*from_flag, [](const std::string&) { return std::optional<std::string>(); });
    if (!plain.ok() || *plain != *from_flag) {
      return Error(in, "variable expansion is not supported for --from, define a new stage with FROM using ARG from "
                       "global scope as a workaround");
    }
    const std::string& ref = *from_flag;
    if (!local.sources.empty()) {
      KILN_ASSIGN(size_t source, c_.FromVertex(in, "COPY --from=", ref, index_, st_.platform,
                                               "cannot copy from stage \"" + ref +
                                                   "\", it needs to be defined before current stage \"" + name_ + "\""));
      inputs.push_back(source);
      local.source_input = inputs.size() - 1;
    }
  } else {
    local.reset_owner = true;
    if (!local.sources.empty()) {
      inputs.push_back(c_.ContextVertex());
      local.source_input = inputs.size() - 1;
    }
  }
  if (!local.sources.empty()) op.actions.insert(op.actions.begin(), local);
  for (const Heredoc* doc : inline_docs) {
    std::string data = ChompedContent(*doc);
    if (doc->expand) {
      auto expanded = c_.lex().ProcessHeredoc(data, [&](const std::string& n) { return oci::GetEnvIn(st_.run_env, n); });
      if (!expanded.ok()) return Error(in, expanded.status().message());
      data = *expanded;
    }
    graph::FileOp make;
    make.actions.push_back(graph::MkfileAction{"/" + doc->name, data, 0644});
    size_t scratch = c_.graph().Add(graph::ImageSource{"scratch", ""}, {}, "[internal] scratch");
    inputs.push_back(c_.graph().Add(make, {scratch}, "[internal] preparing inline document"));
    graph::CopyAction from_doc = f.base;
    from_doc.source_input = inputs.size() - 1;
    from_doc.sources = {doc->name};
    from_doc.reset_owner = true;
    op.actions.push_back(from_doc);
    shown.push_back("<<" + doc->name);
  }
  const size_t parent = st_.vertex;
  if (f.link) inputs[0] = c_.graph().Add(graph::ImageSource{"scratch", ""}, {}, "[internal] scratch");
  AddStep(op, inputs, f.keyword + " " + f.label + JoinWords(params), in);
  if (f.link) {
    std::string place = place_;
    place_ += " link";  // the merge is a step of its own for `kiln explain`
    AddStep(graph::MergeOp{}, {parent, st_.vertex}, "LINK " + f.keyword + " " + f.label + JoinWords(params), in);
    place_ = place;
  }
  // BuildKit's history names --parents, --chown and --chmod (in that order, as given), then the sources and the
  // destination; --exclude it leaves out.
  std::string flags = std::string(f.base.parents ? "--parents " : "") +
                      (f.base.chown.empty() ? "" : "--chown=" + f.base.chown + " ") +
                      (f.chmod_text.empty() ? "" : "--chmod=" + f.chmod_text + " ");
  shown.push_back(dest);
  AddHistory(f.keyword + " " + flags + JoinWords(shown), st_.vertex);
  return Status::Ok();
}

Result<std::optional<bool>> StageLowering::BoolFlag(const Instruction& in, const std::string& name) {
  for (auto& f : in.flags) {
    if (f.name != name) continue;
    if (!f.has_value) return std::optional<bool>(true);
    KILN_ASSIGN(std::string v, Expand(in, f.value));
    std::string lower = AsciiLower(v);
    if (lower == "true" || lower == "1" || lower == "t") return std::optional<bool>(true);
    if (lower == "false" || lower == "0" || lower == "f") return std::optional<bool>(false);
    return Error(in, "expecting boolean value for flag " + name + ", not: " + v);
  }
  return std::optional<bool>();
}

Status StageLowering::Workdir(const Instruction& in) {
  KILN_TRY(CheckFlags(in, {}));
  KILN_ASSIGN(std::string wd, Expand(in, in.args));
  std::string cur = WorkingDir();
  wd = CleanPath(wd[0] == '/' ? wd : JoinPath(cur, wd));
  st_.config.config.working_dir = wd;
  if (wd == "/") {  // nothing to make: no step and no layer, as in BuildKit
    AddHistory("WORKDIR /", std::nullopt);
    return Status::Ok();
  }
  graph::FileOp op;
  op.actions.push_back(graph::MkdirAction{wd, st_.config.config.user});
  AddStep(op, {st_.vertex}, "WORKDIR " + wd, in);
  AddHistory("WORKDIR " + wd, st_.vertex, false);
  return Status::Ok();
}

Status StageLowering::User(const Instruction& in) {
  KILN_TRY(CheckFlags(in, {}));
  KILN_ASSIGN(std::string user, Expand(in, in.args));
  st_.config.config.user = user;
  AddHistory("USER " + user, std::nullopt);
  return Status::Ok();
}

Status StageLowering::CmdOrEntrypoint(const Instruction& in) {
  KILN_TRY(CheckFlags(in, {}));
  std::vector<std::string> cmd;
  if (in.json_form) {
    cmd = in.json_args;
  } else {
    cmd = ShellArgs();
    cmd.push_back(in.args);
  }
  if (in.keyword == "cmd") {
    st_.config.config.cmd = cmd;
    st_.config.config.args_escaped = true;
    st_.cmd_set = true;
  } else {
    st_.config.config.entrypoint = cmd;
    if (!st_.cmd_set) st_.config.config.cmd.reset();  // an inherited CMD does not survive a new ENTRYPOINT
  }
  AddHistory(AsciiUpper(in.keyword) + " " + GoQuotedSlice(cmd), std::nullopt);
  return Status::Ok();
}

Status StageLowering::Expose(const Instruction& in) {
  KILN_TRY(CheckFlags(in, {}));
  KILN_ASSIGN(auto expanded, ExpandWords(in, in.args));
  // As BuildKit's EXPOSE (shell words of the expansion): a variable holding "3000 4000/udp" is two ports.
  std::vector<std::string> words;
  for (auto& e : expanded) {
    for (auto& w : SplitWords(e, c_.df().escape)) words.push_back(w);
  }
  std::vector<std::string> ports;
  for (auto& w : words) {
    std::string container = w.substr(w.rfind(':') == std::string::npos ? 0 : w.rfind(':') + 1);
    std::string proto = container.find('/') == std::string::npos ? "" : container.substr(container.find('/') + 1);
    if (proto != AsciiLower(proto)) {
      c_.AddFinding("ExposeProtoCasing", in, "Defined protocol '" + w + "' in EXPOSE instruction should be lowercase");
    }
    if (w.find(':') != std::string::npos) {
      c_.AddFinding("ExposeInvalidFormat", in,
                    "EXPOSE instruction should not define an IP address or host-port mapping, found '" + w + "'");
    }
    auto parsed = ParsePort(w);
    if (!parsed.ok()) return Error(in, parsed.status().message());
    ports.insert(ports.end(), parsed->begin(), parsed->end());
  }
  auto& exposed = st_.config.config.exposed_ports;
  for (auto& p : ports)
    if (std::find(exposed.begin(), exposed.end(), p) == exposed.end()) exposed.push_back(p);
  std::sort(exposed.begin(), exposed.end());
  // As current BuildKit writes it (Dockerfile 1.26): the ports as given, each "port/proto" ([80/tcp 53/udp]).
  AddHistory("EXPOSE " + GoSlice(ports), std::nullopt);
  return Status::Ok();
}

Status StageLowering::Volume(const Instruction& in) {
  KILN_TRY(CheckFlags(in, {}));
  KILN_ASSIGN(std::vector<std::string> vols, ExpandArgs(in));
  for (auto& v : vols) {
    if (v.empty()) return Error(in, "VOLUME specified can not be an empty string");
    if (std::find(st_.config.config.volumes.begin(), st_.config.config.volumes.end(), v) ==
        st_.config.config.volumes.end()) {
      st_.config.config.volumes.push_back(v);
    }
  }
  AddHistory("VOLUME " + GoSlice(vols), std::nullopt);
  return Status::Ok();
}

Status StageLowering::StopSignal(const Instruction& in) {
  KILN_TRY(CheckFlags(in, {}));
  KILN_ASSIGN(std::string sig, Expand(in, in.args));
  st_.config.config.stop_signal = sig;
  AddHistory("STOPSIGNAL " + sig, std::nullopt);
  return Status::Ok();
}

Status StageLowering::Shell(const Instruction& in) {
  KILN_TRY(CheckFlags(in, {}));
  if (!in.json_form || in.json_args.empty()) return Error(in, "SHELL requires the arguments in JSON form");
  st_.config.config.shell = in.json_args;
  AddHistory("SHELL " + GoSlice(in.json_args), std::nullopt);
  return Status::Ok();
}

Status StageLowering::Maintainer(const Instruction& in) {
  KILN_ASSIGN(std::string m, Expand(in, in.args));
  st_.config.author = m;
  AddHistory("MAINTAINER " + m, std::nullopt);
  return Status::Ok();
}

Status StageLowering::OnBuild(const Instruction& in) {
  std::string trigger = in.args;
  std::string first = AsciiLower(trigger.substr(0, trigger.find_first_of(" \t")));
  if (first == "onbuild") return Error(in, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (first == "from" || first == "maintainer") {
    return Error(in, AsciiUpper(first) + " isn't allowed as an ONBUILD trigger");
  }
  // As BuildKit: the trigger keeps its here-documents, each followed by its terminator, for the parser to read again.
  for (auto& h : in.heredocs) trigger += "\n" + h.content + h.name;
  st_.config.config.on_build.push_back(trigger);  // BuildKit writes no history for ONBUILD
  return Status::Ok();
}

Status StageLowering::Healthcheck(const Instruction& in) {
  // HEALTHCHECK [OPTIONS] CMD command | HEALTHCHECK NONE: the options come before the type.
  std::string text = in.args;
  size_t b = text.find_first_not_of(" \t");
  if (b == std::string::npos) return Error(in, "HEALTHCHECK requires at least one argument");
  size_t e = text.find_first_of(" \t", b);
  std::string type = AsciiUpper(text.substr(b, e == std::string::npos ? std::string::npos : e - b));
  std::string rest = e == std::string::npos ? "" : text.substr(e);
  rest.erase(0, std::min(rest.size(), rest.find_first_not_of(" \t")));
  oci::Healthcheck h;
  if (type == "NONE") {
    if (!rest.empty() || !in.flags.empty()) return Error(in, "HEALTHCHECK NONE takes no arguments");
    h.test = {"NONE"};
  } else if (type == "CMD") {
    KILN_TRY(CheckFlags(in, {"interval", "timeout", "start-period", "start-interval", "retries"}));
    // As BuildKit's parser: the command is a JSON array of strings, or else the rest of the line for a shell.
    auto json = ParseJson(rest);
    if (!rest.empty() && rest[0] == '[' && json.ok() && json->is_array() &&
        std::all_of(json->begin(), json->end(), [](const Json& x) { return x.is_string(); })) {
      h.test = {"CMD"};
      for (auto& x : *json) h.test.push_back(x.get<std::string>());
      if (h.test.size() == 1) return Error(in, "Missing command after HEALTHCHECK CMD");
    } else {
      if (rest.empty()) return Error(in, "Missing command after HEALTHCHECK CMD");
      h.test = {"CMD-SHELL", rest};
    }
    auto interval = [&](const char* name, int64_t& out) -> Status {
      auto v = FlagValue(in, name);
      if (!v || v->empty()) return Status::Ok();
      auto d = ParseGoDuration(*v);
      if (!d) return Error(in, "time: invalid duration \"" + *v + "\" (--" + name + ")");
      if (*d != 0 && *d < 1000000) return Error(in, std::string("Interval \"") + name + "\" cannot be less than 1ms");
      out = *d;
      return Status::Ok();
    };
    KILN_TRY(interval("interval", h.interval));
    KILN_TRY(interval("timeout", h.timeout));
    KILN_TRY(interval("start-period", h.start_period));
    KILN_TRY(interval("start-interval", h.start_interval));
    if (auto r = FlagValue(in, "retries"); r && !r->empty()) {
      char* end = nullptr;
      errno = 0;
      long long retries = strtoll(r->c_str(), &end, 10);
      if (*end || errno || retries > INT32_MAX || retries < INT32_MIN) {
        return Error(in, "--retries: invalid number \"" + *r + "\"");
      }
      if (retries < 0) return Error(in, "--retries cannot be negative (" + *r + ")");
      h.retries = int(retries);
    }
  } else {
    return Error(in, "Unknown type \"" + type + "\" in HEALTHCHECK (try CMD)");
  }
  st_.config.config.healthcheck = h;
  // Go's %q of the config, as BuildKit v0.24 writes it: &{["CMD-SHELL" "x"] "5m0s" "3s" "0s" "0s" '\x03'}.
  AddHistory("HEALTHCHECK &{" + GoQuotedSlice(h.test) + " " + GoQuoted(FormatGoDuration(h.interval)) + " " +
                 GoQuoted(FormatGoDuration(h.timeout)) + " " + GoQuoted(FormatGoDuration(h.start_period)) + " " +
                 GoQuoted(FormatGoDuration(h.start_interval)) + " " + GoQuotedRune(h.retries) + "}",
             std::nullopt);
  return Status::Ok();
}

}  // namespace kiln::dockerfile::internal
