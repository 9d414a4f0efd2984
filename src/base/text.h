// Text helpers: escaping what is quoted from untrusted input (Dockerfile lines, file names, tool arguments, a
// step's output) so that a message cannot retitle a terminal, clear the screen or move the cursor; UTF-8 checks;
// ASCII case folding; base64; buildx-style key=value flags.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kiln {

/// Replaces C0 controls, DEL and C1 controls (U+0080..U+009F) with `\xHH` escapes (`\r` as itself escaped) and
/// doubles nothing else. With `keep_layout`, newlines and tabs stay as they are (multi-line log tails).
std::string EscapeControl(std::string_view text, bool keep_layout = false);

/// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view text);

/// `text` with A-Z folded to a-z (keywords, header names, size units); other bytes unchanged.
std::string AsciiLower(std::string_view text);

/// A decimal number written as digits only (no sign, no spaces, no leading "+"), at most `max`; none otherwise.
/// For numbers taken from requests and files: never throws, never wraps.
std::optional<uint64_t> ParseDecimal(std::string_view text, uint64_t max = UINT64_MAX);
/// The same with an optional leading "-", within [min, max].
std::optional<int64_t> ParseSignedDecimal(std::string_view text, int64_t min = INT64_MIN, int64_t max = INT64_MAX);

/// The pieces of `text` between each `sep`, empty ones too: "a,,b" is three pieces, "" one empty piece.
std::vector<std::string> SplitString(std::string_view text, char sep);
/// A duration in Go's syntax (time.ParseDuration: "1h30m", "1.5s", "300ms", "-2us"), in nanoseconds; nullopt when
/// malformed or out of range.
std::optional<int64_t> ParseGoDuration(std::string_view text);
/// Go's time.Duration.String(): "0s", "1.5s", "1m30s", "1h0m0s", "300ms", "2µs".
std::string FormatGoDuration(int64_t nanoseconds);

/// `text` with a-z folded to A-Z (Dockerfile keywords in messages); other bytes unchanged.
std::string AsciiUpper(std::string_view text);

/// The option closest to a mistyped `word` (Levenshtein distance under 3, ASCII case ignored), in the case the word
/// was written in when that is all lower or all upper: what "did you mean X?" offers, as BuildKit's does. "" when
/// nothing is that close, or `word` is itself an option.
std::string SuggestClosest(std::string_view word, const std::vector<std::string>& options);

/// Flag values as docker buildx writes them: "k=v,k2=v2" -> pairs, in order (empty parts skipped). A part
/// without "=" after a `list_key` entry is another value of it ("name=a,b"); otherwise an error naming `flag`.
Result<std::vector<std::pair<std::string, std::string>>> ParseAttributes(const std::string& text, const std::string& flag,
                                                                        const std::string& list_key = "");

/// A memory size as Docker reads one (--memory, tmpfs size=): bytes, or with k, m, g or t (binary multiples, an
/// optional trailing b): "64m" is 64 MiB. None when malformed or beyond 2^62.
std::optional<int64_t> ParseRamSize(std::string_view text);

/// Standard base64 (RFC 4648, with padding).
std::string Base64Encode(std::string_view data);
/// The bytes of standard base64 text; none when it is not well-formed.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace kiln
