// Runs scenario-emulator for a test: start on a free loopback port, talk to it with curl, stop it.
#pragma once

#include <sys/types.h>

#include <boost/json/value.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace soundtrackd::test {

struct emulator_options {
  bool tls = false;
  std::filesystem::path cert_file, key_file;  // the server's certificate and key (make_test_ca)
  std::filesystem::path ca_file;              // what curl trusts when talking to it over TLS
  std::string job_duration = "1s";
  std::string url_ttl = "60s";
  std::uint64_t asset_size = 20000;
  int assets_per_job = 1;
  std::string api_key = "test-key";
  std::string api_secret = "test-secret";
  std::vector<std::string> extra_args;  // passed to the emulator as they are, e.g. "--quiet"
};

// Whether a request carries the emulator's API key and secret (Basic auth).
enum class credentials { none, api_key };

struct http_reply {
  int curl_exit_code = 0;  // 0, or why no full answer came (52: empty reply, 18: partial body, ...)
  int status = 0;          // 0 when no answer came
  std::string headers;     // the raw response header block
  std::string body;
  std::string curl_error;  // curl's message when curl_exit_code != 0

  // The value of a response header (case-insensitive name), empty if absent.
  std::string header(const std::string& name) const;
};

// One request with curl (no proxy, 10 s at most); its files go to `scratch`. A non-empty body
// is sent as application/json unless `extra_curl_args` set a Content-Type header.
http_reply curl_request(const std::filesystem::path& scratch, const std::string& method, const std::string& url,
                        const std::string& body = {}, const std::vector<std::string>& extra_curl_args = {});

// Starts EMULATOR_BIN on 127.0.0.1:0 and waits for its "listening on" line; stops it
// (SIGTERM, then SIGKILL) on destruction. Its request log goes to the test's stderr.
class emulator_process {
 public:
  explicit emulator_process(emulator_options options = {});
  ~emulator_process();
  emulator_process(const emulator_process&) = delete;
  emulator_process& operator=(const emulator_process&) = delete;

  std::string base_url() const { return origin_ + "/v1"; }  // e.g. "https://127.0.0.1:41234/v1"
  std::string origin() const { return origin_; }            // e.g. "https://127.0.0.1:41234"
  unsigned short port() const { return port_; }
  const emulator_options& options() const { return options_; }

  // GET /_emulator/stats (full, with the jobs list).
  boost::json::value stats() const;
  // POST /_emulator/faults: replaces the fault rules; throws if the emulator refuses them.
  void set_faults(const std::string& json_array) const;
  // POST /_emulator/config, e.g. R"({"url_ttl_ms": 1000})".
  void configure(const std::string& json_object) const;
  // POST /_emulator/reset: forget jobs, statistics and faults.
  void reset() const;

  // One request with curl, trusting options().ca_file under TLS. `url` is absolute, e.g.
  // base_url() + "/jobs/job_1" or an asset's CDN URL; `extra_curl_args` go before it.
  http_reply get(const std::string& url, credentials auth = credentials::none,
                 const std::vector<std::string>& extra_curl_args = {}) const;
  http_reply post(const std::string& url, const std::string& json_body, credentials auth = credentials::none) const;

 private:
  http_reply curl(const std::string& method, const std::string& url, const std::string& body, credentials auth,
                  const std::vector<std::string>& extra_curl_args) const;
  void post_control(const std::string& action, const std::string& body) const;
  void stop();

  emulator_options options_;
  temp_dir scratch_;  // curl's request and response files
  pid_t pid_ = -1;
  std::string origin_;
  unsigned short port_ = 0;
};

}  // namespace soundtrackd::test
