// The solver with a fake runtime: caching, BuildKit's laziness with imported cache, failures and cancellation,
// in milliseconds (snapshots are real: overlayfs, so these need root).
#include "solver/solver.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "base/fs.h"
#include "exporter/exporter.h"
#include "frontend/dockerfile/convert.h"
#include "frontend/dockerfile/parser.h"
#include "testing/fake_runtime.h"

namespace kiln::solver {
namespace {

/// One store: content, metadata and snapshots under a temp dir.
struct Store {
  explicit Store(const std::string& root) {
    content = std::make_unique<store::ContentStore>(root);
    EXPECT_TRUE(content->Init().ok());
    metadata = std::move(*store::Metadata::Open(root + "/metadata.db"));
    snapshotter = std::make_unique<snapshot::Snapshotter>(root, metadata.get());
    EXPECT_TRUE(snapshotter->Init().ok());
    cache_mounts = std::make_unique<store::CacheMounts>(root);
  }
  std::unique_ptr<store::ContentStore> content;
  std::unique_ptr<store::Metadata> metadata;
  std::unique_ptr<snapshot::Snapshotter> snapshotter;
  std::unique_ptr<store::CacheMounts> cache_mounts;
};

/// Imported cache held in memory, its blobs fetched from another store (counted).
class MemoryCache : public cache::RemoteSource {
 public:
  MemoryCache(Store& from, Store& to) : from_(from), to_(to) {}
  std::optional<cache::ImportedRecord> Lookup(const std::string& key) const override {
    auto it = records.find(key);
    if (it == records.end()) return std::nullopt;
    return cache::ImportedRecord{it->second, 0};
  }
  Status Fetch(const cache::LayerRef& layer) override {
    fetched++;
    return to_.content->Adopt(from_.content->BlobPath(layer.blob.digest), layer.blob.digest);
  }
  std::string Describe() const override { return "memory"; }
  std::map<std::string, std::vector<cache::LayerRef>> records;
  int fetched = 0;

 private:
  Store& from_;
  Store& to_;
};

class SolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (overlayfs snapshots)";
    auto d = TempDir::Create(::testing::TempDir(), "solver-test-");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<TempDir>(std::move(*d));
    ASSERT_TRUE(MakeDirs(dir_->path() + "/ctx").ok());
    ASSERT_TRUE(WriteFileAtomic(dir_->path() + "/ctx/input.txt", "input\n").ok());
    one_ = std::make_unique<Store>(dir_->path() + "/one");
    two_ = std::make_unique<Store>(dir_->path() + "/two");
  }

  dockerfile::BuildDefinition Define(const std::string& text) {
    auto df = dockerfile::Parse(text, "Dockerfile");
    EXPECT_TRUE(df.ok()) << df.status().message();
    dockerfile::ConvertOptions co;
    co.context_dir = dir_->path() + "/ctx";
    auto def = dockerfile::Convert(*df, co);
    EXPECT_TRUE(def.ok()) << def.status().message();
    return std::move(*def);
  }
  SolveReport Solve(Store& s, const dockerfile::BuildDefinition& def, SolveOptions options = {}) {
    Solver solver(s.content.get(), s.metadata.get(), s.snapshotter.get(), &runtime_, s.cache_mounts.get());
    return solver.Solve(def.graph, def.result, options);
  }
  size_t Ran(const std::string& needle) {
    size_t n = 0;
    for (auto& c : runtime_.calls()) n += c.find(needle) != std::string::npos;
    return n;
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Store> one_, two_;
  testing::FakeRuntime runtime_;
};

constexpr const char* kTwoStages = R"(FROM scratch AS builder
RUN ["make-a"]
FROM scratch
COPY input.txt /input.txt
RUN ["final"]
COPY --from=builder /a /a
)";

TEST_F(SolverTest, RunsMissesOnceThenHitsTheCache) {
  runtime_.On("make-a", {0, "compiling\n", {{"/a", "artifact"}}, 0});
  auto def = Define(kTwoStages);
  SolveReport cold = Solve(*one_, def);
  ASSERT_TRUE(cold.status.ok()) << cold.status.message();
  EXPECT_EQ(Ran("make-a"), 1u);
  EXPECT_EQ(Ran("final"), 1u);
  for (auto& s : cold.steps) EXPECT_FALSE(s.cached) << s.name;
  SolveReport warm = Solve(*one_, def);
  ASSERT_TRUE(warm.status.ok());
  EXPECT_EQ(runtime_.calls().size(), 2u) << "a warm build runs nothing";
  for (auto& s : warm.steps) EXPECT_TRUE(s.cached) << s.name;
  // A changed context file misses from the COPY that reads it on, and nothing in the builder stage runs again.
  ASSERT_TRUE(WriteFileAtomic(dir_->path() + "/ctx/input.txt", "changed\n").ok());
  SolveReport changed = Solve(*one_, Define(kTwoStages));
  ASSERT_TRUE(changed.status.ok());
  EXPECT_EQ(Ran("make-a"), 1u);
  EXPECT_EQ(Ran("final"), 2u);
}

TEST_F(SolverTest, ImportedCacheRunsNothingAndFetchesOnlyWhatIsHandedOn) {
  runtime_.On("make-a", {0, "", {{"/a", "artifact"}}, 0});
  auto def = Define(kTwoStages);
  SolveReport first = Solve(*one_, def);
  ASSERT_TRUE(first.status.ok());
  // mode=min: the records of the final stage's steps only, as store one made them.
  exporter::Exporter exp(one_->content.get(), one_->metadata.get(), one_->snapshotter.get(), {});
  MemoryCache imported(*one_, *two_);
  for (size_t v = def.result; !std::holds_alternative<graph::ImageSource>(def.graph.at(v).op);
       v = def.graph.at(v).inputs.at(0)) {
    auto layers = exp.Layers(first.results.at(v).snapshot);
    ASSERT_TRUE(layers.ok());
    imported.records[first.results.at(v).key] = *layers;
  }
  SolveOptions options;
  options.remote_caches = {&imported};
  SolveReport second = Solve(*two_, def, options);
  ASSERT_TRUE(second.status.ok()) << second.status.message();
  EXPECT_EQ(Ran("make-a"), 1u) << "the builder stage is not needed: its COPY --from hit the imported cache";
  EXPECT_EQ(Ran("final"), 1u);
  EXPECT_EQ(imported.fetched, 0) << "nothing ran on the imported results: no layer was fetched";
  EXPECT_FALSE(second.results.at(def.result).materialized);
  EXPECT_EQ(second.results.at(def.result).layers.size(), 3u);
  for (auto& s : second.steps) EXPECT_EQ(s.cache_source, "memory") << s.name;

  // A new last step needs the files of the one before it: those layers, and only those, are fetched.
  auto longer = Define(std::string(kTwoStages) + "RUN [\"extra\"]\n");
  SolveReport third = Solve(*two_, longer, options);
  ASSERT_TRUE(third.status.ok()) << third.status.message();
  EXPECT_EQ(Ran("extra"), 1u);
  EXPECT_EQ(Ran("make-a"), 1u);
  EXPECT_EQ(imported.fetched, 3);
}

TEST_F(SolverTest, AFailingStepNamesItselfAndLeavesNothing) {
  runtime_.On("broken", {3, "it went wrong\n", {{"/partial", "x"}}, 0});
  SolveReport r = Solve(*one_, Define("FROM scratch\nRUN [\"ok\"]\nRUN [\"broken\"]\n"));
  ASSERT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("Dockerfile:3"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("exit code: 3"), std::string::npos) << r.status.message();
  ASSERT_TRUE(r.failure.has_value());
  EXPECT_EQ(r.failure->exit_code, 3);
  EXPECT_NE(r.failure->log_tail.find("it went wrong"), std::string::npos);
  auto snapshots = one_->metadata->ListSnapshots();
  ASSERT_TRUE(snapshots.ok());
  ASSERT_EQ(snapshots->size(), 2u) << "the step that succeeded, and the failed one's state for kiln debug";
  EXPECT_EQ(r.failure->state, snapshots->back().id);
  ASSERT_TRUE(r.failure->exec.has_value());
  EXPECT_EQ(r.failure->exec->args, std::vector<std::string>{"broken"});
  auto partial = ReadFile(one_->snapshotter->DiffDir(r.failure->state) + "/partial");
  EXPECT_TRUE(partial.ok()) << "the state is as the process left it";
  EXPECT_TRUE(one_->metadata->AbandonedSnapshots()->empty());
  auto cached = one_->metadata->ListCache();
  EXPECT_EQ(cached->size(), 1u) << "no cache record points at a failed step";
}

TEST_F(SolverTest, CancellationStopsARunningStepPromptly) {
  runtime_.On("slow", {0, "", {}, 10000});
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel = true;
  });
  SolveOptions options;
  options.cancelled = [&] { return cancel.load(); };
  auto t0 = std::chrono::steady_clock::now();
  SolveReport r = Solve(*one_, Define("FROM scratch\nRUN [\"slow\"]\n"), options);
  canceller.join();
  EXPECT_FALSE(r.status.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  auto snapshots = one_->metadata->ListSnapshots();
  ASSERT_TRUE(snapshots.ok());
  EXPECT_TRUE(snapshots->empty()) << "a cancelled step leaves no snapshot";
}

constexpr const char* kFourStages = R"(FROM scratch AS a
RUN ["work-a"]
FROM scratch AS b
RUN ["work-b"]
FROM scratch AS c
RUN ["work-c"]
FROM scratch AS d
RUN ["work-d"]
FROM scratch
COPY --from=a /a /a
COPY --from=b /b /b
COPY --from=c /c /c
COPY --from=d /d /d
)";

void ScriptFourStages(testing::FakeRuntime& runtime, int sleep_ms) {
  for (std::string s : {"a", "b", "c", "d"}) runtime.On("work-" + s, {0, "", {{"/" + s, s}}, sleep_ms});
}

TEST_F(SolverTest, IndependentStagesRunAtOnceUpToMaxParallelism) {
  ScriptFourStages(runtime_, 100);
  SolveOptions options;
  options.max_parallelism = 3;
  SolveReport r = Solve(*one_, Define(kFourStages), options);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(runtime_.peak_concurrency(), 3) << "four independent steps, three at a time";
  ASSERT_EQ(r.steps.size(), 8u);
  EXPECT_NE(r.steps[0].name.find("work-a"), std::string::npos) << "steps are reported in the Dockerfile's order";
  EXPECT_NE(r.steps[7].name.find("COPY --from=d"), std::string::npos);
}

TEST_F(SolverTest, MaxParallelismOneRunsStepsOneAtATime) {
  ScriptFourStages(runtime_, 20);
  SolveOptions options;
  options.max_parallelism = 1;
  SolveReport r = Solve(*one_, Define(kFourStages), options);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(runtime_.peak_concurrency(), 1);
  EXPECT_EQ(runtime_.calls(), (std::vector<std::string>{"work-a", "work-b", "work-c", "work-d"}));
}

TEST_F(SolverTest, AFailingStepCancelsItsRunningSiblings) {
  runtime_.On("work-a", {0, "", {}, 10000});
  runtime_.On("work-b", {2, "b failed\n", {}, 50});
  runtime_.On("work-c", {0, "", {}, 10000});
  SolveOptions options;
  options.max_parallelism = 4;
  SolveReport r = Solve(*one_, Define(kFourStages), options);
  ASSERT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("work-b"), std::string::npos) << "the error names the failing step: " << r.status.message();
  ASSERT_TRUE(r.failure.has_value());
  EXPECT_NE(r.failure->step.find("work-b"), std::string::npos);
  EXPECT_EQ(r.failure->exit_code, 2);
  EXPECT_EQ(runtime_.cancelled_runs(), 2) << "the sleeping siblings were stopped, not waited for";
  EXPECT_EQ(Ran("COPY"), 0u);
  EXPECT_TRUE(one_->metadata->AbandonedSnapshots()->empty());
}

TEST_F(SolverTest, TwoBuildsNeedingOneStepRunItOnce) {
  runtime_.On("shared-step", {0, "", {{"/out", "x"}}, 300});
  auto def = Define("FROM scratch\nRUN [\"shared-step\"]\n");
  SolveReport first, second;
  std::thread other([&] { first = Solve(*one_, def); });
  // The second build starts while the first is running the step (the fake's call shows it began).
  while (Ran("shared-step") == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  second = Solve(*one_, def);
  other.join();
  ASSERT_TRUE(first.status.ok()) << first.status.message();
  ASSERT_TRUE(second.status.ok()) << second.status.message();
  EXPECT_EQ(Ran("shared-step"), 1u);
  ASSERT_EQ(second.steps.size(), 1u);
  EXPECT_TRUE(second.steps[0].cached);
  EXPECT_EQ(second.steps[0].cache_source, "another build, run while this one waited");
  EXPECT_EQ(second.results.at(def.result).snapshot, first.results.at(def.result).snapshot);
}

}  // namespace
}  // namespace kiln::solver
