// The answers of `kiln build --call check|targets|outline`, as JSON for tools and as text for people, in the shape
// of buildx's (its check, targets and outline subrequests).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "base/json.h"
#include "frontend/dockerfile/convert.h"
#include "frontend/dockerfile/lint.h"

namespace kiln::api {

/// The check configuration of a build: the Dockerfile's `# check=` directive, or the build argument
/// BUILDKIT_DOCKERFILE_CHECK, which overrides it as in BuildKit.
Result<dockerfile::CheckConfig> CheckConfigOf(const dockerfile::Dockerfile& df,
                                              const std::map<std::string, std::string>& build_args);
/// What the checks found, as `config` chooses them: the file's own, and those its lowering found. With
/// `lowered_lines`, a build's: the checks BuildKit runs as it builds a stage (LegacyKeyValueFormat, ...) only in
/// the stages it lowered.
std::vector<dockerfile::Finding> FindingsOf(const dockerfile::Dockerfile& df, const std::vector<dockerfile::Finding>& lowered,
                                            const dockerfile::CheckConfig& config,
                                            const std::vector<std::pair<int, int>>* lowered_lines = nullptr);
/// With `error=true` and findings, the build's error ("lint violation found for rules: A, B", at the first finding's
/// line); else Ok.
Status LintViolation(const std::vector<dockerfile::Finding>& findings, const dockerfile::CheckConfig& config,
                     const std::string& file);

/// {"warnings": [{"ruleName", "description", "url", "detail", "location": {"file", "line"}}]}, and, when the file
/// cannot be built, "buildError": {"message", "location"} as BuildKit's lint result has it (`error` names its
/// place as "FILE:LINE[:COLUMN]: message").
Json CheckJson(const std::vector<dockerfile::Finding>& findings, const std::string& file, const std::string& source,
               const Status& error = Status::Ok());
/// "Check complete, no warnings found." or each finding with its rule's description, URL and quoted line.
std::string CheckText(const std::vector<dockerfile::Finding>& findings, const std::string& file, const std::string& source);

Json TargetsJson(const std::vector<dockerfile::Target>& targets, const std::string& file, const std::string& source);
std::string TargetsText(const std::vector<dockerfile::Target>& targets);

Json OutlineJson(const dockerfile::Outline& outline, const std::string& file, const std::string& source);
std::string OutlineText(const dockerfile::Outline& outline);

}  // namespace kiln::api
