// The converter's internals, shared by convert.cc (stages, build arguments, base images and sources) and
// instructions.cc (each instruction after FROM lowered by its own function). The frontend's interface is
// convert.h; nothing outside src/frontend/dockerfile includes this.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/pattern.h"
#include "frontend/dockerfile/convert.h"
#include "frontend/dockerfile/shell.h"

namespace kiln::dockerfile::internal {

inline constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Declared build arguments, in declaration order; a value of nullopt means declared without a value.
struct ArgScope {
  std::vector<std::pair<std::string, std::optional<std::string>>> args;
  std::optional<std::string>* Find(const std::string& name);
  void Set(const std::string& name, std::optional<std::string> value);
};

/// What BuildKit's outline records of the build arguments a stage sees: each one's value, comment, last declaration
/// and the arguments its default names (which it then uses too), and the names the stage uses.
struct OutlineArgs {
  struct Info {
    std::string value, description;
    int line = 0;
    std::set<std::string> deps;
  };
  std::map<std::string, Info> known;
  std::set<std::string> used;
};

struct Stage {
  std::string name;  // lower case, "" when unnamed
  size_t first = 0, end = 0;  // instruction range after FROM
  const Instruction* from = nullptr;
};

struct StageState {
  bool lowered = false;
  /// The platform the stage's steps run on and its image is for: FROM --platform's, else the parent stage's, else
  /// the target platform.
  oci::Platform platform;
  size_t vertex = 0;
  size_t base_vertex = 0;
  oci::ImageConfig config;
  std::vector<HistoryStep> history;
  bool cmd_set = false;
  /// FROM scratch: there is no FROM step, so the stage's steps are numbered from its first instruction (BuildKit's
  /// "[stage-1 1/1] COPY ...").
  bool from_scratch = false;
  /// The environment RUN steps get and words expand in: the image's, then each ENV and each ARG with a value in
  /// the order they come, so the later of an ENV and an ARG of one name wins (as in BuildKit). Only ENV reaches
  /// the image config.
  std::vector<std::string> run_env;
  /// The build arguments declared so far, those of the stage it is built FROM first (as in BuildKit).
  ArgScope args;
  /// For the outline: its arguments, the stage it is built FROM, and the stages its COPY --from and mounts read.
  OutlineArgs outline;
  std::optional<size_t> base_stage;
  std::set<size_t> read_stages;
  std::vector<Outline::Mount> secrets, ssh;
};

/// The whole Dockerfile: its stages, the global build arguments, and the graph being built.
class Converter {
 public:
  Converter(const Dockerfile& df, const ConvertOptions& o) : df_(df), o_(o), lex_(df.escape) {}
  Result<BuildDefinition> Run();

  // What lowering an instruction needs of the whole.
  /// "PATH:LINE:COLUMN: msg": the column given, or that of the instruction's arguments.
  Status Error(const Instruction& in, const std::string& msg, int column = 0) const;
  std::string Location(const Instruction& in) const;
  /// SOURCE_DATE_EPOCH, or unset: the exporter then dates each step by when its result was made, as BuildKit's
  /// does, so a build that changed nothing makes the same image.
  std::string Time() const;
  /// ARG name[=default] ...: the value is the --build-arg if given, else the default, else the global value.
  /// Declares the ARGs of `in` in `scope`, and in `outline` as BuildKit's outline records them; `declared`, when
  /// given, receives each with the value in effect. `global` is the global scope when `in` is in a stage.
  Status DeclareArgs(const Instruction& in, ArgScope& scope, const Lookup& lookup, OutlineArgs& outline,
                     ArgScope* global = nullptr, ArgScope* declared = nullptr);
  /// The vertex a --from (of COPY, or of a RUN mount) names: a stage defined before stage `index`, or an image.
  /// `later_stage` is the error when it names a stage defined after (in BuildKit's words).
  Result<size_t> FromVertex(const Instruction& in, const std::string& what, const std::string& ref, size_t index,
                            const oci::Platform& platform, const std::string& later_stage);
  /// The build context, as a source vertex.
  size_t ContextVertex();
  /// The named context `ref` stands for, if any.
  const NamedContext* FindNamedContext(const std::string& ref) const;
  /// A named context's file system: an image, or a directory copied onto scratch (root-owned, as the context).
  Result<size_t> NamedContextVertex(const Instruction& in, const std::string& name, const NamedContext& nc,
                                    const std::string& step_name, const oci::Platform& platform);

  const Dockerfile& df() const { return df_; }
  const ConvertOptions& options() const { return o_; }
  const ShellLex& lex() const { return lex_; }
  /// Whether .dockerignore excludes a context path or a directory above it (CopyIgnoredFile).
  bool IgnoredInContext(const std::string& path);
  /// The outline: a secret or ssh id one of stage `index`'s RUN steps mounts.
  void AddOutlineMount(size_t index, bool secret, const std::string& id, bool required, const Instruction& in);
  void AddFinding(const std::string& rule, const Instruction& in, const std::string& message) {
    def_.findings.push_back({rule, in.line, message});
  }
  const std::vector<Finding>& findings() const { return def_.findings; }
  graph::Graph& graph() { return def_.graph; }
  ArgScope& global_args() { return global_; }
  const Stage& stage(size_t i) const { return stages_[i]; }

 private:
  Status SplitStages();
  /// The checks of every stage's FROM (UndefinedArgInFrom, InvalidDefaultArgInFrom, RedundantTargetPlatform,
  /// FromPlatformFlagConstDisallowed), reachable from the target or not, as BuildKit runs them.
  void CheckStageBases();
  Result<size_t> TargetStage() const;
  std::optional<size_t> FindStage(const std::string& ref, size_t before) const;
  std::map<std::string, std::string> PlatformArgs() const;
  static bool IsPredefined(const std::string& k);
  static std::optional<std::string> LookupIn(ArgScope& scope, const std::string& name);
  /// Lowers stage `index` (and, first, the stages it builds on): its FROM here, its instructions by StageLowering.
  Status LowerStage(size_t index);
  /// A stage's config and history as an image (or a named context's image) starts it, or as scratch does.
  void StartFromImage(StageState& st, const oci::ImageConfig& config);
  void StartFromScratch(StageState& st, const oci::Platform& platform);

  const Dockerfile& df_;
  const ConvertOptions& o_;
  ShellLex lex_;
  BuildDefinition def_;
  ArgScope global_;
  std::vector<Stage> stages_;
  std::vector<StageState> states_;
  std::set<size_t> in_progress_;
  std::set<std::string> used_args_;
  std::optional<PatternMatcher> excludes_;  // .dockerignore, parsed on first use
  OutlineArgs global_outline_;  // the global ARGs, as every stage's outline starts
  /// BuildKit's outline of the target: the arguments, secrets and ssh ids of it, the stage it is built FROM and
  /// the stages it reads, each name once (the nearest stage's), in line order.
  void MakeOutline(size_t target);
  /// BuildDefinition::sbom_extras of the target.
  void FindSbomExtras(size_t target);
  /// Whether BUILDKIT_SBOM_SCAN_CONTEXT or _STAGE (`arg`) is on for stage `index`: true or false, or a list of
  /// stage names, as the stage's own ARG or else the global one says.
  bool ScanEnabled(size_t index, const std::string& arg);
};

/// An EXPOSE word ("80", "53/udp", "8000-8002/tcp", "127.0.0.1:80:8080") as the "port/proto" entries it exposes.
Result<std::vector<std::string>> ParsePort(const std::string& raw);

/// One stage's instructions after FROM, each lowered by its own function (a table by keyword), into the graph
/// and the stage's image config and history.
class StageLowering {
 public:
  StageLowering(Converter& c, size_t index, StageState& st);
  /// Lowers the ONBUILD `triggers` of the base image `base` (its config's OnBuild), then the stage's instructions.
  Status Lower(const std::vector<std::string>& triggers, const std::string& base);

 private:
  using Handler = Status (StageLowering::*)(const Instruction&);
  static const std::map<std::string, Handler>& Handlers();

  Status Arg(const Instruction& in);
  Status EnvOrLabel(const Instruction& in);
  Status Run(const Instruction& in);
  /// COPY and ADD.
  Status Copy(const Instruction& in);
  /// What COPY's and ADD's flags say, checked, with what every source's copy action shares.
  struct CopyFlags {
    bool add = false;
    std::string keyword;      // "COPY" or "ADD"
    graph::CopyAction base;   // --chown, --chmod, --parents, --exclude
    std::string chmod_text;   // as given, for the history
    std::optional<bool> unpack, keep_git_dir;
    std::string checksum;
    bool link = false;
    std::string label;        // the flags, expanded, for the step's name
  };
  Result<CopyFlags> ReadCopyFlags(const Instruction& in);
  /// ADD of a URL or a git repository: adds the source vertex and its copy action; false for any other source.
  Result<bool> AddRemoteSource(const Instruction& in, const CopyFlags& f, const std::string& src, graph::FileOp& op,
                               std::vector<size_t>& inputs);
  Status Workdir(const Instruction& in);
  Status User(const Instruction& in);
  Status CmdOrEntrypoint(const Instruction& in);
  Status Expose(const Instruction& in);
  Status Volume(const Instruction& in);
  Status StopSignal(const Instruction& in);
  Status Shell(const Instruction& in);
  Status Maintainer(const Instruction& in);
  Status OnBuild(const Instruction& in);
  Status Healthcheck(const Instruction& in);

  /// An error at `in` (at `column` when given), or, for an ONBUILD trigger, at the FROM that brought it.
  Status Error(const Instruction& in, const std::string& msg, int column = 0) const;
  Result<std::string> Expand(const Instruction& in, const std::string& word);
  Result<std::vector<std::string>> ExpandWords(const Instruction& in, const std::string& text);
  /// The arguments as words, expanded: exec form's JSON strings or shell form's words.
  Result<std::vector<std::string>> ExpandArgs(const Instruction& in);
  /// ENV/LABEL arguments: "k=v k2='v 2'" or the legacy "k v w" (one pair, the value is the rest).
  Result<std::vector<std::pair<std::string, std::string>>> KeyValues(const Instruction& in);
  /// An error for a flag not in `allowed` (BuildKit's flags of the instruction, in its order: the first of equally
  /// close ones is suggested).
  Status CheckFlags(const Instruction& in, const std::vector<std::string>& allowed) const;
  /// A boolean flag ("--link", "--unpack=false"), nullopt when not given.
  Result<std::optional<bool>> BoolFlag(const Instruction& in, const std::string& name);
  /// BuildKit marks the history of steps it ran (RUN, COPY) with " # buildkit"; a WORKDIR's mkdir is a layer
  /// without the mark.
  void AddHistory(const std::string& created_by, std::optional<size_t> vertex, bool ran = true);
  std::vector<std::string> ShellArgs() const;
  /// Adds the step's vertex and sets it as the stage's latest, with its place for `kiln explain`.
  void AddStep(graph::Op op, std::vector<size_t> inputs, const std::string& name, const Instruction& in);
  std::string WorkingDir() const;

  Converter& c_;
  size_t index_;
  const Stage& stage_;
  StageState& st_;
  std::string name_;      // the stage's name, or "stage-0" for an unnamed one (BuildKit's)
  std::string label_;     // name_, after the platform when a build has several: for step names
  std::string step_;      // "[label N/M] " of the instruction being lowered
  std::string place_;     // its place in the stage, for `kiln explain` ("3", or "onbuild 1")
  std::string trigger_of_;  // the base image whose ONBUILD trigger is being lowered, else ""
  std::set<std::string> unmatched_;  // names the instruction being lowered used but nothing defines
  /// Looks a name up for expansion, noting it in unmatched_ when nothing defines it (UndefinedVar).
  std::optional<std::string> LookupVar(const std::string& name);
  /// UndefinedVar for the names `in` used that neither the environment nor a declared ARG defines.
  void ReportUndefined(const Instruction& in);
};

}  // namespace kiln::dockerfile::internal
