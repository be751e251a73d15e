// The Scenario API as the daemon uses it: submit, poll, resolve an asset, download it.
// Every answer comes back as a value or a classified api_error; nothing throws for I/O.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>

#include "soundtrackd/db/job_row.hpp"
#include "soundtrackd/http/client.hpp"
#include "soundtrackd/scenario/errors.hpp"
#include "soundtrackd/scenario/types.hpp"

namespace soundtrackd::scenario {

struct api_settings {
  std::string base_url;  // "https://api.cloud.scenario.com/v1"
  std::string model;
  std::string project_id;
  duration request_timeout = std::chrono::seconds(30);
  duration download_timeout = std::chrono::minutes(5);
};

// A downloaded file, verified against what the API and the CDN said about it.
struct downloaded_file {
  std::string path;                  // where the bytes are, unless they are in `bytes`
  std::optional<std::string> bytes;  // a small download, kept in memory
  std::string mime_type;
  std::uint64_t size = 0;
  std::string sha256;
};

// How long API calls took (answered or not), as a Prometheus histogram, per call.
struct latency_histogram {
  static constexpr std::array<double, 10> bounds = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};  // seconds
  std::array<std::int64_t, bounds.size()> counts{};  // calls that took <= bounds[i] (not cumulative)
  std::int64_t count = 0;
  double sum = 0;
  void observe(double seconds);
};

struct api_latency {
  latency_histogram generate, get_job, get_asset, get_bulk;
};

class api_client {
 public:
  api_client(http::client& http, api_settings settings);

  boost::asio::awaitable<api_result<submitted_job>> submit(const db::job_request& request);
  boost::asio::awaitable<api_result<double>> estimate(const db::job_request& request);
  boost::asio::awaitable<api_result<remote_job>> get_job(const std::string& job_id);
  boost::asio::awaitable<api_result<asset_info>> get_asset(const std::string& asset_id);
  // POST /assets/get-bulk: the assets the API found among `asset_ids` (at most 200: the
  // caller, asset_lookup, keeps to that), in any order; ids it does not know are left out.
  boost::asio::awaitable<api_result<std::vector<asset_info>>> get_assets(const std::vector<std::string>& asset_ids);
  // Downloads the asset, into memory when it is at most `memory_limit` bytes and streamed to
  // `file` otherwise, and verifies it: non-empty, the size the asset reported (when it did),
  // an audio MIME type.
  boost::asio::awaitable<api_result<downloaded_file>> download(const asset_info& asset, const std::string& file,
                                                               std::uint64_t memory_limit);

  // "POST /generate/custom/model_x": how calls are named in messages (no host, no query).
  std::string generate_call() const;

  const api_latency& latency() const { return latency_; }

 private:
  // One API call: transport failures and non-2xx answers come back classified.
  boost::asio::awaitable<api_result<http::response>> exchange(call kind, const std::string& what,
                                                              http::request request);
  http::request make_request(std::string method, std::string url, std::string body) const;
  std::string url_for(const std::string& path, bool dry_run = false) const;

  http::client& http_;
  api_settings settings_;
  std::string path_prefix_;  // the base URL's path, as calls are named in messages
  api_latency latency_;
};

}  // namespace soundtrackd::scenario
