// Build checks: BuildKit's Dockerfile lint rules (same names), run on a parsed Dockerfile without building.
#pragma once
#include <string>
#include <vector>

#include "frontend/dockerfile/parser.h"

namespace kiln::dockerfile {

struct Finding {
  std::string rule;     // BuildKit's check name, e.g. "JSONArgsRecommended"
  int line = 0;
  std::string message;
};

/// Every finding, in line order.
std::vector<Finding> Lint(const Dockerfile& df);

}  // namespace kiln::dockerfile
