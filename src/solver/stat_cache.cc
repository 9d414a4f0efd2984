#include "solver/stat_cache.h"

#include <algorithm>
#include <ctime>

#include "base/digest.h"

namespace kiln::solver {
namespace {

int64_t Nanos(const struct timespec& t) { return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec; }

}  // namespace

Result<std::unique_ptr<StatDigestCache>> StatDigestCache::Load(store::Metadata* metadata, const std::string& dir,
                                                               int64_t racy_ns) {
  KILN_ASSIGN(auto known, metadata->FileDigestsUnder(dir));
  return std::unique_ptr<StatDigestCache>(new StatDigestCache(metadata, std::move(known), racy_ns));
}

StatDigestCache::StatDigestCache(store::Metadata* metadata, std::map<std::string, store::FileDigestRecord> known,
                                 int64_t racy_ns)
    : metadata_(metadata), known_(std::move(known)), racy_ns_(racy_ns) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  started_ns_ = Nanos(now);
}

Result<std::string> StatDigestCache::Of(const std::string& path, const struct stat& st) {
  store::FileDigestRecord now{int64_t(st.st_dev), int64_t(st.st_ino), int64_t(st.st_size), Nanos(st.st_mtim),
                              Nanos(st.st_ctim), ""};
  auto it = known_.find(path);
  if (it != known_.end()) {
    const auto& k = it->second;
    if (k.dev == now.dev && k.ino == now.ino && k.size == now.size && k.mtime_ns == now.mtime_ns &&
        k.ctime_ns == now.ctime_ns) {
      return k.digest;
    }
  }
  KILN_ASSIGN(now.digest, DigestOfFile(path));
  // Known for the rest of this build either way: a miss's explanation lists the same files again.
  known_[path] = now;
  if (started_ns_ - std::max(now.mtime_ns, now.ctime_ns) >= racy_ns_) taken_[path] = now;
  return now.digest;
}

Status StatDigestCache::Save() {
  Status st = metadata_->PutFileDigests(taken_);
  if (st.ok()) taken_.clear();
  return st;
}

}  // namespace kiln::solver
