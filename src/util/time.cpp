// Clock and duration formatting shared by every module.
#include "soundtrackd/util/time.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <regex>
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

std::optional<epoch_seconds> parse_utc_iso8601(std::string_view text) {
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
  auto whole = std::chrono::sys_days(date).time_since_epoch() + std::chrono::hours(hour) +
               std::chrono::minutes(minute) + std::chrono::seconds(second);
  return static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(whole).count()) + fraction;
}

}  // namespace soundtrackd
