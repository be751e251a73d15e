// Backoff delays and the token bucket.
#include "soundtrackd/queue/backoff.hpp"

#include <cmath>
#include <vector>

namespace soundtrackd::queue {

duration backoff_delay(duration base, duration max, int failures, double random01) {
  const int exponent = std::clamp(failures - 1, 0, 30);  // 2^30 x base is past any max
  const double ceiling =
      std::min(static_cast<double>(max.count()), static_cast<double>(base.count()) * std::ldexp(1.0, exponent));
  return duration(static_cast<duration::rep>(ceiling * std::clamp(random01, 0.0, 1.0)));
}

token_bucket::token_bucket(double rate_per_second, double burst)
    : rate_(rate_per_second), burst_(std::max(1.0, burst)) {}

void token_bucket::set_rate(double rate_per_second) { rate_ = rate_per_second; }

duration token_bucket::reserve(double now) {
  const double interval = 1.0 / rate_;
  theoretical_arrival_ = std::max(theoretical_arrival_, now);
  // Up to `burst` requests may go ahead of the schedule.
  const double allowed_at = theoretical_arrival_ - (burst_ - 1) * interval;
  theoretical_arrival_ += interval;
  // Rounded up to whole milliseconds, ignoring floating-point dust from the additions.
  const double wait_ms = std::ceil((allowed_at - now) * 1000 - 1e-6);
  return wait_ms > 0 ? duration(static_cast<duration::rep>(wait_ms)) : duration(0);
}

void run_time_estimate::add(double seconds) {
  if (!(seconds >= 0)) return;  // NaN or negative: a clock that jumped, not a run time
  samples_[count_++ % window] = seconds;
}

std::optional<duration> run_time_estimate::typical() const {
  const std::size_t n = std::min(count_, window);
  if (n < min_samples) return std::nullopt;
  std::vector<double> sorted(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(n));
  auto tenth = sorted.begin() + static_cast<std::ptrdiff_t>(n / 10);
  std::nth_element(sorted.begin(), tenth, sorted.end());
  return std::chrono::duration_cast<duration>(std::chrono::duration<double>(*tenth));
}

}  // namespace soundtrackd::queue
