#include "remote/auth.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/fs.h"

namespace kiln::remote {
namespace {

TEST(ParseChallenges, BearerBasicAndSeveral) {
  auto c = ParseChallenges(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c[0].params["service"], "registry.docker.io");
  EXPECT_EQ(c[0].params["scope"], "repository:library/alpine:pull");

  c = ParseChallenges(R"(Basic realm="Registry \"Realm\"", Bearer Realm=https://t.example/token , error=insufficient_scope)");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].params["realm"], "Registry \"Realm\"");
  EXPECT_EQ(c[1].scheme, "bearer");
  EXPECT_EQ(c[1].params["realm"], "https://t.example/token");
  EXPECT_EQ(c[1].params["error"], "insufficient_scope");

  EXPECT_TRUE(ParseChallenges("").empty());
  EXPECT_EQ(ParseChallenges("Basic").size(), 1u);
  EXPECT_EQ(ParseChallenges(R"(Bearer realm="unterminated)").size(), 1u);  // what was understood
}

TEST(CredentialKey, DockerHubAliasesAndHosts) {
  EXPECT_EQ(CredentialKey("docker.io"), "https://index.docker.io/v1/");
  EXPECT_EQ(CredentialKey("https://index.docker.io/v1/"), "https://index.docker.io/v1/");
  EXPECT_EQ(CredentialKey("registry-1.docker.io"), "https://index.docker.io/v1/");
  EXPECT_EQ(CredentialKey("https://GHCR.io/v2/"), "ghcr.io");
  EXPECT_EQ(CredentialKey("127.0.0.1:5000"), "127.0.0.1:5000");
}

class DockerConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create(::testing::TempDir(), "docker-config-");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<TempDir>(std::move(*d));
  }
  std::string dir() const { return dir_->path(); }
  std::unique_ptr<TempDir> dir_;
};

TEST_F(DockerConfigTest, ReadsWhatDockerWrites) {
  // "auth" is base64("me:s3cret"); Docker Hub under its historical key; a helper for one registry.
  ASSERT_TRUE(WriteFileAtomic(dir() + "/config.json", R"({
    "auths": {"https://index.docker.io/v1/": {"auth": "bWU6czNjcmV0"},
              "127.0.0.1:5000": {"username": "u", "password": "p"},
              "tok.example": {"identitytoken": "refresh"}},
    "credHelpers": {"gcr.io": "gcloud"},
    "credsStore": "pass",
    "psFormat": "kept"})").ok());
  auto c = DockerConfig::Load(dir());
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto hub = c->Inline("docker.io");
  ASSERT_TRUE(hub.ok() && *hub);
  EXPECT_EQ((*hub)->username, "me");
  EXPECT_EQ((*hub)->password, "s3cret");
  EXPECT_EQ((*c->Inline("127.0.0.1:5000"))->password, "p");
  EXPECT_EQ((*c->Inline("tok.example"))->identity_token, "refresh");
  EXPECT_FALSE(*c->Inline("other.example"));
  EXPECT_EQ(c->HelperFor("gcr.io"), "gcloud");
  EXPECT_EQ(c->HelperFor("other.example"), "pass");
}

TEST_F(DockerConfigTest, StoreAndEraseKeepOtherFields) {
  ASSERT_TRUE(WriteFileAtomic(dir() + "/config.json", R"({"auths": {}, "psFormat": "kept"})").ok());
  auto c = DockerConfig::Load(dir());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->StoreInline("https://127.0.0.1:5000/v2/", {"user", "pa:ss", ""}).ok());
  struct stat st;
  ASSERT_EQ(stat((dir() + "/config.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "credentials are readable by their owner only";
  auto again = DockerConfig::Load(dir());
  ASSERT_TRUE(again.ok());
  auto creds = again->Inline("127.0.0.1:5000");
  ASSERT_TRUE(creds.ok() && *creds);
  EXPECT_EQ((*creds)->username, "user");
  EXPECT_EQ((*creds)->password, "pa:ss");
  EXPECT_NE(ReadFile(dir() + "/config.json")->find("\"psFormat\": \"kept\""), std::string::npos);
  ASSERT_TRUE(again->Erase("127.0.0.1:5000").ok());
  EXPECT_FALSE(*DockerConfig::Load(dir())->Inline("127.0.0.1:5000"));
  EXPECT_FALSE(again->Erase("127.0.0.1:5000").ok());
}

TEST_F(DockerConfigTest, CredentialHelpers) {
  // Fake helpers on PATH speaking docker's protocol: the server URL on stdin, JSON on stdout.
  ASSERT_TRUE(WriteFileAtomic(dir() + "/docker-credential-fake",
                              "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread url\ncase \"$url\" in\n"
                              "  127.0.0.1:5000) echo '{\"ServerURL\":\"x\",\"Username\":\"bob\",\"Secret\":\"pw\"}' ;;\n"
                              "  tok.example) echo '{\"Username\":\"<token>\",\"Secret\":\"refresh\"}' ;;\n"
                              "  broken.example) echo 'leaked-secret-text' >&2; exit 5 ;;\n"
                              "  *) echo 'credentials not found in native keychain'; exit 1 ;;\nesac\n",
                              0755).ok());
  std::string path = getenv("PATH");
  setenv("PATH", (dir() + ":" + path).c_str(), 1);
  auto bob = HelperGet("fake", "https://127.0.0.1:5000");
  ASSERT_TRUE(bob.ok() && *bob) << bob.status().message();
  EXPECT_EQ((*bob)->username, "bob");
  EXPECT_EQ((*bob)->password, "pw");
  EXPECT_EQ((*HelperGet("fake", "tok.example"))->identity_token, "refresh");
  auto none = HelperGet("fake", "other.example");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
  auto broken = HelperGet("fake", "broken.example");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().message().find("leaked"), std::string::npos) << "helper output may hold secrets";
  EXPECT_FALSE(HelperGet("no-such-helper", "x.example").ok());
  setenv("PATH", path.c_str(), 1);
}

TEST_F(DockerConfigTest, MissingIsEmptyAndMalformedNamesTheFile) {
  auto empty = DockerConfig::Load(dir() + "/none");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(*empty->Inline("docker.io"));
  ASSERT_TRUE(WriteFileAtomic(dir() + "/config.json", "{\"auths\":").ok());
  auto bad = DockerConfig::Load(dir());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(dir() + "/config.json"), std::string::npos);
  ASSERT_TRUE(WriteFileAtomic(dir() + "/config.json", R"({"auths": {"x.example": {"auth": "!!!!"}}})").ok());
  auto creds = DockerConfig::Load(dir())->Inline("x.example");
  EXPECT_FALSE(creds.ok());
}

}  // namespace
}  // namespace kiln::remote
