// Retry delays (exponential backoff with full jitter) and the API token bucket (pure).
#pragma once

#include <algorithm>

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

}  // namespace soundtrackd::queue
