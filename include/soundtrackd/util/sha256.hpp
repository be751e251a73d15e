// SHA-256 of bytes given in pieces, as the lowercase hex stored with every track (OpenSSL EVP).
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <memory>
#include <string>

namespace soundtrackd {

class sha256 {
 public:
  sha256();  // throws std::runtime_error if OpenSSL cannot start a digest (out of memory)

  void update(const void* data, std::size_t size);
  // Lowercase hex of every byte given so far; call once, at the end.
  std::string hex();

 private:
  struct context_deleter {
    void operator()(EVP_MD_CTX* context) const;
  };
  std::unique_ptr<EVP_MD_CTX, context_deleter> context_;
};

}  // namespace soundtrackd
