// .dockerignore patterns, with BuildKit's semantics: Go filepath.Match syntax plus "**", "!" exceptions, the last
// matching pattern wins, and a pattern that matches a directory also covers everything below it.
#pragma once
#include <string>
#include <vector>

#include "base/glob.h"
#include "base/status.h"

namespace kiln {

class PatternMatcher {
 public:
  /// Parses .dockerignore text; `source` names the file in error messages.
  static Result<PatternMatcher> Parse(const std::string& text, const std::string& source);
  static Result<PatternMatcher> FromPatterns(const std::vector<std::string>& patterns);
  /// Whether the clean relative path `rel` ("a/b/c") is excluded.
  bool Excluded(const std::string& rel) const;
  /// Whether some "!" pattern may re-include something below an excluded directory.
  bool HasExceptions() const { return has_exceptions_; }
  bool empty() const { return patterns_.empty(); }
  /// The patterns as written (cleaned), in order; part of cache keys.
  std::vector<std::string> Describe() const;

 private:
  /// Appends one pattern as written ("!" for an exception).
  Status Add(std::string pattern);
  struct Pattern {
    std::string text;
    Glob glob;
    bool exception = false;
  };
  std::vector<Pattern> patterns_;
  bool has_exceptions_ = false;
};

/// Go's filepath.Match for one path component or a slash-separated path: * ? [...] and \ escapes.
bool GlobMatch(const std::string& pattern, const std::string& name);
/// Whether `s` holds glob metacharacters.
bool HasGlob(const std::string& s);

}  // namespace kiln
