#include "snapshot/native.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <set>
#include <thread>

#include "base/fs.h"
#include "snapshot/copy.h"
#include "snapshot/overlay_marks.h"

namespace kiln::snapshot {
namespace {

bool Before(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

bool Same(const struct timespec& a, const struct timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

/// Stacks layer directories top-down, as overlayfs resolves a lookup: the topmost layer holding a name decides it.
class LayerMerger {
 public:
  LayerMerger(bool link_files, std::unordered_map<std::string, std::string>* sources)
      : link_files_(link_files), sources_(sources) {}

  /// Fills `dst` (path `rel` of the merged tree) from `dirs`: the same path in each layer that has a directory
  /// there, top first, ending at the first opaque one (the caller stops the list there).
  Status Merge(const std::vector<std::string>& dirs, const std::string& dst, const std::string& rel) {
    std::set<std::string> decided;
    for (size_t i = 0; i < dirs.size(); i++) {
      KILN_ASSIGN(auto names, ListDir(dirs[i]));
      std::vector<std::string> deleted;  // hidden in the layers below this one
      for (auto& name : names) {
        struct stat st;
        std::string src = JoinPath(dirs[i], name);
        if (lstat(src.c_str(), &st) != 0) return ErrnoError("stat", src);
        if (auto gone = WhitedOutName(name, st)) {
          deleted.push_back(*gone);
          continue;
        }
        if (IsMarkName(name) || !decided.insert(name).second) continue;
        KILN_TRY(Take(dirs, i, name, st, JoinPath(dst, name), JoinPath(rel, name)));
      }
      decided.insert(deleted.begin(), deleted.end());
    }
    return Status::Ok();
  }

 private:
  Status Take(const std::vector<std::string>& dirs, size_t top, const std::string& name, const struct stat& st,
              const std::string& out, const std::string& rel) {
    std::string src = JoinPath(dirs[top], name);
    if (S_ISREG(st.st_mode) && sources_) (*sources_)[rel] = src;
    if (S_ISDIR(st.st_mode)) {
      std::vector<std::string> below{src};
      bool hides_below = IsOpaqueDir(src);  // read once per directory: the stack stops at an opaque one
      for (size_t j = top + 1; j < dirs.size() && !hides_below; j++) {
        std::string p = JoinPath(dirs[j], name);
        struct stat lower;
        if (lstat(p.c_str(), &lower) != 0) {
          if (PathExists(JoinPath(dirs[j], kWhiteoutPrefix + name))) break;
          continue;  // this layer leaves the name alone
        }
        if (!S_ISDIR(lower.st_mode)) break;  // a file or a whiteout ends the directory's stack
        below.push_back(p);
        hides_below = IsOpaqueDir(p);
      }
      if (mkdir(out.c_str(), 0700) != 0) return ErrnoError("mkdir", out);
      KILN_TRY(Merge(below, out, rel));
      return CopyMetadata(src, out);  // after the entries, which change the directory's mtime
    }
    if (S_ISREG(st.st_mode) && link_files_) {
      if (link(src.c_str(), out.c_str()) != 0) return ErrnoError("link", out);
      return Status::Ok();
    }
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
      // Names of one inode in a layer stay one inode in the copy.
      auto [it, first] = links_.try_emplace({st.st_dev, st.st_ino}, out);
      if (!first) {
        if (link(it->second.c_str(), out.c_str()) != 0) return ErrnoError("link", out);
        return Status::Ok();
      }
    }
    return CopyTree(src, out, "", CopyOptions{});
  }

  bool link_files_;
  std::unordered_map<std::string, std::string>* sources_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace

Status MergeLayers(const std::vector<std::string>& layers_top_first, const std::string& dst, bool link_files,
                   std::unordered_map<std::string, std::string>* sources) {
  // A layer whose root is opaque hides all below it (the directories below are cut the same way, in Take).
  std::vector<std::string> layers;
  for (auto& l : layers_top_first) {
    layers.push_back(l);
    if (IsOpaqueDir(l)) break;
  }
  LayerMerger merger(link_files, sources);
  return merger.Merge(layers, dst, "");
}

Result<WorkingCopy> WorkingCopy::Make(const std::vector<std::string>& layers_top_first, const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0) return ErrnoError("mkdir", dir);
  WorkingCopy copy;
  KILN_TRY(MergeLayers(layers_top_first, dir, /*link_files=*/false, &copy.sources_));
  copy.dir_ = dir;
  struct timespec newest {};
  std::vector<std::string> todo{""};
  while (!todo.empty()) {
    std::string rel = todo.back();
    todo.pop_back();
    KILN_ASSIGN(auto names, ListDir(JoinPath(dir, rel)));
    for (auto& name : names) {
      std::string child = JoinPath(rel, name);
      struct stat st;
      if (lstat(JoinPath(dir, child).c_str(), &st) != 0) return ErrnoError("stat", JoinPath(dir, child));
      copy.entries_[child] = Entry{st.st_ino, st.st_ctim, S_ISDIR(st.st_mode), st.st_mode, st.st_uid, st.st_gid, st.st_mtim, st.st_size};
      if (Before(newest, st.st_ctim)) newest = st.st_ctim;
      if (S_ISDIR(st.st_mode)) todo.push_back(child);
    }
    copy.children_[rel] = std::move(names);
  }
  // Change times come from a clock that ticks every few milliseconds: a change made within the tick of the copy
  // could keep its time. Once the tick has passed, every change gets a later one.
  for (;;) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME_COARSE, &now);
    if (Before(newest, now)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return copy;
}

/// Writes one working copy's changes into a layer directory.
class ChangeWriter {
 public:
  ChangeWriter(const WorkingCopy& copy, const std::string& upper) : copy_(copy), upper_(upper) {}

  Status Run() {
    KILN_TRY(WalkDir(""));
    // Directories made here got new entries after their metadata: give them their times last, deepest first.
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
      KILN_TRY(CopyMetadata(JoinPath(copy_.dir_, *it), JoinPath(upper_, *it)));
    }
    return Status::Ok();
  }

 private:
  /// `rel` is a directory the step kept (the same inode): its entries are compared one by one.
  Status WalkDir(const std::string& rel) {
    KILN_ASSIGN(auto names, ListDir(JoinPath(copy_.dir_, rel)));
    std::set<std::string> present(names.begin(), names.end());
    for (auto& name : names) {
      std::string child = JoinPath(rel, name);
      struct stat st;
      if (lstat(JoinPath(copy_.dir_, child).c_str(), &st) != 0) return ErrnoError("stat", JoinPath(copy_.dir_, child));
      auto it = copy_.entries_.find(child);
      bool is_dir = S_ISDIR(st.st_mode);
      if (it == copy_.entries_.end() || it->second.ino != st.st_ino || it->second.dir != is_dir) {
        // New, or put in place of what was there: all of it goes in the layer.
        KILN_TRY(EnsureDir(rel));
        KILN_TRY(CopyEntry(child, st));
        if (is_dir && it != copy_.entries_.end() && it->second.dir) KILN_TRY(MarkOpaque(JoinPath(upper_, child)));
      } else if (is_dir) {
        const auto& was = it->second;
        if (!Same(was.ctime, st.st_ctim) && (was.mode != st.st_mode || was.uid != st.st_uid || was.gid != st.st_gid ||
                                             !Same(was.mtime, st.st_mtim))) {
          KILN_TRY(EnsureDir(child));  // its own metadata changed, or entries came or went
        }
        KILN_TRY(WalkDir(child));
      } else if (!Same(it->second.ctime, st.st_ctim) && !SameAsCopied(child, it->second, st)) {
        KILN_TRY(EnsureDir(rel));
        KILN_TRY(CopyEntry(child, st));
      }
    }
    auto before = copy_.children_.find(rel);
    if (before == copy_.children_.end()) return Status::Ok();
    for (auto& name : before->second) {
      if (present.count(name)) continue;
      KILN_TRY(EnsureDir(rel));
      KILN_TRY(Whiteout(JoinPath(upper_, JoinPath(rel, name))));
    }
    return Status::Ok();
  }

  /// Whether a regular file whose change time moved still has the metadata and bytes it was copied with.
  bool SameAsCopied(const std::string& rel, const WorkingCopy::Entry& was, const struct stat& st) const {
    if (!S_ISREG(st.st_mode) || was.mode != st.st_mode || was.uid != st.st_uid || was.gid != st.st_gid ||
        was.size != st.st_size || !Same(was.mtime, st.st_mtim)) {
      return false;
    }
    auto source = copy_.sources_.find(rel);
    return source != copy_.sources_.end() && SameFileContent(source->second, JoinPath(copy_.dir_, rel));
  }

  /// Copies an entry (a directory with its whole tree) into the layer; names of one inode stay linked, as in the
  /// working copy.
  Status CopyEntry(const std::string& rel, const struct stat& st) {
    std::string src = JoinPath(copy_.dir_, rel), dst = JoinPath(upper_, rel);
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
      auto [it, first] = links_.try_emplace(st.st_ino, dst);
      if (!first) {
        if (link(it->second.c_str(), dst.c_str()) != 0) return ErrnoError("link", dst);
        return Status::Ok();
      }
    }
    return CopyTree(src, dst, "", CopyOptions{});
  }

  /// The layer's copy of directory `rel` and of those above it, as overlayfs copies a directory up.
  Status EnsureDir(const std::string& rel) {
    if (rel.empty() || made_set_.count(rel)) return Status::Ok();
    KILN_TRY(EnsureDir(DirName(rel) == "." ? "" : DirName(rel)));
    std::string dst = JoinPath(upper_, rel);
    if (mkdir(dst.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoError("mkdir", dst);
    KILN_TRY(CopyMetadata(JoinPath(copy_.dir_, rel), dst));
    made_.push_back(rel);
    made_set_.insert(rel);
    return Status::Ok();
  }

  static Status Whiteout(const std::string& path) {
    if (mknod(path.c_str(), S_IFCHR, makedev(0, 0)) == 0) return Status::Ok();
    if (errno != EPERM) return ErrnoError("make whiteout", path);
    // Where devices may not be made, fuse-overlayfs's form: an empty ".wh.NAME" file.
    return WriteFile(JoinPath(DirName(path), kWhiteoutPrefix + BaseName(path)), "");
  }

  static Status MarkOpaque(const std::string& dir) {
    if (lsetxattr(dir.c_str(), OpaqueXattr(), "y", 1, 0) == 0) return Status::Ok();
    if (errno != ENOTSUP && errno != EPERM) return ErrnoError("mark opaque", dir);
    return WriteFile(JoinPath(dir, kOpaqueWhiteout), "");
  }

  const WorkingCopy& copy_;
  std::string upper_;
  std::vector<std::string> made_;
  std::set<std::string> made_set_;
  std::map<ino_t, std::string> links_;  // inode with several names -> its first copy in the layer
};

Status WorkingCopy::WriteChanges(const std::string& upper) const {
  ChangeWriter writer(*this, upper);
  return writer.Run();
}

}  // namespace kiln::snapshot
