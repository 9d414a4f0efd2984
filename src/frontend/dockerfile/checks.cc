#include "frontend/dockerfile/checks.h"

#include <algorithm>
#include <tuple>

#include "base/text.h"

namespace kiln::dockerfile {

const std::vector<Rule>& Rules() {
  static const std::vector<Rule> rules = {
      {"StageNameCasing", "Stage names should be lowercase", "https://docs.docker.com/go/dockerfile/rule/stage-name-casing/", false},
      {"FromAsCasing", "The 'as' keyword should match the case of the 'from' keyword", "https://docs.docker.com/go/dockerfile/rule/from-as-casing/", false},
      {"NoEmptyContinuation", "Empty continuation lines will become errors in a future release", "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/", false},
      {"ConsistentInstructionCasing", "All commands within the Dockerfile should use the same casing (either upper or lower)", "https://docs.docker.com/go/dockerfile/rule/consistent-instruction-casing/", false},
      {"DuplicateStageName", "Stage names should be unique", "https://docs.docker.com/go/dockerfile/rule/duplicate-stage-name/", false},
      {"ReservedStageName", "Reserved words should not be used as stage names", "https://docs.docker.com/go/dockerfile/rule/reserved-stage-name/", false},
      {"JSONArgsRecommended", "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals", "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/", false},
      {"MaintainerDeprecated", "The MAINTAINER instruction is deprecated, use a label instead to define an image author", "https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/", false},
      {"UndefinedArgInFrom", "FROM command must use declared ARGs", "https://docs.docker.com/go/dockerfile/rule/undefined-arg-in-from/", false},
      {"WorkdirRelativePath", "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes", "https://docs.docker.com/go/dockerfile/rule/workdir-relative-path/", false},
      {"UndefinedVar", "Variables should be defined before their use", "https://docs.docker.com/go/dockerfile/rule/undefined-var/", false},
      {"MultipleInstructionsDisallowed", "Multiple instructions of the same type should not be used in the same stage", "https://docs.docker.com/go/dockerfile/rule/multiple-instructions-disallowed/", false},
      {"LegacyKeyValueFormat", "Legacy key/value format with whitespace separator should not be used", "https://docs.docker.com/go/dockerfile/rule/legacy-key-value-format/", false},
      {"InvalidBaseImagePlatform", "Base image platform does not match expected target platform", "https://docs.docker.com/go/dockerfile/rule/invalid-base-image-platform/", false},
      {"RedundantTargetPlatform", "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior", "https://docs.docker.com/go/dockerfile/rule/redundant-target-platform/", false},
      {"SecretsUsedInArgOrEnv", "Sensitive data should not be used in the ARG or ENV commands", "https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/", false},
      {"InvalidDefaultArgInFrom", "Default value for global ARG results in an empty or invalid base image name", "https://docs.docker.com/go/dockerfile/rule/invalid-default-arg-in-from/", false},
      {"FromPlatformFlagConstDisallowed", "FROM --platform flag should not use a constant value", "https://docs.docker.com/go/dockerfile/rule/from-platform-flag-const-disallowed/", false},
      {"CopyIgnoredFile", "Attempting to Copy file that is excluded by .dockerignore", "https://docs.docker.com/go/dockerfile/rule/copy-ignored-file/", true},
      {"InvalidDefinitionDescription", "Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.", "https://docs.docker.com/go/dockerfile/rule/invalid-definition-description/", true},
      {"ExposeProtoCasing", "Protocol in EXPOSE instruction should be lowercase", "https://docs.docker.com/go/dockerfile/rule/expose-proto-casing/", false},
      {"ExposeInvalidFormat", "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release", "https://docs.docker.com/go/dockerfile/rule/expose-invalid-format/", false},
  };
  return rules;
}

const Rule* FindRule(const std::string& name) {
  for (auto& r : Rules())
    if (name == r.name) return &r;
  return nullptr;
}

namespace {

std::string Trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::set<std::string> RuleList(const std::string& value) {
  std::set<std::string> out;
  size_t i = 0;
  while (i <= value.size()) {
    size_t comma = value.find(',', i);
    std::string name = Trimmed(value.substr(i, comma == std::string::npos ? std::string::npos : comma - i));
    if (!name.empty()) out.insert(name);
    if (comma == std::string::npos) break;
    i = comma + 1;
  }
  return out;
}

}  // namespace

Result<CheckConfig> CheckConfig::Parse(const std::string& text) {
  CheckConfig c;
  std::string all = Trimmed(text);
  if (all.empty()) return c;
  size_t i = 0;
  while (i <= all.size()) {
    size_t semi = all.find(';', i);
    std::string part = all.substr(i, semi == std::string::npos ? std::string::npos : semi - i);
    i = semi == std::string::npos ? all.size() + 1 : semi + 1;
    size_t eq = part.find('=');
    if (eq == std::string::npos) return Status::Error("invalid check option \"" + part + "\"");
    std::string key = Trimmed(part.substr(0, eq)), value = Trimmed(part.substr(eq + 1));
    if (key == "skip") {
      if (value == "all") c.skip_all = true;
      else c.skip = RuleList(value);
    } else if (key == "experimental") {
      if (value == "all") c.experimental_all = true;
      else c.experimental = RuleList(value);
    } else if (key == "error") {
      std::string v = AsciiLower(value);
      if (v == "true" || v == "1" || v == "t") c.error = true;
      else if (v == "false" || v == "0" || v == "f") c.error = false;
      else return Status::Error("failed to parse check option \"" + part + "\": invalid syntax");
    } else {
      return Status::Error("invalid check option \"" + key + "\"");
    }
  }
  return c;
}

bool CheckConfig::Enabled(const std::string& rule) const {
  const Rule* r = FindRule(rule);
  if (r && r->experimental) return experimental_all || experimental.count(rule);
  return !skip_all && !skip.count(rule);
}

std::vector<Finding> SelectFindings(std::vector<Finding> findings, const CheckConfig& config) {
  std::vector<Finding> out;
  for (auto& f : findings)
    if (config.Enabled(f.rule)) out.push_back(std::move(f));
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) { return a.line < b.line; });
  out.erase(std::unique(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
              return std::tie(a.rule, a.line, a.message) == std::tie(b.rule, b.line, b.message);
            }), out.end());
  return out;
}

std::string FormatFinding(const Finding& f) {
  return f.rule + ": " + f.message + (f.line > 0 ? " (line " + std::to_string(f.line) + ")" : "");
}

}  // namespace kiln::dockerfile
