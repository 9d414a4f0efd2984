#include <gtest/gtest.h>

#include "base/digest.h"
#include "base/fs.h"
#include "base/pattern.h"
#include "base/process.h"
#include "base/userns.h"

namespace kiln {
namespace {

TEST(Userns, SubordinateRangesByNameOrId) {
  auto dir = TempDir::Create(::testing::TempDir(), "subuid-");
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/subuid";
  ASSERT_TRUE(WriteFile(path, "alice:100000:65536\nbroken line\n1002:200000:1000\nbob:x:5\nzero:300000:0\n").ok());
  auto alice = FindSubordinateRange(path, "alice", 1001);
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->host, 100000u);
  EXPECT_EQ(alice->count, 65536u);
  auto by_id = FindSubordinateRange(path, "carol", 1002);
  ASSERT_TRUE(by_id) << "an entry may name the user by its id";
  EXPECT_EQ(by_id->host, 200000u);
  EXPECT_FALSE(FindSubordinateRange(path, "bob", 1003)) << "a malformed start is no range";
  EXPECT_FALSE(FindSubordinateRange(path, "zero", 1004)) << "nor is a count of 0";
  EXPECT_FALSE(FindSubordinateRange(path + ".missing", "alice", 1001));
}

TEST(Digest, KnownValues) {
  EXPECT_EQ(DigestOf("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.Finish(), DigestOf("abc"));
  EXPECT_TRUE(IsValidDigest(DigestOf("")));
  EXPECT_FALSE(IsValidDigest("sha256:xyz"));
  EXPECT_EQ(DigestHex("sha256:ab"), "ab");
}

TEST(Path, Clean) {
  EXPECT_EQ(CleanPath("/a//b/./c/.."), "/a/b");
  EXPECT_EQ(CleanPath("/../x"), "/x");
  EXPECT_EQ(CleanPath("a/../../b"), "../b");
  EXPECT_EQ(CleanPath(""), ".");
  EXPECT_EQ(CleanPath("./"), ".");
  EXPECT_EQ(JoinPath("/a/", "/b"), "/a/b");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
  EXPECT_EQ(DirName("/a/b/"), "/a");
  EXPECT_EQ(DirName("a"), ".");
  EXPECT_EQ(BaseName("/a/b/"), "b");
}

TEST(Fs, AtomicWriteAndTempDir) {
  std::string path;
  {
    auto dir = TempDir::Create(::testing::TempDir(), "fs-test-");
    ASSERT_TRUE(dir.ok()) << dir.status().message();
    path = dir->path();
    std::string f = JoinPath(path, "x/y/file");
    ASSERT_TRUE(MakeDirs(DirName(f)).ok());
    ASSERT_TRUE(WriteFileAtomic(f, "hello").ok());
    EXPECT_EQ(*ReadFile(f), "hello");
    ASSERT_TRUE(WriteFileAtomic(f, "again").ok());
    EXPECT_EQ(*ReadFile(f), "again");
    EXPECT_EQ(*ListDir(DirName(f)), std::vector<std::string>{"file"});
    EXPECT_FALSE(ReadFile(f + ".missing").ok());
  }
  EXPECT_FALSE(PathExists(path));
}

TEST(Fs, CopyFileAtomicIsACopyNotALink) {
  auto dir = TempDir::Create(::testing::TempDir(), "copy-test-");
  ASSERT_TRUE(dir.ok());
  std::string from = dir->path() + "/from", to = dir->path() + "/to";
  std::string big(3 << 20, 'x');
  big[12345] = 'y';
  ASSERT_TRUE(WriteFileAtomic(from, big).ok());
  ASSERT_TRUE(CopyFileAtomic(from, to).ok());
  EXPECT_EQ(*ReadFile(to), big);
  { FILE* f = fopen(to.c_str(), "a"); fputs("appended", f); fclose(f); }
  EXPECT_EQ(ReadFile(from)->size(), big.size()) << "writing to the copy changed the original";
  EXPECT_FALSE(CopyFileAtomic(dir->path() + "/missing", to).ok());
}

TEST(Pattern, DockerignoreSemantics) {
  auto m = PatternMatcher::Parse("# comment\n*.log\n!keep.log\nbuild\n/tmp/**\n**/*.o\n", ".dockerignore");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->Excluded("a.log"));
  EXPECT_FALSE(m->Excluded("keep.log"));
  EXPECT_FALSE(m->Excluded("sub/a.log"));  // "*" does not cross directories
  EXPECT_TRUE(m->Excluded("build"));
  EXPECT_TRUE(m->Excluded("build/out/x"));  // a directory covers what is below it
  EXPECT_TRUE(m->Excluded("tmp/a/b"));
  EXPECT_TRUE(m->Excluded("x/y/z.o"));
  EXPECT_TRUE(m->Excluded("z.o"));
  EXPECT_FALSE(m->Excluded("src/main.c"));
  EXPECT_TRUE(m->HasExceptions());
}

TEST(Pattern, LastMatchWins) {
  auto m = PatternMatcher::FromPatterns({"docs", "!docs/keep.md", "docs/keep.md"});
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->Excluded("docs/keep.md"));
  auto bad = PatternMatcher::FromPatterns({"[abc"});
  EXPECT_FALSE(bad.ok());
}

TEST(Glob, MatchesOneComponent) {
  EXPECT_TRUE(GlobMatch("*.txt", "a.txt"));
  EXPECT_FALSE(GlobMatch("*.txt", "a/b.txt"));
  EXPECT_TRUE(GlobMatch("file?.[ch]", "file1.c"));
  EXPECT_TRUE(HasGlob("a*"));
  EXPECT_FALSE(HasGlob("plain/path"));
}

TEST(Process, CapturesOutputAndExitCodes) {
  auto out = CaptureProcess({"sh", "-c", "echo out; echo err >&2"});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "out\n");
  auto code = RunProcess({"sh", "-c", "exit 7"}, {});
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 7);
  auto failed = CaptureProcess({"sh", "-c", "echo boom >&2; exit 3"});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("boom"), std::string::npos);
  EXPECT_FALSE(RunProcess({"/nonexistent/program"}, {}).ok() && false);
}

TEST(Process, FeedsStdin) {
  std::string out;
  ProcessOptions o;
  o.input = std::string(200000, 'x') + "\nend\n";  // larger than a pipe's buffer: fed while output is drained
  o.on_output = [&](int fd, std::string_view d) {
    if (fd == 1) out.append(d);
  };
  auto code = RunProcess({"sh", "-c", "cat; echo done"}, o);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(out.size(), 200000u + 5 + 5);
  o.input = std::string(1 << 20, 'y');  // a child that reads nothing: no SIGPIPE for us
  code = RunProcess({"true"}, o);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
}

TEST(Process, CancellationStopsTheChild) {
  ProcessOptions o;
  o.on_output = [](int, std::string_view) {};
  o.cancelled = [] { return true; };
  auto code = RunProcess({"sleep", "30"}, o);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 128 + 15);
}

}  // namespace
}  // namespace kiln
