// Notices at once when the queue database's -wal file is written (every commit in WAL mode
// writes it), so new rows are admitted without waiting for the timed scan.
#pragma once

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <string>

namespace soundtrackd::db {

// inotify on `<database>-wal`, read through an Asio descriptor on the caller's io_context.
// A write seen here is only a hint: the daemon's own commits write the file too, and the event
// can arrive before the writer's commit is visible (it still syncs). The caller confirms
// with PRAGMA data_version. Where inotify is unavailable (or the file cannot be watched),
// active() is false and the timed scan is all there is.
class change_watcher {
 public:
  change_watcher(boost::asio::any_io_executor executor, const std::string& database_path);
  change_watcher(const change_watcher&) = delete;
  change_watcher& operator=(const change_watcher&) = delete;

  bool active() const { return descriptor_.is_open(); }
  // Why active() is false, for one log line.
  const std::string& failure() const { return failure_; }

  // Completes once the file was written or closed by a writer since the last call (every
  // event queued meanwhile is consumed: a burst of writes is one wake). False when cancelled
  // or when reading inotify failed.
  boost::asio::awaitable<bool> changed();
  void cancel();

 private:
  boost::asio::posix::stream_descriptor descriptor_;
  std::array<char, 4096> events_{};
  std::string failure_;
};

}  // namespace soundtrackd::db
