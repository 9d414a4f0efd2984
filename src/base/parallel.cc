#include "base/parallel.h"

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln {

Status ParallelFor(size_t n, size_t workers, const std::function<Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first;
  auto work = [&] {
    for (;;) {
      size_t i = next++;
      if (i >= n || failed) return;
      Status st = fn(i);
      if (!st.ok()) {
        std::lock_guard l(mu);
        if (first.ok()) first = st;
        failed = true;
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min(workers, n); t++) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return first;
}

}  // namespace kiln
