#include "mcptools/workspace.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <map>

#include "base/fs.h"

namespace kiln::mcptools {
namespace {

class WorkspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create(::testing::TempDir(), "workspace-test-");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<TempDir>(std::move(*d));
    char real[PATH_MAX];
    ASSERT_TRUE(realpath(dir_->path().c_str(), real));
    root_ = std::string(real) + "/ws";
    outside_ = std::string(real) + "/outside";
    ASSERT_TRUE(MakeDirs(root_ + "/sub").ok());
    ASSERT_TRUE(MakeDirs(outside_).ok());
    ASSERT_TRUE(WriteFileAtomic(outside_ + "/secret", "s").ok());
    ASSERT_TRUE(WriteFileAtomic(root_ + "/sub/file", "f").ok());
    ASSERT_EQ(symlink(outside_.c_str(), (root_ + "/escape").c_str()), 0);
    ASSERT_EQ(symlink("sub/file", (root_ + "/inside-link").c_str()), 0);
    ASSERT_EQ(symlink((outside_ + "/new").c_str(), (root_ + "/dangling").c_str()), 0);
  }
  std::unique_ptr<TempDir> dir_;
  std::string root_, outside_;
};

TEST_F(WorkspaceTest, ResolvesInsideTheRoots) {
  Workspace ws({root_});
  EXPECT_EQ(*ws.Resolve("sub/file"), root_ + "/sub/file");
  EXPECT_EQ(*ws.Resolve(root_ + "/sub/./file"), root_ + "/sub/file");
  EXPECT_EQ(*ws.Resolve("inside-link"), root_ + "/sub/file");
  EXPECT_EQ(*ws.ResolveForWrite("new/dir/file.txt"), root_ + "/new/dir/file.txt");
  EXPECT_TRUE(IsDirectory(root_ + "/new/dir"));
}

TEST_F(WorkspaceTest, RefusesEveryWayOut) {
  Workspace ws({root_});
  for (const char* path : {"../outside/secret", "sub/../../outside/secret", "/etc/passwd", "escape/secret", "escape"}) {
    auto r = ws.Resolve(path);
    EXPECT_FALSE(r.ok()) << path;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("outside the allowed roots"), std::string::npos) << path;
    }
  }
  for (const char* path : {"../x", "/tmp/x", "escape/new-file", "dangling", "escape/deeper/file"}) {
    EXPECT_FALSE(ws.ResolveForWrite(path).ok()) << path;
  }
  EXPECT_FALSE(PathExists(outside_ + "/deeper"));
  EXPECT_FALSE(ws.Resolve(std::string("sub\0/x", 6)).ok());
}

TEST_F(WorkspaceTest, SeveralRoots) {
  Workspace ws({root_ + "/sub", outside_});
  EXPECT_TRUE(ws.Resolve(outside_ + "/secret").ok());
  EXPECT_EQ(*ws.Resolve("file"), root_ + "/sub/file");  // relative paths start at the first root
  EXPECT_FALSE(ws.Contains(root_));
}

TEST_F(WorkspaceTest, WalksWithoutFollowingLinksOutOrInCircles) {
  ASSERT_EQ(symlink("..", (root_ + "/sub/loop").c_str()), 0);
  ASSERT_EQ(symlink("/", (root_ + "/sub/slash").c_str()), 0);
  Workspace ws({root_});
  std::vector<std::string> seen;
  std::map<std::string, WalkEntry::Type> types;
  ws.Walk(root_, {}, [&](const WalkEntry& e) {
    seen.push_back(e.relative);
    types[e.relative] = e.type;
    EXPECT_TRUE(ws.Contains(e.path)) << e.path;
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"dangling", "escape", "inside-link", "sub", "sub/file", "sub/loop", "sub/slash"}));
  EXPECT_EQ(types["escape"], WalkEntry::Type::kSymlink) << "a link to a directory outside is reported, not entered";
  EXPECT_EQ(types["sub/loop"], WalkEntry::Type::kSymlink);
  EXPECT_EQ(types["sub"], WalkEntry::Type::kDirectory);
  EXPECT_EQ(types["sub/file"], WalkEntry::Type::kFile);

  seen.clear();
  ws.Walk(root_, {.max_depth = 0, .skip_names = {}}, [&](const WalkEntry& e) {
    seen.push_back(e.relative);
    return e.name != "escape";  // stops the walk
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"dangling", "escape"}));
  seen.clear();
  ws.Walk(outside_, {}, [&](const WalkEntry& e) {
    seen.push_back(e.relative);
    return true;
  });
  EXPECT_TRUE(seen.empty()) << "a start outside the roots shows nothing";
}

}  // namespace
}  // namespace kiln::mcptools
