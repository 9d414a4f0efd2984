#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/digest.h"
#include "base/fs.h"
#include "store/content.h"
#include "store/metadata.h"

namespace kiln::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create(::testing::TempDir(), "store-test-");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<TempDir>(std::move(*d));
  }
  std::unique_ptr<TempDir> dir_;
};

TEST_F(StoreTest, ContentIsAddressedAndAtomic) {
  ContentStore cs(dir_->path());
  ASSERT_TRUE(cs.Init().ok());
  auto d = cs.Put("text/plain", "hello");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->digest, DigestOf("hello"));
  EXPECT_EQ(d->size, 5);
  EXPECT_EQ(*cs.Read(d->digest), "hello");
  {
    auto w = cs.NewWriter();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->Write("abandoned", 9).ok());
  }  // never committed: nothing appears, no temp file stays
  EXPECT_TRUE(ListDir(dir_->path() + "/blobs/ingest")->empty());
  EXPECT_FALSE(cs.Read(DigestOf("abandoned")).ok());
}

TEST_F(StoreTest, MetadataImagesCacheAndBuilds) {
  auto m = Metadata::Open(dir_->path() + "/meta.db");
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_TRUE((*m)->SetImage("docker.io/library/a:1", "sha256:1").ok());
  ASSERT_TRUE((*m)->SetImage("docker.io/library/a:1", "sha256:2").ok());
  auto img = (*m)->GetImage("docker.io/library/a:1");
  ASSERT_TRUE(img.ok() && img->has_value());
  EXPECT_EQ((*img)->digest, "sha256:2");
  EXPECT_EQ((*m)->ListImages()->size(), 1u);
  ASSERT_TRUE((*m)->RemoveImage("docker.io/library/a:1").ok());
  EXPECT_FALSE((*m)->GetImage("docker.io/library/a:1")->has_value());

  auto s1 = (*m)->CreateSnapshot(0);
  auto s2 = (*m)->CreateSnapshot(*s1);
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ((*m)->GetSnapshot(*s2)->parent, *s1);
  EXPECT_FALSE((*m)->GetSnapshot(*s2)->committed);
  ASSERT_TRUE((*m)->CommitSnapshot(*s2).ok());
  EXPECT_TRUE((*m)->GetSnapshot(*s2)->committed);
  ASSERT_TRUE((*m)->SetLayer(*s2, {"sha256:b", "sha256:d", 10, "t"}).ok());
  EXPECT_EQ((*m)->GetSnapshot(*s2)->layer->diff_id, "sha256:d");
  ASSERT_TRUE((*m)->SetCache("key", *s2, "step").ok());
  EXPECT_EQ(*(*m)->GetCache("key").value(), *s2);
  EXPECT_FALSE((*m)->GetCache("other")->has_value());
  ASSERT_TRUE((*m)->AddBuild({"b1", 1, "{}", "o1"}).ok());
  ASSERT_TRUE((*m)->AddBuild({"b2", 2, "{\"x\":1}", "o2"}).ok());
  EXPECT_EQ((*m)->GetBuild("")->value().id, "b2");
  EXPECT_EQ((*m)->GetBuild("")->value().outcome, "o2");
  EXPECT_EQ((*m)->GetBuild("b1")->value().json, "{}");
}

TEST_F(StoreTest, OnlyTheNewestBuildRecordsAreKept) {
  auto m = Metadata::Open(dir_->path() + "/meta.db");
  ASSERT_TRUE(m.ok());
  for (int i = 0; i < Metadata::kBuildsKept + 3; i++)
    ASSERT_TRUE((*m)->AddBuild({"b" + std::to_string(i), i, "{}", ""}).ok());
  EXPECT_FALSE((*m)->GetBuild("b2")->has_value());
  EXPECT_TRUE((*m)->GetBuild("b3")->has_value());
  EXPECT_EQ((*m)->GetBuild("")->value().id, "b" + std::to_string(Metadata::kBuildsKept + 2));
}

TEST_F(StoreTest, AStoreFromBeforeTheSchemaVersionIsBroughtUpToDate) {
  std::string path = dir_->path() + "/meta.db";
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE builds (id TEXT PRIMARY KEY, created INTEGER NOT NULL, report TEXT NOT NULL);"
                              "INSERT INTO builds VALUES('old', 1, '{}');", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  auto m = Metadata::Open(path);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ((*m)->GetBuild("old")->value().outcome, "");
  ASSERT_TRUE((*m)->AddBuild({"new", 2, "{}", "o"}).ok());
  EXPECT_EQ((*m)->GetBuild("")->value().outcome, "o");
  m->reset();
  ASSERT_TRUE(Metadata::Open(path).ok());  // and opens again without migrating twice
}

TEST_F(StoreTest, CacheUseIsWrittenWithTheBuildRecord) {
  std::string path = dir_->path() + "/meta.db";
  auto m = Metadata::Open(path);
  ASSERT_TRUE(m.ok());
  auto s = (*m)->CreateSnapshot(0);
  ASSERT_TRUE(s.ok() && (*m)->CommitSnapshot(*s).ok());
  EXPECT_GT((*m)->GetSnapshot(*s)->created, 0);
  ASSERT_TRUE((*m)->SetCache("old", *s, "step").ok());
  // Another connection, as another process: it dates the record in the past and reads what was written.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  auto age = [&] { ASSERT_EQ(sqlite3_exec(raw, "UPDATE cache SET last_used = 1", nullptr, nullptr, nullptr), SQLITE_OK); };
  auto last_used = [&] {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(raw, "SELECT last_used FROM cache WHERE key = 'old'", -1, &st, nullptr);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
  };
  age();
  ASSERT_TRUE((*m)->GetCache("old")->has_value());
  EXPECT_EQ(last_used(), 1) << "a hit writes nothing by itself";
  ASSERT_TRUE((*m)->AddBuild({"b1", 1, "{}", ""}).ok());
  EXPECT_GT(last_used(), 1) << "the build's record carries the hit's use";
  age();
  ASSERT_TRUE((*m)->GetCache("old")->has_value());
  m->reset();  // closing writes what is pending
  EXPECT_GT(last_used(), 1);
  sqlite3_close(raw);
}

TEST_F(StoreTest, SnapshotsOfDeadProcessesAreAbandoned) {
  std::string path = dir_->path() + "/meta.db";
  pid_t pid = fork();
  if (pid == 0) {
    auto m = Metadata::Open(path);
    _exit(m.ok() && (*m)->CreateSnapshot(0).ok() ? 0 : 1);
  }
  int status;
  waitpid(pid, &status, 0);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto m = Metadata::Open(path);
  ASSERT_TRUE(m.ok());
  auto mine = (*m)->CreateSnapshot(0);
  auto abandoned = (*m)->AbandonedSnapshots();
  ASSERT_TRUE(abandoned.ok());
  ASSERT_EQ(abandoned->size(), 1u);  // the dead child's, not ours
  EXPECT_NE((*abandoned)[0], *mine);
}

}  // namespace
}  // namespace kiln::store
