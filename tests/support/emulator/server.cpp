// HTTP/1.1 plumbing of the emulator: accept loop, TLS handshake, keep-alive request loop,
// streamed asset downloads and the connection-level faults (drop, truncate, delay).
#include "server.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cstdio>
#include <exception>
#include <optional>
#include <stdexcept>
#include <vector>

namespace soundtrackd::emulator {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Routine network failures (a peer that hangs up, a timeout) come back as error codes, not exceptions.
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// Long enough for any test or benchmark client between two requests, short enough that
// abandoned connections do not pile up over a long benchmark.
constexpr auto idle_timeout = std::chrono::seconds(60);
constexpr auto handshake_timeout = std::chrono::seconds(10);
constexpr auto write_timeout = std::chrono::seconds(30);
constexpr std::size_t download_chunk_size = 32 * 1024;
// Far above any valid request (2000 + 3500 characters, or 200 asset ids).
constexpr std::uint64_t max_request_body = 1024 * 1024;

void log_line(const std::string& line) {
  // One fwrite per line: stderr is unbuffered, so this keeps lines whole and costs one syscall.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

auto log_failure(std::string what) {
  return [what = std::move(what)](std::exception_ptr failure) {
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      log_line("scenario-emulator: " + what + " failed: " + e.what() + '\n');
    }
  };
}

template <class Stream>
asio::awaitable<bool> send_response(Stream& stream, const http::request<http::string_body>& request,
                                    const api_response& answer) {
  http::response<http::string_body> response{static_cast<http::status>(answer.status), request.version()};
  response.set(http::field::server, "scenario-emulator");
  response.set(http::field::content_type, answer.content_type);
  if (!answer.retry_after.empty()) response.set(http::field::retry_after, answer.retry_after);
  if (!answer.location.empty()) response.set(http::field::location, answer.location);
  response.body() = answer.body;
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  beast::get_lowest_layer(stream).expires_after(write_timeout);
  auto [ec, written] = co_await http::async_write(stream, response, use_nothrow);
  co_return !ec;
}

// Streams an asset in chunks generated on the fly: a 50 MB download costs one chunk of memory.
// With `truncate`, the header still promises every byte but the connection ends halfway,
// as when a CDN edge fails mid-transfer.
template <class Stream>
asio::awaitable<bool> send_asset(Stream& stream, const http::request<http::string_body>& request, const reply& r) {
  http::response<http::empty_body> header{http::status::ok, request.version()};
  header.set(http::field::server, "scenario-emulator");
  header.set(http::field::content_type, "audio/mpeg");
  // `endless`: no length, so the body runs until the connection closes (HTTP/1.1 section 6.3).
  if (!r.endless) header.set(http::field::content_length, std::to_string(r.asset_size));
  header.keep_alive(request.keep_alive());
  http::response_serializer<http::empty_body> serializer{header};
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_after(write_timeout);
  if (auto [ec, n] = co_await http::async_write_header(stream, serializer, use_nothrow); ec) co_return false;

  std::uint64_t to_send = r.truncate ? r.asset_size / 2 : r.asset_size;
  if (r.overlong) to_send = 2 * r.asset_size;
  if (r.endless) to_send = std::uint64_t{4} << 30;  // far beyond any test's cap; the client hangs up first
  // The first asset_size bytes are the asset; whatever follows is more of the same keystream.
  asset_content content(r.asset_id, std::max(r.asset_size, to_send));
  std::vector<char> chunk(download_chunk_size);
  while (to_send > 0) {
    auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), to_send));
    auto n = content.read(std::span(chunk.data(), wanted));
    tcp_layer.expires_after(write_timeout);
    if (auto [ec, written] = co_await asio::async_write(stream, asio::buffer(chunk.data(), n), use_nothrow); ec)
      co_return false;
    to_send -= n;
  }
  co_return !r.truncate && !r.overlong && !r.endless;
}

// Ends a connection politely: TLS close_notify, or a TCP half-close so the client reads EOF
// after the last response rather than a reset.
asio::awaitable<void> close_gracefully(beast::tcp_stream& stream) {
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  co_return;
}

asio::awaitable<void> close_gracefully(beast::ssl_stream<beast::tcp_stream>& stream) {
  beast::get_lowest_layer(stream).expires_after(handshake_timeout);
  co_await stream.async_shutdown(use_nothrow);
}

// Reads one request. Answers "Expect: 100-continue" (which curl and other libraries send before
// a large body, stalling a second without it) before reading the body.
template <class Stream>
asio::awaitable<std::optional<http::request<http::string_body>>> read_request(Stream& stream,
                                                                              beast::flat_buffer& buffer) {
  http::request_parser<http::string_body> parser;
  parser.body_limit(max_request_body);
  beast::get_lowest_layer(stream).expires_after(idle_timeout);
  if (auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_nothrow); ec) co_return std::nullopt;
  if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
    http::response<http::empty_body> proceed{http::status::continue_, parser.get().version()};
    beast::get_lowest_layer(stream).expires_after(write_timeout);
    if (auto [ec, n] = co_await http::async_write(stream, proceed, use_nothrow); ec) co_return std::nullopt;
  }
  beast::get_lowest_layer(stream).expires_after(idle_timeout);
  if (auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_nothrow); ec) co_return std::nullopt;
  co_return parser.release();
}

std::string describe(const reply& decision) {
  switch (decision.action) {
    case reply::kind::respond:
      return std::to_string(decision.response.status);
    case reply::kind::stream_asset:
      if (decision.overlong) return "200 (overlong)";
      if (decision.endless) return "200 (endless)";
      return decision.truncate ? "200 (truncated)" : "200";
    case reply::kind::drop:
      return "dropped";
  }
  return "?";
}

// The keep-alive loop of one connection: read a request, let the API decide, act on it.
template <class Stream>
asio::awaitable<void> serve_requests(Stream& stream, emulated_api& api, bool log_requests) {
  beast::flat_buffer buffer;
  for (;;) {
    // Nothing sensible to answer after a reset, a timeout, garbage or the client's last request.
    auto request = co_await read_request(stream, buffer);
    if (!request) co_return;

    std::optional<std::string_view> authorization;
    if (auto found = request->find(http::field::authorization); found != request->end()) authorization = found->value();
    auto decision =
        api.handle({request->method_string(), request->target(), authorization, request->body()}, clock::now());

    if (decision.delay.count() > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor, decision.delay);
      co_await timer.async_wait(use_nothrow);
    }
    if (log_requests)
      log_line(std::string(request->method_string()) + ' ' + std::string(request->target()) + " -> " +
               describe(decision) + '\n');

    bool sent = false;
    switch (decision.action) {
      case reply::kind::drop:
        co_return;  // the socket closes as the coroutine ends, no answer
      case reply::kind::respond:
        sent = co_await send_response(stream, *request, decision.response);
        break;
      case reply::kind::stream_asset:
        sent = co_await send_asset(stream, *request, decision);
        break;
    }
    if (!sent) co_return;
    if (!request->keep_alive()) break;
  }
  co_await close_gracefully(stream);
}

}  // namespace

server::server(asio::io_context& io, emulated_api& api, const emulator_options& options)
    : io_(io), api_(api), acceptor_(io), log_requests_(!options.quiet) {
  // The address was checked at parse time; checked again here because binding anything but
  // loopback would expose an API that accepts well-known test credentials.
  if (!options.listen_address.is_loopback())
    throw std::invalid_argument("refusing to listen on non-loopback address " + options.listen_address.to_string());
  tcp::endpoint endpoint(options.listen_address, options.listen_port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  // Benchmarks open thousands of connections at once; do not let the backlog refuse them.
  acceptor_.listen(asio::socket_base::max_listen_connections);

  if (options.tls) {
    tls_.emplace(asio::ssl::context::tls_server);
    SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    tls_->use_certificate_chain_file(options.tls->cert_file.string(), ec);
    if (ec)
      throw std::runtime_error("cannot load TLS certificate chain " + options.tls->cert_file.string() + ": " +
                               ec.message());
    tls_->use_private_key_file(options.tls->key_file.string(), asio::ssl::context::pem, ec);
    if (ec)
      throw std::runtime_error("cannot load TLS private key " + options.tls->key_file.string() + ": " + ec.message());
  }
}

std::string server::origin() const {
  auto address = acceptor_.local_endpoint().address();
  auto host = address.is_v6() ? '[' + address.to_string() + ']' : address.to_string();
  return std::string(tls_ ? "https" : "http") + "://" + host + ':' + std::to_string(port());
}

void server::start() { asio::co_spawn(io_, accept_connections(), log_failure("accept loop")); }

void server::stop() {
  beast::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> server::accept_connections() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_nothrow);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) {
      // Typically out of file descriptors under a benchmark: pause instead of spinning.
      log_line("scenario-emulator: accept failed: " + ec.message() + '\n');
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_nothrow);
      continue;
    }
    asio::co_spawn(io_, run_connection(std::move(socket)), log_failure("connection"));
  }
}

asio::awaitable<void> server::run_connection(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  if (!tls_) {
    co_await serve_requests(stream, api_, log_requests_);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(stream), *tls_);
  beast::get_lowest_layer(tls_stream).expires_after(handshake_timeout);
  auto [ec] = co_await tls_stream.async_handshake(asio::ssl::stream_base::server, use_nothrow);
  if (ec) {
    if (log_requests_) log_line("scenario-emulator: TLS handshake failed: " + ec.message() + '\n');
    co_return;
  }
  co_await serve_requests(tls_stream, api_, log_requests_);
}

}  // namespace soundtrackd::emulator
