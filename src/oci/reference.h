// Image references as Docker spells them: "busybox" is docker.io/library/busybox:latest.
#pragma once
#include <string>
#include <string_view>

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

/// Parses and normalizes a reference; an error for malformed names (upper case, bad characters, empty parts, a
/// name longer than 255 characters), which quotes the reference redacted (RedactReference) and cut short.
Result<Reference> ParseReference(const std::string& ref);

/// `text` fit to repeat in a message: a "user:password@" someone put before a registry's name is replaced by
/// "<redacted>@" (an "@" that separates a digest is kept).
std::string RedactReference(std::string_view text);

}  // namespace kiln::oci
