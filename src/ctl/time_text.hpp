// Time arguments as soundtrackctl reads them (format_utc and ISO-8601 parsing are in util/time).
#pragma once

#include <string>
#include <string_view>

#include "soundtrackd/util/result.hpp"
#include "soundtrackd/util/time.hpp"

namespace soundtrackd::ctl {

// A time given on the command line: epoch seconds ("1767225600"), a delay from `now` ("+10m",
// "+1h30m") or ISO-8601 UTC ("2026-01-01T08:00:00Z", seconds optional, "Z" or "+00:00"
// required so that a local time is never read as UTC).
result<epoch_seconds> parse_time_argument(std::string_view text, epoch_seconds now);

}  // namespace soundtrackd::ctl
