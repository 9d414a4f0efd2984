#include "base/pattern.h"

#include <fnmatch.h>

#include "base/fs.h"

namespace kiln {
namespace {

/// Translates a cleaned pattern to an anchored regex, as moby/patternmatcher does.
Result<std::regex> Compile(const std::string& p) {
  std::string re = "^";
  for (size_t i = 0; i < p.size(); i++) {
    char c = p[i];
    if (c == '*') {
      if (i + 1 < p.size() && p[i + 1] == '*') {
        i++;
        if (i + 1 < p.size() && p[i + 1] == '/') {
          i++;
          re += "(.*/)?";  // "**/" is zero or more directories
        } else {
          re += ".*";
        }
      } else {
        re += "[^/]*";
      }
    } else if (c == '?') {
      re += "[^/]";
    } else if (c == '[') {
      size_t end = p.find(']', i + 1);
      if (end == std::string::npos) return Status::Error("syntax error in pattern \"" + p + "\"");
      std::string cls = p.substr(i + 1, end - i - 1);
      if (!cls.empty() && cls[0] == '^') cls[0] = '!';
      re += "[" + (cls[0] == '!' ? "^" + cls.substr(1) : cls) + "]";
      i = end;
    } else if (c == '\\' && i + 1 < p.size()) {
      re += '\\';
      re += p[++i];
    } else if (std::string(".+()|{}$^").find(c) != std::string::npos) {
      re += '\\';
      re += c;
    } else {
      re += c;
    }
  }
  re += "$";
  try {
    return std::regex(re, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error&) {
    return Status::Error("syntax error in pattern \"" + p + "\"");
  }
}

}  // namespace

Result<PatternMatcher> PatternMatcher::Parse(const std::string& text, const std::string& source) {
  std::vector<std::string> patterns;
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
    patterns.push_back(l.substr(b, e - b + 1));
    if (nl == text.size()) break;
  }
  auto m = FromPatterns(patterns);
  if (!m.ok()) return m.status().Prefixed(source);
  return m;
}

Result<PatternMatcher> PatternMatcher::FromPatterns(const std::vector<std::string>& raw) {
  PatternMatcher m;
  for (std::string p : raw) {
    bool exception = !p.empty() && p[0] == '!';
    if (exception) p = p.substr(1);
    p = CleanPath(p);
    while (!p.empty() && p[0] == '/') p = p.substr(1);
    if (p.empty() || p == ".") {
      if (!exception) continue;
      p = ".";
    }
    KILN_ASSIGN(std::regex re, Compile(p));
    m.patterns_.push_back({(exception ? "!" : "") + p, std::move(re), exception});
    m.has_exceptions_ |= exception;
  }
  return m;
}

bool PatternMatcher::Excluded(const std::string& rel) const {
  bool excluded = false;
  for (auto& p : patterns_) {
    if (p.exception != excluded) continue;  // only a pattern that could flip the answer matters
    bool match = std::regex_match(rel, p.re);
    // A pattern naming a directory also matches every path below it.
    for (size_t pos = rel.find('/'); !match && pos != std::string::npos; pos = rel.find('/', pos + 1)) {
      match = std::regex_match(rel.substr(0, pos), p.re);
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
  return fnmatch(pattern.c_str(), name.c_str(), FNM_PATHNAME) == 0;
}

bool HasGlob(const std::string& s) { return s.find_first_of("*?[\\") != std::string::npos; }

}  // namespace kiln
