#include "graph/graph.h"

#include <gtest/gtest.h>

namespace kiln::graph {
namespace {

TEST(ContainerSettings, ParsesHostsAsDockerTakesThem) {
  auto colon = ContainerSettings::ParseHost("db:10.0.0.5");
  ASSERT_TRUE(colon.ok()) << colon.status().message();
  EXPECT_EQ(colon->name, "db");
  EXPECT_EQ(colon->ip, "10.0.0.5");
  auto v6 = ContainerSettings::ParseHost("db6=::1");
  ASSERT_TRUE(v6.ok()) << v6.status().message();
  EXPECT_EQ(v6->ip, "::1");
  EXPECT_EQ(ContainerSettings::ParseHost("db:[fe80::1]")->ip, "fe80::1");
  for (const char* bad : {"db", ":1.2.3.4", "db:", "db:not-an-ip", "d b:1.2.3.4"}) {
    auto h = ContainerSettings::ParseHost(bad);
    ASSERT_FALSE(h.ok()) << bad;
    EXPECT_NE(h.status().message().find("--add-host"), std::string::npos) << "the error names the flag";
  }
}

TEST(ContainerSettings, ParsesUlimitsAsDockerTakesThem) {
  auto both = ContainerSettings::ParseUlimit("nofile=1024:2048");
  ASSERT_TRUE(both.ok()) << both.status().message();
  EXPECT_EQ(both->soft, 1024);
  EXPECT_EQ(both->hard, 2048);
  EXPECT_EQ(ContainerSettings::ParseUlimit("nproc=64")->hard, 64) << "one value is both limits";
  EXPECT_EQ(ContainerSettings::ParseUlimit("core=-1")->soft, -1) << "-1 is unlimited";
  EXPECT_EQ(ContainerSettings::RlimitType("nofile"), "RLIMIT_NOFILE");
  for (const char* bad : {"nofile", "files=1", "nofile=x", "nofile=2048:1024", "nofile=-1:10", "nofile=1:"}) {
    auto u = ContainerSettings::ParseUlimit(bad);
    ASSERT_FALSE(u.ok()) << bad;
    EXPECT_NE(u.status().message().find("--ulimit"), std::string::npos);
  }
}

TEST(ContainerSettings, ArePartOfTheStepsKeyOnlyWhenGiven) {
  // What the command sees is part of the step's digest; without the flags the digest is what it always was.
  ExecOp plain;
  plain.args = {"/bin/sh", "-c", "true"};
  ExecOp limited = plain;
  limited.container.ulimits.push_back({"nofile", 10, 10});
  ExecOp hosts = plain;
  hosts.container.extra_hosts.push_back({"db", "10.0.0.5"});
  Graph g;
  size_t scratch = g.Add(ImageSource{"scratch", ""}, {}, "scratch");
  size_t a = g.Add(plain, {scratch}, "a"), b = g.Add(limited, {scratch}, "b"), c = g.Add(hosts, {scratch}, "c");
  EXPECT_NE(g.at(a).digest, g.at(b).digest);
  EXPECT_NE(g.at(a).digest, g.at(c).digest);
  EXPECT_EQ(g.at(a).digest, "sha256:77ca84e0dfc80137ab74ccaaedac614c20b48fcfa32e3ed084ce42887306149c")
      << "the digest of an op without them must not change (every user's cache would miss)";
}

TEST(Graph, IgnoreCacheSurvivesMergeAndIsNotPartOfTheDigest) {
  Graph g;
  size_t scratch = g.Add(ImageSource{"scratch", ""}, {}, "scratch");
  ExecOp run;
  run.args = {"true"};
  size_t v = g.Add(run, {scratch}, "run");
  std::string digest = g.at(v).digest;
  g.IgnoreCache(v);
  EXPECT_EQ(g.at(v).digest, digest);
  Graph other;
  auto where = other.Merge(g);
  EXPECT_TRUE(other.at(where[v]).ignore_cache);
}

}  // namespace
}  // namespace kiln::graph
