#include "snapshot/compress.h"

#include <zlib.h>
#include <zstd.h>

#include <fcntl.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "base/cleanup.h"
#include "base/digest.h"
#include "base/fs.h"
#include "base/parallel.h"
#include "oci/image.h"

namespace kiln::snapshot {
namespace {

/// gzip in independent members of kBlock bytes of tar each, compressed side by side: a gzip file may hold several
/// members (RFC 1952), and every reader (Go's, zlib's, libarchive's) reads them as one stream. Blocks depend only
/// on the tar, so equal tars still give equal blobs.
class GzipCompressor : public LayerCompressor {
 public:
  static constexpr size_t kBlock = 4 << 20;
  GzipCompressor(int level, store::BlobWriter* blob)
      : level_(level < 0 ? 6 : level), blob_(blob),
        workers_(std::max(1u, std::thread::hardware_concurrency())) {}
  Status Write(const void* data, size_t size) override {
    tar_hash_.Update(data, size);
    pending_.append(static_cast<const char*>(data), size);
    if (pending_.size() >= kBlock * workers_) return Flush(false);
    return Status::Ok();
  }
  Status Finish() override {
    KILN_TRY(Flush(true));
    diff_id_ = tar_hash_.Finish();
    digest_ = blob_hash_.Finish();
    return Status::Ok();
  }

 private:
  /// Compresses whole blocks of what is pending (and, at the end, the rest) and writes them in order.
  Status Flush(bool last) {
    size_t blocks = pending_.size() / kBlock + (last && pending_.size() % kBlock ? 1 : 0);
    if (last && blocks == 0) blocks = 1;  // an empty tar still makes one (empty) member
    std::vector<std::string> out(blocks);
    KILN_TRY(ParallelFor(blocks, workers_, [&](size_t i) -> Status {
      size_t begin = i * kBlock;
      size_t size = std::min(kBlock, pending_.size() - std::min(begin, pending_.size()));
      return Deflate(pending_.data() + begin, size, out[i]);
    }));
    for (auto& o : out) {
      blob_hash_.Update(o);
      KILN_TRY(blob_->Write(o.data(), o.size()));
    }
    pending_.erase(0, std::min(pending_.size(), blocks * kBlock));
    return Status::Ok();
  }
  Status Deflate(const char* data, size_t size, std::string& out) const {
    z_stream z{};
    // windowBits 31 writes a gzip header; zlib leaves its mtime 0, so equal tars give equal blobs.
    if (deflateInit2(&z, level_, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) return Status::Error("zlib initialization failed");
    out.resize(deflateBound(&z, uLong(size)));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    z.avail_in = uInt(size);
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = uInt(out.size());
    int rc = deflate(&z, Z_FINISH);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    return rc == Z_STREAM_END ? Status::Ok() : Status::Error("gzip compression failed");
  }
  int level_;
  store::BlobWriter* blob_;
  unsigned workers_;
  std::string pending_;
  Sha256 tar_hash_, blob_hash_;
};

/// zstd, with libzstd's own worker threads.
class ZstdCompressor : public LayerCompressor {
 public:
  ZstdCompressor(int level, store::BlobWriter* blob) : blob_(blob), cctx_(ZSTD_createCCtx()) {
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level < 0 ? 3 : level);
    // Ignored (an error we need not act on) when libzstd was built without threads.
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_nbWorkers, int(std::max(1u, std::thread::hardware_concurrency())));
  }
  ~ZstdCompressor() override { ZSTD_freeCCtx(cctx_); }
  Status Write(const void* data, size_t size) override {
    tar_hash_.Update(data, size);
    return Pump(data, size, ZSTD_e_continue);
  }
  Status Finish() override {
    KILN_TRY(Pump(nullptr, 0, ZSTD_e_end));
    diff_id_ = tar_hash_.Finish();
    digest_ = blob_hash_.Finish();
    return Status::Ok();
  }

 private:
  Status Pump(const void* data, size_t size, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{data, size, 0};
    std::vector<char> buf(ZSTD_CStreamOutSize());
    for (;;) {
      ZSTD_outBuffer out{buf.data(), buf.size(), 0};
      size_t left = ZSTD_compressStream2(cctx_, &out, &in, mode);
      if (ZSTD_isError(left)) return Status::Error(std::string("zstd compression failed: ") + ZSTD_getErrorName(left));
      if (out.pos) {
        blob_hash_.Update(buf.data(), out.pos);
        KILN_TRY(blob_->Write(buf.data(), out.pos));
      }
      bool done = mode == ZSTD_e_end ? left == 0 : in.pos == in.size;
      if (done) return Status::Ok();
    }
  }
  store::BlobWriter* blob_;
  ZSTD_CCtx* cctx_;
  Sha256 tar_hash_, blob_hash_;
};

class Uncompressed : public LayerCompressor {
 public:
  explicit Uncompressed(store::BlobWriter* blob) : blob_(blob) {}
  Status Write(const void* data, size_t size) override {
    hash_.Update(data, size);
    return blob_->Write(data, size);
  }
  Status Finish() override {
    diff_id_ = digest_ = hash_.Finish();
    return Status::Ok();
  }

 private:
  store::BlobWriter* blob_;
  Sha256 hash_;
};

}  // namespace

Result<Compression> ParseCompression(const std::string& name) {
  if (name == "gzip") return Compression::kGzip;
  if (name == "zstd") return Compression::kZstd;
  if (name == "uncompressed") return Compression::kUncompressed;
  return Status::Error("compression: expected gzip, zstd or uncompressed, not \"" + name + "\"");
}

std::string LayerMediaType(Compression kind, bool oci) {
  switch (kind) {
    case Compression::kGzip: return oci ? oci::kMediaTypeLayerGzip : oci::kDockerMediaTypeLayerGzip;
    case Compression::kZstd: return oci ? "application/vnd.oci.image.layer.v1.tar+zstd" : "application/vnd.docker.image.rootfs.diff.tar.zstd";
    case Compression::kUncompressed: return oci ? oci::kMediaTypeLayerTar : oci::kDockerMediaTypeLayerTar;
  }
  return "";
}

std::optional<Compression> CompressionOf(const std::string& media_type) {
  for (Compression c : {Compression::kGzip, Compression::kZstd, Compression::kUncompressed})
    if (media_type == LayerMediaType(c, true) || media_type == LayerMediaType(c, false)) return c;
  return std::nullopt;
}

Result<std::unique_ptr<LayerCompressor>> LayerCompressor::Make(const CompressionOptions& options, store::BlobWriter* blob) {
  switch (options.kind) {
    case Compression::kGzip:
      if (options.level > 9) return Status::Error("compression-level: gzip takes 0 to 9");
      return std::unique_ptr<LayerCompressor>(new GzipCompressor(options.level, blob));
    case Compression::kZstd:
      if (options.level > ZSTD_maxCLevel()) return Status::Error("compression-level: zstd takes 0 to " + std::to_string(ZSTD_maxCLevel()));
      return std::unique_ptr<LayerCompressor>(new ZstdCompressor(options.level, blob));
    case Compression::kUncompressed:
      return std::unique_ptr<LayerCompressor>(new Uncompressed(blob));
  }
  return Status::Error("unknown compression");
}

Result<store::LayerRecord> CompressLayerBlob(const store::LayerRecord& tar, const store::ContentStore& content,
                                             const CompressionOptions& options) {
  std::string path = content.BlobPath(tar.blob_digest);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open layer", path);
  Cleanup close_fd([fd] { close(fd); });
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  KILN_ASSIGN(store::BlobWriter blob, content.NewWriter());
  KILN_ASSIGN(auto compressor, LayerCompressor::Make(options, &blob));
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read layer", path);
    if (n == 0) break;
    KILN_TRY(compressor->Write(buf.data(), size_t(n)));
  }
  KILN_TRY(compressor->Finish());
  if (compressor->diff_id() != tar.blob_digest)
    return Status::Error("layer " + tar.blob_digest + " changed in the store (its content is now " + compressor->diff_id() + ")");
  store::LayerRecord rec;
  rec.blob_digest = compressor->digest();
  rec.diff_id = tar.diff_id;
  rec.size = blob.size();
  rec.media_type = LayerMediaType(options.kind);
  KILN_TRY(blob.Commit(rec.blob_digest));
  return rec;
}

}  // namespace kiln::snapshot
