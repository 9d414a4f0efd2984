// Layer compression: the tar stream of a layer in, the blob out (gzip on every core for large layers, zstd, or
// none), with the digests of both computed on the way.
#pragma once
#include <memory>
#include <string>

#include "base/status.h"
#include "store/content.h"
#include "store/metadata.h"

namespace kiln::snapshot {

enum class Compression { kGzip, kZstd, kUncompressed };

struct CompressionOptions {
  Compression kind = Compression::kGzip;
  int level = -1;  // -1: the algorithm's default (gzip 6, zstd 3)
};

/// "gzip", "zstd", "uncompressed".
Result<Compression> ParseCompression(const std::string& name);
/// The OCI layer media type of `kind` ("application/vnd.oci.image.layer.v1.tar+gzip"), or Docker's.
std::string LayerMediaType(Compression kind, bool oci = true);
/// The compression a layer media type names (OCI's or Docker's); none when it is not a layer type kiln knows.
std::optional<Compression> CompressionOf(const std::string& media_type);

class LayerCompressor {
 public:
  static Result<std::unique_ptr<LayerCompressor>> Make(const CompressionOptions& options, store::BlobWriter* blob);
  virtual ~LayerCompressor() = default;
  /// Takes the next bytes of the tar.
  virtual Status Write(const void* data, size_t size) = 0;
  /// Ends the stream; then diff_id() and digest() are known.
  virtual Status Finish() = 0;
  const std::string& diff_id() const { return diff_id_; }
  const std::string& digest() const { return digest_; }

 protected:
  std::string diff_id_;  // of the tar
  std::string digest_;   // of the blob
};

/// Compresses the uncompressed layer blob `tar` (already in `content`) into a new blob of `options.kind`, checking
/// that what it read is still the tar `tar` names.
Result<store::LayerRecord> CompressLayerBlob(const store::LayerRecord& tar, const store::ContentStore& content,
                                             const CompressionOptions& options);

}  // namespace kiln::snapshot
