// The sd_notify protocol without libsystemd: one datagram per message (see the header).
#include "soundtrackd/util/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

namespace soundtrackd {

namespace {

std::string_view environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::string_view(value) : std::string_view();
}

// A positive decimal number and nothing else, as systemd writes it.
std::optional<unsigned long long> positive_number(std::string_view text) {
  unsigned long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0) return std::nullopt;
  return value;
}

}  // namespace

bool notify_systemd(std::string_view state) {
  const auto socket_name = environment("NOTIFY_SOCKET");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // An abstract name has no terminating NUL and is addressed by its exact length; a path is
  // NUL-terminated, so it must leave room for it.
  const bool abstract = socket_name.starts_with('@');
  if (!(abstract || socket_name.starts_with('/')) || socket_name.size() > sizeof(address.sun_path) - (abstract ? 0 : 1))
    return false;
  std::memcpy(address.sun_path, socket_name.data(), socket_name.size());
  if (abstract) address.sun_path[0] = '\0';
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_name.size() + (abstract ? 0 : 1));

  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const auto sent =
      ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address), length);
  ::close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

std::optional<std::chrono::microseconds> systemd_watchdog_interval() {
  const auto pid = environment("WATCHDOG_PID");
  if (!pid.empty() && positive_number(pid) != static_cast<unsigned long long>(::getpid())) return std::nullopt;
  const auto usec = positive_number(environment("WATCHDOG_USEC"));
  if (!usec) return std::nullopt;
  return std::chrono::microseconds(*usec);
}

}  // namespace soundtrackd
