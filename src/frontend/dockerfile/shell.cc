#include "frontend/dockerfile/shell.h"

#include <algorithm>
#include <cctype>

#include "base/glob.h"

namespace kiln::dockerfile {
namespace {

/// How deeply ${...} may nest inside one another: far beyond any real Dockerfile, far below the stack's limit.
constexpr int kMaxNesting = 100;
/// Steps of pattern matching one ${VAR/p/r} may take (each is one pattern token against one character): a value
/// of a megabyte with a plain pattern stays well inside it, a quadratic blow-up does not.
constexpr uint64_t kMaxMatchSteps = 200'000'000;

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

/// A recursive-descent expander over one string.
class Expander {
 public:
  Expander(const std::string& s, char escape, const Lookup& env, std::vector<std::string>* vars, bool skip_quotes = false)
      : s_(s), escape_(escape), env_(env), vars_(vars), skip_quotes_(skip_quotes) {}

  /// Processes until end of input or an unquoted `stop` character (consumed). Returns the expanded text.
  Result<std::string> Process(char stop = 0) {
    std::string out;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (stop && c == stop) {
        pos_++;
        return out;
      }
      if (c == '\'' && !skip_quotes_) {
        pos_++;
        size_t end = s_.find('\'', pos_);
        if (end == std::string::npos) return Status::Error("unexpected end of statement while looking for matching single-quote");
        out += s_.substr(pos_, end - pos_);
        pos_ = end + 1;
      } else if (c == '"' && !skip_quotes_) {
        pos_++;
        KILN_ASSIGN(std::string q, DoubleQuoted());
        out += q;
      } else if (c == '$') {
        KILN_ASSIGN(std::string v, Dollar());
        out += v;
      } else if (c == escape_) {
        pos_++;
        if (pos_ < s_.size()) {
          out += s_[pos_++];
        } else {
          out += escape_;
        }
      } else {
        out += c;
        pos_++;
      }
    }
    if (stop) return Status::Error(std::string("syntax error: missing '") + stop + "'");
    return out;
  }

 private:
  Result<std::string> DoubleQuoted() {
    std::string out;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '"') {
        pos_++;
        return out;
      }
      if (c == '$') {
        KILN_ASSIGN(std::string v, Dollar());
        out += v;
      } else if (c == escape_ && pos_ + 1 < s_.size()) {
        char n = s_[pos_ + 1];
        if (n == '"' || n == '$' || n == escape_) {
          out += n;
        } else {
          out += c;
          out += n;
        }
        pos_ += 2;
      } else {
        out += c;
        pos_++;
      }
    }
    return Status::Error("unexpected end of statement while looking for matching double-quote");
  }

  std::optional<std::string> Get(const std::string& name) {
    if (vars_) vars_->push_back(name);
    return env_ ? env_(name) : std::nullopt;
  }

  Result<std::string> Dollar() {
    pos_++;  // '$'
    if (pos_ >= s_.size()) return std::string("$");
    if (s_[pos_] != '{') {
      size_t start = pos_;
      while (pos_ < s_.size() && IsNameChar(s_[pos_])) pos_++;
      if (pos_ == start) return std::string("$");
      return Get(s_.substr(start, pos_ - start)).value_or("");
    }
    pos_++;  // '{'
    if (++depth_ > kMaxNesting) {
      return Status::Error("variable expansion nested deeper than " + std::to_string(kMaxNesting));
    }
    struct Leave {
      int& depth;
      ~Leave() { depth--; }
    } leave{depth_};
    size_t start = pos_;
    while (pos_ < s_.size() && IsNameChar(s_[pos_])) pos_++;
    std::string name = s_.substr(start, pos_ - start);
    if (name.empty()) return Status::Error("bad substitution: empty variable name in ${}");
    if (pos_ >= s_.size()) return Status::Error("syntax error: missing '}'");
    char c = s_[pos_];
    if (c == '}') {
      pos_++;
      return Get(name).value_or("");
    }
    bool colon = c == ':';
    if (colon) {
      pos_++;
      if (pos_ >= s_.size()) return Status::Error("syntax error: missing '}'");
      c = s_[pos_];
    }
    pos_++;
    auto value = Get(name);
    if (c == '-' || c == '+' || c == '?') {
      KILN_ASSIGN(std::string word, Process('}'));
      bool set = value.has_value() && (!colon || !value->empty());
      if (c == '-') return set ? *value : word;
      if (c == '+') return set ? word : std::string();
      if (!set) return Status::Error(name + ": " + (word.empty() ? "is not allowed to be unset" : word));
      return *value;
    }
    if (colon) return Status::Error("unsupported modifier (:" + std::string(1, c) + ") in substitution");
    if (c == '#' || c == '%') {
      bool longest = pos_ < s_.size() && s_[pos_] == c;
      if (longest) pos_++;
      KILN_ASSIGN(std::string pat, Process('}'));
      std::string v = value.value_or("");
      return c == '#' ? TrimPrefix(v, pat, longest) : TrimSuffix(v, pat, longest);
    }
    if (c == '/') {
      bool all = pos_ < s_.size() && s_[pos_] == '/';
      if (all) pos_++;
      KILN_ASSIGN(std::string pat, Process('/'));
      KILN_ASSIGN(std::string rep, Process('}'));
      return Replace(value.value_or(""), pat, rep, all);
    }
    return Status::Error(std::string("unsupported modifier (") + c + ") in substitution");
  }

  static Result<Glob> ShellPattern(const std::string& pat) { return Glob::Compile(pat, GlobSyntax::kShell); }

  /// The shortest (or longest) length n for which `matches[n]`, if any.
  static std::optional<size_t> PickLength(const std::vector<bool>& matches, bool longest) {
    auto found = longest ? matches.rend() - std::find(matches.rbegin(), matches.rend(), true) - 1
                         : std::find(matches.begin(), matches.end(), true) - matches.begin();
    if (found < 0 || size_t(found) >= matches.size()) return std::nullopt;
    return size_t(found);
  }
  /// ${v#pat} and ${v##pat}: the shortest (longest) matching prefix removed.
  static Result<std::string> TrimPrefix(const std::string& v, const std::string& pat, bool longest) {
    KILN_ASSIGN(Glob g, ShellPattern(pat));
    auto n = PickLength(g.MatchingPrefixes(v), longest);
    return n ? v.substr(*n) : v;
  }
  /// ${v%pat} and ${v%%pat}: the shortest (longest) matching suffix removed, found by matching backwards.
  static Result<std::string> TrimSuffix(const std::string& v, const std::string& pat, bool longest) {
    KILN_ASSIGN(Glob g, ShellPattern(pat));
    auto n = PickLength(g.Reversed().MatchingPrefixes(std::string(v.rbegin(), v.rend())), longest);
    return n ? v.substr(0, v.size() - *n) : v;
  }
  /// ${v/pat/rep} and ${v//pat/rep}: the leftmost longest non-empty match(es) replaced.
  static Result<std::string> Replace(const std::string& v, const std::string& pat, const std::string& rep, bool all) {
    if (pat.empty()) return v;
    KILN_ASSIGN(Glob g, ShellPattern(pat));
    std::string out;
    uint64_t steps = 0;
    size_t i = 0;
    while (i < v.size()) {
      int64_t n = g.LongestMatchAt(v, i, &steps);
      if (steps > kMaxMatchSteps) {
        return Status::Error("pattern \"" + pat + "\" is too costly to match against a value of " +
                             std::to_string(v.size()) + " bytes");
      }
      if (n > 0) {
        out += rep;
        i += size_t(n);
        if (!all) return out + v.substr(i);
      } else {
        out += v[i++];
      }
    }
    return out;
  }

  const std::string& s_;
  char escape_;
  const Lookup& env_;
  std::vector<std::string>* vars_;
  bool skip_quotes_ = false;
  size_t pos_ = 0;
  int depth_ = 0;  // ${ levels open at pos_
};

}  // namespace

std::vector<std::string> SplitWords(const std::string& text, char escape) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (!quote && std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(cur);
      cur.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    cur += c;
    if (c == escape && quote != '\'' && i + 1 < text.size()) {
      cur += text[++i];
    } else if (!quote && (c == '\'' || c == '"')) {
      quote = c;
    } else if (quote && c == quote) {
      quote = 0;
    }
  }
  if (in_word) words.push_back(cur);
  return words;
}

Result<std::string> ShellLex::ProcessWord(const std::string& word, const Lookup& env) const {
  Expander e(word, escape_, env, nullptr);
  return e.Process();
}

Result<std::string> ShellLex::ProcessHeredoc(const std::string& text, const Lookup& env) const {
  Expander e(text, '\\', env, nullptr, /*skip_quotes=*/true);
  return e.Process();
}

Result<std::vector<std::string>> ShellLex::ProcessWords(const std::string& text, const Lookup& env) const {
  std::vector<std::string> out;
  for (auto& w : SplitWords(text, escape_)) {
    KILN_ASSIGN(std::string v, ProcessWord(w, env));
    out.push_back(v);
  }
  return out;
}

std::vector<std::string> ShellLex::Variables(const std::string& text) const {
  std::vector<std::string> vars;
  Lookup none;
  Expander e(text, escape_, none, &vars);
  (void)e.Process();
  return vars;
}

}  // namespace kiln::dockerfile
