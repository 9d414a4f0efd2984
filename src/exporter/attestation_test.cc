#include "exporter/attestation.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/fs.h"

namespace kiln::exporter {
namespace {

class AttestationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kiln-attest.XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  void TearDown() override { (void)RemoveAll(root_); }
  void Write(const std::string& rel, const std::string& data, int mode = 0644) {
    ASSERT_TRUE(MakeDirs(DirName(root_ + rel)).ok());
    ASSERT_TRUE(WriteFile(root_ + rel, data, mode).ok());
  }
  std::string root_;
};

/// A Go 1.18+ build info blob as the linker writes it: magic, pointer size, flags (2: strings inline), then the
/// varint-prefixed version and module info, the latter between 16-byte sentinels.
std::string GoBuildInfo(const std::string& version, const std::string& modinfo) {
  std::string blob("\xff Go buildinf:", 14);
  blob += char(8);
  blob += char(2);
  blob.resize(32, '\0');
  auto put = [&](const std::string& s) {
    size_t n = s.size();
    while (n >= 0x80) {
      blob += char((n & 0x7f) | 0x80);
      n >>= 7;
    }
    blob += char(n);
    blob += s;
  };
  put(version);
  put(std::string(16, 'S') + modinfo + std::string(16, 'E'));
  return blob;
}

TEST_F(AttestationTest, SbomListsDebianAlpineAndGoPackages) {
  Write("/etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12\"\nID=debian\n");
  Write("/var/lib/dpkg/status",
        "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\nArchitecture: amd64\nDescription: c\n more\n\n"
        "Package: gone\nStatus: deinstall ok config-files\nVersion: 1\nArchitecture: amd64\n");
  Write("/lib/apk/db/installed", "C:Q1abc\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\n\n");
  std::string elf = std::string("\x7f" "ELF", 4) + std::string(60, '\0');
  elf.resize(4096, '\0');  // the blob is 16-byte aligned
  elf += GoBuildInfo("go1.19.8",
                     "path\texample.com/server\nmod\texample.com/server\t(devel)\t\n"
                     "dep\tgolang.org/x/text\tv0.3.7\th1:abc=\nbuild\t-compiler=gc\n");
  Write("/usr/local/bin/server", elf, 0755);
  Write("/usr/local/bin/not-executable", elf, 0644);

  auto doc = ScanSbom(root_, "app:1 linux/amd64", "2024-01-02T03:04:05Z");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ((*doc)["spdxVersion"], "SPDX-2.3");
  EXPECT_EQ((*doc)["dataLicense"], "CC0-1.0");
  EXPECT_EQ((*doc)["SPDXID"], "SPDXRef-DOCUMENT");
  std::vector<std::string> purls;
  for (auto& p : (*doc)["packages"]) {
    EXPECT_EQ(p["SPDXID"].get<std::string>().rfind("SPDXRef-", 0), 0u);
    purls.push_back(p["externalRefs"][0]["referenceLocator"]);
  }
  EXPECT_EQ(purls, (std::vector<std::string>{"pkg:deb/debian/libc6@2.36-9?arch=amd64",
                                             "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64", "pkg:golang/stdlib@go1.19.8",
                                             "pkg:golang/example.com/server", "pkg:golang/golang.org/x/text@v0.3.7"}));
  EXPECT_EQ((*doc)["relationships"].size(), 5u);
  // The same packages make the same document: reproducible builds stay reproducible.
  EXPECT_EQ(ScanSbom(root_, "app:1 linux/amd64", "2024-01-02T03:04:05Z")->dump(), doc->dump());
}

TEST(Provenance, LeavesOutSecretLookingArgsAndKeepsTheDockerfileOnlyInMaxMode) {
  ProvenanceInput in;
  in.platform = "linux/arm64";
  in.build_args = {{"VERSION", "1"}, {"NPM_TOKEN", "hunter2"}};
  in.materials = {{"docker.io/library/busybox:latest", "sha256:" + std::string(64, 'a'), false}};
  in.dockerfile_name = "Dockerfile";
  in.dockerfile = "FROM busybox\n";
  Json min = Provenance(in);
  EXPECT_EQ(min["invocation"]["parameters"]["args"], Json({{"build-arg:VERSION", "1"}}));
  EXPECT_EQ(min["materials"][0]["uri"], "pkg:docker/busybox@latest?platform=linux%2Farm64");
  EXPECT_EQ(min["materials"][0]["digest"]["sha256"], std::string(64, 'a'));
  EXPECT_EQ(min.dump().find("hunter2"), std::string::npos);
  EXPECT_EQ(min.dump().find("FROM busybox"), std::string::npos);
  in.max = true;
  EXPECT_NE(Provenance(in).dump().find("FROM busybox"), std::string::npos);
}

TEST_F(AttestationTest, AManifestReadsBackItsStatementsAndTheirSubjectName) {
  store::ContentStore content(root_ + "/content");
  ASSERT_TRUE(content.Init().ok());
  Image subject;
  subject.descriptor.digest = "sha256:" + std::string(64, 'b');
  auto put = PutAttestationManifest(content, subject, "app:1",
                                    {{kSpdxPredicateType, {{"spdxVersion", "SPDX-2.3"}}}, {"https://example/p", Json::object()}});
  ASSERT_TRUE(put.ok()) << put.status().message();
  oci::Index index;
  index.manifests = {put->second};
  ASSERT_TRUE(AttestationManifestFor(index, subject.descriptor.digest).has_value());
  EXPECT_FALSE(AttestationManifestFor(index, "sha256:" + std::string(64, 'c')).has_value());
  std::string name = "stale";
  auto read = ReadAttestations(content, put->first.descriptor.digest, &name);
  ASSERT_TRUE(read.ok()) << read.status().message();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].predicate_type, kSpdxPredicateType);
  EXPECT_EQ((*read)[0].predicate["spdxVersion"], "SPDX-2.3");
  EXPECT_EQ((*read)[1].predicate_type, "https://example/p");
  EXPECT_EQ(name, "app:1");
}

TEST(Provenance, NamesTheBuilderItWasGivenOrKiln) {
  ProvenanceInput in;
  EXPECT_EQ(Provenance(in)["builder"]["id"], kKilnBuilderId);  // SLSA requires one (BuildKit leaves it empty)
  in.builder_id = "https://ci.example/runners/7";
  EXPECT_EQ(Provenance(in)["builder"]["id"], "https://ci.example/runners/7");
}

TEST(Provenance, ImagesArePackageUrlsAsBuildKitWritesThem) {
  EXPECT_EQ(ImagePurl("busybox", "linux/amd64"), "pkg:docker/busybox@latest?platform=linux%2Famd64");
  EXPECT_EQ(ImagePurl("docker.io/library/alpine:3.20", "linux/arm64"), "pkg:docker/alpine@3.20?platform=linux%2Farm64");
  EXPECT_EQ(ImagePurl("127.0.0.1:5000/team/app:v1", "linux/amd64"),
            "pkg:docker/127.0.0.1:5000/team/app@v1?platform=linux%2Famd64");
  std::string digest = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(ImagePurl("ghcr.io/o/x@" + digest, "linux/amd64"),
            "pkg:docker/ghcr.io/o/x?digest=sha256%3A" + std::string(64, 'a') + "&platform=linux%2Famd64");
}

TEST(Provenance, ListsLabelsSecretsAndSshAsParameters) {
  ProvenanceInput in;
  in.labels = {{"lbl", "abc"}};
  in.secrets = {{"mysecret", false}, {"token", true}};
  in.ssh = {{"default", false}};
  Json p = Provenance(in)["invocation"]["parameters"];
  EXPECT_EQ(p["args"]["label:lbl"], "abc");
  EXPECT_EQ(p["secrets"], Json::parse(R"([{"id":"mysecret","optional":true},{"id":"token","optional":false}])"));
  EXPECT_EQ(p["ssh"], Json::parse(R"([{"id":"default","optional":true}])"));
}

}  // namespace
}  // namespace kiln::exporter
