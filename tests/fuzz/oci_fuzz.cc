// Fuzz target: the OCI readers (manifest, index, image config) on untrusted JSON, as pulled or loaded from an
// archive. Anything may come back as an error; nothing may crash or throw.
#include <cstddef>
#include <cstdint>
#include <string>

#include "oci/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)kiln::oci::ManifestFromJson(text);
  (void)kiln::oci::IndexFromJson(text);
  auto config = kiln::oci::ImageConfigFromJson(text);
  if (config.ok()) (void)kiln::oci::Serialize(kiln::oci::ToJson(*config));
  return 0;
}
