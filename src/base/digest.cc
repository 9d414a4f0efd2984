#include "base/digest.h"

// OpenSSL's SHA-256 functions, not its EVP interface: EVP's first use initialises the library (its configuration
// file, error strings, every algorithm's names) and fetches the digest from a provider, which cost a warm build
// more than all its hashing. These functions are deprecated in OpenSSL 3 for that layering, not for their output.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <fcntl.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kiln {

struct Sha256::Ctx {
  SHA256_CTX sha;
};

Sha256::Sha256() : ctx_(new Ctx) { SHA256_Init(&ctx_->sha); }

Sha256::~Sha256() = default;

void Sha256::Update(const void* data, size_t size) { SHA256_Update(&ctx_->sha, data, size); }

std::string Sha256::Finish() {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256_Final(out, &ctx_->sha);
  static const char* hex = "0123456789abcdef";
  std::string s = "sha256:";
  s.reserve(7 + 2 * SHA256_DIGEST_LENGTH);
  for (unsigned i = 0; i < SHA256_DIGEST_LENGTH; i++) {
    s += hex[out[i] >> 4];
    s += hex[out[i] & 15];
  }
  return s;
}

std::string DigestOf(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

Result<std::string> DigestOfFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Error("open " + path + ": " + strerror(errno));
  Sha256 h;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      return Status::Error("read " + path + ": " + strerror(e));
    }
    if (n == 0) break;
    h.Update(buf, size_t(n));
  }
  close(fd);
  return h.Finish();
}

std::string DigestHex(std::string_view digest) {
  auto pos = digest.find(':');
  return std::string(pos == std::string_view::npos ? digest : digest.substr(pos + 1));
}

Result<std::string> RandomHex(size_t bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), int(bytes)) != 1) {
    return Status::Error("the random number generator failed (OpenSSL RAND_bytes)");
  }
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

bool IsValidDigest(std::string_view d) {
  if (d.size() != 71 || d.substr(0, 7) != "sha256:") return false;
  for (char c : d.substr(7))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace kiln
