// SHA-256 through OpenSSL's EVP interface, hex-encoded.
#include "soundtrackd/util/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace soundtrackd {

void sha256::context_deleter::operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }

sha256::sha256() : context_(EVP_MD_CTX_new()) {
  if (!context_ || EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("cannot start a sha256 digest");
}

void sha256::update(const void* data, std::size_t size) { EVP_DigestUpdate(context_.get(), data, size); }

std::string sha256::hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context_.get(), digest, &length);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    out += digits[digest[i] >> 4];
    out += digits[digest[i] & 0x0f];
  }
  return out;
}

}  // namespace soundtrackd
