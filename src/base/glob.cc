#include "base/glob.h"

#include <algorithm>

namespace kiln {

Result<Glob> Glob::Compile(std::string_view p, GlobSyntax syntax) {
  Glob g;
  g.star_crosses_slash_ = syntax == GlobSyntax::kShell;
  for (size_t i = 0; i < p.size(); i++) {
    char c = p[i];
    Token t;
    if (c == '*') {
      bool double_star = i + 1 < p.size() && p[i + 1] == '*';
      if (double_star && syntax == GlobSyntax::kDockerignore) {
        i++;
        bool dirs = i + 1 < p.size() && p[i + 1] == '/';
        if (dirs) i++;
        t.kind = dirs ? Kind::kDirs : Kind::kAnyRun;
      } else {
        t.kind = Kind::kStar;
      }
      // Consecutive stars of one kind match what one of them does: keep the token list short.
      if (!g.tokens_.empty() && g.tokens_.back().kind == t.kind && t.kind != Kind::kDirs) continue;
    } else if (c == '?') {
      t.kind = Kind::kAny;
    } else if (c == '[') {
      size_t j = i + 1;
      if (j < p.size() && (p[j] == '^' || p[j] == '!')) {
        t.negated = true;
        j++;
      }
      size_t first = j;  // as in POSIX, a ']' right after the opening is a member, not the end
      bool closed = false;
      while (j < p.size()) {
        if (p[j] == ']' && j > first) {
          closed = true;
          break;
        }
        if (p[j] == '\\' && j + 1 < p.size()) j++;
        unsigned char lo = static_cast<unsigned char>(p[j]), hi = lo;
        j++;
        if (j + 1 < p.size() && p[j] == '-' && p[j + 1] != ']') {
          j++;
          if (p[j] == '\\' && j + 1 < p.size()) j++;
          hi = static_cast<unsigned char>(p[j]);
          j++;
        }
        t.ranges.emplace_back(lo, hi);
      }
      if (!closed) {
        if (syntax != GlobSyntax::kShell) return Status::Error("syntax error in pattern \"" + std::string(p) + "\"");
        t = Token();  // as the shell does, an unclosed bracket is itself
        t.literal = '[';
      } else {
        t.kind = Kind::kClass;
        i = j;
      }
    } else if (c == '\\' && i + 1 < p.size()) {
      t.literal = p[++i];
    } else {
      t.literal = c;
    }
    g.tokens_.push_back(std::move(t));
  }
  return g;
}

bool Glob::ClassMatches(const Token& t, unsigned char c) const {
  bool in = std::any_of(t.ranges.begin(), t.ranges.end(), [c](auto& r) { return r.first <= c && c <= r.second; });
  return in != t.negated;
}

void Glob::AddState(size_t i, std::vector<char>& set, std::vector<size_t>& list) const {
  // Star tokens may match nothing, so reaching one also reaches what follows it; iterate instead of recursing.
  for (; i <= tokens_.size(); i++) {
    if (!set[2 * i]) {
      set[2 * i] = 1;
      list.push_back(2 * i);
    }
    if (i == tokens_.size()) return;
    Kind k = tokens_[i].kind;
    if (k != Kind::kStar && k != Kind::kAnyRun && k != Kind::kDirs) return;
  }
}

void Glob::AddInsideDirs(size_t i, std::vector<char>& set, std::vector<size_t>& list) const {
  if (!set[2 * i + 1]) {
    set[2 * i + 1] = 1;
    list.push_back(2 * i + 1);
  }
}

void Glob::Step(const std::vector<size_t>& current, unsigned char c, std::vector<char>& set,
                std::vector<size_t>& next) const {
  for (size_t state : current) set[state] = 0;  // `set` held exactly `current`; now it holds `next`
  next.clear();
  bool slash = c == '/';
  for (size_t state : current) {
    size_t i = state / 2;
    if (i == tokens_.size()) continue;
    const Token& t = tokens_[i];
    switch (t.kind) {
      case Kind::kLiteral:
        if (static_cast<unsigned char>(t.literal) == c) AddState(i + 1, set, next);
        break;
      case Kind::kAny:
        if (!slash || star_crosses_slash_) AddState(i + 1, set, next);
        break;
      case Kind::kClass:
        if (ClassMatches(t, c)) AddState(i + 1, set, next);
        break;
      case Kind::kStar:
        if (!slash || star_crosses_slash_) AddState(i, set, next);
        break;
      case Kind::kAnyRun:
        AddState(i, set, next);
        break;
      case Kind::kDirs:  // (.*/)? : once inside, left only through a '/'
        AddInsideDirs(i, set, next);
        if (slash) AddState(i + 1, set, next);
        break;
    }
  }
}

template <typename At, typename OnStep>
void Glob::Run(std::string_view text, size_t start, At at, OnStep on_step) const {
  std::vector<char> set(2 * (tokens_.size() + 1), 0);
  std::vector<size_t> current, next;
  AddState(0, set, current);
  const size_t accept = 2 * tokens_.size();
  at(size_t(0), bool(set[accept]));
  for (size_t pos = start; pos < text.size() && !current.empty(); pos++) {
    on_step(current.size());
    Step(current, static_cast<unsigned char>(text[pos]), set, next);
    std::swap(current, next);
    at(pos + 1 - start, bool(set[accept]));
  }
}

int64_t Glob::LongestMatchAt(std::string_view text, size_t start, uint64_t* steps) const {
  int64_t longest = -1;
  Run(
      text, start, [&](size_t length, bool accepting) { if (accepting) longest = int64_t(length); },
      [&](size_t live) { if (steps) *steps += live; });
  return longest;
}

std::vector<bool> Glob::MatchingPrefixes(std::string_view text) const {
  std::vector<bool> out(text.size() + 1, false);
  Run(text, 0, [&](size_t length, bool accepting) { out[length] = accepting; }, [](size_t) {});
  return out;
}

bool Glob::Match(std::string_view text) const { return MatchingPrefixes(text).back(); }

Glob Glob::Reversed() const {
  // Only the shell reverses patterns, and it has no "**/" token, whose reverse ("(/.*)?") is no token of ours.
  Glob r = *this;
  std::reverse(r.tokens_.begin(), r.tokens_.end());
  return r;
}

}  // namespace kiln
