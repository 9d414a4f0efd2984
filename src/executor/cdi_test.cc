#include "executor/cdi.h"

#include <gtest/gtest.h>

#include "base/fs.h"

namespace kiln::executor {
namespace {

class CdiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("/tmp", "kiln-cdi-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<TempDir>(std::move(*dir));
  }
  void Spec(const std::string& name, const std::string& text) {
    ASSERT_TRUE(WriteFile(JoinPath(dir_->path(), name), text).ok());
  }
  std::vector<std::string> Dirs() const { return {dir_->path(), dir_->path() + "/missing"}; }
  std::unique_ptr<TempDir> dir_;
};

TEST_F(CdiTest, YamlAndJsonSpecsGiveTheirEdits) {
  Spec("a.yaml",
       "cdiVersion: \"0.6.0\"\nkind: vendor1.com/device\ncontainerEdits:\n  env: [SHARED=1]\n"
       "devices:\n- name: foo\n  containerEdits:\n    env:\n    - FOO=injected\n"
       "    deviceNodes:\n    - path: /dev/kiln-null\n      hostPath: /dev/null\n"
       "    mounts:\n    - hostPath: /etc/hostname\n      containerPath: /etc/vendor\n      options: [ro, bind]\n");
  Spec("b.json", R"({"cdiVersion":"0.6.0","kind":"vendor2.com/gpu","devices":[{"name":"0","containerEdits":{"env":["GPU=0"]}}]})");
  auto edits = ResolveDevices({{"vendor1.com/device=foo", true}, {"vendor2.com/gpu=0", false}}, Dirs(), true);
  ASSERT_TRUE(edits.ok()) << edits.status().message();
  EXPECT_EQ(edits->env, (std::vector<std::string>{"SHARED=1", "FOO=injected", "GPU=0"}));
  ASSERT_EQ(edits->nodes.size(), 1u);
  EXPECT_EQ(edits->nodes[0].path, "/dev/kiln-null");
  EXPECT_EQ(edits->nodes[0].host_path, "/dev/null");
  ASSERT_EQ(edits->mounts.size(), 1u);
  EXPECT_EQ(edits->mounts[0].container_path, "/etc/vendor");
  EXPECT_EQ(edits->mounts[0].options, (std::vector<std::string>{"ro", "bind"}));
}

TEST_F(CdiTest, MissingDevicesAndEntitlements) {
  Spec("a.yaml", "kind: vendor1.com/device\ndevices:\n- name: foo\n  containerEdits:\n    env: [FOO=1]\n"
                 "- name: open\n  annotations:\n    org.mobyproject.buildkit.device.autoallow: true\n"
                 "  containerEdits:\n    env: [OPEN=1]\n");
  // Not required and not there: left out. Required and not there: an error naming where kiln looked.
  EXPECT_TRUE(ResolveDevices({{"vendor9.com/x=y", false}}, Dirs(), false)->env.empty());
  auto missing = ResolveDevices({{"vendor9.com/x=y", true}}, Dirs(), true);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(dir_->path()), std::string::npos);
  // A device needs --allow device, unless its spec lets any build use it.
  auto refused = ResolveDevices({{"vendor1.com/device=foo", false}}, Dirs(), false);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--allow device"), std::string::npos);
  EXPECT_EQ(ResolveDevices({{"vendor1.com/device=open", false}}, Dirs(), false)->env, std::vector<std::string>{"OPEN=1"});
}

TEST_F(CdiTest, HooksAndBadSpecsAreRefused) {
  Spec("hooks.yaml", "kind: v.com/d\ndevices:\n- name: h\n  containerEdits:\n    hooks:\n    - hookName: createRuntime\n      path: /bin/true\n");
  EXPECT_FALSE(ResolveDevices({{"v.com/d=h", true}}, Dirs(), true).ok());
  Spec("hooks.yaml", "kind: [not, a, kind\n");
  auto bad = ResolveDevices({{"v.com/d=h", true}}, Dirs(), true);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("hooks.yaml"), std::string::npos) << "the error names the spec file";
}

}  // namespace
}  // namespace kiln::executor
