#include "executor/seccomp.h"

#include <gtest/gtest.h>

namespace kiln::executor {
namespace {

// A profile in Docker's format with each kind of rule.
constexpr const char* kProfile = R"({
  "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
  "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
              {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
  "syscalls": [
    {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["unshare", "mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]},
     "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
    {"names": ["new_call"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "5.8"}},
    {"names": ["bpf"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
  ]})";

/// The calls rules name; with `action`, only those of rules with that action.
std::vector<std::string> Names(const Json& profile, const std::string& action = "") {
  std::vector<std::string> out;
  for (auto& rule : profile["syscalls"]) {
    if (!action.empty() && rule["action"] != action) continue;
    for (auto& n : rule["names"]) out.push_back(n.get<std::string>());
  }
  return out;
}

bool Has(const std::vector<std::string>& names, const std::string& n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

TEST(Seccomp, RulesFollowCapabilitiesArchitectureAndKernel) {
  auto p = SeccompForRuntime(kProfile, {"CAP_CHOWN"}, "x86_64", "6.1.0-18-amd64");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ((*p)["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ((*p)["defaultErrnoRet"], 38);
  EXPECT_EQ((*p)["architectures"], (Json{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));  // no x32: stricter, cheaper
  auto names = Names(*p);
  EXPECT_TRUE(Has(names, "read"));
  EXPECT_FALSE(Has(names, "unshare")) << "needs CAP_SYS_ADMIN";
  EXPECT_TRUE(Has(names, "clone")) << "the restricted clone for processes without CAP_SYS_ADMIN";
  EXPECT_TRUE(Has(names, "arch_prctl"));
  EXPECT_TRUE(Has(names, "new_call"));
  for (auto& rule : (*p)["syscalls"]) {
    if (rule["names"][0] == "clone") {
      EXPECT_EQ(rule["args"][0]["op"], "SCMP_CMP_MASKED_EQ");
    }
    if (rule["names"][0] == "bpf") {
      EXPECT_EQ(rule["errnoRet"], 1);
    }
  }

  auto admin = SeccompForRuntime(kProfile, {"CAP_SYS_ADMIN"}, "aarch64", "5.4.0");
  ASSERT_TRUE(admin.ok());
  names = Names(*admin);
  EXPECT_TRUE(Has(names, "unshare"));
  EXPECT_FALSE(Has(names, "clone")) << "excluded with CAP_SYS_ADMIN (the unrestricted rule applies instead)";
  EXPECT_FALSE(Has(names, "arch_prctl")) << "amd64 only";
  EXPECT_FALSE(Has(names, "new_call")) << "kernel 5.4 is older than 5.8";
  EXPECT_EQ((*admin)["architectures"], (Json{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
}

TEST(Seccomp, NotAProfileIsAnError) {
  EXPECT_FALSE(SeccompForRuntime("{}", {}, "x86_64", "6.1").ok());
  EXPECT_FALSE(SeccompForRuntime("not json", {}, "x86_64", "6.1").ok());
}

TEST(Seccomp, TheEmbeddedDefaultProfileAllowsTheBasics) {
  auto p = DefaultSeccomp({"CAP_CHOWN", "CAP_SETUID", "CAP_SETGID"});
  ASSERT_TRUE(p.ok()) << p.status().message();
  auto allowed = Names(*p, "SCMP_ACT_ALLOW");
  for (const char* n : {"read", "write", "execve", "clone", "openat", "exit_group"}) EXPECT_TRUE(Has(allowed, n)) << n;
  EXPECT_FALSE(Has(allowed, "kexec_load"));
  EXPECT_FALSE(Has(allowed, "mount")) << "not without CAP_SYS_ADMIN";
}

}  // namespace
}  // namespace kiln::executor
