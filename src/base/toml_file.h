// A TOML file read with toml++ (header-only), its syntax errors reported as FILE:LINE:COLUMN: what.
#pragma once
#include <string>
#include <toml++/toml.h>

#include "base/status.h"

namespace kiln {

inline Result<toml::table> ParseTomlFile(const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status::Error(path + ":" + std::to_string(e.source().begin.line) + ":" +
                         std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
}

}  // namespace kiln
