// Dockerfile parsing and lowering, on a 40-stage Dockerfile with the instructions a real one uses.
#include <benchmark/benchmark.h>

#include "frontend/dockerfile/convert.h"
#include "frontend/dockerfile/parser.h"

namespace kiln::dockerfile {
namespace {

std::string BigDockerfile() {
  std::string text = "# syntax=docker/dockerfile:1\nARG BASE=busybox\n";
  for (int s = 0; s < 40; s++) {
    std::string n = std::to_string(s);
    text += "FROM ${BASE} AS stage" + n + "\nARG VERSION=1." + n + "\nENV APP_HOME=/app" + n + " PATH=/app/bin:$PATH\n" +
            "WORKDIR $APP_HOME\nCOPY --chown=1000:1000 src/ ./src/\n" +
            "RUN --mount=type=cache,target=/root/.cache \\\n    set -e; \\\n    make -C src VERSION=$VERSION && \\\n"
            "    install -m 0755 src/app /usr/local/bin/app" + n + "\n" +
            "RUN <<EOT\necho built " + n + " > /built\nEOT\nLABEL org.example.stage=\"" + n + "\"\n";
  }
  text += "FROM ${BASE}\n";
  for (int s = 0; s < 40; s++) text += "COPY --from=stage" + std::to_string(s) + " /built /built" + std::to_string(s) + "\n";
  return text + "USER 1000\nENTRYPOINT [\"/usr/local/bin/app0\"]\n";
}

void BM_Parse(benchmark::State& state) {
  std::string text = BigDockerfile();
  for (auto _ : state) {
    auto df = Parse(text, "Dockerfile");
    if (!df.ok()) state.SkipWithError(df.status().message().c_str());
    benchmark::DoNotOptimize(df);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
}
BENCHMARK(BM_Parse);

void BM_ParseAndLower(benchmark::State& state) {
  std::string text = BigDockerfile();
  ConvertOptions options;
  options.context_dir = "/nonexistent/context";
  options.epoch = 0;
  options.resolve = [](const std::string&, const kiln::oci::Platform&) -> Result<ResolvedImage> {
    ResolvedImage image;
    image.manifest_digest = "sha256:" + std::string(64, 'a');
    image.config.config.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    return image;
  };
  for (auto _ : state) {
    auto df = Parse(text, "Dockerfile");
    auto def = Convert(*df, options);
    if (!def.ok()) state.SkipWithError(def.status().message().c_str());
    benchmark::DoNotOptimize(def);
  }
}
BENCHMARK(BM_ParseAndLower);

}  // namespace
}  // namespace kiln::dockerfile
