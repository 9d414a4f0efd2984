// Text quoted from untrusted input (Dockerfile lines, file names, tool arguments, a step's output) made safe to
// show on a terminal: control characters become visible escapes, so a message cannot retitle a window, clear the
// screen or move the cursor.
#pragma once
#include <string>
#include <string_view>

namespace kiln {

/// Replaces C0 controls, DEL and C1 controls (U+0080..U+009F) with `\xHH` escapes (`\r` as itself escaped) and
/// doubles nothing else. With `keep_layout`, newlines and tabs stay as they are (multi-line log tails).
std::string EscapeControl(std::string_view text, bool keep_layout = false);

/// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view text);

}  // namespace kiln
