// What the Scenario API says, as plain data: submitted jobs, job states, assets, errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "soundtrackd/util/result.hpp"
#include "soundtrackd/util/time.hpp"

namespace soundtrackd::scenario {

// How a failed call should be handled; decided in one place (errors.cpp).
enum class error_kind {
  transient,     // 5xx, timeouts, resets, truncated downloads, malformed JSON: retry this step
  rate_limited,  // 429: wait, slow everyone down; consumes no retry budget
  permanent,     // 400/404/422 for this request, remote failure: the row fails
  global,        // 401/403 from the API, out of credits (402): pause the whole queue
  url_expired,   // 403/404/410 from the CDN: fetch the asset again for a fresh URL
};

struct api_error {
  error_kind kind = error_kind::transient;
  unsigned http_status = 0;  // 0: no HTTP answer (transport failure)
  // Names the call and what went wrong, never credentials or signed query strings:
  // "HTTP 503 from POST /generate/custom/model_minimax-music-2-6: upstream unavailable".
  std::string message;
  std::optional<duration> retry_after;
  std::optional<int> action_limit;  // 429 naming the team's concurrent-job ceiling
};

template <class T>
using api_result = result<T, api_error>;

struct submitted_job {
  std::string job_id;
  std::optional<double> cost_cu;
};

// Remote statuses: pending, warming-up, queued, in-progress, finalizing (keep waiting),
// success, failure/failed, canceled (terminal). Unknown ones count as still running.
enum class remote_state { running, succeeded, failed, canceled };
remote_state classify_remote_status(const std::string& status);
bool is_known_remote_status(const std::string& status);

struct remote_job {
  std::string job_id;
  std::string status;  // as the API spelled it
  double progress = 0;
  std::vector<std::string> asset_ids;
  std::string error;  // metadata.error
  std::string hint;   // metadata.hint
  // How long the job ran, by the API's own clock: statusHistory's first date to its
  // "success" date. Only for a succeeded job whose history has both.
  std::optional<double> run_seconds;
};

struct asset_info {
  std::string id;
  std::string url;  // signed CDN URL: never logged with its query string
  std::string mime_type;
  std::optional<std::uint64_t> size;
};

}  // namespace soundtrackd::scenario
