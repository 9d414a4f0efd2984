#include <gtest/gtest.h>

#include "oci/image.h"
#include "oci/reference.h"

namespace kiln::oci {
namespace {

TEST(Reference, NormalizesLikeDocker) {
  EXPECT_EQ(ParseReference("busybox")->String(), "docker.io/library/busybox:latest");
  EXPECT_EQ(ParseReference("busybox")->Familiar(), "busybox:latest");
  EXPECT_EQ(ParseReference("user/app:1")->String(), "docker.io/user/app:1");
  auto local = ParseReference("127.0.0.1:5000/busybox:anchor");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->registry, "127.0.0.1:5000");
  EXPECT_EQ(local->repository, "busybox");
  EXPECT_EQ(local->tag, "anchor");
  EXPECT_EQ(ParseReference("localhost/a")->registry, "localhost");
  std::string d = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(ParseReference("app@" + d)->digest, d);
  EXPECT_FALSE(ParseReference("App:1").ok());
  EXPECT_FALSE(ParseReference("app:").ok());
  EXPECT_FALSE(ParseReference("").ok());
}

TEST(Platform, Parse) {
  EXPECT_EQ(Platform::Parse("linux/arm64/v8")->ToString(), "linux/arm64/v8");
  EXPECT_EQ(Platform::Parse("amd64")->ToString(), "linux/amd64");
  EXPECT_FALSE(Platform::Parse("linux//x").ok());
}

TEST(ImageConfig, RoundTrips) {
  ImageConfig c;
  c.created = FormatTime(0);
  c.config.env = {"PATH=/bin", "A=1"};
  c.config.SetEnv("A", "2");
  c.config.cmd = std::vector<std::string>{"sh"};
  c.config.exposed_ports = {"80/tcp"};
  c.config.labels["k"] = "v";
  c.diff_ids = {"sha256:" + std::string(64, 'b')};
  c.history.push_back({c.created, "RUN x", "", true});
  auto back = ImageConfigFromJson(Serialize(ToJson(c)));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->created, "1970-01-01T00:00:00Z");
  EXPECT_EQ(back->config.env, (std::vector<std::string>{"PATH=/bin", "A=2"}));
  EXPECT_EQ(*back->config.cmd, std::vector<std::string>{"sh"});
  EXPECT_FALSE(back->config.entrypoint.has_value());
  EXPECT_EQ(back->config.exposed_ports, std::vector<std::string>{"80/tcp"});
  EXPECT_EQ(back->diff_ids, c.diff_ids);
  EXPECT_TRUE(back->history[0].empty_layer);
  EXPECT_EQ(Serialize(ToJson(*back)), Serialize(ToJson(c)));
}

TEST(Manifest, RejectsBadDigests) {
  EXPECT_FALSE(ManifestFromJson(R"({"config":{"digest":"nope","size":1},"layers":[]})").ok());
  EXPECT_FALSE(ManifestFromJson("not json").ok());
}

}  // namespace
}  // namespace kiln::oci
