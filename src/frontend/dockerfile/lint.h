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

}  // namespace kiln::dockerfile
