// Shell-word processing for Dockerfile instructions (not for RUN, whose shell does its own): quotes, the escape
// character, and $VAR / ${VAR} / ${VAR:-x} / ${VAR:+x} / ${VAR:?x} / ${VAR#p} / ${VAR%p} / ${VAR/p/r} expansion.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::dockerfile {

/// Looks up a variable; nullopt when it is not set.
using Lookup = std::function<std::optional<std::string>(const std::string& name)>;

class ShellLex {
 public:
  explicit ShellLex(char escape = '\\') : escape_(escape) {}
  /// Expands variables and removes quoting in one word ("a${B}'c d'" -> one string).
  Result<std::string> ProcessWord(const std::string& word, const Lookup& env) const;
  /// Expands variables in a heredoc's text as BuildKit does (SkipProcessQuotes): quotes stay as they are, and
  /// the escape character is always the backslash.
  Result<std::string> ProcessHeredoc(const std::string& text, const Lookup& env) const;
  /// Splits on unquoted blanks, then expands each word (EXPOSE, VOLUME, FROM's words...).
  Result<std::vector<std::string>> ProcessWords(const std::string& text, const Lookup& env) const;
  /// The names of variables `text` refers to, for "which ARGs does this use".
  std::vector<std::string> Variables(const std::string& text) const;

 private:
  char escape_;
};

/// Splits text into words at unquoted blanks, keeping quotes and escapes in the words (for KEY=VALUE lists).
std::vector<std::string> SplitWords(const std::string& text, char escape);

}  // namespace kiln::dockerfile
