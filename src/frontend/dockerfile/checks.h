// Build checks: BuildKit's 22 Dockerfile rules (same names, descriptions and messages), and the configuration
// that picks which run and whether they fail the build (`# check=...`, or the build argument
// BUILDKIT_DOCKERFILE_CHECK). The rules that need nothing but the parsed file are in lint.h; those that need build
// arguments, stages and base images are found while lowering (convert.h).
#pragma once
#include <set>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::dockerfile {

struct Finding {
  std::string rule;     // BuildKit's check name, e.g. "JSONArgsRecommended"
  int line = 0;
  std::string message;
};

struct Rule {
  const char* name;
  const char* description;
  const char* url;
  bool experimental;  // runs only when `experimental=` names it
};

/// The 22 rules, in BuildKit's order.
const std::vector<Rule>& Rules();
const Rule* FindRule(const std::string& name);

struct CheckConfig {
  std::set<std::string> skip;
  bool skip_all = false;
  std::set<std::string> experimental;
  bool experimental_all = false;
  bool error = false;  // findings fail the build
  /// "skip=A,B;error=true;experimental=C" (each part optional; "all" for every rule), as BuildKit reads it.
  static Result<CheckConfig> Parse(const std::string& text);
  bool Enabled(const std::string& rule) const;
};

/// `findings` without those `config` turns off, in line order, each once.
std::vector<Finding> SelectFindings(std::vector<Finding> findings, const CheckConfig& config);

/// "RULE: message (line N)", as BuildKit prints a finding in a build's warnings.
std::string FormatFinding(const Finding& f);

}  // namespace kiln::dockerfile
