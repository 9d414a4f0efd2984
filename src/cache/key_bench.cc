// Cache-key computation: a RUN step's key from its operation and its inputs' keys, as the solver computes one for
// every step of every build (a warm build is mostly this and the lookups).
#include <benchmark/benchmark.h>

#include "cache/key.h"

namespace kiln::cache {
namespace {

graph::Vertex RunStep() {
  graph::ExecOp op;
  op.args = {"/bin/sh", "-c", "apt-get update && apt-get install -y build-essential git curl && make -j8 install"};
  op.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND=noninteractive",
            "VERSION=1.2.3", "APP_HOME=/app"};
  op.cwd = "/app";
  op.user = "root";
  graph::ExecMount cache;
  cache.type = graph::ExecMount::Type::kCache;
  cache.target = "/var/cache/apt";
  cache.readonly = false;
  op.mounts.push_back(cache);
  graph::Vertex v;
  v.op = op;
  return v;
}

void BM_StepKeyOfRun(benchmark::State& state) {
  graph::Vertex v = RunStep();
  std::vector<std::string> inputs = {"sha256:" + std::string(64, 'a')};
  for (auto _ : state) benchmark::DoNotOptimize(StepKey(v, inputs, ""));
}
BENCHMARK(BM_StepKeyOfRun);

void BM_StepKeyOfCopy(benchmark::State& state) {
  graph::Vertex v;
  v.op = graph::LocalSource{"context", "/home/me/project", {"*.log", "node_modules"}};
  std::string content(71 * 2000, 'x');  // the digests of a 2,000-file context
  for (auto _ : state) benchmark::DoNotOptimize(StepKey(v, {}, content));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(content.size()));
}
BENCHMARK(BM_StepKeyOfCopy);

}  // namespace
}  // namespace kiln::cache
