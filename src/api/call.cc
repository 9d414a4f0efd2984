#include "api/call.h"

#include <algorithm>
#include <set>

#include "base/text.h"

namespace kiln::api {
namespace {

/// Where in the Dockerfile: kiln's file and line, and BuildKit's pb.Location (the index of the answer's "sources",
/// and the line as a range).
Json Location(const std::string& file, int line) {
  Json position = {{"line", line}};
  return {{"file", file}, {"line", line}, {"sourceIndex", 0}, {"ranges", Json::array({{{"start", position}, {"end", position}}})}};
}

/// BuildKit's "sources" of a subrequest's answer: the Dockerfile, as Go encodes [][]byte (base64).
Json Sources(const std::string& source) { return Json::array({Base64Encode(source)}); }

/// Columns as Go's tabwriter lays them out: each as wide as its widest cell plus `padding`, the last unpadded.
std::string Table(const std::vector<std::vector<std::string>>& rows, size_t padding) {
  std::vector<size_t> widths;
  for (auto& row : rows)
    for (size_t i = 0; i + 1 < row.size(); i++) {
      if (widths.size() <= i) widths.resize(i + 1, 0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  std::string out;
  for (auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); i++) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + padding, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

}  // namespace

Result<dockerfile::CheckConfig> CheckConfigOf(const dockerfile::Dockerfile& df,
                                              const std::map<std::string, std::string>& build_args) {
  std::string options = df.directives.count("check") ? df.directives.at("check") : "";
  if (auto it = build_args.find("BUILDKIT_DOCKERFILE_CHECK"); it != build_args.end()) options = it->second;
  auto config = dockerfile::CheckConfig::Parse(options);
  if (!config.ok()) return config.status().Prefixed("check options");
  return config;
}

std::vector<dockerfile::Finding> FindingsOf(const dockerfile::Dockerfile& df, const std::vector<dockerfile::Finding>& lowered,
                                            const dockerfile::CheckConfig& config,
                                            const std::vector<std::pair<int, int>>* lowered_lines) {
  std::vector<dockerfile::Finding> found = dockerfile::Lint(df);
  if (lowered_lines) {
    auto unbuilt = [&](const dockerfile::Finding& f) {
      if (!dockerfile::CheckedAsStageIsBuilt(f.rule)) return false;
      for (auto& [first, last] : *lowered_lines)
        if (f.line >= first && f.line <= last) return false;
      return true;
    };
    found.erase(std::remove_if(found.begin(), found.end(), unbuilt), found.end());
  }
  found.insert(found.end(), lowered.begin(), lowered.end());
  return dockerfile::SelectFindings(std::move(found), config);
}

Status LintViolation(const std::vector<dockerfile::Finding>& findings, const dockerfile::CheckConfig& config,
                     const std::string& file) {
  if (!config.error || findings.empty()) return Status::Ok();
  std::set<std::string> rules;
  int line = findings[0].line;
  for (auto& f : findings) {
    rules.insert(f.rule);
    line = std::min(line, f.line);
  }
  std::string names;
  for (auto& r : rules) names += (names.empty() ? "" : ", ") + r;
  return Status::Error(file + ":" + std::to_string(line) + ": lint violation found for rules: " + names);
}

Json CheckJson(const std::vector<dockerfile::Finding>& findings, const std::string& file, const std::string& source,
               const Status& error) {
  Json warnings = Json::array();
  for (auto& f : findings) {
    const dockerfile::Rule* rule = dockerfile::FindRule(f.rule);
    warnings.push_back({{"ruleName", f.rule},
                        {"description", rule ? rule->description : ""},
                        {"url", rule ? rule->url : ""},
                        {"detail", f.message},
                        {"location", Location(file, f.line)}});
  }
  Json out = {{"warnings", warnings}, {"sources", Sources(source)}};
  if (!error.ok()) {
    // "FILE:LINE[:COLUMN]: message" (without the quoted source after it) -> the message and its line.
    std::string m = error.message().substr(0, error.message().find('\n'));
    int line = dockerfile::ErrorLine(error, file);
    if (size_t message = m.find(": ", file.size() + 1); line > 0 && message != std::string::npos) m = m.substr(message + 2);
    out["buildError"] = {{"message", m}, {"location", Location(file, line)}};
  }
  return out;
}

std::string CheckText(const std::vector<dockerfile::Finding>& findings, const std::string& file, const std::string& source) {
  if (findings.empty()) return "Check complete, no warnings found.\n";
  std::string out = "Check complete, " + std::to_string(findings.size()) + " warning" +
                    (findings.size() == 1 ? " has" : "s have") + " been found!\n";
  for (auto& f : findings) {
    const dockerfile::Rule* rule = dockerfile::FindRule(f.rule);
    out += "\nWARNING: " + f.rule + (rule ? std::string(" - ") + rule->url : "") + "\n";
    if (rule) out += std::string(rule->description) + "\n";
    out += f.message + "\n" + file + ":" + std::to_string(f.line) + "\n" + dockerfile::QuoteSource(source, f.line) + "\n";
  }
  return out;
}

Json TargetsJson(const std::vector<dockerfile::Target>& targets, const std::string& file, const std::string& source) {
  Json list = Json::array();
  for (auto& t : targets) {
    Json j = {{"location", Location(file, t.line)}};
    if (!t.name.empty()) j["name"] = t.name;
    if (t.is_default) j["default"] = true;
    if (!t.description.empty()) j["description"] = t.description;
    if (!t.base.empty()) j["base"] = t.base;
    if (!t.platform.empty()) j["platform"] = t.platform;
    list.push_back(j);
  }
  return {{"targets", list}, {"sources", Sources(source)}};
}

std::string TargetsText(const std::vector<dockerfile::Target>& targets) {
  std::vector<std::vector<std::string>> rows = {{"TARGET", "DESCRIPTION"}};
  for (auto& t : targets) {
    std::string name = t.name.empty() && t.is_default ? "(default)" : t.is_default ? t.name + " (default)" : t.name;
    rows.push_back({name, t.description});
  }
  return Table(rows, 1);
}

Json OutlineJson(const dockerfile::Outline& o, const std::string& file, const std::string& source) {
  Json j = {{"sources", Sources(source)}};
  if (!o.name.empty()) j["name"] = o.name;
  if (!o.description.empty()) j["description"] = o.description;
  for (auto& a : o.args) {
    Json arg = {{"name", a.name}, {"location", Location(file, a.line)}};
    if (!a.value.empty()) arg["value"] = a.value;
    if (!a.description.empty()) arg["description"] = a.description;
    j["args"].push_back(arg);
  }
  for (auto [key, list] : {std::pair{"secrets", &o.secrets}, std::pair{"ssh", &o.ssh}}) {
    for (auto& m : *list) {
      Json mount = {{"name", m.id}, {"location", Location(file, m.line)}};
      if (m.required) mount["required"] = true;
      j[key].push_back(mount);
    }
  }
  return j;
}

std::string OutlineText(const dockerfile::Outline& o) {
  std::string out;
  if (!o.name.empty() || !o.description.empty()) {
    std::vector<std::vector<std::string>> rows = {{"TARGET:", o.name.empty() ? "(default)" : o.name}};
    if (!o.description.empty()) rows.push_back({"DESCRIPTION:", o.description});
    out += Table(rows, 1) + "\n";
  }
  if (!o.args.empty()) {
    std::vector<std::vector<std::string>> rows = {{"BUILD ARG", "VALUE", "DESCRIPTION"}};
    for (auto& a : o.args) rows.push_back({a.name, a.value, a.description});
    out += Table(rows, 3) + "\n";
  }
  for (auto [title, list] : {std::pair{"SECRET", &o.secrets}, std::pair{"SSH", &o.ssh}}) {
    if (list->empty()) continue;
    std::vector<std::vector<std::string>> rows = {{title, "REQUIRED"}};
    for (auto& m : *list) rows.push_back({m.id, m.required ? "true" : ""});
    out += Table(rows, 3) + "\n";
  }
  return out;
}

}  // namespace kiln::api
