// The overlayfs snapshotter: each snapshot is one layer's directory (overlay "upper" form, whiteouts as 0:0
// character devices and opaque directories as trusted.overlay.opaque=y); a chain of them is mounted with overlayfs.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/status.h"
#include "snapshot/layer.h"
#include "store/metadata.h"

namespace kiln::snapshot {

using store::SnapshotId;

/// A mounted file system, unmounted (and its mount point removed) when destroyed.
class Mount {
 public:
  Mount() = default;
  Mount(Mount&& o) noexcept;
  Mount& operator=(Mount&& o) noexcept;
  ~Mount();
  /// Where the file system is visible.
  const std::string& path() const { return path_; }
  Status Unmount();

 private:
  friend class Snapshotter;
  std::string path_;
  bool mounted_ = false;   // false when path_ is a snapshot directory used as it is
  bool owns_dir_ = false;  // the mount point is a temp dir of ours
};

class Snapshotter;

/// A snapshot being written. It discards itself (files and record) when destroyed unless it was committed, so
/// every early return and error path leaves nothing behind.
class ActiveSnapshot {
 public:
  ActiveSnapshot() = default;
  ActiveSnapshot(ActiveSnapshot&& o) noexcept { *this = std::move(o); }
  ActiveSnapshot& operator=(ActiveSnapshot&& o) noexcept;
  ~ActiveSnapshot();

  SnapshotId id = 0;
  SnapshotId parent = 0;
  /// The layer directory (overlay upper dir) holding this snapshot's changes.
  std::string diff_dir;

 private:
  friend class Snapshotter;
  Snapshotter* owner_ = nullptr;  // set while it is uncommitted and not yet discarded
};

/// Thread-safe: snapshot ids come from the metadata database; each snapshot has its own directory.
class Snapshotter {
 public:
  Snapshotter(std::string root, store::Metadata* metadata);
  /// Creates directories and removes snapshots left uncommitted by processes that died (crash, kill -9).
  Status Init();

  /// A new empty layer on top of `parent` (0 for the empty file system).
  Result<ActiveSnapshot> Prepare(SnapshotId parent);
  /// Makes `s` a committed snapshot; it is no longer discarded when destroyed.
  Status Commit(ActiveSnapshot& s);
  /// Deletes `s` now (as its destruction would), reporting failure.
  Status Discard(ActiveSnapshot& s);
  /// Deletes a committed snapshot (garbage collection): its files, then its record.
  Status Remove(SnapshotId id);

  /// Mounts `s` writable: its parent chain as lower layers, its diff dir as the upper.
  Result<Mount> MountActive(const ActiveSnapshot& s);
  /// Mounts the committed chain ending at `id` for reading (a scratch chain yields an empty directory).
  Result<Mount> MountReadOnly(SnapshotId id);

  /// Removes directories that overlayfs only copied up (empty in the diff, same metadata as below), as happens
  /// when a runtime creates mount points under an existing directory: they are not changes of the step.
  Status TrimCopyUps(const ActiveSnapshot& s);

  /// A directory for what a build fetches (ADD's downloads and git checkouts), removed with the TempDir; one a
  /// killed process left behind is removed by the next Init.
  Result<TempDir> FetchDir();

  /// Snapshot ids from the bottom layer to `id`.
  Result<std::vector<SnapshotId>> Chain(SnapshotId id);
  std::string DiffDir(SnapshotId id) const;
  const std::string& root() const { return root_; }
  /// Which snapshotter this is and how it mounts, in words: "overlayfs" or "overlayfs (userxattr, in a user
  /// namespace)".
  std::string Describe() const;
  /// What a layer unpacked into a snapshot may expand to (kiln.toml [layers]).
  const LayerLimits& layer_limits() const { return layer_limits_; }
  void set_layer_limits(const LayerLimits& limits) { layer_limits_ = limits; }

 private:
  Result<Mount> MountOverlay(const std::vector<SnapshotId>& lowers_bottom_up, const std::string& upper,
                             const std::string& work);
  std::string root_;
  store::Metadata* metadata_;
  std::string extra_options_;  // overlay options that keep upper dirs in plain layer form
  LayerLimits layer_limits_;
};

}  // namespace kiln::snapshot
