// The content store: blobs addressed by digest under <root>/blobs/sha256, written atomically.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "oci/image.h"

namespace kiln::store {

class ContentStore;

/// A blob being written; nothing is visible in the store until Commit. Abandoned writers delete their temp file.
class BlobWriter {
 public:
  BlobWriter(BlobWriter&& o) noexcept;
  BlobWriter& operator=(BlobWriter&&) = delete;
  ~BlobWriter();
  Status Write(const void* data, size_t size);
  /// fsyncs and renames the blob into place under `digest` (already computed by the caller while streaming).
  Status Commit(const std::string& digest);
  int64_t size() const { return size_; }

 private:
  friend class ContentStore;
  BlobWriter(const ContentStore* store, std::string tmp, int fd) : store_(store), tmp_(std::move(tmp)), fd_(fd) {}
  /// The error for a failed `call` (errno set).
  Status WriteError(const char* call) const;
  const ContentStore* store_;
  std::string tmp_;
  int fd_ = -1;
  int64_t size_ = 0;
};

/// Thread-safe: every write goes to a temp file and is renamed into place.
class ContentStore {
 public:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  /// Creates the directories and removes blobs that processes which died were writing.
  Status Init() const;
  std::string BlobPath(std::string_view digest) const;
  bool Has(std::string_view digest) const;
  Result<std::string> Read(std::string_view digest) const;
  /// Stores `data` and returns its descriptor.
  Result<oci::Descriptor> Put(const std::string& media_type, std::string_view data) const;
  Result<BlobWriter> NewWriter() const;
  /// Copies a file into the store as `digest`; an error (nothing stored) when its content does not match.
  Status Adopt(const std::string& path, const std::string& digest) const;
  Status Remove(std::string_view digest) const;
  struct BlobInfo {
    std::string digest;
    int64_t size = 0;
  };
  Result<std::vector<BlobInfo>> List() const;

 private:
  friend class BlobWriter;  // names the data root in its errors
  std::string root_;
};

}  // namespace kiln::store
