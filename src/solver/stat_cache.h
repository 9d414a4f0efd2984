// The context's stat cache: a file's content digest is kept with its device, inode, size, mtime and ctime, so a
// build of an unchanged context stats its files instead of reading them all again.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "solver/file_op.h"
#include "store/metadata.h"

namespace kiln::solver {

class StatDigestCache : public FileDigests {
 public:
  /// A file changed within `racy_ns` before its digest was taken may change again with the same size and times
  /// (file system timestamps are coarser than nanoseconds): its digest is used but not kept, as git does with
  /// "racy" files.
  static constexpr int64_t kRacyNanos = 2'000'000'000;
  /// Loads what the store knows of the files under `dir` (a context directory, absolute).
  static Result<std::unique_ptr<StatDigestCache>> Load(store::Metadata* metadata, const std::string& dir,
                                                       int64_t racy_ns = kRacyNanos);
  Result<std::string> Of(const std::string& path, const struct stat& st) override;
  /// Records the digests taken since Load, in one transaction.
  Status Save();

 private:
  StatDigestCache(store::Metadata* metadata, std::map<std::string, store::FileDigestRecord> known, int64_t racy_ns);
  store::Metadata* metadata_;
  std::map<std::string, store::FileDigestRecord> known_;
  std::map<std::string, store::FileDigestRecord> taken_;
  int64_t started_ns_;
  int64_t racy_ns_;
};

}  // namespace kiln::solver
