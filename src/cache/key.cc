#include "cache/key.h"

#include "base/digest.h"
#include "base/json.h"

namespace kiln::cache {

std::string StepKey(const graph::Vertex& v, const std::vector<std::string>& input_keys, const std::string& content) {
  // The content (a digest per file a COPY reads: 70 bytes a file) enters by its own digest: hashing it directly is
  // five times faster than carrying it through the JSON text.
  Json j = {{"op", graph::OpToJson(v.op)}, {"inputs", input_keys}, {"content", content.empty() ? "" : DigestOf(content)}};
  if (std::holds_alternative<graph::LocalSource>(v.op)) j["op"].erase("path");
  // ADD --checksum only checks what a download or checkout is: the source is keyed by what it resolved to (its
  // content digest, its commit, in `content`), so the same commit or file hits the cache with or without it, as in
  // BuildKit. Kept as "" so that keys of sources without a checksum stay what they were.
  if (std::holds_alternative<graph::GitSource>(v.op) || std::holds_alternative<graph::HttpSource>(v.op)) {
    j["op"]["checksum"] = "";
  }
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
