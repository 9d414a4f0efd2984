// Running other architectures' programs: QEMU user emulation through the kernel's binfmt_misc, as BuildKit uses
// it. A handler registered with the F flag keeps its emulator open, so it works inside a container's root.
#pragma once
#include <string>
#include <vector>

#include "base/status.h"
#include "oci/image.h"

namespace kiln::executor {

/// Whether this machine runs `platform`'s programs: natively (its own architecture, and the 32-bit one its
/// CPU runs: 386 on amd64, arm on arm64), or through a registered binfmt_misc emulator with the F flag.
bool CanRun(const oci::Platform& platform);

/// QEMU's name for an architecture ("aarch64" for arm64), "" for one QEMU does not emulate.
std::string QemuArch(const std::string& architecture);

/// `kiln setup-binfmt`: mounts binfmt_misc if needed and registers, with the F flag, every QEMU handler the
/// installed qemu-user-static package describes (/usr/lib/binfmt.d/qemu-*.conf) but the host's own. Idempotent:
/// a handler already registered with F is left. Returns one line per handler saying what was done.
Result<std::vector<std::string>> SetupBinfmt();

}  // namespace kiln::executor
