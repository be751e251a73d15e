// The emulated Scenario API without any I/O: a request in, a decision on how to answer out.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cdn.hpp"
#include "endpoint.hpp"
#include "faults.hpp"
#include "jobs.hpp"
#include "options.hpp"

namespace soundtrackd::emulator {

struct api_request {
  std::string_view method;
  std::string_view target;  // origin form: path and query
  std::optional<std::string_view> authorization;
  std::string_view body;
};

struct api_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string retry_after;  // sent as Retry-After when not empty
  std::string location;     // sent as Location when not empty
};

// What the connection should do with a request.
struct reply {
  enum class kind {
    respond,       // send `response`
    stream_asset,  // send the bytes of `asset_id` (`asset_size` of them, or half if `truncate`)
    drop,          // close the connection without a word
  };
  kind action = kind::respond;
  api_response response;
  std::string asset_id;
  std::uint64_t asset_size = 0;
  bool truncate = false;
  bool overlong = false;               // send the asset and as many bytes again after what was announced
  bool endless = false;                // no Content-Length; bytes until the client closes
  std::chrono::milliseconds delay{0};  // wait this long before acting
};

class emulated_api {
 public:
  explicit emulated_api(api_settings settings);

  // Where signed CDN URLs point, e.g. "https://127.0.0.1:41234"; known once the server is bound.
  // scheme://host:port that asset URLs name.
  void set_cdn_origin(std::string origin) { cdn_origin_ = std::move(origin); }

  reply handle(const api_request& request, clock::time_point now);

 private:
  api_response generate(std::string_view body, bool dry_run, std::string project_id, clock::time_point now);
  api_response get_job(std::string_view job_id, clock::time_point now, bool fail_remotely = false);
  api_response get_asset(std::string_view asset_id, clock::time_point now);
  api_response get_bulk(std::string_view body, clock::time_point now);
  api_response job_action(std::string_view job_id, clock::time_point now);
  reply cdn_download(std::string_view file_name, std::string_view expires, std::string_view signature,
                     clock::time_point now) const;
  api_response control(std::string_view method, std::string_view action, std::string_view body, bool summary,
                       clock::time_point now);
  api_response stats(bool summary, clock::time_point now);
  api_response configure(std::string_view body);

  bool authorized(const api_request& request) const;
  std::string signed_url(std::string_view asset_id, clock::time_point now) const;

  api_settings settings_;
  std::string expected_credentials_;  // base64("key:secret"), as sent after "Basic "
  std::string cdn_origin_;
  job_registry jobs_;
  fault_plan faults_;
  url_signer signer_;
  std::array<std::uint64_t, endpoint_count> request_counts_{};
  std::uint64_t submits_ = 0;
  std::uint64_t cdn_requests_with_credentials_ = 0;
  // Jobs a remote_failure fault has failed, and when: they stay failed.
  std::map<std::string, clock::time_point, std::less<>> failed_jobs_;
};

}  // namespace soundtrackd::emulator
