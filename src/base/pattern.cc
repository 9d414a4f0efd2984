#include "base/pattern.h"

#include "base/fs.h"

namespace kiln {

Result<PatternMatcher> PatternMatcher::Parse(const std::string& text, const std::string& source) {
  PatternMatcher m;
  size_t start = 0;
  int line = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string l = text.substr(start, nl - start);
    start = nl + 1;
    line++;
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (!l.empty() && l[0] == '#') continue;
    size_t b = l.find_first_not_of(" \t"), e = l.find_last_not_of(" \t");
    if (b == std::string::npos) continue;
    KILN_TRY(m.Add(l.substr(b, e - b + 1)).Prefixed(source + ":" + std::to_string(line)));
    if (nl == text.size()) break;
  }
  return m;
}

Result<PatternMatcher> PatternMatcher::FromPatterns(const std::vector<std::string>& patterns) {
  PatternMatcher m;
  for (auto& p : patterns) KILN_TRY(m.Add(p));
  return m;
}

Status PatternMatcher::Add(std::string p) {
  bool exception = !p.empty() && p[0] == '!';
  if (exception) p = p.substr(1);
  p = CleanPath(p);
  while (!p.empty() && p[0] == '/') p = p.substr(1);
  if (p.empty() || p == ".") {
    if (!exception) return Status::Ok();
    p = ".";
  }
  KILN_ASSIGN(Glob glob, Glob::Compile(p, GlobSyntax::kDockerignore));
  patterns_.push_back({(exception ? "!" : "") + p, std::move(glob), exception});
  has_exceptions_ |= exception;
  return Status::Ok();
}

bool PatternMatcher::Excluded(const std::string& rel) const {
  bool excluded = false;
  for (auto& p : patterns_) {
    if (p.exception != excluded) continue;  // only a pattern that could flip the answer matters
    // A pattern naming a directory also matches every path below it: any prefix ending before a '/'.
    std::vector<bool> prefixes = p.glob.MatchingPrefixes(rel);
    bool match = prefixes.back();
    for (size_t pos = rel.find('/'); !match && pos != std::string::npos; pos = rel.find('/', pos + 1)) {
      match = prefixes[pos];
    }
    if (match) excluded = !p.exception;
  }
  return excluded;
}

std::vector<std::string> PatternMatcher::Describe() const {
  std::vector<std::string> out;
  for (auto& p : patterns_) out.push_back(p.text);
  return out;
}

bool GlobMatch(const std::string& pattern, const std::string& name) {
  auto glob = Glob::Compile(pattern, GlobSyntax::kPath);
  return glob.ok() && glob->Match(name);
}

bool HasGlob(const std::string& s) { return s.find_first_of("*?[\\") != std::string::npos; }

}  // namespace kiln
