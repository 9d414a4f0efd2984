// Layers: a snapshot's diff directory to an OCI layer blob (tar with whiteouts, gzip), and a layer tar back
// into a diff directory.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "snapshot/compress.h"
#include "store/content.h"
#include "store/metadata.h"

namespace kiln::snapshot {

struct LayerOptions {
  /// SOURCE_DATE_EPOCH: timestamps later than this are clamped to it, for reproducible layers.
  std::optional<int64_t> source_date_epoch;
  CompressionOptions compression;
  /// Recompress layers that already have a blob in another compression (a base image's) too.
  bool force_compression = false;
};

/// Tars `diff_dir` (sorted, overlay whiteouts turned into OCI .wh. entries, hardlinks kept), compresses it into
/// the content store, and returns the blob digest, the uncompressed diff_id and the size, hashed while streaming.
Result<store::LayerRecord> WriteLayer(const std::string& diff_dir, const store::ContentStore& content,
                                      const LayerOptions& options = {});

/// Tars the whole tree `dir` (a mounted root file system) to the file `dest` ("-" is stdout), sorted, file times
/// clamped to `source_date_epoch` when given.
Status WriteTree(const std::string& dir, const std::string& dest, std::optional<int64_t> source_date_epoch);
/// A file system for WriteTrees, and the directory of the tar it goes under ("" for the top).
struct TreeInTar {
  std::string dir;
  std::string prefix;
  bool writes_prefix = true;  // the prefix's own directory entry; false for a second tree under the same prefix
};
/// Several file systems in one tar, each under its prefix (a multi-platform tar output: "linux_amd64/...").
Status WriteTrees(const std::vector<TreeInTar>& trees, const std::string& dest, std::optional<int64_t> source_date_epoch);

/// What one layer may unpack to, by the size of its blob: a compression bomb (a few megabytes that inflate to
/// gigabytes of zeros, or to millions of empty files) is refused before it fills the store. The defaults leave
/// room for any real layer: a gigabyte and a million files whatever the blob, and beyond that 100 bytes and 4
/// files for each byte and KiB of blob (gzip's best is about 1,000 to 1).
struct LayerLimits {
  double max_expansion = 100;     // uncompressed bytes per byte of blob...
  int64_t min_bytes = 1LL << 30;  // ...on top of this
  double files_per_kib = 4;       // files per KiB of blob...
  int64_t min_files = 1'000'000;  // ...on top of this
  int64_t MaxBytes(int64_t blob_size) const;
  int64_t MaxFiles(int64_t blob_size) const;
};

/// Extracts a layer tar (plain, gzip or zstd) at `tar_path` into the empty directory `diff_dir`, turning OCI
/// whiteouts into overlay ones. Paths never escape `diff_dir`; ownership, modes, xattrs and mtimes are restored.
/// An error, leaving the directory to be discarded, once the layer goes past `limits`.
Status ApplyLayer(const std::string& tar_path, const std::string& diff_dir, const LayerLimits& limits = {});

}  // namespace kiln::snapshot
