// Wall-clock time as the database stores it: Unix epoch seconds (REAL, millisecond precision).
#pragma once

#include <chrono>
#include <string>

namespace soundtrackd {

using epoch_seconds = double;
using duration = std::chrono::milliseconds;

epoch_seconds now_epoch();

// "1.5s", "250ms", "10m", "2h30m" style rendering for log lines and messages.
std::string format_duration(duration d);

// "2025-03-01T14:05:09Z" (whole seconds, rounded down).
std::string format_utc(epoch_seconds t);

}  // namespace soundtrackd
