// UTC time text for soundtrackctl: formatting epoch seconds and parsing --run-after style arguments.
#include "time_text.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <regex>
#include <string>

#include "soundtrackd/config/config.hpp"

namespace soundtrackd::ctl {

namespace {

using std::chrono::days;
using std::chrono::seconds;
using std::chrono::sys_days;

std::optional<epoch_seconds> parse_epoch(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) || value < 0) return std::nullopt;
  return value;
}

std::optional<epoch_seconds> parse_iso_utc(std::string_view text) {
  static const std::regex iso(R"(^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|\+00:?00)$)",
                              std::regex::icase);
  std::cmatch m;
  if (!std::regex_match(text.data(), text.data() + text.size(), m, iso)) return std::nullopt;
  auto number = [&](int group) { return m[group].matched ? std::stoi(m[group].str()) : 0; };

  const std::chrono::year_month_day date{std::chrono::year(number(1)),
                                         std::chrono::month(static_cast<unsigned>(number(2))),
                                         std::chrono::day(static_cast<unsigned>(number(3)))};
  const int hour = number(4), minute = number(5), second = number(6);
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const double fraction = m[7].matched ? std::stod(m[7].str()) : 0.0;
  auto whole =
      sys_days(date).time_since_epoch() + std::chrono::hours(hour) + std::chrono::minutes(minute) + seconds(second);
  return static_cast<double>(std::chrono::duration_cast<seconds>(whole).count()) + fraction;
}

}  // namespace

result<epoch_seconds> parse_time_argument(std::string_view text, epoch_seconds now) {
  if (text.starts_with('+')) {
    auto delay = config::parse_duration(text.substr(1));
    if (!delay) return error{"'" + std::string(text) + "': " + delay.error_message()};
    return now + std::chrono::duration<double>(*delay).count();
  }
  if (auto epoch = parse_epoch(text)) return *epoch;
  if (auto iso = parse_iso_utc(text)) return *iso;
  return error{"'" + std::string(text) +
               "' is not a time: give epoch seconds (1767225600), a delay (+10m, +2h) or UTC ISO-8601 "
               "(2026-01-01T08:00:00Z; the Z is required)"};
}

}  // namespace soundtrackd::ctl
