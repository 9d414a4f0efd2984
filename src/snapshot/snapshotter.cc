#include "snapshot/snapshotter.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "base/fs.h"
#include "base/process.h"
#include "snapshot/overlay_marks.h"

namespace kiln::snapshot {

namespace {

/// Whether a file system is mounted on `path` (it lies on another device than its parent).
bool IsMountPoint(const std::string& path) {
  struct stat st, parent;
  return lstat(path.c_str(), &st) == 0 && lstat(DirName(path).c_str(), &parent) == 0 && st.st_dev != parent.st_dev;
}

}  // namespace

Mount::Mount(Mount&& o) noexcept
    : path_(std::move(o.path_)), mounted_(o.mounted_), owns_dir_(o.owns_dir_), owns_tree_(o.owns_tree_) {
  o.path_.clear();
  o.mounted_ = o.owns_dir_ = o.owns_tree_ = false;
}

Mount& Mount::operator=(Mount&& o) noexcept {
  if (this != &o) {
    (void)Unmount();
    path_ = std::move(o.path_);
    mounted_ = o.mounted_;
    owns_dir_ = o.owns_dir_;
    owns_tree_ = o.owns_tree_;
    o.path_.clear();
    o.mounted_ = o.owns_dir_ = o.owns_tree_ = false;
  }
  return *this;
}

Mount::~Mount() { (void)Unmount(); }

Status Mount::Unmount() {
  if (mounted_) {
    if (umount2(path_.c_str(), 0) != 0 && umount2(path_.c_str(), MNT_DETACH) != 0) {
      return ErrnoError("unmount", path_);
    }
    mounted_ = false;
  }
  if (owns_dir_) {
    rmdir(path_.c_str());
    owns_dir_ = false;
  }
  if (owns_tree_) {
    KILN_TRY(RemoveAll(path_));
    owns_tree_ = false;
  }
  path_.clear();
  return Status::Ok();
}

bool Snapshotter::IsDriverName(const std::string& name) {
  return name == "auto" || name == "overlayfs" || name == "fuse-overlayfs" || name == "native";
}

Snapshotter::Snapshotter(std::string root, store::Metadata* metadata, std::string driver)
    : root_(std::move(root)), metadata_(metadata), wanted_driver_(std::move(driver)) {
  // Kernels where these default to on would write redirect xattrs and index entries that a layer cannot carry.
  if (PathExists("/sys/module/overlay/parameters/index")) extra_options_ += ",index=off";
  // With userxattr (in a user namespace) "off" means "follow", which the kernel refuses there: "nofollow" writes
  // and follows no redirects either.
  if (PathExists("/sys/module/overlay/parameters/redirect_dir")) {
    extra_options_ += InUserNamespace() ? ",redirect_dir=nofollow" : ",redirect_dir=off";
  }
  if (PathExists("/sys/module/overlay/parameters/metacopy")) extra_options_ += ",metacopy=off";
  extra_options_ += OverlayNamespaceOptions();
}

SnapshotDriver Snapshotter::driver() {
  std::call_once(driver_chosen_, [this] { ChooseDriver(); });
  return driver_;
}

void Snapshotter::ChooseDriver() {
  if (wanted_driver_ == "overlayfs") return;  // driver_'s default
  if (wanted_driver_ == "fuse-overlayfs") {
    driver_ = SnapshotDriver::kFuseOverlayfs;
    return;
  }
  if (wanted_driver_ == "native") {
    driver_ = SnapshotDriver::kNative;
    return;
  }
  Status overlay = TryOverlay(SnapshotDriver::kOverlayfs);
  if (overlay.ok()) return;
  fallback_reason_ = "overlayfs: " + overlay.message();
  Status fuse = TryOverlay(SnapshotDriver::kFuseOverlayfs);
  if (fuse.ok()) {
    driver_ = SnapshotDriver::kFuseOverlayfs;
    return;
  }
  driver_ = SnapshotDriver::kNative;
  fallback_reason_ += "; fuse-overlayfs: " + fuse.message();
  fprintf(stderr,
          "kiln: warning: snapshots are copied (the native snapshotter): builds are slower and use more disk. "
          "%s. Install fuse-overlayfs (and give access to /dev/fuse), or allow overlay mounts, to avoid it\n",
          fallback_reason_.c_str());
}

Status Snapshotter::TryOverlay(SnapshotDriver driver) {
  if (driver == SnapshotDriver::kFuseOverlayfs && access("/dev/fuse", R_OK | W_OK) != 0) {
    return ErrnoError("open", "/dev/fuse");
  }
  // The trial stacks directories of the store as a snapshot would be: the answer holds for the store's file system.
  KILN_ASSIGN(TempDir trial, TempDir::Create(JoinPath(root_, "mounts"), "t-" + std::to_string(getpid()) + "-"));
  for (const char* dir : {"lower", "upper", "work", "mnt"}) KILN_TRY(MakeDirs(JoinPath(trial.path(), dir), 0700));
  const std::string& t = trial.path();
  KILN_ASSIGN(Mount m, MountAt(driver, "lowerdir=" + t + "/lower,upperdir=" + t + "/upper,workdir=" + t + "/work",
                               t + "/mnt"));
  return m.Unmount();
}

std::string Snapshotter::Describe() {
  SnapshotDriver d = driver();  // first: choosing it may give the reason
  std::string why = fallback_reason_.empty() ? "" : " (" + fallback_reason_ + ")";
  switch (d) {
    case SnapshotDriver::kOverlayfs:
      return InUserNamespace() ? "overlayfs (userxattr, in a user namespace)" : "overlayfs";
    case SnapshotDriver::kFuseOverlayfs:
      return "fuse-overlayfs" + why;
    case SnapshotDriver::kNative:
      return "native, copying" + why;
  }
  return "";
}

Status Snapshotter::Init() {
  KILN_TRY(MakeDirs(JoinPath(root_, "snapshots"), 0700));
  KILN_TRY(MakeDirs(JoinPath(root_, "mounts"), 0700));
  // Mount points are named after the process that made them; those of dead processes are stale.
  KILN_ASSIGN(auto mounts, ListDir(JoinPath(root_, "mounts")));
  for (auto& name : mounts) {
    if (!ProcessIsGone(pid_t(atol(name.c_str() + name.find('-') + 1)))) continue;
    std::string path = JoinPath(root_, "mounts/" + name);
    umount2(path.c_str(), MNT_DETACH);
    // What is left is a native view or a trial's directories, never a mount: emptied, they go too.
    if (!IsMountPoint(path)) (void)RemoveAll(path);
  }
  KILN_TRY(MakeDirs(JoinPath(root_, "fetches"), 0700));
  KILN_ASSIGN(auto fetches, ListDir(JoinPath(root_, "fetches")));
  for (auto& name : fetches) {
    if (ProcessIsGone(pid_t(atol(name.c_str() + name.find('-') + 1)))) (void)RemoveAll(JoinPath(root_, "fetches/" + name));
  }
  KILN_ASSIGN(auto abandoned, metadata_->AbandonedSnapshots());
  for (SnapshotId id : abandoned) {
    std::string dir = JoinPath(root_, "snapshots/" + std::to_string(id));
    if (RemoveAll(dir).ok()) KILN_TRY(metadata_->DeleteSnapshot(id));
  }
  return Status::Ok();
}

Result<TempDir> Snapshotter::FetchDir() {
  return TempDir::Create(JoinPath(root_, "fetches"), "f-" + std::to_string(getpid()) + "-");
}

std::string Snapshotter::DiffDir(SnapshotId id) const {
  return JoinPath(root_, "snapshots/" + std::to_string(id) + "/fs");
}

ActiveSnapshot& ActiveSnapshot::operator=(ActiveSnapshot&& o) noexcept {
  if (this != &o) {
    if (owner_) (void)owner_->Discard(*this);
    id = o.id;
    parent = o.parent;
    diff_dir = std::move(o.diff_dir);
    owner_ = o.owner_;
    o.owner_ = nullptr;
  }
  return *this;
}

ActiveSnapshot::~ActiveSnapshot() {
  if (owner_) (void)owner_->Discard(*this);
}

Result<ActiveSnapshot> Snapshotter::Prepare(SnapshotId parent) {
  KILN_ASSIGN(SnapshotId id, metadata_->CreateSnapshot(parent));
  ActiveSnapshot s;
  s.id = id;
  s.parent = parent;
  s.owner_ = this;  // from here on, a failure below discards the record too
  std::string dir = JoinPath(root_, "snapshots/" + std::to_string(id));
  s.diff_dir = dir + "/fs";
  KILN_TRY(MakeDirs(dir + "/fs", 0755));
  KILN_TRY(MakeDirs(dir + "/work", 0700));
  return s;
}

Status Snapshotter::Commit(ActiveSnapshot& s) {
  std::optional<WorkingCopy> copy;
  {
    std::lock_guard l(working_copies_mu_);
    if (auto it = working_copies_.find(s.id); it != working_copies_.end()) {
      copy = std::move(it->second);
      working_copies_.erase(it);
    }
  }
  if (copy) {  // native: the step's changes become the layer (outside the lock: other steps commit meanwhile)
    KILN_TRY(copy->WriteChanges(s.diff_dir));
    KILN_TRY(RemoveAll(copy->path()));
  }
  // The overlay work dir is scratch space of the kernel's; a committed layer keeps only its diff.
  (void)RemoveAll(JoinPath(root_, "snapshots/" + std::to_string(s.id) + "/work"));
  KILN_TRY(metadata_->CommitSnapshot(s.id));
  s.owner_ = nullptr;
  return Status::Ok();
}

Status Snapshotter::Discard(ActiveSnapshot& s) {
  s.owner_ = nullptr;
  {
    std::lock_guard l(working_copies_mu_);
    working_copies_.erase(s.id);  // its directory is the snapshot's and goes with it
  }
  return Remove(s.id);
}

Status Snapshotter::Remove(SnapshotId id) {
  KILN_TRY(RemoveAll(JoinPath(root_, "snapshots/" + std::to_string(id))));
  return metadata_->DeleteSnapshot(id);
}

namespace {

/// What in a step's layer directory may be no change at all: empty directories that are not opaque (copy-ups of
/// the runtime's mount points' parents). With `fuse`, also what fuse-overlayfs alone adds: opaque marks and
/// whiteouts where nothing lies below (it marks every new directory, and whites out the mount points the runtime
/// made and kiln removed), and regular files (it copies up a file whose other name was removed). Paths relative to
/// the layer; a directory's children come first.
struct CopyUpCandidates {
  std::vector<std::string> empty_dirs, opaque_dirs, files;
  std::map<std::string, std::string> whiteouts;  // the path deleted -> the whiteout entry
};

void FindCopyUpCandidates(const std::string& root, const std::string& rel, bool fuse, CopyUpCandidates& out) {
  std::string dir = JoinPath(root, rel);
  auto names = ListDir(dir);
  if (!names.ok()) return;
  for (auto& n : *names) {
    std::string child = JoinPath(rel, n);
    struct stat st;
    if (lstat(JoinPath(root, child).c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      FindCopyUpCandidates(root, child, fuse, out);
    } else if (!fuse) {
      continue;
    } else if (auto deleted = WhitedOutName(n, st)) {
      out.whiteouts[JoinPath(rel, *deleted)] = child;
    } else if (S_ISREG(st.st_mode) && !IsMarkName(n)) {
      out.files.push_back(child);
    }
  }
  if (rel.empty()) return;
  // Only an empty directory, or any under fuse-overlayfs, is worth its xattr reads.
  if ((fuse || names->empty()) && IsOpaqueDir(dir)) {
    if (fuse) out.opaque_dirs.push_back(rel);
  } else if (names->empty()) {
    out.empty_dirs.push_back(rel);
  }
}

bool SameMetadata(const struct stat& a, const struct stat& b) {
  return a.st_mode == b.st_mode && a.st_uid == b.st_uid && a.st_gid == b.st_gid &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

/// Removes every writer's opaque mark from a layer directory.
void ClearOpaque(const std::string& dir) {
  for (const char* name : kOpaqueXattrs) lremovexattr(dir.c_str(), name);
  unlink(JoinPath(dir, kOpaqueWhiteout).c_str());
  std::string whiteout = JoinPath(dir, kFuseOpaqueMark);
  struct stat st;
  if (lstat(whiteout.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) unlink(whiteout.c_str());
}

}  // namespace

Status Snapshotter::TrimCopyUps(const ActiveSnapshot& s) {
  if (s.parent == 0) return Status::Ok();
  CopyUpCandidates found;
  FindCopyUpCandidates(s.diff_dir, "", driver() == SnapshotDriver::kFuseOverlayfs, found);
  if (found.empty_dirs.empty() && found.opaque_dirs.empty() && found.whiteouts.empty() && found.files.empty()) {
    return Status::Ok();
  }
  KILN_ASSIGN(Mount lower, MountReadOnly(s.parent));
  struct stat up, low;
  std::vector<std::string> emptied = found.empty_dirs;
  for (auto& rel : found.files) {
    std::string upper_path = JoinPath(s.diff_dir, rel), lower_path = JoinPath(lower.path(), rel);
    if (lstat(upper_path.c_str(), &up) != 0 || lstat(lower_path.c_str(), &low) != 0 || !S_ISREG(low.st_mode) ||
        !SameMetadata(up, low) || up.st_size != low.st_size || !SameFileContent(upper_path, lower_path)) {
      continue;
    }
    unlink(upper_path.c_str());
    if (DirName(rel) != ".") emptied.push_back(DirName(rel));
  }
  for (auto& [rel, entry] : found.whiteouts) {
    if (lstat(JoinPath(lower.path(), rel).c_str(), &low) == 0) continue;
    unlink(JoinPath(s.diff_dir, entry).c_str());
    if (DirName(rel) != ".") emptied.push_back(DirName(rel));
  }
  for (auto& rel : found.opaque_dirs) {
    // New directories need no mark: fuse-overlayfs marks them all the same.
    if (IsDirectory(JoinPath(lower.path(), rel))) continue;
    ClearOpaque(JoinPath(s.diff_dir, rel));
  }
  for (auto& rel : emptied) {
    // An empty directory with the metadata below is only a copy-up; so may its parents be, once it is gone.
    for (std::string p = rel; p != "." && p != "/"; p = DirName(p)) {
      std::string up_path = JoinPath(s.diff_dir, p);
      auto names = ListDir(up_path);
      if (!names.ok() || !names->empty() || IsOpaqueDir(up_path)) break;
      if (lstat(up_path.c_str(), &up) != 0 || lstat(JoinPath(lower.path(), p).c_str(), &low) != 0 ||
          !SameMetadata(up, low)) {
        break;
      }
      rmdir(up_path.c_str());
    }
  }
  return Status::Ok();
}

Result<std::vector<SnapshotId>> Snapshotter::Chain(SnapshotId id) {
  std::vector<SnapshotId> chain;
  while (id != 0) {
    KILN_ASSIGN(store::SnapshotRecord r, metadata_->GetSnapshot(id));
    chain.push_back(id);
    id = r.parent;
  }
  return std::vector<SnapshotId>(chain.rbegin(), chain.rend());
}

std::vector<std::string> Snapshotter::LayerDirsTopFirst(const std::vector<SnapshotId>& chain) const {
  std::vector<std::string> dirs;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) dirs.push_back(DiffDir(*it));
  return dirs;
}

Result<Mount> Snapshotter::MountAt(SnapshotDriver driver, const std::string& options, const std::string& target) {
  if (driver == SnapshotDriver::kOverlayfs) {
    if (mount("overlay", target.c_str(), "overlay", 0, (options + extra_options_).c_str()) != 0) {
      return ErrnoError("mount overlay on", target);
    }
  } else {
    // allow_other: the step's processes run as other users than the one mounting. fuse-overlayfs daemonizes once
    // the mount is there; its output matters only when it fails.
    std::string output;
    ProcessOptions po;
    po.on_output = [&](int, std::string_view data) {
      if (output.size() < 4096) output.append(data);
    };
    auto exit_code = RunProcess({"fuse-overlayfs", "-o", options + ",allow_other", target}, po);
    if (!exit_code.ok()) return exit_code.status();
    if (*exit_code != 0) {
      output.erase(output.find_last_not_of(" \t\r\n") + 1);
      return Status::Error("fuse-overlayfs on " + target + " failed (exit " + std::to_string(*exit_code) +
                           (output.empty() ? ")" : "): " + output));
    }
  }
  Mount m;
  m.path_ = target;
  m.mounted_ = true;
  return m;
}

Result<Mount> Snapshotter::MountOverlay(SnapshotDriver driver, const std::vector<SnapshotId>& lowers,
                                        const std::string& upper, const std::string& work) {
  KILN_ASSIGN(TempDir target, TempDir::Create(JoinPath(root_, "mounts"), "m-" + std::to_string(getpid()) + "-"));
  std::string lowerdir;
  for (auto& dir : LayerDirsTopFirst(lowers)) {  // overlay lists the top layer first
    if (!lowerdir.empty()) lowerdir += ':';
    lowerdir += dir;
  }
  std::string options = "lowerdir=" + lowerdir;
  if (!upper.empty()) options += ",upperdir=" + upper + ",workdir=" + work;
  if (driver == SnapshotDriver::kOverlayfs && options.size() + extra_options_.size() >= 4096) {
    return Status::Error("too many layers to mount (" + std::to_string(lowers.size()) + ")");
  }
  KILN_ASSIGN(Mount m, MountAt(driver, options, target.path()));
  target.Release();
  m.owns_dir_ = true;
  return m;
}

Result<Mount> Snapshotter::MountNativeView(const std::vector<SnapshotId>& chain) {
  KILN_ASSIGN(TempDir view, TempDir::Create(JoinPath(root_, "mounts"), "v-" + std::to_string(getpid()) + "-"));
  KILN_TRY(MergeLayers(LayerDirsTopFirst(chain), view.path(), /*link_files=*/true));
  Mount m;
  m.path_ = view.Release();
  m.owns_tree_ = true;
  return m;
}

Result<Mount> Snapshotter::MountActive(const ActiveSnapshot& s) {
  KILN_ASSIGN(auto lowers, Chain(s.parent));
  if (lowers.empty()) {
    // Nothing below: the diff dir is the whole file system; no overlay needed.
    Mount m;
    m.path_ = s.diff_dir;
    return m;
  }
  if (driver() != SnapshotDriver::kNative) {
    return MountOverlay(driver(), lowers, s.diff_dir, JoinPath(DirName(s.diff_dir), "work"));
  }
  Mount m;
  {
    std::lock_guard l(working_copies_mu_);
    if (auto it = working_copies_.find(s.id); it != working_copies_.end()) {
      m.path_ = it->second.path();
      return m;
    }
  }
  // Copied outside the lock: steps of other stages copy at the same time. The copy is the snapshot's own (nothing
  // else writes there) and its changes are taken at Commit.
  KILN_ASSIGN(WorkingCopy copy, WorkingCopy::Make(LayerDirsTopFirst(lowers), JoinPath(DirName(s.diff_dir), "copy")));
  m.path_ = copy.path();
  std::lock_guard l(working_copies_mu_);
  working_copies_.emplace(s.id, std::move(copy));
  return m;
}

Result<Mount> Snapshotter::MountReadOnly(SnapshotId id) {
  KILN_ASSIGN(auto chain, Chain(id));
  if (chain.size() >= 2) {
    if (driver() == SnapshotDriver::kNative) return MountNativeView(chain);
    return MountOverlay(driver(), chain, "", "");
  }
  Mount m;
  if (chain.size() == 1) {
    m.path_ = DiffDir(chain[0]);  // one layer has no whiteouts to hide anything: read it in place
    return m;
  }
  KILN_ASSIGN(TempDir empty, TempDir::Create(JoinPath(root_, "mounts"), "e-" + std::to_string(getpid()) + "-"));
  m.path_ = empty.Release();
  m.owns_dir_ = true;
  return m;
}

}  // namespace kiln::snapshot
