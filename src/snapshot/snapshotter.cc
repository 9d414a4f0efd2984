#include "snapshot/snapshotter.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>

#include <cerrno>

#include "base/fs.h"
#include "base/process.h"
#include "snapshot/overlay_xattr.h"

namespace kiln::snapshot {

Mount::Mount(Mount&& o) noexcept
    : path_(std::move(o.path_)), mounted_(o.mounted_), owns_dir_(o.owns_dir_) {
  o.path_.clear();
  o.mounted_ = o.owns_dir_ = false;
}

Mount& Mount::operator=(Mount&& o) noexcept {
  if (this != &o) {
    (void)Unmount();
    path_ = std::move(o.path_);
    mounted_ = o.mounted_;
    owns_dir_ = o.owns_dir_;
    o.path_.clear();
    o.mounted_ = o.owns_dir_ = false;
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
  path_.clear();
  return Status::Ok();
}

Snapshotter::Snapshotter(std::string root, store::Metadata* metadata)
    : root_(std::move(root)), metadata_(metadata) {
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

std::string Snapshotter::Describe() const {
  return InUserNamespace() ? "overlayfs (userxattr, in a user namespace)" : "overlayfs";
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
    rmdir(path.c_str());
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
  // The overlay work dir is scratch space of the kernel's; a committed layer keeps only its diff.
  (void)RemoveAll(JoinPath(root_, "snapshots/" + std::to_string(s.id) + "/work"));
  KILN_TRY(metadata_->CommitSnapshot(s.id));
  s.owner_ = nullptr;
  return Status::Ok();
}

Status Snapshotter::Discard(ActiveSnapshot& s) {
  s.owner_ = nullptr;
  return Remove(s.id);
}

Status Snapshotter::Remove(SnapshotId id) {
  KILN_TRY(RemoveAll(JoinPath(root_, "snapshots/" + std::to_string(id))));
  return metadata_->DeleteSnapshot(id);
}

namespace {

/// Empty, non-opaque directories below `dir` (deepest first), relative to `root`.
void FindEmptyDirs(const std::string& root, const std::string& rel, std::vector<std::string>& out) {
  std::string dir = rel.empty() ? root : JoinPath(root, rel);
  auto names = ListDir(dir);
  if (!names.ok()) return;
  for (auto& n : *names) {
    std::string child = rel.empty() ? n : rel + "/" + n;
    struct stat st;
    if (lstat(JoinPath(root, child).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) FindEmptyDirs(root, child, out);
  }
  if (!rel.empty() && ListDir(dir).ok() && ListDir(dir)->empty()) {
    char v[2];
    if (lgetxattr(dir.c_str(), OpaqueXattr(), v, sizeof v) <= 0) out.push_back(rel);
  }
}

bool SameMetadata(const struct stat& a, const struct stat& b) {
  return a.st_mode == b.st_mode && a.st_uid == b.st_uid && a.st_gid == b.st_gid &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

}  // namespace

Status Snapshotter::TrimCopyUps(const ActiveSnapshot& s) {
  if (s.parent == 0) return Status::Ok();
  std::vector<std::string> empty;
  FindEmptyDirs(s.diff_dir, "", empty);
  if (empty.empty()) return Status::Ok();
  KILN_ASSIGN(Mount lower, MountReadOnly(s.parent));
  for (auto& rel : empty) {
    struct stat up, low;
    std::string upper_path = JoinPath(s.diff_dir, rel);
    if (lstat(upper_path.c_str(), &up) != 0 || lstat(JoinPath(lower.path(), rel).c_str(), &low) != 0) continue;
    if (!SameMetadata(up, low)) continue;
    rmdir(upper_path.c_str());
    // The parent may now be an unchanged copy-up as well.
    for (std::string p = DirName(rel); p != "." && p != "/"; p = DirName(p)) {
      std::string up_parent = JoinPath(s.diff_dir, p);
      auto names = ListDir(up_parent);
      if (!names.ok() || !names->empty()) break;
      if (lstat(up_parent.c_str(), &up) != 0 || lstat(JoinPath(lower.path(), p).c_str(), &low) != 0 ||
          !SameMetadata(up, low)) {
        break;
      }
      rmdir(up_parent.c_str());
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

Result<Mount> Snapshotter::MountOverlay(const std::vector<SnapshotId>& lowers, const std::string& upper,
                                        const std::string& work) {
  KILN_ASSIGN(TempDir target, TempDir::Create(JoinPath(root_, "mounts"), "m-" + std::to_string(getpid()) + "-"));
  std::string lowerdir;
  for (auto it = lowers.rbegin(); it != lowers.rend(); ++it) {  // overlay lists the top layer first
    if (!lowerdir.empty()) lowerdir += ':';
    lowerdir += DiffDir(*it);
  }
  std::string options = "lowerdir=" + lowerdir;
  if (!upper.empty()) options += ",upperdir=" + upper + ",workdir=" + work;
  options += extra_options_;
  if (options.size() >= 4096) {
    return Status::Error("too many layers to mount (" + std::to_string(lowers.size()) + ")");
  }
  if (mount("overlay", target.path().c_str(), "overlay", 0, options.c_str()) != 0) {
    return ErrnoError("mount overlay on", target.path());
  }
  Mount m;
  m.path_ = target.Release();
  m.mounted_ = true;
  m.owns_dir_ = true;
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
  return MountOverlay(lowers, s.diff_dir, JoinPath(DirName(s.diff_dir), "work"));
}

Result<Mount> Snapshotter::MountReadOnly(SnapshotId id) {
  KILN_ASSIGN(auto chain, Chain(id));
  if (chain.size() >= 2) return MountOverlay(chain, "", "");
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
