// Glob patterns compiled once and matched without recursion or backtracking: a pattern is a list of tokens and a
// match walks the text once with the set of tokens reachable so far (Thompson's construction), so any pattern
// against any text costs at most O(pattern x text) steps and constant stack. Hostile patterns such as
// "*a*a*a*a*b" or a 100,000-character .dockerignore line cannot hang or overflow the stack, as fnmatch and
// std::regex could.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kiln {

enum class GlobSyntax {
  /// Go's filepath.Match: `*` and `?` never match '/'; `[...]`, `[^...]`/`[!...]` and `\` escapes.
  kPath,
  /// .dockerignore (moby/patternmatcher): kPath plus `**` (any run of characters) and `**/` (zero or more
  /// directories).
  kDockerignore,
  /// The shell's pattern matching for ${VAR#p}, ${VAR%p}, ${VAR/p/r}: `*` and `?` match any character.
  kShell,
};

class Glob {
 public:
  /// An error (quoting the pattern) for an unterminated `[` class.
  static Result<Glob> Compile(std::string_view pattern, GlobSyntax syntax);
  /// Whether the whole of `text` matches.
  bool Match(std::string_view text) const;
  /// For each prefix length n of `text` (0..size), whether text[0, n) matches; one pass over the text.
  std::vector<bool> MatchingPrefixes(std::string_view text) const;
  /// The length of the longest prefix of text[start, ...) that matches, or -1; stops as soon as no token is live.
  /// `*steps` (optional) is increased by the work done, so callers can bound repeated scans.
  int64_t LongestMatchAt(std::string_view text, size_t start, uint64_t* steps = nullptr) const;
  /// The same pattern, matching reversed texts (for suffix matching by scanning from the end).
  Glob Reversed() const;

 private:
  enum class Kind : uint8_t { kLiteral, kAny, kClass, kStar, kAnyRun, kDirs };
  struct Token {
    Kind kind = Kind::kLiteral;
    char literal = 0;
    bool negated = false;
    std::vector<std::pair<unsigned char, unsigned char>> ranges;  // for kClass
  };
  // A state is 2*i for "before token i" and 2*i+1 for "inside the `**/` token i, which only a '/' ends".
  /// Adds the state before token `i` and every state reachable from it without consuming a character.
  void AddState(size_t i, std::vector<char>& set, std::vector<size_t>& list) const;
  void AddInsideDirs(size_t i, std::vector<char>& set, std::vector<size_t>& list) const;
  /// The states reached from `current` by consuming `c`. REQUIRES: `set` marks exactly the states of `current`.
  void Step(const std::vector<size_t>& current, unsigned char c, std::vector<char>& set,
            std::vector<size_t>& next) const;
  bool ClassMatches(const Token& t, unsigned char c) const;
  /// Runs the automaton over text[start, ...), calling `at(length, accepting)` after the empty prefix and after
  /// each character, and `step(live states)` before each; stops at the end or when no state is live.
  template <typename At, typename Step>
  void Run(std::string_view text, size_t start, At at, Step step) const;

  std::vector<Token> tokens_;
  bool star_crosses_slash_ = false;
};

}  // namespace kiln
