// Error classification for every Scenario API and CDN answer, and parsing of their bodies.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "soundtrackd/scenario/types.hpp"

namespace soundtrackd::scenario {

// Which call an answer belongs to; the same status means different things per call.
enum class call { generate, get_job, get_asset, get_bulk, download };

// "transient", "rate_limited", ...: the outcome label of the metrics.
std::string_view to_string(error_kind kind);

// A non-2xx answer. `what` is "POST /generate/custom/model_x" (path only, no query).
// `retry_after` is the header verbatim (delta-seconds or HTTP-date), `now` for the date.
api_error classify_http_error(call c, std::string_view what, unsigned status, std::string_view body,
                              const std::optional<std::string>& retry_after, epoch_seconds now);

// A transport failure (no HTTP answer): always transient.
api_error classify_transport_error(std::string_view what, std::string_view message);

// The human text of an error body: `reason`, `message`, `error` or `details`, in that order;
// the body itself (shortened) when it is not JSON.
std::string error_text(std::string_view body);

// Retry-After as a delay: "120" or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT").
std::optional<duration> parse_retry_after(std::string_view value, epoch_seconds now);

}  // namespace soundtrackd::scenario
