// Validation of tool arguments against their input schema, in JSON Schema 2020-12 (the dialect MCP 2026-07-28 makes
// the default): type, enum, const; numeric, string, array and object bounds; properties, patternProperties,
// additionalProperties, propertyNames, dependentRequired; prefixItems, items, contains; allOf, anyOf, oneOf, not,
// if/then/else; and $ref to the same document ("#", "#/$defs/x" JSON pointers, "#name" $anchors). Annotations
// (format, title, default, x-...) are not assertions. Resource bounds keep hostile schemas cheap: $ref chains and
// nesting deeper than 64 levels, or more than 100,000 evaluation steps, are reported instead of followed.
#pragma once
#include <string>

#include "base/json.h"

namespace kiln::mcp {

/// "" when `value` satisfies `schema`, else the first problem, naming the path ("tags[1]: expected a string").
std::string ValidateSchema(const Json& schema, const Json& value, const std::string& path = "");

}  // namespace kiln::mcp
