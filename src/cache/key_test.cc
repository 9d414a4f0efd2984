#include "cache/key.h"

#include <gtest/gtest.h>

namespace kiln::cache {
namespace {

TEST(StepKey, DependsOnOpInputsAndContentButNotTheContextPath) {
  graph::Vertex here, there;
  here.op = graph::LocalSource{"context", "/home/me/project", {"*.log"}};
  there.op = graph::LocalSource{"context", "/ci/runner-7/checkout", {"*.log"}};
  EXPECT_EQ(StepKey(here, {}, ""), StepKey(there, {}, "")) << "the same context elsewhere gives the same key";
  graph::Vertex other_ignore;
  other_ignore.op = graph::LocalSource{"context", "/home/me/project", {"*.tmp"}};
  EXPECT_NE(StepKey(here, {}, ""), StepKey(other_ignore, {}, ""));
  EXPECT_NE(StepKey(here, {"sha256:a"}, ""), StepKey(here, {"sha256:b"}, ""));
  EXPECT_NE(StepKey(here, {}, "file digests 1"), StepKey(here, {}, "file digests 2"));
  EXPECT_EQ(StepKey(here, {"sha256:a"}, "x"), StepKey(here, {"sha256:a"}, "x"));
}

TEST(StepKey, AddChecksumIsNotPartOfASourcesKeyButWhatItResolvedToIs) {
  graph::Vertex plain, checked;
  plain.op = graph::GitSource{"http://127.0.0.1:1/.git", "v1", "", true, "", true};
  checked.op = graph::GitSource{"http://127.0.0.1:1/.git", "v1", "", true, "0123abcd", true};
  EXPECT_EQ(StepKey(plain, {}, "commit 0123abcd"), StepKey(checked, {}, "commit 0123abcd"));
  EXPECT_NE(StepKey(plain, {}, "commit 0123abcd"), StepKey(plain, {}, "commit 4567ef01"));
  graph::Vertex download, checked_download;
  download.op = graph::HttpSource{"http://127.0.0.1:1/f", "f", ""};
  checked_download.op = graph::HttpSource{"http://127.0.0.1:1/f", "f", "sha256:00"};
  EXPECT_EQ(StepKey(download, {}, "sha256:00"), StepKey(checked_download, {}, "sha256:00"));
}

TEST(StepKey, CacheMountIdAndSharingAreNotPartOfTheKeyButTheirTargetIs) {
  auto run_with = [](const std::string& id, const std::string& sharing, const std::string& target) {
    graph::ExecOp op;
    op.args = {"make"};
    graph::ExecMount m;
    m.type = graph::ExecMount::Type::kCache;
    m.id = id;
    m.sharing = sharing;
    m.target = target;
    m.readonly = false;
    op.mounts.push_back(m);
    graph::Vertex v;
    v.op = op;
    return v;
  };
  auto a = run_with("go-build", "shared", "/root/.cache"), b = run_with("other", "locked", "/root/.cache");
  EXPECT_EQ(StepKey(a, {"sha256:p"}, ""), StepKey(b, {"sha256:p"}, ""));
  EXPECT_NE(graph::OpToJson(a.op), graph::OpToJson(b.op)) << "but they are different ops: each uses its own cache";
  EXPECT_NE(StepKey(a, {"sha256:p"}, ""), StepKey(run_with("go-build", "shared", "/cache"), {"sha256:p"}, ""));
}

}  // namespace
}  // namespace kiln::cache
