// The daemon's HTTP server (health, metrics, the job API, the dashboard): Beast on the daemon's
// own io_context, one coroutine per connection, routes from a table. Every read and write has
// a deadline and every request a size limit, so slow or hostile clients cannot hold the loop.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "soundtrackd/util/log.hpp"

namespace soundtrackd::http {

struct server_request {
  std::string method;  // HEAD arrives as GET; the server drops the body of the reply
  std::string target;  // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::map<std::string, std::string, std::less<>> params;  // the route's {name} segments (decoded)

  std::string_view path() const;   // target without the query
  std::string_view query() const;  // after '?', "" when none
  // The first header of that name (case-insensitive), "" when absent.
  std::string_view header(std::string_view name) const;
  // The decoded value of a query parameter, nullopt when absent.
  std::optional<std::string> query_param(std::string_view name) const;
};

struct server_reply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body{};
  std::vector<std::pair<std::string, std::string>> headers{};  // beyond Content-Type/Length
  // A streamed body (audio): when set, `body` is ignored and `content_length` bytes are sent
  // as next_chunk() returns them; it returns "" at the end (or throws: the connection closes).
  std::function<boost::asio::awaitable<std::string>()> next_chunk{};
  std::uint64_t content_length = 0;
};

// {"error": message} (and "field" when given) with `status`.
server_reply json_error(unsigned status, const std::string& message, const std::string& field = {});

// A single byte range of a Range header, resolved against the body's size: [first, last].
struct byte_range {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};

enum class range_kind { none, satisfiable, unsatisfiable };

// "bytes=0-99", "bytes=100-", "bytes=-500" against a body of `size` bytes; `out` is set when
// satisfiable. Several ranges or a malformed header give `none` (send the whole body, as RFC
// 9110 allows); a range starting at or beyond the end gives `unsatisfiable` (416).
range_kind parse_range(std::string_view header, std::uint64_t size, byte_range& out);

using route_handler = std::function<boost::asio::awaitable<server_reply>(const server_request&)>;

// Who may call a route: `token` routes need the bearer token (header or cookie) when one is
// configured; `open` routes (the dashboard's static files, the login) never do.
enum class route_access { token, open };

// The route table. A pattern is a path whose segments are literal, `{name}` (one segment,
// handed to the handler in params), or a final `*` (the rest of the path, in params["*"]).
// The first route added that matches wins.
class router {
 public:
  void add(std::string method, const std::string& pattern, route_handler handler,
           route_access access = route_access::token);

  struct match {
    const route_handler* handler = nullptr;  // nullptr: no route for this method and path
    route_access access = route_access::token;
    std::map<std::string, std::string, std::less<>> params;
    bool path_known = false;  // some route has this path, with another method (405)
  };
  match find(std::string_view method, std::string_view path) const;

 private:
  struct route {
    std::string method;
    std::vector<std::string> segments;
    route_handler handler;
    route_access access;
  };
  std::vector<route> routes_;
};

struct server_limits {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 64 * 1024;  // JSON requests only; nothing uploads audio
  // From a request's first byte to its last: a client trickling bytes is cut off at this.
  std::chrono::milliseconds read_timeout{10'000};
  // A keep-alive connection waiting for its next request.
  std::chrono::milliseconds idle_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};  // per chunk written
  // Beyond this, a new connection closes the one idle the longest, or is closed itself
  // when every connection is busy with a request.
  std::size_t max_connections = 512;
};

class status_server {
 public:
  // `listen` is "host:port" or "[v6]:port" (port 0: any free port). With a non-empty
  // `token`, `token` routes need "Authorization: Bearer <token>" or the cookie
  // soundtrackd_token=<token> (set by POST /v1/session). Binds at once: throws
  // std::runtime_error naming the address when it cannot.
  status_server(boost::asio::any_io_executor executor, const std::string& listen, std::string token,
                std::shared_ptr<const router> routes, server_limits limits, logger_ptr log);
  ~status_server();

  std::string address() const;  // "http://127.0.0.1:8080"
  void start();
  void stop();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace soundtrackd::http
