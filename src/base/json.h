// kiln's JSON type: nlohmann::json, ordered so that documents kiln writes keep a stable field order.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "base/text.h"
#include "base/status.h"

namespace kiln {
using Json = nlohmann::ordered_json;

/// How deeply parsed JSON may nest. nlohmann parses without recursion, but copying, comparing and printing a
/// document recurse once per level: a 100,000-deep array from a client would overflow the stack there.
constexpr int kMaxJsonDepth = 128;

/// Parses `text` without exceptions; an error says whether it is not JSON or nested deeper than `max_depth`.
inline Result<Json> ParseJson(std::string_view text, int max_depth = kMaxJsonDepth) {
  bool too_deep = false;
  Json j = Json::parse(
      text,
      [&](int depth, Json::parse_event_t, Json&) {
        if (depth > max_depth) too_deep = true;
        return !too_deep;
      },
      false);
  if (too_deep) return Status::Error("JSON nested deeper than " + std::to_string(max_depth) + " levels");
  if (j.is_discarded()) return Status::Error("not valid JSON");
  return j;
}

namespace json_internal {
/// `j` with each string that is not UTF-8 replaced by {"hex": its bytes in hex}. Where digested JSON holds a
/// string, an object never appears, so distinct byte strings stay distinct.
inline Json HexInvalidStrings(const Json& j) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (IsValidUtf8(s)) return j;
    static const char* kHex = "0123456789abcdef";
    std::string hex;
    for (unsigned char c : s) hex += {kHex[c >> 4], kHex[c & 15]};
    return Json{{"hex", hex}};
  }
  if (j.is_array()) {
    Json out = Json::array();
    for (auto& x : j) out.push_back(HexInvalidStrings(x));
    return out;
  }
  if (j.is_object()) {
    Json out = Json::object();
    for (auto& [k, v] : j.items()) out[IsValidUtf8(k) ? k : HexInvalidStrings(Json(k)).dump()] = HexInvalidStrings(v);
    return out;
  }
  return j;
}
}  // namespace json_internal

/// The text a digest is computed over: j.dump() when every string is UTF-8 (so existing digests never change),
/// else the same with non-UTF-8 strings spelled as {"hex": ...}. dump() alone throws on such strings (a Dockerfile
/// in Latin-1), and its replacing modes would give two different commands one cache key.
inline std::string DigestText(const Json& j) { return json_internal::HexInvalidStrings(j).dump(); }

/// The text of a document kiln writes for others (image configs, runtime specs, reports): invalid UTF-8 becomes
/// U+FFFD, as Go's encoding/json (BuildKit, runc) does, instead of throwing.
inline std::string DumpLenient(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace kiln
