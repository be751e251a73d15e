// A download's destination: its bytes are kept in memory while they fit under a limit and
// written to a file past it, while their sha256 is computed. A small track never touches the
// disk before the database; a large one never holds more than one chunk in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "soundtrackd/util/result.hpp"
#include "soundtrackd/util/sha256.hpp"

namespace soundtrackd::http {

class hashed_download {
 public:
  // Up to `memory_limit` bytes stay in memory; the first byte beyond moves everything to
  // `path` (created or truncated, mode 0660 before the umask: operators share the staging
  // directory as a group). With a limit of 0 the file is created at once.
  static result<hashed_download> create(std::string path, std::uint64_t memory_limit);

  hashed_download(hashed_download&& other) noexcept;
  hashed_download& operator=(hashed_download&&) = delete;
  ~hashed_download();

  std::optional<error> append(const char* data, std::size_t size);
  // Forgets what was received after a failed download (and empties the file, if one was
  // written), so nothing partial can pass for a result.
  void discard();

  std::uint64_t size() const { return size_; }
  // The bytes, when they stayed in memory (the file was never written); nothing otherwise.
  std::optional<std::string> take_bytes();
  // Lowercase hex of the bytes appended so far; call once, at the end.
  std::string sha256_hex();

 private:
  hashed_download(std::string path, std::uint64_t memory_limit);
  std::optional<error> open_file();
  std::optional<error> write_file(const char* data, std::size_t size);

  std::string path_;
  std::uint64_t memory_limit_;
  std::string bytes_;  // while fd_ < 0
  int fd_ = -1;
  sha256 digest_;
  std::uint64_t size_ = 0;
};

}  // namespace soundtrackd::http
