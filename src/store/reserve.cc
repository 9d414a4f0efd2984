#include "store/reserve.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/fs.h"

namespace kiln::store {

SpaceReserve::SpaceReserve(const std::string& root) : path_(JoinPath(root, "reserve")) {}

void SpaceReserve::Restore() const {
  if (PathExists(path_)) return;
  std::string tmp = path_ + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  // Allocated blocks, not a sparse file: the space must really be held.
  bool held = posix_fallocate(fd, 0, kBytes) == 0;
  close(fd);
  if (!held || rename(tmp.c_str(), path_.c_str()) != 0) unlink(tmp.c_str());
}

void SpaceReserve::Release() const { unlink(path_.c_str()); }

}  // namespace kiln::store
