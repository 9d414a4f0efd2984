#include "executor/emulation.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/fs.h"
#include "base/text.h"

namespace kiln::executor {
namespace {

constexpr const char* kBinfmtDir = "/proc/sys/fs/binfmt_misc";
constexpr const char* kHandlerConfDir = "/usr/lib/binfmt.d";

/// A handler's flags as binfmt_misc shows them ("flags: OCF"), "" when it is not registered or not enabled.
std::optional<std::string> RegisteredFlags(const std::string& name) {
  auto text = ReadFile(std::string(kBinfmtDir) + "/" + name);
  if (!text.ok()) return std::nullopt;
  if (text->rfind("enabled", 0) != 0) return std::nullopt;
  size_t at = text->find("\nflags: ");
  if (at == std::string::npos) return std::string();
  size_t start = at + strlen("\nflags: ");
  return text->substr(start, text->find('\n', start) - start);
}

/// Writes a command to a binfmt_misc file in one write, as the kernel wants it.
Status WriteControl(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", path);
  ssize_t n = write(fd, text.data(), text.size());
  int err = errno;
  close(fd);
  if (n != ssize_t(text.size())) {
    errno = n < 0 ? err : EIO;
    return ErrnoError("write", path);
  }
  return Status::Ok();
}

}  // namespace

std::string QemuArch(const std::string& architecture) {
  static const std::vector<std::pair<std::string, std::string>> kNames = {
      {"amd64", "x86_64"}, {"arm64", "aarch64"}, {"arm", "arm"},         {"386", "i386"},
      {"ppc64le", "ppc64le"}, {"ppc64", "ppc64"}, {"s390x", "s390x"},   {"riscv64", "riscv64"},
      {"mips64le", "mips64el"}, {"mips64", "mips64"}, {"mipsle", "mipsel"}, {"mips", "mips"},
      {"loong64", "loongarch64"}};
  for (auto& [arch, qemu] : kNames)
    if (arch == architecture) return qemu;
  return "";
}

bool CanRun(const oci::Platform& platform) {
  oci::Platform want = platform.Normalized(), host = oci::Platform::Host();
  if (want.architecture.empty()) return true;  // an image that does not say (an old import): taken as the host's
  if (want.os != host.os && !want.os.empty()) return false;
  if (want.architecture == host.architecture) return true;
  if (host.architecture == "amd64" && want.architecture == "386") return true;
  if (host.architecture == "arm64" && want.architecture == "arm" && want.variant != "v5") return true;
  std::string qemu = QemuArch(want.architecture);
  if (qemu.empty()) return false;
  auto flags = RegisteredFlags("qemu-" + qemu);
  return flags && flags->find('F') != std::string::npos;
}

Result<std::vector<std::string>> SetupBinfmt() {
  std::vector<std::string> said;
  std::string reg = std::string(kBinfmtDir) + "/register";
  if (!PathExists(reg)) {
    if (mount("binfmt_misc", kBinfmtDir, "binfmt_misc", 0, nullptr) != 0)
      return ErrnoError("mount binfmt_misc on", kBinfmtDir);
    said.push_back("mounted binfmt_misc on " + std::string(kBinfmtDir));
  }
  std::vector<std::string> confs;
  for (auto& n : ListDir(kHandlerConfDir).value_or(std::vector<std::string>{}))
    if (n.rfind("qemu-", 0) == 0 && n.size() > 5 && n.substr(n.size() - 5) == ".conf") confs.push_back(n);
  if (confs.empty()) {
    return Status::Error(std::string("no QEMU handlers in ") + kHandlerConfDir +
                         ": install qemu-user-static (apt-get install qemu-user-static)");
  }
  std::string host_qemu = QemuArch(oci::Platform::Host().architecture);
  for (auto& conf : confs) {
    KILN_ASSIGN(std::string line, ReadFile(std::string(kHandlerConfDir) + "/" + conf));
    line.erase(line.find_last_not_of("\r\n ") + 1);
    // ":name:type:offset:magic:mask:interpreter:flags"; the magic and mask are escaped text, free of ':'.
    if (line.size() < 2 || line[0] != ':') continue;
    std::vector<std::string> fields = SplitString(std::string_view(line).substr(1), ':');
    if (fields.size() < 7) continue;
    const std::string& name = fields[0];
    if (name == "qemu-" + host_qemu) continue;  // the host's own programs need no emulator
    if (!PathExists(fields[5])) {
      said.push_back(name + ": skipped, its emulator " + fields[5] + " is not installed");
      continue;
    }
    auto flags = RegisteredFlags(name);
    if (flags && flags->find('F') != std::string::npos) {
      said.push_back(name + ": already registered");
      continue;
    }
    std::string entry = std::string(kBinfmtDir) + "/" + name;
    if (PathExists(entry)) {
      // Registered without F (the emulator would not be found inside a container): replaced.
      KILN_TRY(WriteControl(entry, "-1").Prefixed("unregister " + name));
    }
    if (fields[6].find('F') == std::string::npos) fields[6] += "F";
    std::string registration;
    for (auto& f : fields) registration += ":" + f;
    KILN_TRY(WriteControl(reg, registration).Prefixed("register " + name));
    said.push_back(name + ": registered " + fields[5] + " (flags " + fields[6] + ")");
  }
  return said;
}

}  // namespace kiln::executor
