// The HTTP(S) client every outbound call goes through: Beast over OpenSSL with peer and
// host-name verification, SNI, a pool of keep-alive connections per host, a deadline on
// every operation, bounded redirects, and downloads streamed to a file while hashed.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "soundtrackd/util/result.hpp"
#include "soundtrackd/util/time.hpp"

namespace soundtrackd::http {

struct client_options {
  std::string user_agent = "soundtrackd";
  std::string ca_file;  // extra trusted CA bundle (PEM), on top of the system store
  duration connect_timeout = std::chrono::seconds(10);
  int max_connections_per_host = 8;
  int max_redirects = 5;
  // Sent as "Authorization: <value>" only to this exact scheme://host:port (the API);
  // never to another host, a redirect target elsewhere, or the CDN.
  std::string authorization;
  std::string authorization_origin;  // e.g. "https://api.cloud.scenario.com:443"
  // Proxy for https:// targets, tunnelled with CONNECT ("http://[user:password@]host[:port]";
  // plain http:// goes direct), and the hosts that bypass it (comma-separated names or
  // domain suffixes, "*" for all). Loopback hosts always bypass it. When
  // proxy_from_environment is set, empty fields are taken from HTTPS_PROXY/https_proxy and
  // NO_PROXY/no_proxy.
  std::string https_proxy;
  std::string no_proxy;
  bool proxy_from_environment = true;
};

struct request {
  std::string method = "GET";                   // GET, POST
  std::string url;                              // absolute http:// or https:// URL
  std::string body;                             // sent with Content-Type: application/json when non-empty
  duration timeout = std::chrono::seconds(30);  // whole exchange: connect, write, read
};

struct response {
  unsigned status = 0;
  std::string body;  // capped at 16 MiB; larger is an error
  std::string content_type;
  std::optional<std::string> retry_after;  // the Retry-After header, verbatim
};

struct download_result {
  unsigned status = 0;  // final status after redirects
  std::string content_type;
  std::optional<std::uint64_t> content_length;
  std::uint64_t size = 0;  // bytes received (2xx only)
  std::string sha256;      // lowercase hex of those bytes (2xx only)
  // The bytes themselves when they were few enough to stay in memory (memory_limit); the
  // file was then never written. Nothing when they are in the file.
  std::optional<std::string> bytes;
  std::string error_body;  // first 4 KiB of a non-2xx body
};

// Drops the query string (signatures) from a URL for log lines and messages.
std::string redact_url(const std::string& url);

// Used from one executor (no locks); destroy it only after every send() and download()
// it started has completed.
class client {
 public:
  // Throws std::runtime_error when ca_file cannot be loaded, and std::invalid_argument
  // when the proxy or authorization_origin setting is not a usable URL.
  client(boost::asio::any_io_executor executor, client_options options);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // One request/response. Transport failures (DNS, connect, TLS, timeout, reset, EOF,
  // oversize) come back as an error whose message names the operation and the host,
  // e.g. "timed out after 30s reading the response from api.example.com:443".
  // Non-2xx statuses are a response, not an error. Redirects are not followed.
  boost::asio::awaitable<result<response>> send(request req);

  // GET `url` while computing sha256, following redirects (at most max_redirects, never
  // https -> http). A body of at most `memory_limit` bytes is kept in memory and returned
  // (download_result::bytes); a longer one goes to `file` (created or truncated, mode 0660),
  // never holding more than one buffer in memory. More than `max_bytes` is an error. A
  // non-2xx final status is a download_result with that status (nothing kept). A body
  // shorter than its Content-Length is an error ("truncated: got N of M bytes").
  boost::asio::awaitable<result<download_result>> download(std::string url, std::string file, std::uint64_t max_bytes,
                                                           duration timeout, std::uint64_t memory_limit = 0);

  // Closes idle pooled connections (shutdown).
  void close_idle();

  // Replaces the Authorization value (credentials re-read while the queue is paused); the
  // origin it is sent to does not change.
  void set_authorization(std::string authorization);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace soundtrackd::http
