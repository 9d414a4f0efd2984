// Tar writing and compression: a snapshot's diff directory (500 files of 16 KiB of text-like data, 8 MB) to a
// layer blob uncompressed, gzip and zstd; and compressing an uncompressed layer blob as it leaves kiln.
#include <benchmark/benchmark.h>

#include <random>

#include "base/fs.h"
#include "snapshot/layer.h"

namespace kiln::snapshot {
namespace {

struct Fixture {
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<store::ContentStore> content;
  std::string diff;
};

/// A diff directory and a content store, made once.
Fixture& Shared() {
  static Fixture f = [] {
    Fixture f;
    f.dir = std::make_unique<TempDir>(std::move(*TempDir::Create("/tmp", "kiln-layer-bench-")));
    f.content = std::make_unique<store::ContentStore>(f.dir->path() + "/store");
    (void)f.content->Init();
    f.diff = f.dir->path() + "/diff";
    std::mt19937 random(7);
    const char* words[] = {"layer ", "kiln ", "build ", "cache ", "step ", "image ", "\n", "0123 "};
    for (int d = 0; d < 10; d++) {
      std::string sub = f.diff + "/dir" + std::to_string(d);
      (void)MakeDirs(sub);
      for (int i = 0; i < 50; i++) {
        std::string text;
        while (text.size() < 16384) text += words[random() % 8];
        (void)WriteFile(sub + "/file" + std::to_string(i), text);
      }
    }
    return f;
  }();
  return f;
}

void BM_WriteLayer(benchmark::State& state) {
  Fixture& f = Shared();
  LayerOptions options;
  options.compression.kind = Compression(state.range(0));
  for (auto _ : state) {
    auto layer = WriteLayer(f.diff, *f.content, options);
    if (!layer.ok()) state.SkipWithError(layer.status().message().c_str());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * 500 * 16384);
  state.SetLabel(LayerMediaType(options.compression.kind));
}
BENCHMARK(BM_WriteLayer)
    ->Arg(int(Compression::kUncompressed))->Arg(int(Compression::kGzip))->Arg(int(Compression::kZstd))
    ->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CompressLayerBlob(benchmark::State& state) {
  Fixture& f = Shared();
  LayerOptions tar_options;
  tar_options.compression.kind = Compression::kUncompressed;
  auto tar = WriteLayer(f.diff, *f.content, tar_options);
  CompressionOptions options;
  options.kind = Compression(state.range(0));
  for (auto _ : state) {
    auto blob = CompressLayerBlob(*tar, *f.content, options);
    if (!blob.ok()) state.SkipWithError(blob.status().message().c_str());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * tar->size);
  state.SetLabel(LayerMediaType(options.kind));
}
BENCHMARK(BM_CompressLayerBlob)->Arg(int(Compression::kGzip))->Arg(int(Compression::kZstd))
    ->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace kiln::snapshot
