// Fuzz target: what a registry or an archive hands kiln, untrusted: manifests, indexes and image configs (and
// platform selection in an index), kiln cache configs and inline cache, and WWW-Authenticate challenges. Anything
// may come back as an error; nothing may crash or throw.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/json.h"
#include "cache/transfer.h"
#include "oci/image.h"
#include "remote/auth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto manifest = kiln::oci::ManifestFromJson(text);
  auto index = kiln::oci::IndexFromJson(text);
  if (index.ok()) (void)kiln::oci::SelectPlatform(*index, kiln::oci::Platform::Host(), "fuzz");
  auto config = kiln::oci::ImageConfigFromJson(text);
  if (config.ok()) (void)kiln::oci::Serialize(kiln::oci::ToJson(*config));
  std::vector<kiln::oci::Descriptor> layers;
  if (manifest.ok()) layers = manifest->layers;
  (void)kiln::cache::DecodeCache(text, layers, "fuzz");
  auto json = kiln::ParseJson(text);
  if (json.ok() && manifest.ok()) (void)kiln::cache::DecodeInlineCache(*json, *manifest);
  (void)kiln::remote::ParseChallenges(text);
  return 0;
}
