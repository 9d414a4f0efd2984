#include "snapshot/extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <climits>
#include <cstdlib>

#include <memory>

#include "base/fs.h"
#include "snapshot/archive_util.h"

namespace kiln::snapshot {
namespace {

using Reader = std::unique_ptr<archive, decltype(&archive_read_free)>;

Reader OpenArchive(const std::string& path) {
  Reader in(NewTarReader(), archive_read_free);
  if (archive_read_open_filename(in.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) in.reset();
  return in;
}

}  // namespace

bool IsTarArchive(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  Reader in = OpenArchive(path);
  archive_entry* e;
  // A header read means a tar format recognised what the (decompressed) stream starts with.
  return in && archive_read_next_header(in.get(), &e) == ARCHIVE_OK;
}

Status ExtractArchiveInLayer(const std::string& path, const LayerTarget& t, const std::string& dest_dir,
                             std::optional<uid_t> uid, std::optional<gid_t> gid) {
  Reader in = OpenArchive(path);
  if (!in) return Status::Error("open archive " + path);
  std::unique_ptr<archive, decltype(&archive_write_free)> out(archive_write_disk_new(), archive_write_free);
  // Numeric owners as in the archive (no name lookup, as BuildKit); never through a symlink, never "..".
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                                ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_UNLINK);
  char real[PATH_MAX];
  if (!realpath(t.upper.c_str(), real)) return ErrnoError("resolve", t.upper);
  const LayerTarget target{t.lower, real};
  KILN_TRY(MakeDirsInLayer(target, dest_dir, 0, 0).status());
  archive_entry* e;
  while (true) {
    int rc = archive_read_next_header(in.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) return Status::Error("read archive " + path + ": " + ArchiveError(in.get()));
    std::string rel = SafeRelative(archive_entry_pathname(e));
    if (rel == ".") continue;
    std::string container = JoinPath(dest_dir, rel);
    KILN_ASSIGN(std::string parent, MakeDirsInLayer(target, DirName(container), 0, 0));
    archive_entry_set_pathname(e, JoinPath(parent, BaseName(container)).c_str());
    if (const char* link = archive_entry_hardlink(e)) {
      KILN_ASSIGN(std::string linked, ResolveInLayer(target, JoinPath(dest_dir, SafeRelative(link))));
      archive_entry_set_hardlink(e, linked.c_str());
    }
    if (uid) archive_entry_set_uid(e, *uid);
    if (gid) archive_entry_set_gid(e, *gid);
    if (archive_write_header(out.get(), e) < ARCHIVE_WARN) return ExtractError(rel, out.get());
    if (archive_entry_size(e) > 0 && archive_entry_hardlink(e) == nullptr) {
      const void* buf;
      size_t size;
      la_int64_t offset;
      while ((rc = archive_read_data_block(in.get(), &buf, &size, &offset)) == ARCHIVE_OK) {
        if (archive_write_data_block(out.get(), buf, size, offset) != ARCHIVE_OK) return ExtractError(rel, out.get());
      }
      if (rc != ARCHIVE_EOF) return Status::Error("read archive " + path + ": " + ArchiveError(in.get()));
    }
    if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN) return ExtractError(rel, out.get());
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK) return Status::Error("extract " + path + ": " + ArchiveError(out.get()));
  return Status::Ok();
}

}  // namespace kiln::snapshot
