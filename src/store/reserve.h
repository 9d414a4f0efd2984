// Space set aside under the data root so that freeing space works on a full disk: deleting metadata rows needs
// room in SQLite's write-ahead log, and without it a full disk could not even be pruned.
#pragma once
#include <cstdint>
#include <string>

namespace kiln::store {

class SpaceReserve {
 public:
  static constexpr int64_t kBytes = 4 << 20;
  explicit SpaceReserve(const std::string& root);
  /// Creates the reserve file when it is missing (best effort: on a full disk it waits for the next time).
  void Restore() const;
  /// Gives the reserved space back to the file system, right before a collection on a full disk.
  void Release() const;

 private:
  std::string path_;
};

}  // namespace kiln::store
