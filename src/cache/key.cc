#include "cache/key.h"

#include "base/digest.h"
#include "base/json.h"

namespace kiln::cache {

std::string StepKey(const graph::Vertex& v, const std::vector<std::string>& input_keys, const std::string& content) {
  // The content (a digest per file a COPY reads: 70 bytes a file) enters by its own digest: hashing it directly is
  // five times faster than carrying it through the JSON text.
  Json j = {{"op", graph::OpToJson(v.op)}, {"inputs", input_keys}, {"content", content.empty() ? "" : DigestOf(content)}};
  if (std::holds_alternative<graph::LocalSource>(v.op)) j["op"].erase("path");
  // As BuildKit's cache map: a cache mount's id and sharing do not change what the step makes (another id holds the
  // same kind of cache); its target, mode and owner do.
  if (j["op"].contains("mounts")) {
    for (auto& m : j["op"]["mounts"]) {
      if (m["type"] != "cache") continue;
      m.erase("id");
      m.erase("sharing");
    }
  }
  return DigestOf(DigestText(j));
}

}  // namespace kiln::cache
