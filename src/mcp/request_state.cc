#include "mcp/request_state.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

#include "base/digest.h"
#include "base/text.h"

namespace kiln::mcp {
namespace {

constexpr int kIvSize = 12, kTagSize = 16;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

}  // namespace

RequestStateSeal::RequestStateSeal() {
  if (RAND_bytes(key_, sizeof key_) != 1) throw std::runtime_error("no random bytes for the request-state key");
}

std::string RequestStateSeal::Seal(const std::string& scope, const Json& state, std::chrono::seconds ttl) const {
  std::string plain = Json{{"state", state}, {"expires", NowSeconds() + ttl.count()}}.dump();
  std::string aad = DigestOf(scope);  // binds the state to its request without carrying the request in it
  std::string out(kIvSize + plain.size() + kTagSize, '\0');
  auto* iv = reinterpret_cast<unsigned char*>(out.data());
  RAND_bytes(iv, kIvSize);  // a fresh IV: every round's state differs, even when the handler's does not
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int n = 0;
  EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_, iv);
  EVP_EncryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()), int(aad.size()));
  EVP_EncryptUpdate(ctx.get(), iv + kIvSize, &n, reinterpret_cast<const unsigned char*>(plain.data()), int(plain.size()));
  EVP_EncryptFinal_ex(ctx.get(), iv + kIvSize + n, &n);
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, iv + kIvSize + plain.size());
  return Base64Encode(out);
}

std::optional<Json> RequestStateSeal::Open(const std::string& scope, const std::string& sealed) const {
  auto raw = Base64Decode(sealed);
  if (!raw || raw->size() < size_t(kIvSize + kTagSize)) return std::nullopt;
  auto* iv = reinterpret_cast<unsigned char*>(raw->data());
  size_t size = raw->size() - kIvSize - kTagSize;
  std::string aad = DigestOf(scope), plain(size, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int n = 0;
  EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_, iv);
  EVP_DecryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()), int(aad.size()));
  EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &n, iv + kIvSize, int(size));
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, iv + kIvSize + size);
  if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + n, &n) != 1) return std::nullopt;
  auto body = ParseJson(plain);
  if (!body.ok() || !body->is_object() || !(*body)["expires"].is_number_integer()) return std::nullopt;
  if ((*body)["expires"].get<int64_t>() < NowSeconds()) return std::nullopt;
  return (*body)["state"];
}

}  // namespace kiln::mcp
