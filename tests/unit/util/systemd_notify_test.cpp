// Tests of the sd_notify protocol: what reaches a path or an abstract NOTIFY_SOCKET, and
// which WATCHDOG_USEC / WATCHDOG_PID settings arm the watchdog.
#include "soundtrackd/util/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace soundtrackd {
namespace {

// Sets an environment variable for one test and restores the old value afterwards.
class scoped_env {
 public:
  scoped_env(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~scoped_env() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A datagram socket standing in for systemd's, bound to `name` as NOTIFY_SOCKET spells it.
class listener {
 public:
  explicit listener(const std::string& name) : fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    name.copy(address.sun_path, sizeof(address.sun_path) - 1);
    const bool abstract = name.starts_with('@');
    if (abstract) address.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (abstract ? 0 : 1));
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0)
      throw std::runtime_error("cannot bind test socket " + name);
  }
  ~listener() { ::close(fd_); }
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;

  // The next datagram, or "" if none is waiting.
  std::string next() {
    char buffer[4096];
    const auto n = ::recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  int fd_;
};

std::filesystem::path temp_socket_path() {
  return std::filesystem::temp_directory_path() / ("soundtrackd-notify-" + std::to_string(::getpid()) + ".sock");
}

TEST(SystemdNotify, SendsEachMessageAsOneDatagramToAPathSocket) {
  const auto path = temp_socket_path();
  std::filesystem::remove(path);
  listener systemd(path.string());
  scoped_env socket("NOTIFY_SOCKET", path.string());

  EXPECT_TRUE(notify_systemd("READY=1"));
  EXPECT_TRUE(notify_systemd("STATUS=running 3, queued 0\nWATCHDOG=1"));
  EXPECT_EQ(systemd.next(), "READY=1");
  EXPECT_EQ(systemd.next(), "STATUS=running 3, queued 0\nWATCHDOG=1");
  EXPECT_EQ(systemd.next(), "");
  std::filesystem::remove(path);
}

TEST(SystemdNotify, ReachesAnAbstractSocketNamedWithAnAt) {
  const std::string name = "@soundtrackd-notify-test-" + std::to_string(::getpid());
  listener systemd(name);
  scoped_env socket("NOTIFY_SOCKET", name);

  EXPECT_TRUE(notify_systemd("STOPPING=1"));
  EXPECT_EQ(systemd.next(), "STOPPING=1");
}

TEST(SystemdNotify, DoesNothingWithoutAUsableSocket) {
  {
    scoped_env socket("NOTIFY_SOCKET", "");
    EXPECT_FALSE(notify_systemd("READY=1"));
  }
  {
    scoped_env socket("NOTIFY_SOCKET", "vsock:2:1234");  // another kind of socket: not spoken here
    EXPECT_FALSE(notify_systemd("READY=1"));
  }
  {
    scoped_env socket("NOTIFY_SOCKET", "/" + std::string(200, 'x'));  // longer than sun_path
    EXPECT_FALSE(notify_systemd("READY=1"));
  }
  {
    scoped_env socket("NOTIFY_SOCKET", temp_socket_path().string() + ".nobody");  // nobody listens
    EXPECT_FALSE(notify_systemd("READY=1"));
  }
}

TEST(SystemdWatchdog, IsArmedByWatchdogUsecForThisProcess) {
  scoped_env usec("WATCHDOG_USEC", "900000");
  {
    scoped_env pid("WATCHDOG_PID", "");
    EXPECT_EQ(systemd_watchdog_interval(), std::chrono::microseconds(900000));
  }
  {
    scoped_env pid("WATCHDOG_PID", std::to_string(::getpid()));
    EXPECT_EQ(systemd_watchdog_interval(), std::chrono::microseconds(900000));
  }
  {
    // Inherited from a parent the watchdog was meant for: not ours to ping.
    scoped_env pid("WATCHDOG_PID", std::to_string(::getpid() + 1));
    EXPECT_EQ(systemd_watchdog_interval(), std::nullopt);
  }
}

TEST(SystemdWatchdog, IsOffUnlessWatchdogUsecIsAPositiveNumber) {
  scoped_env pid("WATCHDOG_PID", "");
  for (const char* text : {"", "0", "-5", "12s", " 900000", "900000 ", "abc"}) {
    scoped_env usec("WATCHDOG_USEC", text);
    EXPECT_EQ(systemd_watchdog_interval(), std::nullopt) << "WATCHDOG_USEC=" << text;
  }
}

}  // namespace
}  // namespace soundtrackd
