#include "base/json.h"

#include "base/text.h"

namespace kiln {
namespace {

/// Whether every string (and object key) in `j` is UTF-8: the common case, checked without copying anything.
bool AllUtf8(const Json& j) {
  if (j.is_string()) return IsValidUtf8(j.get_ref<const std::string&>());
  if (j.is_array()) {
    for (auto& x : j)
      if (!AllUtf8(x)) return false;
  } else if (j.is_object()) {
    for (auto& [k, v] : j.items())
      if (!IsValidUtf8(k) || !AllUtf8(v)) return false;
  }
  return true;
}

/// `j` with each string that is not UTF-8 replaced by {"hex": its bytes in hex}. Where digested JSON holds a
/// string, an object never appears, so distinct byte strings stay distinct.
Json HexInvalidStrings(const Json& j) {
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

}  // namespace

Result<Json> ParseJson(std::string_view text, int max_depth) {
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

std::string DigestText(const Json& j) { return AllUtf8(j) ? j.dump() : HexInvalidStrings(j).dump(); }

std::string DumpLenient(const Json& j, int indent) { return j.dump(indent, ' ', false, Json::error_handler_t::replace); }

}  // namespace kiln
