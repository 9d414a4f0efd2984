// kiln's JSON type: nlohmann::json, ordered so that documents kiln writes keep a stable field order.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "base/status.h"

namespace kiln {
using Json = nlohmann::ordered_json;

/// How deeply parsed JSON may nest. nlohmann parses without recursion, but copying, comparing and printing a
/// document recurse once per level: a 100,000-deep array from a client would overflow the stack there.
constexpr int kMaxJsonDepth = 128;

/// Parses `text` without exceptions; an error says whether it is not JSON or nested deeper than `max_depth`.
Result<Json> ParseJson(std::string_view text, int max_depth = kMaxJsonDepth);

/// The text a digest is computed over: j.dump() when every string is UTF-8 (so existing digests never change),
/// else the same with non-UTF-8 strings spelled as {"hex": ...}. dump() alone throws on such strings (a Dockerfile
/// in Latin-1), and its replacing modes would give two different commands one cache key.
std::string DigestText(const Json& j);

/// The text of a document kiln writes for others (image configs, runtime specs, reports): invalid UTF-8 becomes
/// U+FFFD, as Go's encoding/json (BuildKit, runc) does, instead of throwing.
std::string DumpLenient(const Json& j, int indent = -1);

}  // namespace kiln
