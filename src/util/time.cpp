// Clock and duration formatting shared by every module.
#include "soundtrackd/util/time.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace soundtrackd {

epoch_seconds now_epoch() {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  return static_cast<double>(ms) / 1000.0;
}

std::string format_duration(duration d) {
  auto ms = d.count();
  char buf[64];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
  } else if (ms < 60'000) {
    if (ms % 1000 == 0)
      std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(ms / 1000));
    else
      std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
  } else if (ms < 3'600'000) {
    auto s = ms / 1000;
    if (s % 60 == 0)
      std::snprintf(buf, sizeof buf, "%lldm", static_cast<long long>(s / 60));
    else
      std::snprintf(buf, sizeof buf, "%lldm%llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  } else {
    auto m = ms / 60'000;
    if (m % 60 == 0)
      std::snprintf(buf, sizeof buf, "%lldh", static_cast<long long>(m / 60));
    else
      std::snprintf(buf, sizeof buf, "%lldh%lldm", static_cast<long long>(m / 60), static_cast<long long>(m % 60));
  }
  return buf;
}

std::string format_utc(epoch_seconds t) {
  const auto time =
      std::chrono::sys_seconds(std::chrono::seconds(static_cast<std::chrono::seconds::rep>(std::floor(t))));
  const auto day = std::chrono::floor<std::chrono::days>(time);
  const std::chrono::year_month_day date(day);
  const std::chrono::hh_mm_ss clock(time - day);
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return text;
}

// A hand-written reader, not std::regex: every finished job's statusHistory dates pass
// through here, and a regex match cost ~1% of the daemon's CPU in the benchmark's scenario 1.
std::optional<epoch_seconds> parse_utc_iso8601(std::string_view text) {
  std::size_t at = 0;
  auto next_is = [&](std::string_view choices) {
    if (at >= text.size() || choices.find(text[at]) == std::string_view::npos) return false;
    ++at;
    return true;
  };
  auto is_digit = [&](std::size_t i) { return i < text.size() && text[i] >= '0' && text[i] <= '9'; };
  auto number = [&](std::size_t width) {  // exactly `width` digits, or -1
    int value = 0;
    for (const auto end = at + width; at < end; ++at) {
      if (!is_digit(at)) return -1;
      value = value * 10 + (text[at] - '0');
    }
    return value;
  };

  // YYYY-MM-DD[T ]HH:MM[:SS[.fraction]](Z|+00:00|+0000), T and Z in either case.
  const int year = number(4), month = next_is("-") ? number(2) : -1, day = next_is("-") ? number(2) : -1;
  const int hour = next_is("Tt ") ? number(2) : -1, minute = next_is(":") ? number(2) : -1;
  int second = 0;
  double fraction = 0;
  if (next_is(":")) {
    second = number(2);
    if (next_is(".")) {
      const auto point = at - 1;
      while (is_digit(at)) ++at;
      if (at == point + 1 || std::from_chars(text.data() + point, text.data() + at, fraction).ptr != text.data() + at)
        return std::nullopt;
    }
  }
  bool utc = next_is("Zz");
  if (!utc && next_is("+")) {  // +00:00 or +0000
    const int hours = number(2);
    next_is(":");
    utc = hours == 0 && number(2) == 0;
  }
  if (!utc || at != text.size() || std::min({year, month, day, hour, minute, second}) < 0) return std::nullopt;

  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  auto whole = std::chrono::sys_days(date).time_since_epoch() + std::chrono::hours(hour) +
               std::chrono::minutes(minute) + std::chrono::seconds(second);
  return static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(whole).count()) + fraction;
}

}  // namespace soundtrackd
