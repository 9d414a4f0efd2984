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

}  // namespace kiln
