// The store's automatic collection: after a build that ran steps, when the store has grown past its limit, the
// least recently used build cache goes (cache records, kept failed-step states, cache mounts; images never), down
// to 80% of the limit, and only when no other kiln process uses the store. The limit is the data root's
// kiln.toml: [gc] max_storage = "10%" (of the file system holding the data root: the default), a size such as
// "20GB", or "0" for no automatic collection.
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include "api/engine.h"
#include "api/engine_state.h"
#include "base/fs.h"
#include "base/text.h"
#include "store/lock.h"

namespace kiln::api {
namespace {

// A collection measures the whole store: it is considered at most this often.
constexpr int64_t kCheckEverySeconds = 60;

}  // namespace

Result<int64_t> Engine::StoreLimit() {
  std::string path = JoinPath(s_->root, "kiln.toml");
  const std::string& value = s_->config.max_storage;
  if (value == "0") return int64_t(0);
  if (!value.empty() && value.back() == '%') {
    char* end = nullptr;
    double percent = strtod(value.c_str(), &end);
    if (end != value.c_str() + value.size() - 1 || !(percent > 0 && percent <= 100)) {
      return Status::Error(path + ": gc.max_storage: bad percentage \"" + value + "\"");
    }
    struct statvfs fs;
    if (statvfs(s_->root.c_str(), &fs) != 0) return ErrnoError("statvfs", s_->root);
    return int64_t(double(fs.f_blocks) * double(fs.f_frsize) * percent / 100);
  }
  auto bytes = ParseRamSize(value);
  if (!bytes) return Status::Error(path + ": gc.max_storage: bad size \"" + value + "\" (e.g. \"20GB\", \"10%\", \"0\")");
  return *bytes;
}

std::string Engine::CollectIfOverLimit(const BuildResult& build) {
  bool ran = false;
  for (auto& s : build.steps) ran |= !s.cached;
  if (!ran) return "";  // a build that ran nothing added nothing
  std::string stamp = JoinPath(s_->root, "gc-checked");
  struct stat st;
  if (stat(stamp.c_str(), &st) == 0 && time(nullptr) - st.st_mtim.tv_sec < kCheckEverySeconds) return "";
  (void)WriteFileAtomic(stamp, "");
  auto limit = StoreLimit();
  if (!limit.ok()) return "automatic collection skipped: " + limit.status().message();
  if (*limit == 0) return "";
  auto exclusive = store::StoreLock::Exclusive(s_->root);  // never while another build or run uses the store
  if (!exclusive.ok()) return "";
  auto usage = MakeCollector().DiskUsage();
  if (!usage.ok() || usage->total_bytes() <= *limit) return "";
  store::GcPolicy policy;
  policy.all = true;
  policy.keep_bytes = std::max<int64_t>(0, *limit * 8 / 10 - usage->image_bytes);
  auto freed = MakeCollector().Collect(policy);
  if (!freed.ok()) return "automatic collection failed: " + freed.status().message();
  return "the store was over its limit of " + std::to_string(*limit) + " bytes (kiln.toml gc.max_storage): collected " +
         std::to_string(freed->reclaimed_bytes) + " bytes of build cache";
}

}  // namespace kiln::api
