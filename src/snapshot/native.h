// The native snapshotter's operations, for where neither overlayfs nor fuse-overlayfs can mount (containerd and
// BuildKit call it "native"): a stack of layer directories is made real by copying (or, for a view that is only
// read, hardlinking) its files, and a step's changes are found afterwards by comparing its working copy with what was
// copied. The layers stay in overlay's form, so a store written by one snapshotter is read by any other.
#pragma once
#include <sys/types.h>

#include <ctime>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace kiln::snapshot {

/// Builds in the empty directory `dst` the file system that the layer directories make when stacked (top layer
/// first), as overlayfs would show it: whiteouts delete, opaque directories hide what is below. With `link_files`,
/// regular files are hardlinks to the layers' own: a view that must only be read. With `sources`, each regular
/// file's path in `dst` is mapped to the layer file it came from.
Status MergeLayers(const std::vector<std::string>& layers_top_first, const std::string& dst, bool link_files,
                   std::unordered_map<std::string, std::string>* sources = nullptr);

/// A writable copy of a stack of layers, whose changes can afterwards be written out as one more layer.
class WorkingCopy {
 public:
  /// Copies the stack into the empty directory `dir` and records each entry's inode and change time. Returns only
  /// once the clock has moved past every recorded change time, so that any later change shows.
  static Result<WorkingCopy> Make(const std::vector<std::string>& layers_top_first, const std::string& dir);

  const std::string& path() const { return dir_; }

  /// Writes into the layer directory `upper` what changed in the copy since Make, as overlayfs would have: new and
  /// changed entries (with the directories above them), a whiteout for each removed one, and a replaced directory
  /// as opaque. A change is a new inode or a new change time, which no program can set back; a file whose change
  /// time alone moved (a link to it came or went) is compared with its layer's copy.
  Status WriteChanges(const std::string& upper) const;

 private:
  struct Entry {
    ino_t ino = 0;
    struct timespec ctime {};
    bool dir = false;
    // The metadata a change shows in: a directory's change time also moves when entries come and go, or when the
    // runtime makes and removes a mount point, and a file's when a link to it comes or goes.
    mode_t mode = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    struct timespec mtime {};
    off_t size = 0;
  };
  friend class ChangeWriter;
  std::string dir_;
  std::unordered_map<std::string, Entry> entries_;                      // by path below dir_ ("a/b")
  std::unordered_map<std::string, std::vector<std::string>> children_;  // directory ("" for the root) -> names
  std::unordered_map<std::string, std::string> sources_;                // regular file -> the layer file copied
};

}  // namespace kiln::snapshot
