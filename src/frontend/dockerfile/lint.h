// The build checks that need nothing but the parsed Dockerfile (checks.h lists all of them).
#pragma once
#include <string>
#include <vector>

#include "frontend/dockerfile/checks.h"
#include "frontend/dockerfile/parser.h"

namespace kiln::dockerfile {

/// Whether an ARG/ENV name looks like it carries a secret (BuildKit's SecretsUsedInArgOrEnv).
bool LooksSecret(const std::string& name);
/// Whether BuildKit's SecretsUsedInArgOrEnv rule flags an ARG or ENV `name` (narrower than LooksSecret, which
/// errs towards hiding a value).
bool SecretRuleMatches(const std::string& name);

/// Every finding, in line order, whatever the configuration turns off (SelectFindings applies it).
std::vector<Finding> Lint(const Dockerfile& df);

/// Whether BuildKit runs `rule` as it builds a stage (so a build reports it only for the stages it builds), not
/// as it reads the file.
bool CheckedAsStageIsBuilt(const std::string& rule);

}  // namespace kiln::dockerfile
