// A download in memory or in a staging file, and an EVP sha256 of the same bytes. No fsync:
// a staging file only lives until its bytes are copied into the database (whose commit is
// what is made durable), and the daemon deletes every staging file at start, so no crash can
// leave one behind to be trusted.
#include "hashed_download.hpp"

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

result<hashed_download> hashed_download::create(std::string path, std::uint64_t memory_limit) {
  hashed_download out(std::move(path), memory_limit);
  if (memory_limit == 0)
    if (auto failure = out.open_file()) return std::move(*failure);
  return out;
}

hashed_download::hashed_download(std::string path, std::uint64_t memory_limit)
    : path_(std::move(path)), memory_limit_(memory_limit) {}

hashed_download::hashed_download(hashed_download&& other) noexcept
    : path_(std::move(other.path_)),
      memory_limit_(other.memory_limit_),
      bytes_(std::move(other.bytes_)),
      fd_(std::exchange(other.fd_, -1)),
      digest_(std::move(other.digest_)),
      size_(other.size_) {}

hashed_download::~hashed_download() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<error> hashed_download::open_file() {
  fd_ = ::open(path_.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0660);
  if (fd_ < 0) return error{os_error("cannot create", path_)};
  return std::nullopt;
}

std::optional<error> hashed_download::write_file(const char* data, std::size_t size) {
  // Regular files take whole writes, but a signal or a full disk can cut one short.
  for (std::size_t written = 0; written < size;) {
    const ssize_t n = ::write(fd_, data + written, size - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return error{os_error("cannot write", path_)};
    }
    written += static_cast<std::size_t>(n);
  }
  return std::nullopt;
}

std::optional<error> hashed_download::append(const char* data, std::size_t size) {
  if (fd_ < 0 && size_ + size <= memory_limit_) {
    bytes_.append(data, size);
  } else {
    if (fd_ < 0) {  // past the limit: what was kept goes to the file first
      if (auto failure = open_file()) return failure;
      if (auto failure = write_file(bytes_.data(), bytes_.size())) return failure;
      std::string().swap(bytes_);
    }
    if (auto failure = write_file(data, size)) return failure;
  }
  digest_.update(data, size);
  size_ += size;
  return std::nullopt;
}

void hashed_download::discard() {
  std::string().swap(bytes_);
  if (fd_ < 0 || ::ftruncate(fd_, 0) == 0) size_ = 0;
}

std::optional<std::string> hashed_download::take_bytes() {
  if (fd_ >= 0) return std::nullopt;
  return std::exchange(bytes_, {});
}

std::string hashed_download::sha256_hex() { return digest_.hex(); }

}  // namespace soundtrackd::http
