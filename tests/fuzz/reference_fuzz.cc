// Fuzz target: image references and digests, where names come from users and archives. The input's first line is
// a reference for oci::ParseReference, RedactReference and `kiln tag`; each further line is a name an archive's
// RepoTags give an image, loaded with `kiln load` into a store of its own. Nothing may crash or throw, a parsed
// reference must parse again to itself, a redacted one must not keep what stood before an "@" that is no digest,
// and a name with a digest must never stand for other content in the store.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "api/engine.h"
#include "base/digest.h"
#include "base/fs.h"
#include "base/text.h"
#include "oci/archive.h"
#include "oci/image.h"
#include "oci/reference.h"

namespace {

struct Fixture {
  std::string dir;
  std::unique_ptr<kiln::api::Engine> engine;
  std::string config_digest, config_text;
  kiln::oci::Descriptor manifest;
  kiln::oci::Manifest parsed;
  std::string manifest_text;
};

/// A store holding nothing, and the blobs of an image without layers to put in archives.
Fixture& TheFixture() {
  static Fixture* f = [] {
    auto* f = new Fixture;
    char tmpl[] = "/tmp/kiln-reference-fuzz.XXXXXX";
    f->dir = mkdtemp(tmpl);
    kiln::api::EngineOptions o;
    o.data_root = kiln::JoinPath(f->dir, "store");
    auto engine = kiln::api::Engine::Open(o);
    if (!engine.ok()) abort();
    f->engine = std::move(*engine);
    f->config_text = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}})";
    f->config_digest = kiln::DigestOf(f->config_text);
    f->parsed.config = {kiln::oci::kMediaTypeConfig, f->config_digest, int64_t(f->config_text.size()), {}, {}};
    f->manifest_text = kiln::oci::Serialize(kiln::oci::ToJson(f->parsed));
    f->manifest = {kiln::oci::kMediaTypeManifest, kiln::DigestOf(f->manifest_text), int64_t(f->manifest_text.size()), {}, {}};
    (void)kiln::WriteFile(kiln::JoinPath(f->dir, kiln::DigestHex(f->config_digest)), f->config_text);
    (void)kiln::WriteFile(kiln::JoinPath(f->dir, kiln::DigestHex(f->manifest.digest)), f->manifest_text);
    return f;
  }();
  return *f;
}

void CheckReference(const std::string& text) {
  auto ref = kiln::oci::ParseReference(text);
  if (ref.ok()) {
    auto again = kiln::oci::ParseReference(ref->String());
    if (!again.ok() || again->String() != ref->String()) __builtin_trap();
    if (!kiln::oci::ParseReference(ref->Familiar()).ok()) __builtin_trap();
    if (ref->String().size() > 255 + 1 + 128 + 1 + 71 + 20) __builtin_trap();  // registry/name:tag@digest, bounded
    if (!ref->digest.empty() && !kiln::IsValidDigest(ref->digest)) __builtin_trap();
  }
  // Redaction keeps no userinfo: done once, there is nothing left to redact, and what it replaced is all of what
  // stood before the host.
  std::string redacted = kiln::oci::RedactReference(text);
  if (kiln::oci::RedactReference(redacted) != redacted) __builtin_trap();
  if (redacted != text && redacted.find("<redacted>@") == std::string::npos) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines = kiln::SplitString(text, '\n');
  for (auto& line : lines) CheckReference(line);

  Fixture& f = TheFixture();
  std::vector<std::string> names(lines.begin() + 1, lines.end());
  std::string archive = kiln::JoinPath(f.dir, "image.tar");
  kiln::oci::ArchiveImage image{f.manifest, f.parsed, names, {}};
  if (!kiln::oci::WriteImageArchive(archive, kiln::oci::ArchiveFormat::kDocker, {image},
                                    [&](const std::string& d) { return kiln::JoinPath(f.dir, kiln::DigestHex(d)); })
           .ok()) {
    return 0;
  }
  (void)f.engine->Load(archive);
  (void)f.engine->Tag(f.manifest.digest, lines[0]);
  // Whatever got stored: a name that pins a digest stands for that digest or for nothing.
  for (auto& name : lines) {
    auto ref = kiln::oci::ParseReference(name);
    if (!ref.ok() || ref->digest.empty()) continue;
    auto stored = f.engine->StoredDigest(name);
    if (stored.ok() && *stored != ref->digest) __builtin_trap();
  }
  return 0;
}
