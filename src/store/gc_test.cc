#include "store/gc.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include <map>
#include <set>

#include "base/digest.h"
#include "base/fs.h"
#include "store/lock.h"

namespace kiln::store {
namespace {

/// A store with an image (manifest, config, one layer), and snapshots 1 <- 2 <- 3 and 1 <- 4, where 3 and 4
/// are cache results and 3's layer became a blob of its own.
class GcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create(::testing::TempDir(), "gc-test-");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<TempDir>(std::move(*d));
    content_ = std::make_unique<ContentStore>(dir_->path());
    ASSERT_TRUE(content_->Init().ok());
    auto md = Metadata::Open(dir_->path() + "/metadata.db");
    ASSERT_TRUE(md.ok());
    md_ = std::move(*md);

    layer_ = content_->Put("application/vnd.oci.image.layer.v1.tar+gzip", "image layer")->digest;
    std::string config = content_->Put("application/vnd.oci.image.config.v1+json", "{}")->digest;
    std::string manifest = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                           R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + config +
                           R"(","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
                           layer_ + R"(","size":11}]})";
    image_ = content_->Put("application/vnd.oci.image.manifest.v1+json", manifest)->digest;
    ASSERT_TRUE(md_->SetImage("docker.io/library/app:1", image_).ok());
    image_blobs_ = {image_, config, layer_};

    for (SnapshotId parent : {0, 1, 2, 1}) {
      auto id = md_->CreateSnapshot(parent);
      ASSERT_TRUE(id.ok());
      ASSERT_TRUE(md_->CommitSnapshot(*id).ok());
    }
    step_blob_ = content_->Put("application/vnd.oci.image.layer.v1.tar+gzip", "layer of step 3")->digest;
    ASSERT_TRUE(md_->SetLayer(3, {step_blob_, "sha256:diff", 15, "application/vnd.oci.image.layer.v1.tar+gzip"}).ok());
    ASSERT_TRUE(md_->SetChain("sha256:base-chain", 1).ok());
    ASSERT_TRUE(md_->SetCache("key-3", 3, "RUN three").ok());
    ASSERT_TRUE(md_->SetCache("key-4", 4, "RUN four").ok());
  }

  Collector MakeCollector() {
    return Collector(
        *md_, *content_, [](SnapshotId id) { return int64_t(id) * 100; },
        [this](SnapshotId id) {
          removed_.insert(id);
          return md_->DeleteSnapshot(id);
        });
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ContentStore> content_;
  std::unique_ptr<Metadata> md_;
  std::string layer_, image_, step_blob_;
  std::set<std::string> image_blobs_;
  std::set<SnapshotId> removed_;
};

TEST_F(GcTest, UsageSplitsImagesFromCache) {
  auto u = MakeCollector().DiskUsage();
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->images, 1);
  EXPECT_EQ(u->cache_records, 2);
  EXPECT_EQ(u->snapshots, 4);
  EXPECT_EQ(u->snapshot_bytes, 100 + 200 + 300 + 400);
  EXPECT_EQ(u->cache_blob_bytes, 15);  // the step's layer; the image's blobs are not cache
  EXPECT_EQ(u->reclaimable_bytes(), 1000 + 15);
  ASSERT_EQ(u->entries.size(), 2u);
}

TEST_F(GcTest, CollectingEverythingKeepsImages) {
  auto r = MakeCollector().Collect({});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->cache_records, 2);
  EXPECT_EQ(r->snapshots, 4);
  EXPECT_EQ(r->blobs, 1);
  EXPECT_EQ(r->reclaimed_bytes, 1000 + 15);
  EXPECT_EQ(removed_, (std::set<SnapshotId>{1, 2, 3, 4}));
  for (auto& b : image_blobs_) EXPECT_TRUE(content_->Has(b)) << b;
  EXPECT_FALSE(content_->Has(step_blob_));
  EXPECT_TRUE(md_->ListChains()->empty());
}

TEST_F(GcTest, KeptRecordsKeepTheirParentsAndLayers) {
  // Keep what fits in 600 bytes, most recent first: both records were just used; key-4 sorts last, so it is
  // the most recent and kept (snapshots 1 and 4: 500 bytes); key-3 would need 2 and 3 as well.
  GcPolicy policy;
  policy.keep_bytes = 600;
  auto r = MakeCollector().Collect(policy);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(removed_, (std::set<SnapshotId>{2, 3}));
  EXPECT_EQ(md_->ListCache()->size(), 1u);
  EXPECT_EQ(md_->ListCache()->at(0).key, "key-4");
  EXPECT_EQ(md_->ListChains()->size(), 1u) << "the base chain is under a kept step";
  EXPECT_FALSE(content_->Has(step_blob_));
}

TEST_F(GcTest, RecentlyUsedRecordsStay) {
  GcPolicy policy;
  policy.keep_used_since = int64_t(time(nullptr)) - 3600;
  auto r = MakeCollector().Collect(policy);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cache_records, 0);
  EXPECT_EQ(r->snapshots, 0);
  EXPECT_EQ(r->blobs, 0);
  EXPECT_TRUE(content_->Has(step_blob_)) << "a kept snapshot's layer stays";
}

// What a build that failed for lack of space gives back: its own records and what only they need; the rest stays.
TEST_F(GcTest, CompressedVariantsStayWithTheirLayer) {
  // Snapshot 3's layer compressed for a push, and a variant of a layer nothing keeps any more.
  std::string kept = content_->Put("application/vnd.oci.image.layer.v1.tar+zstd", "step 3, zstd")->digest;
  std::string orphan = content_->Put("application/vnd.oci.image.layer.v1.tar+zstd", "gone, zstd")->digest;
  ASSERT_TRUE(md_->SetLayerVariant({kept, "sha256:diff", 12, "application/vnd.oci.image.layer.v1.tar+zstd"}).ok());
  ASSERT_TRUE(md_->SetLayerVariant({orphan, "sha256:gone", 10, "application/vnd.oci.image.layer.v1.tar+zstd"}).ok());
  auto variant = md_->GetLayerVariant("sha256:diff", "application/vnd.oci.image.layer.v1.tar+zstd");
  ASSERT_TRUE(variant.ok() && *variant);
  EXPECT_EQ((*variant)->blob_digest, kept);
  GcPolicy policy;
  policy.keep_used_since = int64_t(time(nullptr)) - 3600;
  ASSERT_TRUE(MakeCollector().Collect(policy).ok());
  EXPECT_TRUE(content_->Has(kept)) << "a kept snapshot's compressed layer goes";
  EXPECT_FALSE(content_->Has(orphan));
  ASSERT_TRUE(MakeCollector().Collect({}).ok());
  EXPECT_FALSE(content_->Has(kept));
}

TEST_F(GcTest, OnlyNamedRecordsGo) {
  GcPolicy policy;
  policy.only_keys = {"key-3"};
  auto r = MakeCollector().Collect(policy);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->cache_records, 1);
  EXPECT_EQ(removed_, (std::set<SnapshotId>{2, 3}));
  ASSERT_EQ(md_->ListCache()->size(), 1u);
  EXPECT_EQ(md_->ListCache()->at(0).key, "key-4");
  EXPECT_FALSE(content_->Has(step_blob_));
  for (auto& b : image_blobs_) EXPECT_TRUE(content_->Has(b)) << b;
}

TEST_F(GcTest, ExclusiveLockIsRefusedWhileShared) {
  auto shared = StoreLock::Shared(dir_->path());
  ASSERT_TRUE(shared.ok());
  auto busy = StoreLock::Exclusive(dir_->path());
  ASSERT_FALSE(busy.ok());
  EXPECT_NE(busy.status().message().find("in use"), std::string::npos);
  { auto released = std::move(*shared); }
  EXPECT_TRUE(StoreLock::Exclusive(dir_->path()).ok());
}

TEST_F(GcTest, ExclusiveLockWaitsForAHolderThatIsLeaving) {
  auto shared = std::make_unique<StoreLock>(std::move(*StoreLock::Shared(dir_->path())));
  std::thread leaver([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    shared.reset();  // a cancelled build done cleaning up
  });
  auto waited = StoreLock::Exclusive(dir_->path(), 5000);
  leaver.join();
  EXPECT_TRUE(waited.ok()) << waited.status().message();
}

}  // namespace
}  // namespace kiln::store
