#include "cache/key.h"

#include "base/digest.h"
#include "base/json.h"

namespace kiln::cache {

std::string StepKey(const graph::Vertex& v, const std::vector<std::string>& input_keys, const std::string& content) {
  Json j = {{"op", graph::OpToJson(v.op)}, {"inputs", input_keys}, {"content", content}};
  if (std::holds_alternative<graph::LocalSource>(v.op)) j["op"].erase("path");
  return DigestOf(DigestText(j));
}

}  // namespace kiln::cache
