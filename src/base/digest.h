// SHA-256 digests in OCI form ("sha256:<hex>"), computed with OpenSSL, streaming.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kiln {

/// An incremental SHA-256 hasher.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, size_t size);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  /// "sha256:<64 hex>"; the hasher must not be used afterwards.
  std::string Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

/// The digest of a byte string.
std::string DigestOf(std::string_view data);
/// The digest of a file's content.
Result<std::string> DigestOfFile(const std::string& path);
/// The 64-hex part of "sha256:<hex>".
std::string DigestHex(std::string_view digest);
/// Whether `digest` is a well-formed "sha256:<64 lowercase hex>".
bool IsValidDigest(std::string_view digest);

/// `bytes` bytes from OpenSSL's CSPRNG, as lowercase hex: ids and tokens nobody may guess. An error (never a
/// weaker fallback) when the generator fails.
Result<std::string> RandomHex(size_t bytes);

}  // namespace kiln
