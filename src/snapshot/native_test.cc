#include "snapshot/native.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "base/fs.h"
#include "snapshot/overlay_marks.h"

namespace kiln::snapshot {
namespace {

/// Every entry below `root`: path -> type, mode, owner and content (or link target), as a user of the tree sees it.
std::map<std::string, std::string> Tree(const std::string& root, const std::string& rel = "") {
  std::map<std::string, std::string> out;
  auto names = ListDir(rel.empty() ? root : JoinPath(root, rel));
  if (!names.ok()) return out;
  for (auto& n : *names) {
    std::string child = rel.empty() ? n : rel + "/" + n;
    std::string path = JoinPath(root, child);
    struct stat st;
    lstat(path.c_str(), &st);
    std::string what = std::to_string(st.st_mode) + " " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
    if (S_ISREG(st.st_mode)) what += " " + ReadFile(path).value_or("?");
    if (S_ISLNK(st.st_mode)) {
      char target[256] = {};
      readlink(path.c_str(), target, sizeof target - 1);
      what += std::string(" -> ") + target;
    }
    out[child] = what;
    if (S_ISDIR(st.st_mode)) out.merge(Tree(root, child));
  }
  return out;
}

class NativeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (whiteout devices, trusted.* xattrs, other owners)";
    auto d = TempDir::Create(::testing::TempDir(), "native-test-");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<TempDir>(std::move(*d));
    // The bottom layer: a small file system.
    Write("base/etc/conf", "one\n");
    Write("base/etc/keep", "keep\n");
    Write("base/app/lib/a.so", "a\n");
    Write("base/app/lib/b.so", "b\n");
    Write("base/tree/x/y", "y\n");
    Write("base/data", "data\n");
    ASSERT_EQ(link(Path("base/data").c_str(), Path("base/data.link").c_str()), 0);
    ASSERT_EQ(symlink("etc/conf", Path("base/conf").c_str()), 0);
    ASSERT_EQ(chown(Path("base/app").c_str(), 1000, 1000), 0);
  }
  std::string Path(const std::string& rel) { return dir_->path() + "/" + rel; }
  void Write(const std::string& rel, const std::string& data) {
    ASSERT_TRUE(MakeDirs(DirName(Path(rel))).ok());
    ASSERT_TRUE(WriteFile(Path(rel), data).ok());
  }
  std::unique_ptr<TempDir> dir_;
};

TEST_F(NativeTest, LayersStackAsOverlayfsShowsThem) {
  // An upper layer in every writer's form: kernel whiteout devices and xattrs, fuse-overlayfs's files.
  Write("upper/etc/conf", "two\n");
  ASSERT_EQ(mknod(Path("upper/etc/keep").c_str(), S_IFCHR, makedev(0, 0)), 0);
  Write("upper/app/.wh.lib", "");  // fuse-overlayfs's whiteout: app/lib is gone
  Write("upper/app/new", "new\n");
  ASSERT_TRUE(MakeDirs(Path("upper/tree")).ok());
  ASSERT_EQ(lsetxattr(Path("upper/tree").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  Write("upper/tree/z", "z\n");
  Write("upper/data/inside", "a directory where a file was\n");
  ASSERT_TRUE(MakeDirs(Path("upper/app2")).ok());
  Write("upper/app2/.wh..wh..opq", "");  // fuse-overlayfs's opaque file, on a new directory

  ASSERT_TRUE(MakeDirs(Path("merged")).ok());
  ASSERT_TRUE(MergeLayers({Path("upper"), Path("base")}, Path("merged"), false).ok());
  auto tree = Tree(Path("merged"));
  EXPECT_EQ(ReadFile(Path("merged/etc/conf")).value_or(""), "two\n");
  EXPECT_FALSE(tree.count("etc/keep"));
  EXPECT_FALSE(tree.count("app/lib")) << "a .wh. file deletes";
  EXPECT_TRUE(tree.count("app/new"));
  EXPECT_FALSE(tree.count("tree/x")) << "an opaque directory hides what is below";
  EXPECT_TRUE(tree.count("tree/z"));
  EXPECT_TRUE(IsDirectory(Path("merged/data")));
  EXPECT_EQ(ReadFile(Path("merged/data.link")).value_or(""), "data\n");
  for (auto& [path, what] : tree) EXPECT_FALSE(IsMarkName(BaseName(path))) << path << " is a mark, not content";
  struct stat st;
  ASSERT_EQ(lstat(Path("merged/app").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "a directory has its top layer's owner (base/app is 1000's)";
  char v[2];
  EXPECT_LT(lgetxattr(Path("merged/tree").c_str(), "trusted.overlay.opaque", v, sizeof v), 0)
      << "marks do not reach the merged view";
}

TEST_F(NativeTest, AViewLinksTheLayersFiles) {
  ASSERT_TRUE(MakeDirs(Path("view")).ok());
  ASSERT_TRUE(MergeLayers({Path("base")}, Path("view"), true).ok());
  struct stat a, b;
  ASSERT_EQ(lstat(Path("base/etc/conf").c_str(), &a), 0);
  ASSERT_EQ(lstat(Path("view/etc/conf").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST_F(NativeTest, ChangesWrittenOverTheStackGiveBackTheWorkingCopy) {
  auto made = WorkingCopy::Make({Path("base")}, Path("copy"));
  ASSERT_TRUE(made.ok()) << made.status().message();
  const std::string c = made->path();
  struct stat before;
  ASSERT_EQ(lstat((c + "/etc/conf").c_str(), &before), 0);
  // What steps do: edit, add, delete, replace a directory, chmod, unlink one name of two, and an edit whose
  // mtime is set back.
  ASSERT_TRUE(WriteFile(c + "/etc/conf", "edited\n").ok());
  ASSERT_TRUE(WriteFile(c + "/etc/added", "added\n").ok());
  ASSERT_EQ(unlink((c + "/etc/keep").c_str()), 0);
  ASSERT_TRUE(RemoveAll(c + "/tree").ok());
  ASSERT_TRUE(MakeDirs(c + "/tree").ok());
  ASSERT_TRUE(WriteFile(c + "/tree/fresh", "fresh\n").ok());
  ASSERT_EQ(chmod((c + "/app/lib").c_str(), 0700), 0);
  ASSERT_EQ(unlink((c + "/data").c_str()), 0);
  ASSERT_TRUE(WriteFile(c + "/app/lib/a.so", "A\n").ok());
  struct timespec old_times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, (c + "/app/lib/a.so").c_str(), old_times, 0), 0);
  ASSERT_EQ(lchown((c + "/conf").c_str(), 1000, 1000), 0);

  ASSERT_TRUE(MakeDirs(Path("diff")).ok());
  ASSERT_TRUE(made->WriteChanges(Path("diff")).ok());
  // The diff holds the changes and nothing else...
  auto diff = Tree(Path("diff"));
  EXPECT_FALSE(diff.count("data.link")) << "a file that only lost a name is unchanged";
  EXPECT_FALSE(diff.count("app/lib/b.so"));
  EXPECT_TRUE(diff.count("app/lib/a.so")) << "a change with its mtime set back still shows";
  EXPECT_TRUE(diff.count("conf")) << "a changed owner";
  struct stat st;
  ASSERT_EQ(lstat(Path("diff/etc/keep").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) << "a deletion is a whiteout";
  // ...and stacked on the layers below, it is the working copy again.
  ASSERT_TRUE(MakeDirs(Path("again")).ok());
  ASSERT_TRUE(MergeLayers({Path("diff"), Path("base")}, Path("again"), false).ok());
  EXPECT_EQ(Tree(Path("again")), Tree(c));
}

TEST_F(NativeTest, AnUntouchedCopyHasNoChanges) {
  auto made = WorkingCopy::Make({Path("base")}, Path("copy"));
  ASSERT_TRUE(made.ok());
  // What the runtime does to a root file system: a mount point made and removed, its directory's times restored.
  struct stat etc;
  ASSERT_EQ(lstat((made->path() + "/etc").c_str(), &etc), 0);
  ASSERT_TRUE(WriteFile(made->path() + "/etc/resolv.conf", "").ok());
  ASSERT_EQ(unlink((made->path() + "/etc/resolv.conf").c_str()), 0);
  struct timespec times[2] = {etc.st_atim, etc.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, (made->path() + "/etc").c_str(), times, 0), 0);
  ASSERT_TRUE(MakeDirs(Path("diff")).ok());
  ASSERT_TRUE(made->WriteChanges(Path("diff")).ok());
  EXPECT_TRUE(Tree(Path("diff")).empty());
}

}  // namespace
}  // namespace kiln::snapshot
