// Retry delays (exponential backoff with full jitter), the API token bucket, and the typical
// run time of remote jobs (all pure).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>

#include "soundtrackd/util/time.hpp"

namespace soundtrackd::queue {

// The delay before retry number `failures` (1-based): a uniform draw from
// [0, min(max, base * 2^(failures-1))], with `random01` in [0, 1). Full jitter spreads a
// thundering herd of retries after an outage.
duration backoff_delay(duration base, duration max, int failures, double random01);

// Generic cell rate algorithm: requests at `rate` per second with bursts of `burst`.
// Pure: the caller supplies the time (seconds on a monotonic clock) and waits the result.
class token_bucket {
 public:
  token_bucket(double rate_per_second, double burst);

  // Reserves the next slot; returns how long the caller must wait before using it.
  duration reserve(double now);
  void set_rate(double rate_per_second);
  double rate() const { return rate_; }

 private:
  double rate_;
  double burst_;
  double theoretical_arrival_ = 0;  // when the bucket would be empty again
};

// How long remote jobs typically run, from the ones that finished lately: the 10th
// percentile of the last `window` run times, so nine jobs in ten are still running then. The
// first poll of a new job waits for it (job_fsm::on_submitted): a job nobody can expect
// sooner is not asked about sooner.
class run_time_estimate {
 public:
  static constexpr std::size_t window = 64;
  static constexpr std::size_t min_samples = 8;  // fewer say little about the next job

  void add(double seconds);
  // Nothing until min_samples run times are known.
  std::optional<duration> typical() const;

 private:
  std::array<double, window> samples_{};
  std::size_t count_ = 0;  // samples added so far; the newest replaces the oldest
};

}  // namespace soundtrackd::queue
