// Fuzz target: applying an untrusted layer tar (plain or compressed). Whatever the input, extraction must stay
// inside its directory: nothing may appear or change next to it, through "..", absolute names, symlinks or
// hardlinks. Runs as root, as kiln does, so ownership, devices and xattrs are exercised too.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "base/fs.h"
#include "snapshot/layer.h"

namespace {

struct Sandbox {
  std::string base, outer, root, sentinel, tar;
  Sandbox() {
    char tmpl[] = "/tmp/kiln-layer-fuzz.XXXXXX";
    base = mkdtemp(tmpl);
    outer = base + "/outer";
    root = outer + "/root";
    sentinel = outer + "/sentinel";
    tar = base + "/layer.tar";
    (void)kiln::MakeDirs(root);
    (void)kiln::WriteFileAtomic(sentinel, "untouched");
    // A tempting way out: a symlink next to the root, pointing up.
    (void)symlink("..", (outer + "/up").c_str());
  }
};

Sandbox& Box() {
  static Sandbox* box = [] {
    auto* b = new Sandbox;
    atexit([] { (void)kiln::RemoveAll(Box().base); });
    return b;
  }();
  return *box;
}

void Expect(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Sandbox& b = Box();
  Expect(kiln::WriteFileAtomic(b.tar, std::string(reinterpret_cast<const char*>(data), size)).ok());
  (void)kiln::snapshot::ApplyLayer(b.tar, b.root);
  // Only what was there before may be next to the root, unchanged.
  auto outer = kiln::ListDir(b.outer);
  Expect(outer.ok() && *outer == std::vector<std::string>({"root", "sentinel", "up"}));
  auto base = kiln::ListDir(b.base);
  Expect(base.ok() && *base == std::vector<std::string>({"layer.tar", "outer"}));
  auto sentinel = kiln::ReadFile(b.sentinel);
  Expect(sentinel.ok() && *sentinel == "untouched");
  Expect(kiln::RemoveAll(b.root).ok() && kiln::MakeDirs(b.root).ok());
  return 0;
}
