#include "frontend/dockerfile/lint.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "base/text.h"
#include "frontend/dockerfile/shell.h"

namespace kiln::dockerfile {
namespace {

std::string FirstWord(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_first_of(" \t", b);
  return s.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

bool IsLower(const std::string& s) { return std::none_of(s.begin(), s.end(), ::isupper); }
bool IsUpper(const std::string& s) { return std::none_of(s.begin(), s.end(), ::islower); }


/// InvalidDefinitionDescription: a comment right above a named FROM or an ARG is its description, and must start
/// with the name it describes (as BuildKit's validateDefinitionDescription).
template <typename Add>
void DefinitionDescription(const Instruction& in, const std::string& instruction, const std::vector<std::string>& keys,
                           Add& add) {
  if (in.comments.empty() || keys.empty()) return;
  const std::string& last = in.comments.back();
  std::string first = last.substr(0, last.find(' '));
  if (std::find(keys.begin(), keys.end(), first) != keys.end()) return;
  std::string example = keys.size() > 1 ? "<arg_key>" : keys[0];
  add("InvalidDefinitionDescription", in.line,
      "Comment for " + instruction + " should follow the format: `# " + example + " <description>`");
}

/// BuildKit's SecretsUsedInArgOrEnv words. By hand, not its two regular expressions: compiling those took longer
/// than the rest of a warm build's Dockerfile work.
bool IsSecretWord(const std::string& word) {
  static const std::set<std::string> words = {"apikey", "auth", "credential", "credentials", "key",
                                              "password", "pword", "passwd", "secret", "token"};
  return words.count(word) > 0;
}

/// The words of `name` between any of `separators`, lower-cased.
std::vector<std::string> NameWords(const std::string& name, const char* separators) {
  std::vector<std::string> out;
  for (size_t start = 0; start <= name.size();) {
    size_t end = std::min(name.find_first_of(separators, start), name.size());
    out.push_back(AsciiLower(std::string_view(name).substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

}  // namespace

/// ARG/ENV names that may carry a secret, erring towards yes (what provenance leaves out): one of BuildKit's words
/// between '_' or '-' in any case, or one of its CamelCase words.
bool LooksSecret(const std::string& name) {
  for (auto& w : NameWords(name, "_-"))
    if (IsSecretWord(w)) return true;
  for (const char* camel : {"ApiKey", "Auth", "Credential", "Password", "Secret", "Token"})
    if (name.find(camel) != std::string::npos) return true;
  return false;
}

/// BuildKit's SecretsUsedInArgOrEnv exactly: one of its words as the whole name or a word between '_' (any case),
/// and no word "public" (PUBLIC_KEY is not a secret).
bool SecretRuleMatches(const std::string& name) {
  auto words = NameWords(name, "_");
  return std::none_of(words.begin(), words.end(), [](const std::string& w) { return w == "public"; }) &&
         std::any_of(words.begin(), words.end(), IsSecretWord);
}

std::vector<Finding> Lint(const Dockerfile& df) {
  std::vector<Finding> out;
  auto add = [&](const std::string& rule, int line, const std::string& msg) { out.push_back({rule, line, msg}); };

  // Casing: the majority style of the file is the expected one.
  int upper = 0, lower = 0;
  for (auto& in : df.instructions) {
    std::string w = FirstWord(in.original);
    if (IsUpper(w)) upper++;
    else if (IsLower(w)) lower++;
  }
  bool expect_upper = upper >= lower;
  for (auto& in : df.instructions) {
    std::string w = FirstWord(in.original);
    if ((expect_upper && !IsUpper(w)) || (!expect_upper && !IsLower(w))) {
      add("ConsistentInstructionCasing", in.line,
          "Command '" + w + "' should match the case of the command majority (" + (expect_upper ? "uppercase" : "lowercase") + ")");
    }
  }

  std::map<std::string, int> stage_names;
  // What a stage has set that its lints depend on; a stage built FROM another starts with what that one had.
  struct StageState {
    bool absolute_workdir = false;
    bool custom_shell = false;  // SHELL: CMD and ENTRYPOINT in shell form are then the user's choice
  } stage;
  std::map<std::string, StageState> named_stages;
  std::string stage_name;
  std::map<std::string, std::vector<int>> repeated;  // "CMD" -> lines in this stage
  auto flush_repeated = [&]() {
    for (auto& [kw, lines] : repeated)
      for (size_t i = 0; i + 1 < lines.size(); i++) {
        add("MultipleInstructionsDisallowed", lines[i],
            "Multiple " + kw + " instructions should not be used in the same stage because only the last one will be used");
      }
    repeated.clear();
  };

  for (auto& in : df.instructions) {
    const std::string& kw = in.keyword;
    if (kw == "from") {
      flush_repeated();
      if (!stage_name.empty()) named_stages[stage_name] = stage;
      auto words = SplitWords(in.args, df.escape);
      auto base = words.empty() ? named_stages.end() : named_stages.find(AsciiLower(words[0]));
      stage = base == named_stages.end() ? StageState{} : base->second;
      stage_name = words.size() == 3 ? AsciiLower(words[2]) : "";
      if (words.size() == 3) {
        std::string from_word = FirstWord(in.original);
        if ((IsUpper(from_word) && !IsUpper(words[1])) || (IsLower(from_word) && !IsLower(words[1]))) {
          add("FromAsCasing", in.line, "'" + words[1] + "' and '" + from_word + "' keywords' casing do not match");
        }
        const std::string& name = words[2];
        if (!IsLower(name)) add("StageNameCasing", in.line, "Stage name '" + name + "' should be lowercase");
        std::string l = AsciiLower(name);
        if (l == "scratch" || l == "context") {
          add("ReservedStageName", in.line, "Stage name should not use the same name as reserved stage \"" + l + "\"");
        }
        if (stage_names.count(l)) {
          add("DuplicateStageName", in.line, "Duplicate stage name \"" + l + "\", stage names should be unique");
        }
        DefinitionDescription(in, "FROM", {l}, add);
        stage_names[l] = in.line;
      }
    } else if (kw == "shell") {
      stage.custom_shell = true;
    } else if (kw == "cmd" || kw == "entrypoint") {
      if (!in.json_form && !stage.custom_shell) {
        add("JSONArgsRecommended", in.line,
            "JSON arguments recommended for " + AsciiUpper(kw) + " to prevent unintended behavior related to OS signals");
      }
      repeated[AsciiUpper(kw)].push_back(in.line);
    } else if (kw == "healthcheck") {
      repeated["HEALTHCHECK"].push_back(in.line);
    } else if (kw == "maintainer") {
      add("MaintainerDeprecated", in.line, "Maintainer instruction is deprecated in favor of using label");
    } else if (kw == "workdir") {
      std::string path = in.args;
      if (!path.empty() && path[0] == '/') {
        stage.absolute_workdir = true;
      } else if (!stage.absolute_workdir && !path.empty() && path[0] != '$') {
        add("WorkdirRelativePath", in.line,
            "Relative workdir \"" + path + "\" can have unexpected results if the base image changes");
      }
    } else if (kw == "env" || kw == "label") {
      auto words = SplitWords(in.args, df.escape);
      if (!words.empty() && words[0].find('=') == std::string::npos) {
        add("LegacyKeyValueFormat", in.line,
            "\"" + AsciiUpper(kw) + " key=value\" should be used instead of legacy \"" + AsciiUpper(kw) + " key value\" format");
      }
    }
    // At the instruction's last line, as BuildKit's parser reports it.
    if (in.empty_continuation) add("NoEmptyContinuation", in.end_line, "Empty continuation line");
    if (kw == "arg") {
      std::vector<std::string> keys;
      for (auto& w : SplitWords(in.args, df.escape)) keys.push_back(w.substr(0, w.find('=')));
      DefinitionDescription(in, "ARG", keys, add);
    }
    if (kw == "arg" || kw == "env") {
      for (auto& w : SplitWords(in.args, df.escape)) {
        std::string name = w.substr(0, w.find('='));
        if (SecretRuleMatches(name)) {
          add("SecretsUsedInArgOrEnv", in.line,
              "Do not use ARG or ENV instructions for sensitive data (" + AsciiUpper(kw) + " \"" + name + "\")");
        }
        if (kw == "env" && w.find('=') == std::string::npos) break;  // legacy form: the rest is the value
      }
    }
  }
  flush_repeated();
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) { return a.line < b.line; });
  return out;
}

bool CheckedAsStageIsBuilt(const std::string& rule) {
  // Those BuildKit's dockerfile2llb runs in its dispatch of an instruction (dispatchEnv, dispatchCmd, ...).
  static const std::set<std::string> kDispatched = {"JSONArgsRecommended", "LegacyKeyValueFormat",
                                                    "MultipleInstructionsDisallowed", "SecretsUsedInArgOrEnv",
                                                    "WorkdirRelativePath"};
  return kDispatched.count(rule) > 0;
}

}  // namespace kiln::dockerfile
