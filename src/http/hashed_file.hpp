// A download's destination: a file written chunk by chunk while its sha256 is computed.
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "soundtrackd/util/result.hpp"

namespace soundtrackd::http {

class hashed_file {
 public:
  // Creates or truncates `path` (mode 0660 before the umask: operators share the staging
  // directory as a group).
  static result<hashed_file> create(std::string path);

  hashed_file(hashed_file&& other) noexcept;
  hashed_file& operator=(hashed_file&&) = delete;
  ~hashed_file();

  std::optional<error> append(const char* data, std::size_t size);
  // Empties the file after a failed download, so nothing partial can pass for a result.
  void discard();

  std::uint64_t size() const { return size_; }
  // Lowercase hex of the bytes appended so far; call once, at the end.
  std::string sha256_hex();

 private:
  struct digest_deleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };

  hashed_file(std::string path, int fd, std::unique_ptr<EVP_MD_CTX, digest_deleter> digest);

  std::string path_;
  int fd_ = -1;
  std::unique_ptr<EVP_MD_CTX, digest_deleter> digest_;
  std::uint64_t size_ = 0;
};

}  // namespace soundtrackd::http
