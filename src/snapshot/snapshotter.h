// The snapshotter: each snapshot is one layer's directory in overlay "upper" form (whiteouts and opaque directories
// as overlay_marks.h says); a chain of them is stacked by one of three drivers, as BuildKit's snapshotters do:
//   - overlayfs, mounted by the kernel (as root, or in kiln's user namespace where the kernel allows it);
//   - fuse-overlayfs, the same in user space, where the kernel refuses;
//   - native, where neither mounts: chains are copied, and a step's changes found by comparison (native.h).
// "auto" takes the first that works here; a setting (kiln.toml, KILN_SNAPSHOTTER) forces one.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/status.h"
#include "snapshot/layer.h"
#include "snapshot/native.h"
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
  bool mounted_ = false;    // false when path_ is a snapshot directory used as it is, or a native view
  bool owns_dir_ = false;   // the mount point is a temp dir of ours
  bool owns_tree_ = false;  // path_ is a native view of ours: removed with all it holds
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

enum class SnapshotDriver { kOverlayfs, kFuseOverlayfs, kNative };

/// Thread-safe: snapshot ids come from the metadata database; each snapshot has its own directory.
class Snapshotter {
 public:
  /// The driver settings: "auto", "overlayfs", "fuse-overlayfs", "native".
  static bool IsDriverName(const std::string& name);

  /// `driver` is one of the names IsDriverName accepts.
  Snapshotter(std::string root, store::Metadata* metadata, std::string driver = "auto");
  /// Creates directories and removes snapshots left uncommitted by processes that died (crash, kill -9).
  Status Init();

  /// A new empty layer on top of `parent` (0 for the empty file system).
  Result<ActiveSnapshot> Prepare(SnapshotId parent);
  /// Makes `s` a committed snapshot; it is no longer discarded when destroyed. Under the native driver, this is when
  /// the changes made in its working copy are written into its layer directory.
  Status Commit(ActiveSnapshot& s);
  /// Deletes `s` now (as its destruction would), reporting failure.
  Status Discard(ActiveSnapshot& s);
  /// Deletes a committed snapshot (garbage collection): its files, then its record.
  Status Remove(SnapshotId id);

  /// Mounts `s` writable: its parent chain as lower layers, its diff dir as the upper.
  Result<Mount> MountActive(const ActiveSnapshot& s);
  /// Mounts the committed chain ending at `id` for reading (a scratch chain yields an empty directory).
  Result<Mount> MountReadOnly(SnapshotId id);

  /// Removes from a step's layer what changes nothing: directories only copied up (empty in the diff, same
  /// metadata as below), as when a runtime creates mount points under an existing directory, and what
  /// fuse-overlayfs adds besides (snapshotter.cc): the layer is then the same whichever driver ran the step.
  Status TrimCopyUps(const ActiveSnapshot& s);

  /// A directory for what a build fetches (ADD's downloads and git checkouts), removed with the TempDir; one a
  /// killed process left behind is removed by the next Init.
  Result<TempDir> FetchDir();

  /// Snapshot ids from the bottom layer to `id`.
  Result<std::vector<SnapshotId>> Chain(SnapshotId id);
  std::string DiffDir(SnapshotId id) const;
  const std::string& root() const { return root_; }
  /// Which driver stacks the layers, and why when "auto" had to fall back: "overlayfs", "overlayfs (userxattr, in
  /// a user namespace)", "fuse-overlayfs (overlayfs: ...)", "native, copying (...)".
  std::string Describe();
  /// The driver in use, chosen on first need: choosing "auto" costs a trial mount.
  SnapshotDriver driver();
  /// What a layer unpacked into a snapshot may expand to (kiln.toml [layers]).
  const LayerLimits& layer_limits() const { return layer_limits_; }
  void set_layer_limits(const LayerLimits& limits) { layer_limits_ = limits; }

 private:
  void ChooseDriver();
  /// Whether overlayfs mounts here with our options; the error when it does not.
  Status TryOverlay(SnapshotDriver driver);
  /// Mounts a stack (overlay `options`: lowerdir, upperdir, workdir) on `target` with the kernel's overlayfs or
  /// fuse-overlayfs.
  Result<Mount> MountAt(SnapshotDriver driver, const std::string& options, const std::string& target);
  Result<Mount> MountOverlay(SnapshotDriver driver, const std::vector<SnapshotId>& lowers_bottom_up,
                             const std::string& upper, const std::string& work);
  /// Native: a view of the chain, its files hardlinked to the layers'.
  Result<Mount> MountNativeView(const std::vector<SnapshotId>& chain);
  std::vector<std::string> LayerDirsTopFirst(const std::vector<SnapshotId>& chain_bottom_up) const;
  std::string root_;
  store::Metadata* metadata_;
  std::string extra_options_;  // overlay options that keep upper dirs in plain layer form
  LayerLimits layer_limits_;
  std::string wanted_driver_;
  std::once_flag driver_chosen_;
  SnapshotDriver driver_ = SnapshotDriver::kOverlayfs;
  std::string fallback_reason_;  // why "auto" did not take overlayfs
  std::mutex working_copies_mu_;
  std::map<SnapshotId, WorkingCopy> working_copies_;  // native: active snapshots mounted, by id
};

}  // namespace kiln::snapshot
