// One daemon per database: an exclusive flock on "<db path>.lock" holding the owner's pid.
#pragma once

#include <filesystem>

#include "soundtrackd/util/result.hpp"

namespace soundtrackd::db {

class daemon_lock {
 public:
  // Takes the lock without waiting. When another process holds it the error reads
  // "another soundtrackd (pid N) is using <db path>".
  static result<daemon_lock> acquire(const std::filesystem::path& db_path);

  daemon_lock(daemon_lock&& other) noexcept;
  daemon_lock& operator=(daemon_lock&& other) noexcept;
  daemon_lock(const daemon_lock&) = delete;
  daemon_lock& operator=(const daemon_lock&) = delete;
  ~daemon_lock();  // releases the lock

  const std::filesystem::path& lock_path() const noexcept { return lock_path_; }

 private:
  daemon_lock(int fd, std::filesystem::path lock_path);
  void release() noexcept;

  int fd_ = -1;
  std::filesystem::path lock_path_;
};

}  // namespace soundtrackd::db
