// Context hashing: the digest of a 2,000-file context as a COPY . computes it, reading every file (a first build)
// and through the stat cache (a rebuild: stat each file, read none).
#include <benchmark/benchmark.h>

#include "base/fs.h"
#include "solver/file_op.h"
#include "solver/stat_cache.h"
#include "store/metadata.h"

namespace kiln::solver {
namespace {

struct Fixture {
  std::unique_ptr<TempDir> dir;
  std::string context;
  std::unique_ptr<store::Metadata> metadata;
};

Fixture& Shared() {
  static Fixture f = [] {
    Fixture f;
    f.dir = std::make_unique<TempDir>(std::move(*TempDir::Create("/tmp", "kiln-context-bench-")));
    f.context = f.dir->path() + "/context";
    for (int d = 0; d < 20; d++) {
      std::string sub = f.context + "/src/pkg" + std::to_string(d);
      (void)MakeDirs(sub);
      for (int i = 0; i < 100; i++) (void)WriteFile(sub + "/f" + std::to_string(i) + ".go", std::string(4096, char('a' + i % 26)));
    }
    f.metadata = std::move(*store::Metadata::Open(f.dir->path() + "/metadata.db"));
    return f;
  }();
  return f;
}

void BM_ChecksumContextReadingEveryFile(benchmark::State& state) {
  Fixture& f = Shared();
  CopySource source{f.context};
  for (auto _ : state) {
    auto sum = ChecksumSources(source, {"."});
    if (!sum.ok()) state.SkipWithError(sum.status().message().c_str());
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * 2000);
}
BENCHMARK(BM_ChecksumContextReadingEveryFile)->Unit(benchmark::kMillisecond);

void BM_ChecksumContextThroughTheStatCache(benchmark::State& state) {
  Fixture& f = Shared();
  {
    auto cache = StatDigestCache::Load(f.metadata.get(), f.context, 0);
    CopySource source{f.context, nullptr, cache->get()};
    (void)ChecksumSources(source, {"."});
    (void)(*cache)->Save();
  }
  for (auto _ : state) {
    auto cache = StatDigestCache::Load(f.metadata.get(), f.context, 0);
    CopySource source{f.context, nullptr, cache->get()};
    auto sum = ChecksumSources(source, {"."});
    if (!sum.ok()) state.SkipWithError(sum.status().message().c_str());
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * 2000);
}
BENCHMARK(BM_ChecksumContextThroughTheStatCache)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kiln::solver
