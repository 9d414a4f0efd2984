// How BuildKit writes instructions into an image's history (created_by): Go's renderings of slices and maps, so
// that kiln's history lines read exactly as BuildKit's do.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::dockerfile {

/// The words joined by single spaces.
std::string JoinWords(const std::vector<std::string>& words);
/// Go's %v of a []string, as BuildKit prints VOLUME, SHELL and exec-form RUN: [a b c].
std::string GoSlice(const std::vector<std::string>& words);
/// Go's %q of a []string, as BuildKit prints CMD and ENTRYPOINT: ["/bin/sh" "-c" "x"].
std::string GoQuotedSlice(const std::vector<std::string>& words);
/// Go's %q of one string.
std::string GoQuoted(const std::string& text);
/// Go's %q of an integer: the character literal of that code point ('A', '\x03', '\n').
std::string GoQuotedRune(int64_t code_point);

}  // namespace kiln::dockerfile
