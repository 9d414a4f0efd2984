// kiln's JSON type: nlohmann::json, ordered so that documents kiln writes keep a stable field order.
#pragma once
#include <nlohmann/json.hpp>

namespace kiln {
using Json = nlohmann::ordered_json;
}  // namespace kiln
