#include "remote/hosts.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "base/fs.h"

namespace kiln::remote {
namespace {

class HostsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kiln-hosts-XXXXXX";
    dir_ = mkdtemp(tmpl);
    conf_ = dir_ + "/registries.conf";
    unsetenv("KILN_INSECURE_REGISTRIES");
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::string dir_, conf_;
};

TEST_F(HostsTest, DockerHubAndLoopbackDefaults) {
  auto h = Hosts::Load({}, conf_);
  ASSERT_TRUE(h.ok()) << h.status().message();
  Route hub = h->For("docker.io", "library/alpine");
  EXPECT_EQ(hub.push.host, "registry-1.docker.io");
  EXPECT_EQ(hub.push.repository, "library/alpine");
  EXPECT_FALSE(hub.push.insecure);
  ASSERT_EQ(hub.pull.size(), 1u);
  EXPECT_TRUE(h->For("127.0.0.1:5000", "app").push.insecure);
  EXPECT_TRUE(h->For("localhost:5000", "app").push.insecure);
  EXPECT_FALSE(h->For("registry.example:5000", "app").push.insecure);
}

TEST_F(HostsTest, FlagsAndEnvironmentMakeRegistriesInsecure) {
  setenv("KILN_INSECURE_REGISTRIES", "a.example:5000, https://b.example/", 1);
  auto h = Hosts::Load({"c.example"}, conf_);
  unsetenv("KILN_INSECURE_REGISTRIES");
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->For("a.example:5000", "x").push.insecure);
  EXPECT_TRUE(h->For("b.example", "x").push.insecure);
  EXPECT_TRUE(h->For("c.example", "x").push.insecure);
  EXPECT_FALSE(h->For("d.example", "x").push.insecure);
}

TEST_F(HostsTest, RegistriesConfMirrorsBlockedAndDropIns) {
  ASSERT_TRUE(WriteFileAtomic(conf_, R"(
unqualified-search-registries = ["docker.io"]

[[registry]]
prefix = "docker.io"
location = "docker.io"

[[registry.mirror]]
location = "mirror.example:5000/hub"
insecure = true

[[registry.mirror]]
location = "second.example"

[[registry]]
location = "blocked.example"
blocked = true

[registries.insecure]
registries = ["old-style.example"]
)").ok());
  ASSERT_TRUE(MakeDirs(conf_ + ".d").ok());
  ASSERT_TRUE(WriteFileAtomic(conf_ + ".d/50-local.conf", R"(
[[registry]]
prefix = "quay.example/team"
location = "internal.example:5000/quay-team"
insecure = true
)").ok());
  auto h = Hosts::Load({}, conf_);
  ASSERT_TRUE(h.ok()) << h.status().message();
  Route hub = h->For("docker.io", "library/alpine");
  ASSERT_EQ(hub.pull.size(), 3u);
  EXPECT_EQ(hub.pull[0].host, "mirror.example:5000");
  EXPECT_EQ(hub.pull[0].repository, "hub/library/alpine");
  EXPECT_TRUE(hub.pull[0].insecure);
  EXPECT_TRUE(hub.pull[0].mirror);
  EXPECT_EQ(hub.pull[1].host, "second.example");
  EXPECT_EQ(hub.pull[1].repository, "library/alpine");
  EXPECT_EQ(hub.pull[2].host, "registry-1.docker.io");
  EXPECT_EQ(hub.push.host, "registry-1.docker.io");  // mirrors are for pulls only
  EXPECT_TRUE(h->For("blocked.example", "x").blocked);
  EXPECT_TRUE(h->For("old-style.example", "x").push.insecure);
  Route quay = h->For("quay.example", "team/app");
  EXPECT_EQ(quay.push.host, "internal.example:5000");
  EXPECT_EQ(quay.push.repository, "quay-team/app");
  EXPECT_TRUE(quay.push.insecure);
  EXPECT_EQ(h->For("quay.example", "teammate/app").push.host, "quay.example");  // a prefix ends at a slash
}

TEST_F(HostsTest, MalformedConfNamesFileLineAndColumn) {
  ASSERT_TRUE(WriteFileAtomic(conf_, "[[registry]]\nlocation = \"x\"\ninsecure = maybe\n").ok());
  auto h = Hosts::Load({}, conf_);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find(conf_ + ":3:"), std::string::npos) << h.status().message();
}

}  // namespace
}  // namespace kiln::remote
