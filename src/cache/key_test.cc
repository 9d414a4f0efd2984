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

}  // namespace
}  // namespace kiln::cache
