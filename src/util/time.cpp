// Clock and duration formatting shared by every module.
#include "soundtrackd/util/time.hpp"

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

}  // namespace soundtrackd
