// The answers of `kiln build --call check|targets|outline`, as JSON for tools and as text for people, in the shape
// of buildx's (its check, targets and outline subrequests).
#pragma once
#include <string>
#include <vector>

#include "base/json.h"
#include "frontend/dockerfile/convert.h"

namespace kiln::api {

/// {"warnings": [{"ruleName", "description", "url", "detail", "location": {"file", "line"}}]}
Json CheckJson(const std::vector<dockerfile::Finding>& findings, const std::string& file);
/// "Check complete, no warnings found." or each finding with its rule's description, URL and quoted line.
std::string CheckText(const std::vector<dockerfile::Finding>& findings, const std::string& file, const std::string& source);

Json TargetsJson(const std::vector<dockerfile::Target>& targets, const std::string& file);
std::string TargetsText(const std::vector<dockerfile::Target>& targets);

Json OutlineJson(const dockerfile::Outline& outline, const std::string& file);
std::string OutlineText(const dockerfile::Outline& outline);

}  // namespace kiln::api
