// One outbound HTTP/1.1 connection (plain, TLS, or TLS through a proxy tunnel) and the
// words its failures are reported with.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "soundtrackd/http/client.hpp"
#include "soundtrackd/http/proxy.hpp"
#include "soundtrackd/http/url.hpp"
#include "soundtrackd/util/result.hpp"
#include "soundtrackd/util/time.hpp"
#include "tls_socket.hpp"

namespace soundtrackd::http {

namespace beast = boost::beast;
namespace net = boost::asio;
using error_code = boost::system::error_code;

using request_message = beast::http::request<beast::http::string_body>;
using string_parser = beast::http::response_parser<beast::http::string_body>;
using buffer_parser = beast::http::response_parser<beast::http::buffer_body>;

// The largest body read() holds in memory; downloads stream instead.
inline constexpr std::uint64_t max_in_memory_body = 16 * 1024 * 1024;

// How a response held in memory is parsed, apart from the I/O: read() limits its parser
// with limit_in_memory(), send() turns the finished message into a `response`. The fuzz
// target (tests/fuzz/fuzz_http_response.cpp) feeds bytes through the same two steps.
void limit_in_memory(string_parser& parser);
response response_from(string_parser& parser);

// When an operation must be done, and the configured limit that set it: messages name the
// limit ("timed out after 30s"), not whatever happened to be left of it.
struct deadline {
  std::chrono::steady_clock::time_point at;
  duration limit{};

  static deadline after(duration d) { return {std::chrono::steady_clock::now() + d, d}; }
  // The earlier of two deadlines: a connect gets connect_timeout, unless the request
  // itself ends sooner.
  static deadline earliest(const deadline& a, const deadline& b) { return b.at < a.at ? b : a; }
};

// What was going on when an I/O error happened.
enum class io_step { resolve, connect, proxy_tunnel, tls_handshake, write_request, read_response };

// "connect to api.example.com:443 timed out after 10s", "connection reset by
// 127.0.0.1:8443 while reading the response", "cannot resolve api.example.com: Host not
// found". `peer` is "host:port" ("proxy host:port" for the proxy's own steps).
std::string describe_io_error(io_step step, std::string_view peer, const error_code& ec, duration limit);

class connection {
 public:
  struct endpoint {
    net::any_io_executor executor;  // the client's: every socket and timer lives on it
    const url_target& target;
    const proxy_endpoint* proxy;  // nullptr: direct
    net::ssl::context& tls;
    std::string_view user_agent;  // for the CONNECT request
  };

  // Resolves, connects, opens the proxy tunnel and completes the TLS handshake (for
  // https), all within `limit`. The error names the step and the peer.
  static net::awaitable<result<std::unique_ptr<connection>>> open(endpoint to, deadline limit);

  explicit connection(beast::tcp_stream stream);
  explicit connection(tls_socket stream);

  // Each operation ends by `limit`; a timeout comes back as beast::error::timeout, and
  // the connection is then unusable.
  net::awaitable<error_code> write(const request_message& msg, const deadline& limit);
  // The whole response, for bodies held in memory: at most max_in_memory_body bytes.
  net::awaitable<error_code> read(string_parser& parser, const deadline& limit);
  // Just the header, for bodies streamed in chunks with read_body().
  net::awaitable<error_code> read_header(buffer_parser& parser, const deadline& limit);
  // Fills the parser's body buffer, or reads to the end of the message if that comes first.
  net::awaitable<error_code> read_body(buffer_parser& parser, const deadline& limit);

  // Whether an idle connection can take another request: the peer has not closed it and
  // has sent nothing unasked. Never blocks.
  bool reusable_after_idle();
  // No bytes beyond the last response were received (they would be misread as the next one).
  bool drained() const { return buffer_.size() == 0; }

 private:
  // Arms the stream's timer for `limit`, then starts `operation` on whichever stream this is.
  template <class Operation>
  auto with_deadline(const deadline& limit, Operation operation);

  std::variant<beast::tcp_stream, tls_socket> stream_;
  // Kept across requests: keep-alive reuses its storage. Bounded: headers are capped by
  // the parser (8 KiB) and bodies pass through in reads of at most 64 KiB.
  beast::flat_buffer buffer_{1024 * 1024};
  // The capacity buffer_ starts with, which is how much each read asks for: Beast reads as
  // much as the buffer has room for, and a flat_buffer whose reads are all consumed never
  // grows. Left at its first 512 bytes, scenario 1 made ~50 reads a job. 4 KiB takes most
  // API answers in one read (a 20 KB track in five) at no cost in peak RSS; 16 KiB (a whole
  // TLS record) cost ~0.8 MB of it for little more (docs/performance.md).
  static constexpr std::size_t read_size = 4 * 1024;
};

}  // namespace soundtrackd::http
