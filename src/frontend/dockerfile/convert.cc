#include "frontend/dockerfile/convert.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>

#include "base/fs.h"
#include "base/text.h"
#include "frontend/dockerfile/lowering.h"
#include "oci/reference.h"

namespace kiln::dockerfile {
namespace internal {

std::optional<std::string>* ArgScope::Find(const std::string& name) {
  for (auto& [k, v] : args)
    if (k == name) return &v;
  return nullptr;
}

void ArgScope::Set(const std::string& name, std::optional<std::string> value) {
  if (auto* v = Find(name)) {
    *v = std::move(value);
  } else {
    args.emplace_back(name, std::move(value));
  }
}

Result<BuildDefinition> Converter::Run() {
  KILN_TRY(SplitStages());
  CheckStageBases();
  KILN_ASSIGN(size_t target, TargetStage());
  KILN_TRY(LowerStage(target));
  if (o_.all_stages)
    for (size_t i = 0; i < stages_.size(); i++) KILN_TRY(LowerStage(i));
  for (size_t i = 0; i < stages_.size(); i++) {
    if (!states_[i].lowered) continue;
    const Stage& s = stages_[i];
    int last = s.end > s.first ? df_.instructions[s.end - 1].end_line : s.from->end_line;
    def_.lowered_lines.push_back({s.from->line, last});
  }
  StageState& st = states_[target];
  def_.result = st.vertex;
  def_.base_vertex = st.base_vertex;
  def_.config = st.config;
  def_.config.created = Time();
  def_.history = st.history;
  def_.outline.name = stages_[target].name;
  def_.outline.description = DescriptionOf(*stages_[target].from, stages_[target].name);
  MakeOutline(target);
  FindSbomExtras(target);
  for (auto& [k, v] : o_.build_args)
    if (!used_args_.count(k) && !IsPredefined(k))
      def_.warnings.push_back("build argument " + k + " was not consumed by any ARG");
  return std::move(def_);
}

std::string Converter::Location(const Instruction& in) const { return df_.path + ":" + std::to_string(in.line); }

Status Converter::Error(const Instruction& in, const std::string& msg, int column) const {
  // The column of what is wrong when known (a flag), else of the instruction's arguments.
  int col = column ? column : in.args_column;
  return Status::Error(df_.path + ":" + std::to_string(in.line) + (col ? ":" + std::to_string(col) : "") + ": " + msg);
}

std::string Converter::Time() const { return o_.epoch ? oci::FormatTime(*o_.epoch) : ""; }

bool Converter::IsPredefined(const std::string& k) {
  static const std::set<std::string> names = {
      "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY",
      "no_proxy", "ALL_PROXY", "all_proxy", "SOURCE_DATE_EPOCH", "BUILDKIT_DOCKERFILE_CHECK",
      "BUILDKIT_SANDBOX_HOSTNAME", "BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"};
  return names.count(k) > 0;
}

std::map<std::string, std::string> Converter::PlatformArgs() const {
  oci::Platform host = oci::Platform::Host();
  const oci::Platform& t = o_.platform;
  return {{"TARGETPLATFORM", t.ToString()}, {"TARGETOS", t.os}, {"TARGETOSVERSION", t.os_version},
          {"TARGETARCH", t.architecture}, {"TARGETVARIANT", t.variant}, {"BUILDPLATFORM", host.ToString()},
          {"BUILDOS", host.os}, {"BUILDOSVERSION", host.os_version}, {"BUILDARCH", host.architecture},
          {"BUILDVARIANT", host.variant}};
}

Status Converter::SplitStages() {
  const auto& ins = df_.instructions;
  size_t i = 0;
  // Global scope: ARGs before the first FROM.
  auto platform_args = PlatformArgs();
  for (auto& [k, v] : platform_args) global_.Set(k, v);
  for (; i < ins.size() && ins[i].keyword != "from"; i++) {
    if (ins[i].keyword != "arg") return Error(ins[i], "no build stage in current context; " +
                                                               ins[i].keyword + " must come after FROM");
    KILN_TRY(DeclareArgs(ins[i], global_, [&](const std::string& n) { return LookupIn(global_, n); }, global_outline_));
  }
  if (i == ins.size()) return Status::Error(df_.path + ": dockerfile contains no stages to build (no FROM instruction)");
  while (i < ins.size()) {
    Stage s;
    s.from = &ins[i];
    std::vector<std::string> words = SplitWords(ins[i].args, df_.escape);
    if (words.size() == 3 && AsciiLower(words[1]) == "as") {
      s.name = AsciiLower(words[2]);
      if (s.name.empty() || !(std::isalpha(static_cast<unsigned char>(s.name[0])))) {
        return Error(ins[i], "invalid name for build stage: \"" + words[2] + "\"");
      }
    } else if (words.size() != 1) {
      return Error(ins[i], "FROM requires either one or three arguments (FROM image [AS name])");
    }
    s.first = ++i;
    while (i < ins.size() && ins[i].keyword != "from") i++;
    s.end = i;
    stages_.push_back(s);
  }
  states_.resize(stages_.size());
  // As BuildKit: the stage being built, for a stage that declares ARG TARGETSTAGE; "default" for an unnamed last one.
  const std::string& last = stages_.back().name;
  global_.Set("TARGETSTAGE", o_.target.empty() ? (last.empty() ? "default" : last) : AsciiLower(o_.target));
  return Status::Ok();
}

void Converter::CheckStageBases() {
  // The global ARGs with their defaults only, as if no --build-arg were given (InvalidDefaultArgInFrom).
  std::map<std::string, std::string> defaults = PlatformArgs();
  for (auto& in : df_.instructions) {
    if (in.keyword == "from") break;
    for (auto& word : SplitWords(in.args, df_.escape)) {
      size_t eq = word.find('=');
      std::string value;
      if (eq != std::string::npos) {
        auto v = lex_.ProcessWord(word.substr(eq + 1), [&](const std::string& n) -> std::optional<std::string> {
          auto it = defaults.find(n);
          return it == defaults.end() ? std::nullopt : std::optional<std::string>(it->second);
        });
        if (v.ok()) value = *v;
      }
      defaults[word.substr(0, eq)] = value;
    }
  }
  std::vector<std::string> keys;
  for (auto& [name, value] : global_.args) keys.push_back(name);
  for (auto& stage : stages_) {
    const Instruction& from = *stage.from;
    std::set<std::string> used, undeclared;
    auto lookup = [&](const std::string& n) -> std::optional<std::string> {
      used.insert(n);
      if (!global_.Find(n)) undeclared.insert(n);
      return LookupIn(global_, n);
    };
    std::string base = SplitWords(from.args, df_.escape).at(0);
    (void)lex_.ProcessWord(base, lookup);
    auto platform = FlagValue(from, "platform");
    std::set<std::string> base_used = used;
    used.clear();
    std::optional<std::string> platform_value;
    if (platform) {
      auto v = lex_.ProcessWord(*platform, lookup);
      if (v.ok()) platform_value = *v;
    }
    for (auto& name : undeclared) {
      std::string closest = SuggestClosest(name, keys);
      AddFinding("UndefinedArgInFrom", from, "FROM argument '" + name + "' is not declared" +
                                               (closest.empty() ? "" : " (did you mean " + closest + "?)"));
    }
    if (platform_value) {
      if (used.size() == 1 && used.count("TARGETPLATFORM") && *platform_value == o_.platform.ToString()) {
        AddFinding("RedundantTargetPlatform", from, "Setting platform to predefined " + *platform +
                                                        " in FROM is redundant as this is the default behavior");
      }
      auto parsed = oci::Platform::Parse(*platform_value);
      if (used.empty() && parsed.ok() && stage.name.find(parsed->os) == std::string::npos &&
          stage.name.find(parsed->architecture) == std::string::npos) {
        AddFinding("FromPlatformFlagConstDisallowed", from,
                   "FROM --platform flag should not use constant value \"" + *platform_value + "\"");
      }
    }
    // With the defaults alone, the base must still name an image (or a stage).
    if (!base_used.empty()) {
      auto with_defaults = lex_.ProcessWord(base, [&](const std::string& n) -> std::optional<std::string> {
        auto it = defaults.find(n);
        return it == defaults.end() ? std::nullopt : std::optional<std::string>(it->second);
      });
      if (!with_defaults.ok() || with_defaults->empty() || !oci::ParseReference(*with_defaults).ok()) {
        AddFinding("InvalidDefaultArgInFrom", from, "Default value for ARG " + base + " results in empty or invalid base image name");
      }
    }
  }
}

Result<size_t> Converter::TargetStage() const {
  if (o_.target.empty()) return stages_.size() - 1;
  for (size_t i = stages_.size(); i-- > 0;)
    if (stages_[i].name == AsciiLower(o_.target)) return i;
  std::vector<std::string> names;
  for (auto& st : stages_)
    if (!st.name.empty()) names.push_back(st.name);
  std::string closest = SuggestClosest(AsciiLower(o_.target), names);
  return Status::Error("target stage \"" + o_.target + "\" could not be found" +
                       (closest.empty() ? "" : " (did you mean " + closest + "?)") + " in " + df_.path);
}

std::optional<size_t> Converter::FindStage(const std::string& ref, size_t before) const {
  std::string l = AsciiLower(ref);
  // A name used twice means its last stage so far, as BuildKit's lookup (DuplicateStageName is only a warning).
  for (size_t i = before; i-- > 0;)
    if (!stages_[i].name.empty() && stages_[i].name == l) return i;
  if (auto n = ParseDecimal(l); n && *n < before) return size_t(*n);
  return std::nullopt;
}

std::optional<std::string> Converter::LookupIn(ArgScope& scope, const std::string& name) {
  if (auto* v = scope.Find(name)) return *v;
  return std::nullopt;
}

Status Converter::DeclareArgs(const Instruction& in, ArgScope& scope, const Lookup& lookup, OutlineArgs& outline,
                               ArgScope* global, ArgScope* declared) {
  for (auto& word : SplitWords(in.args, df_.escape)) {
    size_t eq = word.find('=');
    std::string name = word.substr(0, eq);
    if (name.empty()) return Error(in, "ARG requires a name: \"" + word + "\"");
    std::optional<std::string> value;
    std::set<std::string> deps;  // the arguments a default names that have a value (BuildKit's matches)
    bool inherited = false;      // a stage's ARG NAME that takes the global value: the outline keeps the global's
    if (auto it = o_.build_args.find(name); it != o_.build_args.end()) {
      // A value given on the command line replaces the default, which is then never evaluated (as BuildKit: a
      // default of ${X:?message} fails only when it is the value).
      value = it->second;
      used_args_.insert(name);
    } else if (eq != std::string::npos) {
      auto v = lex_.ProcessWord(word.substr(eq + 1), [&](const std::string& n) {
        auto found = lookup(n);
        if (found) deps.insert(n);
        return found;
      });
      if (!v.ok()) return Error(in, v.status().message());
      value = *v;
    } else if (global) {
      if (auto* g = global->Find(name)) value = *g;
      inherited = value.has_value();
    } else if (auto* existing = scope.Find(name)) {
      value = *existing;
    }
    if (global && !value) {
      auto platform_args = PlatformArgs();
      auto p = platform_args.find(name);
      if (p != platform_args.end()) value = p->second;
    }
    scope.Set(name, value);
    if (declared) declared->args.emplace_back(name, value);
    if (!inherited) {
      // A default that names the argument itself keeps what the earlier declaration depended on.
      if (deps.erase(name)) {
        if (auto old = outline.known.find(name); old != outline.known.end()) deps.insert(old->second.deps.begin(), old->second.deps.end());
      }
      outline.known[name] = {value.value_or(""), DescriptionOf(in, name), in.line, std::move(deps)};
    }
    if (global) outline.used.insert(name);  // every ARG of a stage built is in its outline
  }
  return Status::Ok();
}

Status Converter::LowerStage(size_t index) {
  if (states_[index].lowered) return Status::Ok();
  if (in_progress_.count(index)) return Error(*stages_[index].from, "circular dependency between stages");
  in_progress_.insert(index);
  const Stage& stage = stages_[index];
  const Instruction& from = *stage.from;
  StageState st;

  std::set<std::string> from_uses;  // the global arguments FROM names: in the outline
  auto global_lookup = [&](const std::string& n) {
    from_uses.insert(n);
    return LookupIn(global_, n);
  };
  std::vector<std::string> words = SplitWords(from.args, df_.escape);
  auto base_ref = lex_.ProcessWord(words[0], global_lookup);
  if (!base_ref.ok()) return Error(from, base_ref.status().message());
  if (base_ref->empty()) return Error(from, "base name (" + words[0] + ") should not be blank");
  for (auto& f : from.flags) {
    if (f.name == "platform") continue;
    std::string closest = SuggestClosest(f.name, {"platform"});
    return Error(from, "unknown flag: --" + f.name + (closest.empty() ? "" : " (did you mean " + closest + "?)"), f.column);
  }
  oci::Platform platform = o_.platform;
  bool platform_given = false;
  if (auto p = FlagValue(from, "platform")) {
    std::string hint;  // a variable the expression names but no ARG declares, as BuildKit suggests it
    auto expanded = lex_.ProcessWord(*p, [&](const std::string& n) -> std::optional<std::string> {
      if (!global_.Find(n) && hint.empty()) {
        std::vector<std::string> keys;
        for (auto& [name, value] : global_.args) keys.push_back(name);
        for (auto& [name, value] : PlatformArgs()) keys.push_back(name);
        std::string closest = SuggestClosest(n, keys);
        if (!closest.empty()) hint = " (did you mean " + closest + "?)";
      }
      return global_lookup(n);
    });
    if (!expanded.ok()) return Error(from, expanded.status().message());
    // BuildKit's words (and containerd's), so that what greps for them finds them.
    if (expanded->empty()) return Error(from, "empty platform value from expression " + *p + hint);
    for (const std::string& part : SplitString(*expanded, '/')) {
      bool valid = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
      });
      if (!valid && part.find('(') == std::string::npos) {  // "windows(10.0.17763)" is Parse's to judge
        return Error(from, "failed to parse platform " + *p + ": \"" + part + "\" is an invalid component of \"" + *expanded +
                               "\": platform specifier component must match \"^[A-Za-z0-9_.-]+$\": invalid argument" + hint);
      }
    }
    auto plat = oci::Platform::Parse(*expanded);
    if (!plat.ok()) return Error(from, "--platform: " + plat.status().message() + hint);
    platform = *plat;
    platform_given = true;
  }
  std::string stage_label = (o_.name_platform ? platform.ToString() + " " : "") +
                            (stage.name.empty() ? "stage-" + std::to_string(index) : stage.name);
  std::string from_name = "[" + stage_label + " 1/" + std::to_string(stage.end - stage.first + 1) + "] FROM ";

  // A named context of the stage's own name replaces the whole stage; one of its base's name, the base.
  const NamedContext* replaces_stage = stage.name.empty() ? nullptr : FindNamedContext(stage.name);
  const NamedContext* named_base = replaces_stage ? replaces_stage
                                   : FindStage(*base_ref, index) ? nullptr : FindNamedContext(*base_ref);
  std::string base_name = replaces_stage ? stage.name : *base_ref;
  bool from_stage = false;
  st.outline.known = global_outline_.known;
  if (named_base) {
    KILN_ASSIGN(st.vertex, NamedContextVertex(from, base_name, *named_base, from_name + base_name, platform));
    st.base_vertex = st.vertex;
    if (named_base->IsScratch()) {
      st.from_scratch = true;
      StartFromScratch(st, platform);
    } else if (named_base->kind == NamedContext::Kind::kImage) {
      auto img = o_.resolve(named_base->value, platform);
      if (!img.ok()) return Error(from, "build context " + base_name + ": " + img.status().message());
      StartFromImage(st, img->config);
    } else {
      StartFromScratch(st, platform);
    }
  } else if (auto dep = FindStage(*base_ref, index)) {
    KILN_TRY(LowerStage(*dep));
    const StageState& parent = states_[*dep];
    st.vertex = parent.vertex;
    st.base_vertex = parent.base_vertex;
    st.config = parent.config;
    st.history = parent.history;
    // The parent's build arguments stay declared, and in the environment of RUN steps, as in BuildKit.
    st.run_env = parent.run_env;
    st.args = parent.args;
    st.outline = parent.outline;  // as BuildKit clones its base stage's outline
    st.base_stage = *dep;
    if (!platform_given) platform = parent.platform;  // a stage built on another runs where it ran
    from_stage = true;
  } else if (AsciiLower(*base_ref) == "scratch") {
    st.vertex = def_.graph.Add(graph::ImageSource{"scratch", ""}, {}, "[internal] scratch");
    st.base_vertex = st.vertex;
    st.from_scratch = true;
    StartFromScratch(st, platform);
  } else {
    if (!o_.resolve) return Error(from, "no image resolver");
    auto img = o_.resolve(*base_ref, platform);
    if (!img.ok()) return Error(from, img.status().message());
    oci::Platform got = img->config.platform.Normalized();
    if (!got.architecture.empty() && (got.os != platform.os || got.architecture != platform.architecture)) {
      AddFinding("InvalidBaseImagePlatform", from, "Base image " + *base_ref + " was pulled with platform \"" +
                                                       got.ToString() + "\", expected \"" + platform.ToString() +
                                                       "\" for current build");
    }
    st.vertex = def_.graph.Add(graph::ImageSource{*base_ref, img->manifest_digest}, {}, from_name + *base_ref);
    st.base_vertex = st.vertex;
    StartFromImage(st, img->config);
  }
  st.outline.used.insert(from_uses.begin(), from_uses.end());
  st.cmd_set = false;
  st.platform = platform;
  // The image is for the platform its steps ran on, whatever its base says; a base of that OS and architecture
  // keeps its OS version unless the target names one, as in BuildKit.
  oci::Platform base = st.config.platform;
  st.config.platform = platform;
  if (platform.os_version.empty() && base.os == platform.os && base.architecture == platform.architecture) {
    st.config.platform.os_version = base.os_version;
  }
  if (!from_stage) st.run_env = st.config.config.env;
  // ONBUILD triggers of the base run first in this stage, as BuildKit runs them, and are not passed on: those of a
  // base image, and those a stage declared, when this one is built FROM it.
  std::vector<std::string> triggers = st.config.config.on_build;
  st.config.config.on_build.clear();
  states_[index] = std::move(st);
  if (!replaces_stage) KILN_TRY(StageLowering(*this, index, states_[index]).Lower(triggers, base_name));
  states_[index].lowered = true;
  if (!stage.name.empty() && o_.no_cache_stages.count(stage.name)) {
    // The stage's own steps, from its last back to its base (the chain of first inputs), run again.
    for (size_t v = states_[index].vertex; v != states_[index].base_vertex; v = def_.graph.at(v).inputs.at(0)) {
      def_.graph.IgnoreCache(v);
    }
  }
  in_progress_.erase(index);
  return Status::Ok();
}

void Converter::StartFromImage(StageState& st, const oci::ImageConfig& config) {
  st.config = config;
  st.config.created.clear();
  for (auto& h : st.config.history) st.history.push_back({h, std::nullopt});
  st.config.history.clear();
  st.config.diff_ids.clear();
}

void Converter::StartFromScratch(StageState& st, const oci::Platform& platform) {
  // BuildKit's empty image: PATH (none on Windows), and "/" as the working directory.
  if (platform.os != "windows") st.config.config.env = {std::string("PATH=") + kDefaultPath};
  st.config.config.working_dir = "/";
}

Result<size_t> Converter::FromVertex(const Instruction& in, const std::string& what, const std::string& ref, size_t index,
                                     const oci::Platform& platform, const std::string& later_stage) {
  if (auto dep = FindStage(ref, index)) {
    KILN_TRY(LowerStage(*dep));
    states_[index].read_stages.insert(*dep);
    return states_[*dep].vertex;
  }
  if (FindStage(ref, stages_.size())) return Error(in, later_stage);
  if (const NamedContext* nc = FindNamedContext(ref)) {
    if (nc->kind == NamedContext::Kind::kDirectory) {
      // COPY --from and bind mounts read a directory in place, as they read the build context.
      return def_.graph.Add(graph::LocalSource{NamedContextKey(ref), nc->value, nc->exclude_patterns}, {},
                            "[internal] load build context " + ref);
    }
    return NamedContextVertex(in, ref, *nc, "[internal] image " + nc->value, platform);
  }
  if (!o_.resolve) return Error(in, "no image resolver");
  auto img = o_.resolve(ref, platform);
  if (!img.ok()) return Error(in, what + ref + ": " + img.status().message());
  return def_.graph.Add(graph::ImageSource{ref, img->manifest_digest}, {}, "[internal] image " + ref);
}

bool Converter::ScanEnabled(size_t index, const std::string& arg) {
  std::optional<std::string> value;
  if (auto* g = global_.Find(arg)) value = *g;
  if (auto* own = states_[index].args.Find(arg); own && *own) value = *own;
  if (!value) return false;
  std::string v = AsciiLower(*value);
  if (v == "1" || v == "t" || v == "true") return true;
  if (v == "0" || v == "f" || v == "false") return false;
  std::string stage = stages_[index].name.empty() ? "stage-" + std::to_string(index) : stages_[index].name;
  for (auto& name : SplitString(*value, ','))
    if (name == stage) return true;
  return false;
}

void Converter::FindSbomExtras(size_t target) {
  if (ScanEnabled(target, "BUILDKIT_SBOM_SCAN_CONTEXT")) {
    def_.sbom_extras["context"] =
        def_.graph.Add(graph::LocalSource{"context", o_.context_dir, o_.exclude_patterns}, {}, "[internal] load build context");
  }
  std::set<size_t> seen;
  std::vector<size_t> todo = {target};
  while (!todo.empty()) {
    size_t i = todo.back();
    todo.pop_back();
    if (!seen.insert(i).second) continue;
    const StageState& st = states_[i];
    if (i != target && ScanEnabled(i, "BUILDKIT_SBOM_SCAN_STAGE")) {
      def_.sbom_extras[stages_[i].name.empty() ? "stage-" + std::to_string(i) : stages_[i].name] = st.vertex;
    }
    if (st.base_stage) todo.push_back(*st.base_stage);
    todo.insert(todo.end(), st.read_stages.begin(), st.read_stages.end());
  }
}

void Converter::MakeOutline(size_t target) {
  std::set<std::string> args_seen, secrets_seen, ssh_seen;
  std::set<size_t> stages_seen;
  std::function<void(size_t)> visit = [&](size_t i) {
    if (!stages_seen.insert(i).second || !states_[i].lowered) return;
    const StageState& st = states_[i];
    // The arguments the stage uses, and those their defaults name, transitively (BuildKit's markAllUsed).
    std::set<std::string> used;
    std::vector<std::string> todo(st.outline.used.begin(), st.outline.used.end());
    while (!todo.empty()) {
      std::string name = todo.back();
      todo.pop_back();
      if (!used.insert(name).second) continue;
      if (auto it = st.outline.known.find(name); it != st.outline.known.end()) todo.insert(todo.end(), it->second.deps.begin(), it->second.deps.end());
    }
    for (auto& name : used) {
      auto it = st.outline.known.find(name);
      if (it == st.outline.known.end() || !args_seen.insert(name).second) continue;
      def_.outline.args.push_back({name, it->second.value, it->second.description, it->second.line});
    }
    for (auto& m : st.secrets)
      if (secrets_seen.insert(m.id).second) def_.outline.secrets.push_back(m);
    for (auto& m : st.ssh)
      if (ssh_seen.insert(m.id).second) def_.outline.ssh.push_back(m);
    if (st.base_stage) visit(*st.base_stage);
    for (size_t d : st.read_stages) visit(d);
  };
  visit(target);
  auto by_line = [](const auto& a, const auto& b) { return a.line < b.line; };
  std::stable_sort(def_.outline.args.begin(), def_.outline.args.end(), by_line);
  std::stable_sort(def_.outline.secrets.begin(), def_.outline.secrets.end(), by_line);
  std::stable_sort(def_.outline.ssh.begin(), def_.outline.ssh.end(), by_line);
}

const NamedContext* Converter::FindNamedContext(const std::string& ref) const {
  auto it = o_.named_contexts.find(NamedContextKey(ref));
  return it == o_.named_contexts.end() ? nullptr : &it->second;
}

Result<size_t> Converter::NamedContextVertex(const Instruction& in, const std::string& name, const NamedContext& nc,
                                             const std::string& step_name, const oci::Platform& platform) {
  if (nc.IsScratch()) return def_.graph.Add(graph::ImageSource{"scratch", ""}, {}, "[internal] scratch");
  if (nc.kind == NamedContext::Kind::kImage) {
    if (!o_.resolve) return Error(in, "no image resolver");
    auto img = o_.resolve(nc.value, platform);
    if (!img.ok()) return Error(in, "build context " + name + ": " + img.status().message());
    // An OCI layout's image is known by the context's name, as BuildKit's provenance names it.
    std::string ref = nc.oci_layout ? name + "@" + img->manifest_digest : nc.value;
    return def_.graph.Add(graph::ImageSource{ref, img->manifest_digest, nc.oci_layout}, {}, step_name);
  }
  size_t local = def_.graph.Add(graph::LocalSource{NamedContextKey(name), nc.value, nc.exclude_patterns}, {},
                                "[internal] load build context " + name);
  size_t scratch = def_.graph.Add(graph::ImageSource{"scratch", ""}, {}, "[internal] scratch");
  graph::FileOp op;
  graph::CopyAction all;
  all.sources = {"/"};
  all.dest = "/";
  all.reset_owner = true;
  op.actions.push_back(all);
  return def_.graph.Add(op, {scratch, local}, step_name, Location(in));
}

void Converter::AddOutlineMount(size_t index, bool secret, const std::string& id, bool required, const Instruction& in) {
  auto& list = secret ? states_[index].secrets : states_[index].ssh;
  for (auto& m : list)
    if (m.id == id) {
      m.required = m.required || required;
      return;
    }
  list.push_back({id, required, in.line});
}

bool Converter::IgnoredInContext(const std::string& path) {
  if (!excludes_) {
    auto m = PatternMatcher::FromPatterns(o_.exclude_patterns);
    if (!m.ok()) return false;  // the solver reports a bad pattern
    excludes_ = std::move(*m);
  }
  std::string rel = CleanPath("/" + path).substr(1);
  while (!rel.empty()) {
    if (excludes_->Excluded(rel)) return true;
    size_t slash = rel.rfind('/');
    rel = slash == std::string::npos ? "" : rel.substr(0, slash);
  }
  return false;
}

size_t Converter::ContextVertex() {
  return def_.graph.Add(graph::LocalSource{"context", o_.context_dir, o_.exclude_patterns}, {},
                        "[internal] load build context");
}

}  // namespace internal

std::vector<Target> ListTargets(const Dockerfile& df) {
  std::vector<Target> out;
  for (auto& in : df.instructions) {
    if (in.keyword != "from") continue;
    auto words = SplitWords(in.args, df.escape);
    Target t;
    t.base = words.empty() ? "" : words[0];
    if (words.size() == 3 && AsciiLower(words[1]) == "as") t.name = AsciiLower(words[2]);
    t.description = DescriptionOf(in, t.name);
    t.platform = FlagValue(in, "platform").value_or("");
    t.line = in.line;
    out.push_back(t);
  }
  if (!out.empty()) out.back().is_default = true;
  return out;
}

std::string DescriptionOf(const Instruction& in, const std::string& name) {
  if (name.empty()) return "";
  for (auto& line : in.comments)
    if (line.rfind(name + " ", 0) == 0) return line.substr(name.size() + 1);
  return "";
}

std::string NamedContextKey(const std::string& name) {
  std::string key = name;
  for (const char* prefix : {"docker.io/library/", "index.docker.io/library/", "docker.io/"})
    if (key.rfind(prefix, 0) == 0) key = key.substr(strlen(prefix));
  if (key.size() > 7 && key.substr(key.size() - 7) == ":latest" && key.find('@') == std::string::npos) {
    key.resize(key.size() - 7);
  }
  return key;
}

Result<BuildDefinition> Convert(const Dockerfile& df, const ConvertOptions& options,
                                std::vector<Finding>* findings_before_error) {
  internal::Converter c(df, options);
  auto def = c.Run();
  if (!def.ok() && findings_before_error) *findings_before_error = c.findings();
  return def;
}

}  // namespace kiln::dockerfile
