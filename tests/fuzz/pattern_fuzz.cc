// Fuzz target: .dockerignore parsing and matching, and glob patterns of every syntax. The first line is the
// pattern (or the whole .dockerignore text up to a NUL byte), the rest the path matched against it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/glob.h"
#include "base/pattern.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  size_t split = input.find('\0');
  std::string patterns = input.substr(0, split);
  std::string path = split == std::string::npos ? "a/b/c.txt" : input.substr(split + 1);
  auto m = kiln::PatternMatcher::Parse(patterns, ".dockerignore");
  if (m.ok()) {
    (void)m->Excluded(path);
    (void)m->Excluded("x");
  }
  std::string first = patterns.substr(0, patterns.find('\n'));
  for (auto syntax : {kiln::GlobSyntax::kPath, kiln::GlobSyntax::kDockerignore, kiln::GlobSyntax::kShell}) {
    auto g = kiln::Glob::Compile(first, syntax);
    if (!g.ok()) continue;
    bool whole = g->Match(path);
    auto prefixes = g->MatchingPrefixes(path);
    if (prefixes.size() != path.size() + 1 || prefixes.back() != whole) __builtin_trap();
    int64_t longest = g->LongestMatchAt(path, 0);
    if (longest >= 0 && !prefixes[size_t(longest)]) __builtin_trap();
    if (syntax == kiln::GlobSyntax::kShell) (void)g->Reversed().Match(path);
  }
  (void)kiln::GlobMatch(first, path);
  return 0;
}
