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

TEST(Reference, FollowsTheDistributionGrammar) {
  for (const char* good : {"a", "a-b", "a--b", "a__b", "a.b", "a_b/c.d-e", "Registry.Example:5000/x", "[::1]:5000/x",
                           "localhost/a/b/c:v1.2_x"}) {
    EXPECT_TRUE(ParseReference(good).ok()) << good;
  }
  for (const char* bad : {"-a", "a-", "a..b", "a___b", "a._b", "/a", "a/", "a//b", "a b", "host:99999/x", "ho_st.io/x",
                          "-host.io/x", "[::1/x", "a:-tag", "a:.tag"}) {
    EXPECT_FALSE(ParseReference(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseReference("r.io/" + std::string(250, 'a')).ok());
  EXPECT_FALSE(ParseReference("r.io/" + std::string(251, 'a')).ok());
  EXPECT_FALSE(ParseReference(std::string(255, 'a')).ok()) << "docker.io/library/ counts, as docker counts it";
  auto long_name = ParseReference(std::string(256, 'a'));
  ASSERT_FALSE(long_name.ok());
  EXPECT_NE(long_name.status().message().find("longer than 255"), std::string::npos);
  EXPECT_LT(ParseReference(std::string(130000, 'a')).status().message().size(), 300u) << "no 130 KB echo";
  EXPECT_TRUE(ParseReference("r.io/" + std::string(250, 'a') + ":" + std::string(128, 't')).ok()) << "the tag is not counted";
}

TEST(Reference, ErrorsNeverRepeatAPassword) {
  auto r = ParseReference("user:PW@host/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("PW"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("<redacted>@host/x"), std::string::npos) << r.status().message();
  EXPECT_EQ(RedactReference("https://me:pw@reg.io/app:1"), "https://<redacted>@reg.io/app:1");
  EXPECT_EQ(RedactReference("me:pw@reg.io:5000"), "<redacted>@reg.io:5000");
  EXPECT_EQ(RedactReference("me:p@ss@reg.io/app"), "<redacted>@reg.io/app") << "a password with an @ in it";
  std::string d = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(RedactReference("app:1@" + d), "app:1@" + d) << "a digest's @ is kept";
  EXPECT_EQ(RedactReference("reg.io/app@x"), "reg.io/app@x") << "an @ after the path is not userinfo";
  EXPECT_EQ(RedactReference("plain"), "plain");
}

TEST(Platform, ParsesAndNormalisesAsContainerd) {
  EXPECT_EQ(Platform::Parse("linux/arm64/v8")->ToString(), "linux/arm64");
  EXPECT_EQ(Platform::Parse("linux/aarch64")->ToString(), "linux/arm64");
  EXPECT_EQ(Platform::Parse("linux/arm64/v9")->ToString(), "linux/arm64/v9");
  EXPECT_EQ(Platform::Parse("amd64")->ToString(), "linux/amd64");
  EXPECT_EQ(Platform::Parse("Linux/X86_64")->ToString(), "linux/amd64");
  EXPECT_EQ(Platform::Parse("linux/amd64/v1")->ToString(), "linux/amd64");
  EXPECT_EQ(Platform::Parse("linux/amd64/v3")->ToString(), "linux/amd64/v3");
  EXPECT_EQ(Platform::Parse("linux/arm")->ToString(), "linux/arm/v7");
  EXPECT_EQ(Platform::Parse("linux/arm/6")->ToString(), "linux/arm/v6");
  EXPECT_EQ(Platform::Parse("linux/armhf")->ToString(), "linux/arm/v7");
  EXPECT_EQ(Platform::Parse("linux/armel")->ToString(), "linux/arm/v6");
  EXPECT_EQ(Platform::Parse("linux/i386")->ToString(), "linux/386");
  EXPECT_EQ(Platform::Parse("linux/386")->ToString(), "linux/386");
  EXPECT_EQ(Platform::Parse("linux/ppc64le")->ToString(), "linux/ppc64le");
  EXPECT_EQ(Platform::Parse("linux")->os, "linux");
  EXPECT_EQ(Platform::Parse("linux")->architecture, Platform::Host().architecture);
  EXPECT_TRUE(*Platform::Parse("linux/aarch64") == *Platform::Parse("linux/arm64/v8"));
  EXPECT_FALSE(Platform::Parse("linux//x").ok());
  EXPECT_FALSE(Platform::Parse("linux/amd64/v2/x").ok());
  EXPECT_FALSE(Platform::Parse("linux/am d64").ok());
  EXPECT_FALSE(Platform::Parse("").ok());
  EXPECT_FALSE(Platform::Parse("garbage").ok()) << "one word must be a known OS or architecture";
  EXPECT_EQ(Platform::Parse("riscv64")->ToString(), "linux/riscv64");
}

TEST(Platform, IndexSelectionNormalises) {
  Index index;
  Descriptor arm;
  arm.digest = "sha256:arm";
  arm.media_type = kMediaTypeManifest;
  arm.platform = Platform{"linux", "arm64", "v8", ""};
  Descriptor att = arm;
  att.digest = "sha256:attestation";
  att.platform = Platform{"unknown", "unknown", "", ""};
  index.manifests = {att, arm};
  EXPECT_EQ(SelectPlatform(index, *Platform::Parse("linux/aarch64"), "x")->digest, "sha256:arm");
  auto missing = SelectPlatform(index, *Platform::Parse("linux/s390x"), "img");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("linux/arm64"), std::string::npos);
  EXPECT_TRUE(IsIndexDocument(Serialize(ToJson(index))));
  Manifest m;
  EXPECT_FALSE(IsIndexDocument(Serialize(ToJson(m))));
}

TEST(Platform, OsVersionAsContainerdFormatsIt) {
  auto p = Platform::Parse("Windows(10.0.17763)/AMD64");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->os, "windows");
  EXPECT_EQ(p->os_version, "10.0.17763");
  EXPECT_EQ(p->ToString(), "windows(10.0.17763)/amd64");
  EXPECT_FALSE(*p == *Platform::Parse("windows/amd64"));
  EXPECT_EQ(ToJson(*p)["os.version"], "10.0.17763");
  EXPECT_FALSE(Platform::Parse("(1.0)/amd64").ok());
  EXPECT_FALSE(Platform::Parse("windows(1 0)/amd64").ok());

  // An index of two builds of one OS: the one asked for, not the first.
  Index index;
  for (const char* version : {"1.2.3", "1.1.0"}) {
    Descriptor d;
    d.digest = std::string("sha256:") + version;
    d.platform = Platform{"windows", "bar", "", version};
    index.manifests.push_back(d);
  }
  EXPECT_EQ(SelectPlatform(index, *Platform::Parse("windows(1.1.0)/bar"), "x")->digest, "sha256:1.1.0");
  EXPECT_EQ(SelectPlatform(index, *Platform::Parse("windows/bar"), "x")->digest, "sha256:1.2.3");
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
