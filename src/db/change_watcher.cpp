// inotify on the database's -wal file, read on the event loop.
#include "soundtrackd/db/change_watcher.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>

namespace soundtrackd::db {

namespace asio = boost::asio;

change_watcher::change_watcher(asio::any_io_executor executor, const std::string& database_path)
    : descriptor_(executor) {
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    failure_ = std::string("inotify_init1: ") + std::strerror(errno);
    return;
  }
  const auto wal = database_path + "-wal";
  // IN_CLOSE_WRITE as well: a short-lived writer (the sqlite3 CLI) closes the file after its
  // commit is complete, which is the one event certain to come after the commit is visible.
  if (inotify_add_watch(fd, wal.c_str(), IN_MODIFY | IN_CLOSE_WRITE) < 0) {
    failure_ = "inotify_add_watch " + wal + ": " + std::strerror(errno);
    ::close(fd);
    return;
  }
  descriptor_.assign(fd);
}

asio::awaitable<bool> change_watcher::changed() {
  if (!descriptor_.is_open()) co_return false;
  boost::system::error_code ec;
  co_await descriptor_.async_wait(asio::posix::stream_descriptor::wait_read,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return false;
  // Drain everything queued: which events they were does not matter, only that there were some.
  for (;;) {
    const auto n = ::read(descriptor_.native_handle(), events_.data(), events_.size());
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    break;  // EAGAIN: drained
  }
  co_return true;
}

void change_watcher::cancel() {
  boost::system::error_code ec;
  descriptor_.cancel(ec);
}

}  // namespace soundtrackd::db
