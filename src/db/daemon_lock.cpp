// One daemon per database: flock(LOCK_EX|LOCK_NB) on "<db path>.lock", our pid written inside.
#include "soundtrackd/db/daemon_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace soundtrackd::db {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// The holder's pid as it wrote it, or "unknown" (it may be between locking and writing).
std::string read_holder_pid(int fd) {
  char buf[32] = {};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  std::string pid;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) pid += buf[i];
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

result<daemon_lock> daemon_lock::acquire(const std::filesystem::path& db_path) {
  std::filesystem::path lock_path = db_path;
  lock_path += ".lock";
  // flock, not fcntl locks: an fcntl lock is dropped when any descriptor of the file in the
  // process is closed, and is not exclusive between two opens in one process. O_CLOEXEC:
  // programs we start must not inherit (and so prolong) the lock. 0660: operators in the
  // group read the pid; the umask (0007) is applied on top.
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0660);
  if (fd < 0) {
    int err = errno;
    return error{"cannot open lock file " + lock_path.string() + ": " + errno_text(err)};
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err == EWOULDBLOCK) {
      auto pid = read_holder_pid(fd);
      ::close(fd);
      return error{"another soundtrackd (pid " + pid + ") is using " + db_path.string()};
    }
    ::close(fd);
    return error{"cannot lock " + lock_path.string() + ": " + errno_text(err)};
  }
  // Only now, holding the lock, replace the previous owner's pid.
  auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    int err = errno;
    ::close(fd);
    return error{"cannot write " + lock_path.string() + ": " + errno_text(err)};
  }
  return daemon_lock(fd, std::move(lock_path));
}

daemon_lock::daemon_lock(int fd, std::filesystem::path lock_path) : fd_(fd), lock_path_(std::move(lock_path)) {}

daemon_lock::daemon_lock(daemon_lock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), lock_path_(std::move(other.lock_path_)) {}

daemon_lock& daemon_lock::operator=(daemon_lock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    lock_path_ = std::move(other.lock_path_);
  }
  return *this;
}

daemon_lock::~daemon_lock() { release(); }

void daemon_lock::release() noexcept {
  if (fd_ < 0) return;
  // The file stays: removing it races with a process that opened it just before the unlink,
  // which would then lock the orphaned inode while a newcomer locks a new file of the same
  // name. Emptying it keeps a stale pid from misleading a reader; failing to is harmless.
  if (::ftruncate(fd_, 0) != 0) {
  }
  ::close(fd_);  // closing the last descriptor releases the flock
  fd_ = -1;
}

}  // namespace soundtrackd::db
