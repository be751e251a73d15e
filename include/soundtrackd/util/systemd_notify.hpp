// Telling systemd how the service is doing: the sd_notify protocol, spoken directly.
//
// systemd documents the protocol (one datagram of KEY=VALUE lines to $NOTIFY_SOCKET) as its
// stable interface and advises programs that need nothing else not to link libsystemd for it
// (sd_notify(3), "Standalone Implementations"). Linking it here pulled six more libraries
// (libgcrypt, liblzma, libzstd, liblz4, libcap, libgpg-error) into both programs: ~1 MB of
// the idle daemon's 14.5 MB resident set (docs/performance.md).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace soundtrackd {

// Sends `state` ("READY=1", "STATUS=...", several lines at once are fine) to $NOTIFY_SOCKET,
// a file-system path or an abstract name starting with '@'. Returns false, doing nothing, when
// the variable is unset (not run by systemd with Type=notify) or names another kind of
// socket, and false when the send fails: systemd being away is never the daemon's problem.
bool notify_systemd(std::string_view state);

// How often systemd expects WATCHDOG=1 from this process ($WATCHDOG_USEC, when
// $WATCHDOG_PID is unset or is this process), or nothing when no watchdog is armed for it.
std::optional<std::chrono::microseconds> systemd_watchdog_interval();

}  // namespace soundtrackd
