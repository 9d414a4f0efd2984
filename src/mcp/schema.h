// Validation of tool arguments against their JSON Schema (the subset MCP tools use: type, properties, required,
// additionalProperties, items, enum, const, minimum/maximum, minLength/maxLength, minItems/maxItems, anyOf/oneOf).
#pragma once
#include <string>

#include "base/json.h"

namespace kiln::mcp {

/// "" when `value` satisfies `schema`, else the first problem, naming the path ("tags[1]: expected a string").
std::string ValidateSchema(const Json& schema, const Json& value, const std::string& path = "");

}  // namespace kiln::mcp
