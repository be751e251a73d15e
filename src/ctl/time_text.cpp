// Time arguments for soundtrackctl: --run-after style epoch seconds, delays and ISO-8601 UTC.
#include "time_text.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>

#include "soundtrackd/config/config.hpp"

namespace soundtrackd::ctl {

namespace {

std::optional<epoch_seconds> parse_epoch(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) || value < 0) return std::nullopt;
  return value;
}

}  // namespace

result<epoch_seconds> parse_time_argument(std::string_view text, epoch_seconds now) {
  if (text.starts_with('+')) {
    auto delay = config::parse_duration(text.substr(1));
    if (!delay) return error{"'" + std::string(text) + "': " + delay.error_message()};
    return now + std::chrono::duration<double>(*delay).count();
  }
  if (auto epoch = parse_epoch(text)) return *epoch;
  if (auto iso = parse_utc_iso8601(text)) return *iso;
  return error{"'" + std::string(text) +
               "' is not a time: give epoch seconds (1767225600), a delay (+10m, +2h) or UTC ISO-8601 "
               "(2026-01-01T08:00:00Z; the Z is required)"};
}

}  // namespace soundtrackd::ctl
