// Image references as Docker spells them: "busybox" is docker.io/library/busybox:latest.
#pragma once
#include <string>

#include "base/status.h"

namespace kiln::oci {

struct Reference {
  std::string registry;    // "docker.io", "127.0.0.1:5000"
  std::string repository;  // "library/busybox"
  std::string tag;         // "latest" unless a digest is given alone
  std::string digest;      // "sha256:..." or ""

  /// The full normalized name: "docker.io/library/busybox:latest" (with "@digest" when there is one).
  std::string String() const;
  /// The short form people type: "busybox:latest", "127.0.0.1:5000/busybox:anchor".
  std::string Familiar() const;
};

/// Parses and normalizes a reference; an error for malformed names (upper case, bad characters, empty parts).
Result<Reference> ParseReference(const std::string& ref);

}  // namespace kiln::oci
