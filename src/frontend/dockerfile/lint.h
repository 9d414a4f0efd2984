// The build checks that need nothing but the parsed Dockerfile (checks.h lists all of them).
#pragma once
#include <string>
#include <vector>

#include "frontend/dockerfile/checks.h"
#include "frontend/dockerfile/parser.h"

namespace kiln::dockerfile {

/// Every finding, in line order, whatever the configuration turns off (SelectFindings applies it).
std::vector<Finding> Lint(const Dockerfile& df);

}  // namespace kiln::dockerfile
