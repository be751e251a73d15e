// The emulated remote state: generation jobs that progress with time and the assets they produce.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "options.hpp"

namespace soundtrackd::emulator {

using clock = std::chrono::system_clock;

// A validated generate request with the API's defaults filled in.
struct generation_request {
  std::string prompt;
  std::string lyrics;
  bool is_instrumental = false;
  bool lyrics_optimizer = false;
  std::int64_t sample_rate = 44100;
  std::int64_t bitrate = 256000;
  std::string project_id;  // empty when the query had none
};

enum class job_status { pending, queued, in_progress, success };
std::string_view name_of(job_status status);

struct asset_record {
  std::string id;
  std::string job_id;
  std::uint64_t size = 0;
  std::string sha256;
};

struct job_record {
  std::string id;
  generation_request request;
  clock::time_point submitted_at;
  std::chrono::milliseconds duration{0};  // settings at submit time, so a config change affects only new jobs
  std::uint64_t asset_size = 0;
  int asset_count = 0;
  std::int64_t cost = 0;
  job_status status = job_status::pending;
  std::vector<std::string> asset_ids;  // filled when the job succeeds

  // Where the job stands at `now`: its status follows the elapsed fraction of `duration`.
  job_status status_at(clock::time_point now) const;
  double progress_at(clock::time_point now) const;  // 0..1
  // When the job entered `s` (it may still be in the future).
  clock::time_point entered_at(job_status s) const;
};

class job_registry {
 public:
  job_registry();

  struct submission {
    const job_record& job;
    bool duplicate;  // the same normalized request was accepted before
  };
  submission submit(generation_request request, const api_settings& settings, clock::time_point now);

  // The job brought up to date with `now` (creating its assets when it has just succeeded),
  // or nullptr for an unknown id.
  const job_record* observe(std::string_view job_id, clock::time_point now);
  // Every job, in submission order, brought up to date with `now`.
  const std::vector<job_record>& observe_all(clock::time_point now);

  const asset_record* find_asset(std::string_view asset_id) const;

  std::size_t duplicate_submits() const { return duplicate_submits_; }
  void clear();

 private:
  void advance(job_record& job, clock::time_point now);
  std::string random_id(std::string_view prefix);

  // Lets the maps be searched with the string_view taken from a request path, without a copy.
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  template <class Value>
  using string_map = std::unordered_map<std::string, Value, string_hash, std::equal_to<>>;

  std::vector<job_record> jobs_;
  string_map<std::size_t> job_index_;  // job id -> position in jobs_
  string_map<asset_record> assets_;
  std::unordered_set<std::string> accepted_requests_;
  std::size_t duplicate_submits_ = 0;
  std::mt19937_64 random_;
};

}  // namespace soundtrackd::emulator
