#include "store/content.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "base/cleanup.h"
#include "base/digest.h"
#include "base/fs.h"
#include "base/process.h"

namespace kiln::store {

BlobWriter::BlobWriter(BlobWriter&& o) noexcept
    : store_(o.store_), tmp_(std::move(o.tmp_)), fd_(o.fd_), size_(o.size_) {
  o.fd_ = -1;
  o.tmp_.clear();
}

BlobWriter::~BlobWriter() {
  if (fd_ >= 0) close(fd_);
  if (!tmp_.empty()) unlink(tmp_.c_str());
}

Status BlobWriter::WriteError(const char* call) const {
  // A full disk is named by the data root it fills, not by a temp file the user never sees.
  if (errno == ENOSPC || errno == EDQUOT) return Status::NoSpace("no space left on device (" + store_->root_ + ")");
  return ErrnoError(call, tmp_);
}

Status BlobWriter::Write(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(fd_, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return WriteError("write");
    }
    p += n;
    size -= size_t(n);
    size_ += n;
  }
  return Status::Ok();
}

Status BlobWriter::Commit(const std::string& digest) {
  if (!IsValidDigest(digest)) return Status::Error("invalid digest " + digest);
  if (fsync(fd_) != 0) return WriteError("fsync");
  close(fd_);
  fd_ = -1;
  std::string dest = store_->BlobPath(digest);
  if (rename(tmp_.c_str(), dest.c_str()) != 0) return ErrnoError("rename", tmp_);
  tmp_.clear();
  return Status::Ok();
}

Status ContentStore::Init() const {
  KILN_TRY(MakeDirs(JoinPath(root_, "blobs/sha256")));
  std::string ingest = JoinPath(root_, "blobs/ingest");
  KILN_TRY(MakeDirs(ingest));
  // Blobs being written are named after their writer's pid: those of dead processes (kill -9) are garbage.
  KILN_ASSIGN(auto names, ListDir(ingest));
  for (auto& name : names) {
    if (ProcessIsGone(pid_t(atol(name.c_str())))) unlink(JoinPath(ingest, name).c_str());
  }
  return Status::Ok();
}

std::string ContentStore::BlobPath(std::string_view digest) const {
  return JoinPath(root_, "blobs/sha256/" + DigestHex(digest));
}

bool ContentStore::Has(std::string_view digest) const { return PathExists(BlobPath(digest)); }

Result<std::string> ContentStore::Read(std::string_view digest) const {
  if (!IsValidDigest(digest)) return Status::Error("invalid digest " + std::string(digest));
  auto data = ReadFile(BlobPath(digest));
  if (!data.ok()) return Status::Error("blob " + std::string(digest) + " is missing from the store");
  return data;
}

Result<oci::Descriptor> ContentStore::Put(const std::string& media_type, std::string_view data) const {
  oci::Descriptor d{media_type, DigestOf(data), int64_t(data.size()), {}, {}};
  if (!Has(d.digest)) {
    KILN_ASSIGN(BlobWriter w, NewWriter());
    KILN_TRY(w.Write(data.data(), data.size()));
    KILN_TRY(w.Commit(d.digest));
  }
  return d;
}

Result<BlobWriter> ContentStore::NewWriter() const {
  std::string tmp = JoinPath(root_, "blobs/ingest/" + std::to_string(getpid()) + "-XXXXXX");
  int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError("create", tmp);
  return BlobWriter(this, tmp, fd);
}

Status ContentStore::Adopt(const std::string& path, const std::string& digest) const {
  if (Has(digest)) return Status::Ok();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", path);
  Cleanup close_fd([fd] { close(fd); });
  KILN_ASSIGN(BlobWriter w, NewWriter());
  Sha256 hash;
  char buf[1 << 16];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    hash.Update(buf, size_t(n));
    KILN_TRY(w.Write(buf, size_t(n)));
  }
  if (n < 0) return ErrnoError("read", path);
  std::string actual = hash.Finish();
  if (actual != digest) return Status::Error(path + " does not match its digest " + digest + " (got " + actual + ")");
  return w.Commit(digest);
}

Result<std::vector<ContentStore::BlobInfo>> ContentStore::List() const {
  std::string dir = JoinPath(root_, "blobs/sha256");
  KILN_ASSIGN(auto names, ListDir(dir));
  std::vector<BlobInfo> out;
  for (auto& n : names) {
    struct stat st;
    if (lstat(JoinPath(dir, n).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    out.push_back({"sha256:" + n, int64_t(st.st_size)});
  }
  return out;
}

Status ContentStore::Remove(std::string_view digest) const {
  if (unlink(BlobPath(digest).c_str()) != 0 && errno != ENOENT) return ErrnoError("unlink", BlobPath(digest));
  return Status::Ok();
}

}  // namespace kiln::store
