#include "executor/seccomp.h"

#include <sys/utsname.h>

#include <algorithm>
#include <map>
#include <mutex>

namespace kiln::executor {

extern const char kDockerSeccompProfile[];  // generated from the Debian package's file (CMakeLists.txt)

namespace {

/// uname's machine name -> the Go architecture names Docker's profile uses.
std::string GoArch(const std::string& machine) {
  static const std::map<std::string, std::string> kNames = {
      {"x86_64", "amd64"}, {"aarch64", "arm64"}, {"armv7l", "arm"}, {"armv6l", "arm"}, {"i686", "386"},
      {"i386", "386"},     {"ppc64le", "ppc64le"}, {"s390x", "s390x"}, {"riscv64", "riscv64"}, {"mips64", "mips64"}};
  auto it = kNames.find(machine);
  return it == kNames.end() ? machine : it->second;
}

/// The profile's architecture name for a machine ("SCMP_ARCH_X86_64").
std::string SeccompArch(const std::string& machine) {
  static const std::map<std::string, std::string> kNames = {
      {"x86_64", "SCMP_ARCH_X86_64"}, {"aarch64", "SCMP_ARCH_AARCH64"}, {"armv7l", "SCMP_ARCH_ARM"},
      {"armv6l", "SCMP_ARCH_ARM"},    {"i686", "SCMP_ARCH_X86"},        {"i386", "SCMP_ARCH_X86"},
      {"ppc64le", "SCMP_ARCH_PPC64LE"}, {"s390x", "SCMP_ARCH_S390X"},   {"riscv64", "SCMP_ARCH_RISCV64"}};
  auto it = kNames.find(machine);
  return it == kNames.end() ? "" : it->second;
}

/// "6.1.0-18-amd64" -> {6, 1}.
std::pair<int, int> KernelVersion(const std::string& release) {
  int major = 0, minor = 0;
  sscanf(release.c_str(), "%d.%d", &major, &minor);
  return {major, minor};
}

bool Contains(const Json& list, const std::string& value) {
  if (!list.is_array()) return false;
  return std::any_of(list.begin(), list.end(), [&](const Json& v) { return v.is_string() && v.get<std::string>() == value; });
}

/// Whether a rule applies, by its "includes" and "excludes" (Docker's rules: every included capability held,
/// no excluded one; the architecture listed or not excluded; the kernel at least minKernel).
bool Applies(const Json& rule, const std::vector<std::string>& caps, const std::string& arch,
             std::pair<int, int> kernel) {
  auto held = [&](const std::string& cap) { return std::find(caps.begin(), caps.end(), cap) != caps.end(); };
  if (rule.contains("includes") && rule["includes"].is_object()) {
    const Json& in = rule["includes"];
    if (in.contains("arches") && !in["arches"].empty() && !Contains(in["arches"], arch)) return false;
    if (in.contains("caps") && in["caps"].is_array())
      for (auto& c : in["caps"])
        if (!c.is_string() || !held(c.get<std::string>())) return false;
    if (in.contains("minKernel") && in["minKernel"].is_string() &&
        kernel < KernelVersion(in["minKernel"].get<std::string>())) {
      return false;
    }
  }
  if (rule.contains("excludes") && rule["excludes"].is_object()) {
    const Json& ex = rule["excludes"];
    if (ex.contains("arches") && Contains(ex["arches"], arch)) return false;
    if (ex.contains("caps") && ex["caps"].is_array())
      for (auto& c : ex["caps"])
        if (c.is_string() && held(c.get<std::string>())) return false;
  }
  return true;
}

}  // namespace

Result<Json> SeccompForRuntime(const std::string& profile, const std::vector<std::string>& capabilities,
                               const std::string& machine, const std::string& kernel) {
  Json p = Json::parse(profile, nullptr, false);
  if (!p.is_object() || !p.contains("defaultAction") || !p.contains("syscalls") || !p["syscalls"].is_array()) {
    return Status::Error("the seccomp profile is not in Docker's format");
  }
  Json out = {{"defaultAction", p["defaultAction"]}, {"architectures", Json::array()}, {"syscalls", Json::array()}};
  if (p.contains("defaultErrnoRet")) out["defaultErrnoRet"] = p["defaultErrnoRet"];
  std::string native = SeccompArch(machine);
  if (p.contains("archMap") && p["archMap"].is_array()) {
    for (auto& a : p["archMap"]) {
      if (a.value("architecture", "") != native) continue;
      out["architectures"].push_back(native);
      // x32 (the ILP32 ABI of x86-64) is left out: its filter costs every RUN 5-10 ms in runc's libseccomp, x32
      // binaries are unknown in images, many kernels (this one) lack the ABI, and without the filter a syscall of
      // that ABI fails rather than passes: stricter than Docker's profile, never looser.
      if (a.contains("subArchitectures"))
        for (auto& sub : a["subArchitectures"])
          if (sub != "SCMP_ARCH_X32") out["architectures"].push_back(sub);
    }
  }
  std::string arch = GoArch(machine);
  auto version = KernelVersion(kernel);
  for (auto& rule : p["syscalls"]) {
    if (!rule.is_object() || !Applies(rule, capabilities, arch, version)) continue;
    Json r = {{"names", rule.value("names", Json::array())}, {"action", rule.value("action", "SCMP_ACT_ERRNO")}};
    if (rule.contains("args") && rule["args"].is_array() && !rule["args"].empty()) r["args"] = rule["args"];
    if (rule.contains("errnoRet")) r["errnoRet"] = rule["errnoRet"];
    out["syscalls"].push_back(r);
  }
  return out;
}

Result<Json> DefaultSeccomp(const std::vector<std::string>& capabilities) {
  static std::mutex mu;
  static std::map<std::vector<std::string>, Json> computed;
  std::lock_guard l(mu);
  auto it = computed.find(capabilities);
  if (it != computed.end()) return it->second;
  struct utsname u;
  if (uname(&u) != 0) return Status::Error("uname failed");
  KILN_ASSIGN(Json profile, SeccompForRuntime(kDockerSeccompProfile, capabilities, u.machine, u.release));
  computed[capabilities] = profile;
  return profile;
}

}  // namespace kiln::executor
