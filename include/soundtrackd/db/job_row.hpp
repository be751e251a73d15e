// A row of the jobs table as the daemon and the CLI see it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "soundtrackd/util/time.hpp"

namespace soundtrackd::db {

enum class job_status { queued, submitting, running, downloading, succeeded, failed, cancelled };

std::string_view to_string(job_status s);
std::optional<job_status> parse_job_status(std::string_view s);

// What a user writes: the generation request.
struct job_request {
  std::string prompt;
  std::string lyrics;
  bool is_instrumental = false;
  bool lyrics_optimizer = false;
  std::int64_t sample_rate = 44100;
  std::int64_t bitrate = 256000;
  std::int64_t priority = 0;
  std::optional<std::string> batch;
  std::optional<std::string> name;
  std::optional<epoch_seconds> run_after;
  std::optional<int> max_attempts;
};

struct job_row {
  std::int64_t id = 0;
  job_request request;
  job_status status = job_status::queued;
  int attempts = 0;
  std::optional<std::string> remote_job_id;
  std::optional<std::string> last_error;
  epoch_seconds created_at = 0;
  std::optional<epoch_seconds> updated_at;
  std::optional<epoch_seconds> submitted_at;
  std::optional<epoch_seconds> finished_at;
  std::optional<epoch_seconds> next_attempt_at;
  std::optional<double> progress;
  std::optional<double> cost_cu;
  // When a person last retried the row (a `retried` event, soundtrackctl retry); filled by
  // job_store::unfinished(). A resumed remote job gets a fresh job_timeout from then.
  std::optional<epoch_seconds> retried_at;
};

// A downloaded, verified track waiting to be copied into assets: in memory when it is small,
// else in a staging file.
struct staged_asset {
  std::string remote_asset_id;
  std::string mime_type;
  std::string path;  // staging file, unless `bytes` holds the track
  std::uint64_t size_bytes = 0;
  std::string sha256;                // lowercase hex
  std::optional<std::string> bytes;  // the track itself, when it was small enough to keep
};

struct asset_row {
  std::int64_t id = 0;
  std::int64_t job_id = 0;
  std::string remote_asset_id;
  std::string mime_type;
  std::uint64_t size_bytes = 0;
  std::string sha256;
  epoch_seconds created_at = 0;
};

}  // namespace soundtrackd::db
