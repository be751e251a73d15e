// Streaming a download to disk: POSIX writes and an EVP sha256 of the same bytes. No fsync: a
// staging file only lives until its bytes are copied into the database (whose commit is what
// is made durable), and the daemon deletes every staging file at start, so no crash can leave
// one behind to be trusted.
#include "hashed_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace soundtrackd::http {

namespace {

std::string os_error(const char* what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

}  // namespace

result<hashed_file> hashed_file::create(std::string path) {
  std::unique_ptr<EVP_MD_CTX, digest_deleter> digest(EVP_MD_CTX_new());
  if (!digest || EVP_DigestInit_ex(digest.get(), EVP_sha256(), nullptr) != 1)
    return error{"cannot start a sha256 digest for " + path};
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0660);
  if (fd < 0) return error{os_error("cannot create", path)};
  return hashed_file(std::move(path), fd, std::move(digest));
}

hashed_file::hashed_file(std::string path, int fd, std::unique_ptr<EVP_MD_CTX, digest_deleter> digest)
    : path_(std::move(path)), fd_(fd), digest_(std::move(digest)) {}

hashed_file::hashed_file(hashed_file&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      digest_(std::move(other.digest_)),
      size_(other.size_) {}

hashed_file::~hashed_file() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<error> hashed_file::append(const char* data, std::size_t size) {
  // Regular files take whole writes, but a signal or a full disk can cut one short.
  for (std::size_t written = 0; written < size;) {
    const ssize_t n = ::write(fd_, data + written, size - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return error{os_error("cannot write", path_)};
    }
    written += static_cast<std::size_t>(n);
  }
  EVP_DigestUpdate(digest_.get(), data, size);
  size_ += size;
  return std::nullopt;
}

void hashed_file::discard() {
  if (fd_ >= 0 && ::ftruncate(fd_, 0) == 0) size_ = 0;
}

std::string hashed_file::sha256_hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(digest_.get(), digest, &length);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * length);
  for (unsigned i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0x0f];
  }
  return out;
}

}  // namespace soundtrackd::http
