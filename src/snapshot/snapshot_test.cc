#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <utime.h>
#include <unistd.h>
#include <zlib.h>

#include <map>

#include "base/fs.h"
#include "snapshot/copy.h"
#include "snapshot/layer.h"
#include "snapshot/snapshotter.h"
#include "store/metadata.h"

namespace kiln::snapshot {
namespace {

/// Lists a gzip layer blob: name -> type and size.
std::map<std::string, std::string> ListTar(const std::string& path) {
  std::map<std::string, std::string> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_filter_gzip(a);
  if (archive_read_open_filename(a, path.c_str(), 1 << 16) == ARCHIVE_OK) {
    archive_entry* e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
      std::string kind = archive_entry_filetype(e) == AE_IFDIR ? "dir" : archive_entry_hardlink(e) ? "link" : "file";
      out[archive_entry_pathname(e)] = kind + ":" + std::to_string(archive_entry_size(e));
    }
  }
  archive_read_free(a);
  return out;
}

class LayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (whiteout devices and trusted.* xattrs)";
    auto d = TempDir::Create(::testing::TempDir(), "layer-test-");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<TempDir>(std::move(*d));
    content_ = std::make_unique<store::ContentStore>(dir_->path() + "/store");
    ASSERT_TRUE(content_->Init().ok());
  }
  std::string Path(const std::string& rel) { return dir_->path() + "/" + rel; }
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<store::ContentStore> content_;
};

TEST_F(LayerTest, WhiteoutsHardlinksAndDeterminism) {
  std::string diff = Path("diff");
  ASSERT_TRUE(MakeDirs(diff + "/etc").ok());
  ASSERT_TRUE(MakeDirs(diff + "/opaque").ok());
  ASSERT_TRUE(WriteFileAtomic(diff + "/etc/conf", "x=1\n").ok());
  ASSERT_EQ(link((diff + "/etc/conf").c_str(), (diff + "/etc/conf.link").c_str()), 0);
  ASSERT_EQ(mknod((diff + "/etc/deleted").c_str(), S_IFCHR, makedev(0, 0)), 0);
  ASSERT_EQ(lsetxattr((diff + "/opaque").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  ASSERT_EQ(symlink("conf", (diff + "/etc/sym").c_str()), 0);

  auto l1 = WriteLayer(diff, *content_);
  auto l2 = WriteLayer(diff, *content_);
  ASSERT_TRUE(l1.ok()) << l1.status().message();
  ASSERT_TRUE(l2.ok());
  EXPECT_EQ(l1->blob_digest, l2->blob_digest);  // the same diff gives the same bytes
  EXPECT_NE(l1->blob_digest, l1->diff_id);
  auto entries = ListTar(content_->BlobPath(l1->blob_digest));
  EXPECT_EQ(entries["etc/.wh.deleted"], "file:0");
  EXPECT_EQ(entries["opaque/.wh..wh..opq"], "file:0");
  EXPECT_EQ(entries["etc/conf"], "file:4");
  EXPECT_EQ(entries["etc/conf.link"], "link:0");

  // Applying the layer turns the OCI whiteouts back into overlay ones.
  std::string out = Path("applied");
  ASSERT_TRUE(MakeDirs(out).ok());
  ASSERT_TRUE(ApplyLayer(content_->BlobPath(l1->blob_digest), out).ok());
  struct stat st;
  ASSERT_EQ(lstat((out + "/etc/deleted").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(PathExists(out + "/etc/.wh.deleted"));
  char v[2];
  EXPECT_EQ(lgetxattr((out + "/opaque").c_str(), "trusted.overlay.opaque", v, sizeof v), 1);
  struct stat a, b;
  ASSERT_EQ(stat((out + "/etc/conf").c_str(), &a), 0);
  ASSERT_EQ(stat((out + "/etc/conf.link").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(*ReadFile(out + "/etc/conf"), "x=1\n");
}

TEST_F(LayerTest, SourceDateEpochClampsTimes) {
  std::string diff = Path("diff");
  ASSERT_TRUE(MakeDirs(diff).ok());
  ASSERT_TRUE(WriteFileAtomic(diff + "/f", "data").ok());
  LayerOptions o;
  o.source_date_epoch = 0;
  auto a = WriteLayer(diff, *content_, o);
  ASSERT_EQ(utime((diff + "/f").c_str(), nullptr), 0);
  auto b = WriteLayer(diff, *content_, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->diff_id, b->diff_id);
}

TEST_F(LayerTest, AnUncompressedLayerIsCompressedWithoutTarringAgain) {
  std::string diff = Path("diff");
  ASSERT_TRUE(MakeDirs(diff + "/d").ok());
  ASSERT_TRUE(WriteFileAtomic(diff + "/d/f", std::string(100000, 'k')).ok());
  LayerOptions o;
  o.compression.kind = Compression::kUncompressed;
  auto tar = WriteLayer(diff, *content_, o);
  ASSERT_TRUE(tar.ok()) << tar.status().message();
  EXPECT_EQ(tar->blob_digest, tar->diff_id);
  EXPECT_EQ(tar->media_type, "application/vnd.oci.image.layer.v1.tar");
  // The diff may change afterwards: the compressed layer comes from the tar blob alone.
  ASSERT_TRUE(WriteFileAtomic(diff + "/d/f", "changed").ok());
  auto gz = CompressLayerBlob(*tar, *content_, {Compression::kGzip, -1});
  ASSERT_TRUE(gz.ok()) << gz.status().message();
  EXPECT_EQ(gz->diff_id, tar->diff_id);
  EXPECT_NE(gz->blob_digest, tar->blob_digest);
  EXPECT_LT(gz->size, tar->size);
  EXPECT_EQ(gz->media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(ListTar(content_->BlobPath(gz->blob_digest))["d/f"], "file:100000");
  // A tar blob that is no longer what its digest says (a damaged store) is refused.
  std::string path = content_->BlobPath(tar->blob_digest);
  chmod(path.c_str(), 0644);
  ASSERT_TRUE(WriteFileAtomic(path, "damaged").ok());
  auto damaged = CompressLayerBlob(*tar, *content_, {Compression::kZstd, -1});
  ASSERT_FALSE(damaged.ok());
  EXPECT_NE(damaged.status().message().find("changed in the store"), std::string::npos) << damaged.status().message();
}

TEST_F(LayerTest, ApplyRefusesToEscape) {
  // A tar whose entries try to leave the root: "../x" and a symlink followed by a write through it.
  std::string tar = Path("evil.tar");
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, tar.c_str()), ARCHIVE_OK);
  auto add = [&](const char* name, int type, const char* link, const std::string& data) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, 0644);
    if (link) archive_entry_set_symlink(e, link);
    archive_entry_set_size(e, la_int64_t(data.size()));
    archive_write_header(a, e);
    if (!data.empty()) archive_write_data(a, data.data(), data.size());
    archive_entry_free(e);
  };
  add("../escaped", AE_IFREG, nullptr, "x");
  add("out", AE_IFLNK, dir_->path().c_str(), "");
  add("out/through-link", AE_IFREG, nullptr, "y");
  archive_write_close(a);
  archive_write_free(a);
  std::string root = Path("root");
  ASSERT_TRUE(MakeDirs(root).ok());
  (void)ApplyLayer(tar, root);
  EXPECT_FALSE(PathExists(Path("escaped")));
  EXPECT_FALSE(PathExists(Path("through-link")));
}

TEST_F(LayerTest, ApplyStopsAtTheExpansionLimits) {
  // 300 empty files and 4 MiB of zeros, gzipped to a few KB: a small compression bomb.
  std::string plain = Path("bomb.tar"), tar = Path("bomb.tar.gz");
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, plain.c_str()), ARCHIVE_OK);
  auto add = [&](const std::string& name, size_t size) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, la_int64_t(size));
    archive_write_header(a, e);
    std::string zeros(64 << 10, '\0');
    for (size_t done = 0; done < size; done += zeros.size()) archive_write_data(a, zeros.data(), zeros.size());
    archive_entry_free(e);
  };
  for (int i = 0; i < 300; i++) add("f" + std::to_string(i), 0);
  add("zeros", 4 << 20);
  archive_write_close(a);
  archive_write_free(a);
  auto data = ReadFile(plain);
  ASSERT_TRUE(data.ok());
  gzFile gz = gzopen(tar.c_str(), "wb9");
  ASSERT_EQ(gzwrite(gz, data->data(), unsigned(data->size())), int(data->size()));
  gzclose(gz);
  struct stat st;
  ASSERT_EQ(stat(tar.c_str(), &st), 0);
  ASSERT_LT(st.st_size, 64 << 10);

  LayerLimits few_files{100, 64 << 20, 1, 200};
  ASSERT_TRUE(MakeDirs(Path("a")).ok());
  Status files = ApplyLayer(tar, Path("a"), few_files);
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.message().find("more than " + std::to_string(few_files.MaxFiles(st.st_size)) + " files"),
            std::string::npos) << files.message();
  LayerLimits few_bytes{10, 1 << 20, 4, 1000};
  ASSERT_TRUE(MakeDirs(Path("b")).ok());
  Status bytes = ApplyLayer(tar, Path("b"), few_bytes);
  ASSERT_FALSE(bytes.ok());
  EXPECT_NE(bytes.message().find("bytes from a blob of " + std::to_string(st.st_size)), std::string::npos) << bytes.message();
  ASSERT_TRUE(MakeDirs(Path("c")).ok());
  EXPECT_TRUE(ApplyLayer(tar, Path("c")).ok()) << "the defaults take it";
  EXPECT_EQ(LayerLimits{}.MaxBytes(0), int64_t(1) << 30);
  EXPECT_EQ(LayerLimits{}.MaxBytes(int64_t(1) << 62), INT64_MAX) << "no overflow";
}

TEST(ResolveInRoot, SymlinksStayInside) {
  auto d = TempDir::Create(::testing::TempDir(), "resolve-test-");
  ASSERT_TRUE(d.ok());
  std::string r = d->path();
  ASSERT_TRUE(MakeDirs(r + "/real/dir").ok());
  ASSERT_EQ(symlink("/real", (r + "/abs").c_str()), 0);
  ASSERT_EQ(symlink("../../..", (r + "/real/up").c_str()), 0);
  EXPECT_EQ(*ResolveInRoot(r, "/abs/dir"), r + "/real/dir");
  EXPECT_EQ(*ResolveInRoot(r, "/real/up/etc/passwd"), r + "/etc/passwd");
  EXPECT_EQ(*ResolveInRoot(r, "/../../x"), r + "/x");
  EXPECT_EQ(*ResolveInRoot(r, "/abs", false), r + "/abs");
}

}  // namespace
}  // namespace kiln::snapshot

namespace kiln::snapshot {
namespace {

TEST(ActiveSnapshot, DiscardsItselfUnlessCommitted) {
  auto dir = TempDir::Create(::testing::TempDir(), "active-test-");
  ASSERT_TRUE(dir.ok());
  auto metadata = store::Metadata::Open(dir->path() + "/metadata.db");
  ASSERT_TRUE(metadata.ok());
  Snapshotter snapshotter(dir->path(), metadata->get());
  ASSERT_TRUE(snapshotter.Init().ok());
  SnapshotId dropped = 0, kept = 0;
  {
    auto a = snapshotter.Prepare(0);
    ASSERT_TRUE(a.ok());
    dropped = a->id;
    EXPECT_TRUE(IsDirectory(a->diff_dir));
    ActiveSnapshot moved = std::move(*a);  // ownership moves; only one of them discards
    auto b = snapshotter.Prepare(0);
    ASSERT_TRUE(b.ok());
    kept = b->id;
    ASSERT_TRUE(snapshotter.Commit(*b).ok());
  }  // an early return or an error path: the uncommitted one goes, files and record
  EXPECT_FALSE((*metadata)->GetSnapshot(dropped).ok()) << "an uncommitted snapshot's record survived its owner";
  EXPECT_FALSE(PathExists(snapshotter.DiffDir(dropped)));
  auto rec = (*metadata)->GetSnapshot(kept);
  ASSERT_TRUE(rec.ok());
  EXPECT_TRUE(rec->committed);
  EXPECT_TRUE(PathExists(snapshotter.DiffDir(kept)));
}

}  // namespace
}  // namespace kiln::snapshot
