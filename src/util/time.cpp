// Clock and duration formatting shared by every module.
#include "soundtrackd/util/time.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>

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
  const auto time = std::chrono::sys_seconds(std::chrono::seconds(static_cast<std::chrono::seconds::rep>(std::floor(t))));
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

}  // namespace soundtrackd
