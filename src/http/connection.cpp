// Opening an outbound connection (DNS, TCP, proxy CONNECT, TLS) and its reads and writes,
// each bounded by a deadline.
#include "connection.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <optional>
#include <tuple>

namespace soundtrackd::http {

namespace http = beast::http;
namespace ssl = net::ssl;
using net::ip::tcp;

namespace {

constexpr auto as_result = net::as_tuple(net::use_awaitable);

bool is_reset(const error_code& ec) {
  return ec == net::error::connection_reset || ec == net::error::broken_pipe || ec == net::error::connection_aborted;
}

bool is_closed(const error_code& ec) {
  return ec == net::error::eof || ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == ssl::error::stream_truncated;
}

// OpenSSL's reason ("certificate verify failed") without Asio's "(SSL routines)" suffix.
std::string error_text(const error_code& ec) {
  if (ec.category() == net::error::get_ssl_category()) {
    if (const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) return reason;
  }
  return ec.message();
}

std::string describe_handshake_error(tls_socket& stream, std::string_view peer, const error_code& ec, duration limit) {
  if (ec.category() != net::error::get_ssl_category())
    return describe_io_error(io_step::tls_handshake, peer, ec, limit);
  std::string text = error_text(ec);
  if (ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    if (const long verify = SSL_get_verify_result(stream.native_handle()); verify != X509_V_OK)
      text.append(" (").append(X509_verify_cert_error_string(verify)).append(")");
  }
  return "TLS handshake with " + std::string(peer) + " failed: " + text;
}

// tcp::resolver has no deadline of its own: race it against a timer.
net::awaitable<std::tuple<error_code, tcp::resolver::results_type>> resolve(const net::any_io_executor& executor,
                                                                            const url_target& host,
                                                                            const deadline& limit) {
  using namespace net::experimental::awaitable_operators;
  tcp::resolver resolver(executor);
  net::steady_timer timer(executor, limit.at);
  auto outcome = co_await (
      resolver.async_resolve(host.host, std::to_string(host.port), tcp::resolver::numeric_service, as_result) ||
      timer.async_wait(as_result));
  if (outcome.index() == 0) co_return std::get<0>(std::move(outcome));
  // The timer won: it either expired or was cancelled along with the whole request.
  const auto [ec] = std::get<1>(outcome);
  co_return std::tuple{ec ? ec : error_code(beast::error::timeout), tcp::resolver::results_type{}};
}

// Asks the proxy for a tunnel to the target (RFC 9110 section 9.3.6).
net::awaitable<std::optional<error>> open_tunnel(beast::tcp_stream& stream, const connection::endpoint& to,
                                                 const deadline& limit) {
  const std::string proxy = "proxy " + to.proxy->address.authority();
  const std::string authority = to.target.authority();

  http::request<http::empty_body> req{http::verb::connect, authority, 11};
  req.set(http::field::host, authority);
  req.set(http::field::user_agent, to.user_agent);
  if (!to.proxy->authorization.empty()) req.set(http::field::proxy_authorization, to.proxy->authorization);
  stream.expires_at(limit.at);
  if (auto [ec, n] = co_await http::async_write(stream, req, as_result); ec)
    co_return error{describe_io_error(io_step::proxy_tunnel, proxy, ec, limit.limit)};

  // A 2xx answer to CONNECT has no body (skip), and the tunnel carries nothing until our
  // TLS handshake starts, so any byte past the header means the proxy is confused.
  beast::flat_buffer buffer(16 * 1024);
  http::response_parser<http::empty_body> parser;
  parser.skip(true);
  stream.expires_at(limit.at);
  if (auto [ec, n] = co_await http::async_read(stream, buffer, parser, as_result); ec)
    co_return error{describe_io_error(io_step::proxy_tunnel, proxy, ec, limit.limit)};
  const auto& res = parser.get();
  if (res.result_int() / 100 != 2)
    co_return error{proxy + " refused CONNECT to " + authority + ": " + std::to_string(res.result_int()) + " " +
                    std::string(res.reason())};
  if (buffer.size() != 0) co_return error{proxy + " sent data before the tunnel to " + authority + " was open"};
  co_return std::nullopt;
}

}  // namespace

std::string describe_io_error(io_step step, std::string_view peer_view, const error_code& ec, duration limit) {
  const std::string peer(peer_view);
  if (ec == beast::error::timeout) {
    const std::string after = " timed out after " + format_duration(limit);
    switch (step) {
      case io_step::resolve:
        return "resolving " + peer + after;
      case io_step::connect:
        return "connect to " + peer + after;
      case io_step::proxy_tunnel:
        return "opening a tunnel through " + peer + after;
      case io_step::tls_handshake:
        return "TLS handshake with " + peer + after;
      case io_step::write_request:
        return "timed out after " + format_duration(limit) + " sending the request to " + peer;
      case io_step::read_response:
        return "timed out after " + format_duration(limit) + " reading the response from " + peer;
    }
  }
  const char* activity = "";
  switch (step) {
    case io_step::resolve:
      activity = "resolving";
      break;
    case io_step::connect:
      activity = "connecting";
      break;
    case io_step::proxy_tunnel:
      activity = "opening a tunnel";
      break;
    case io_step::tls_handshake:
      activity = "in the TLS handshake";
      break;
    case io_step::write_request:
      activity = "sending the request";
      break;
    case io_step::read_response:
      activity = "reading the response";
      break;
  }
  if (ec == net::error::operation_aborted) return std::string("cancelled while ") + activity + " (" + peer + ")";
  if (is_reset(ec)) return "connection reset by " + peer + " while " + activity;
  if (is_closed(ec)) return "connection closed by " + peer + " while " + activity;
  if (ec == http::error::body_limit)
    return "response from " + peer + " is larger than " + std::to_string(max_in_memory_body / (1024 * 1024)) + " MiB";
  switch (step) {
    case io_step::resolve:
      return "cannot resolve " + peer + ": " + error_text(ec);
    case io_step::connect:
      return "cannot connect to " + peer + ": " + error_text(ec);
    case io_step::proxy_tunnel:
      return "opening a tunnel through " + peer + " failed: " + error_text(ec);
    case io_step::tls_handshake:
      return "TLS handshake with " + peer + " failed: " + error_text(ec);
    case io_step::write_request:
      return "sending the request to " + peer + " failed: " + error_text(ec);
    case io_step::read_response:
      return "reading the response from " + peer + " failed: " + error_text(ec);
  }
  return error_text(ec);
}

net::awaitable<result<std::unique_ptr<connection>>> connection::open(endpoint to, deadline limit) {
  // Through a proxy, TCP goes to the proxy, and the proxy resolves the target's name.
  const url_target& hop = to.proxy ? to.proxy->address : to.target;
  const std::string peer = to.proxy ? "proxy " + hop.authority() : hop.authority();

  auto [resolve_ec, endpoints] = co_await resolve(to.executor, hop, limit);
  if (resolve_ec)
    co_return error{
        describe_io_error(io_step::resolve, to.proxy ? "proxy " + hop.host : hop.host, resolve_ec, limit.limit)};

  beast::tcp_stream tcp(to.executor);
  tcp.expires_at(limit.at);
  if (auto [ec, ep] = co_await tcp.async_connect(endpoints, as_result); ec)
    co_return error{describe_io_error(io_step::connect, peer, ec, limit.limit)};

  if (to.proxy) {
    if (auto failure = co_await open_tunnel(tcp, to, limit)) co_return std::move(*failure);
  }
  if (!to.target.tls) co_return std::make_unique<connection>(std::move(tcp));

  // The TLS client checklist: SNI (not for IP literals, RFC 6066 section 3), peer
  // verification, and the name (or address) checked against the certificate by OpenSSL,
  // which then reports a mismatch as such (X509_V_ERR_HOSTNAME_MISMATCH).
  tls_socket tls(tcp.release_socket(), to.tls.native_handle());
  SSL* ssl = tls.native_handle();
  const char* host = to.target.host.c_str();
  const bool named = to.target.host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1
                                          : SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
  if (!named) {
    const error_code ec(static_cast<int>(ERR_get_error()), net::error::get_ssl_category());
    co_return error{"cannot set up TLS for " + to.target.authority() + ": " + error_text(ec)};
  }
  SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  tls.expires_at(limit.at);
  if (auto [ec, n] = co_await tls.async_handshake(as_result); ec)
    co_return error{describe_handshake_error(tls, to.target.authority(), ec, limit.limit)};
  co_return std::make_unique<connection>(std::move(tls));
}

connection::connection(beast::tcp_stream stream) : stream_(std::in_place_type<beast::tcp_stream>, std::move(stream)) {
  buffer_.reserve(read_size);
}

connection::connection(tls_socket stream) : stream_(std::in_place_type<tls_socket>, std::move(stream)) {
  buffer_.reserve(read_size);
}

template <class Operation>
auto connection::with_deadline(const deadline& limit, Operation operation) {
  return std::visit(
      [&](auto& stream) {
        stream.expires_at(limit.at);  // both kinds of stream keep a deadline the same way
        return operation(stream);
      },
      stream_);
}

net::awaitable<error_code> connection::write(const request_message& msg, const deadline& limit) {
  auto [ec, n] = co_await with_deadline(limit, [&](auto& s) { return http::async_write(s, msg, as_result); });
  co_return ec;
}

void limit_in_memory(string_parser& parser) { parser.body_limit(max_in_memory_body); }

response response_from(string_parser& parser) {
  auto res = parser.release();
  response out;
  out.status = res.result_int();
  out.content_type = res[http::field::content_type];
  if (auto it = res.find(http::field::retry_after); it != res.end()) out.retry_after = std::string(it->value());
  out.body = std::move(res.body());
  return out;
}

net::awaitable<error_code> connection::read(string_parser& parser, const deadline& limit) {
  limit_in_memory(parser);
  auto [ec, n] =
      co_await with_deadline(limit, [&](auto& s) { return http::async_read(s, buffer_, parser, as_result); });
  co_return ec;
}

net::awaitable<error_code> connection::read_header(buffer_parser& parser, const deadline& limit) {
  auto [ec, n] =
      co_await with_deadline(limit, [&](auto& s) { return http::async_read_header(s, buffer_, parser, as_result); });
  co_return ec;
}

net::awaitable<error_code> connection::read_body(buffer_parser& parser, const deadline& limit) {
  auto [ec, n] =
      co_await with_deadline(limit, [&](auto& s) { return http::async_read(s, buffer_, parser, as_result); });
  // need_buffer is the parser saying the chunk buffer is full: the caller's cue, not a failure.
  if (ec == http::error::need_buffer) ec = {};
  co_return ec;
}

bool connection::reusable_after_idle() {
  auto& socket = std::visit([](auto& s) -> tcp::socket& { return s.socket(); }, stream_);
  if (!socket.is_open() || !drained()) return false;
  // Bytes OpenSSL has read ahead but not handed over are unasked-for too (see below).
  if (auto* tls = std::get_if<tls_socket>(&stream_); tls && SSL_has_pending(tls->native_handle())) return false;
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;  // nothing pending: still open
  // 0 is the server's FIN (an idle timeout). Unasked-for bytes are a TLS close_notify (in
  // TLS 1.3 indistinguishable from other records) or garbage; either way a write now
  // would likely be lost, and a POST could not be retried, so open a fresh connection.
  return false;
}

}  // namespace soundtrackd::http
