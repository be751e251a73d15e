// Wall-clock time as the database stores it: Unix epoch seconds (REAL, millisecond precision).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace soundtrackd {

using epoch_seconds = double;
using duration = std::chrono::milliseconds;

epoch_seconds now_epoch();

// "1.5s", "250ms", "10m", "2h30m" style rendering for log lines and messages.
std::string format_duration(duration d);

// "2025-03-01T14:05:09Z" (whole seconds, rounded down).
std::string format_utc(epoch_seconds t);

// "2026-01-01T08:00:00Z" (or a space for the T, seconds and fractions optional, "Z" or
// "+00:00" required so that a local time is never read as UTC); nullopt otherwise.
std::optional<epoch_seconds> parse_utc_iso8601(std::string_view text);

}  // namespace soundtrackd
