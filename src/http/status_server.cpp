// Health and metrics over HTTP/1.1 with keep-alive; every read and write has a deadline.
#include "soundtrackd/http/status_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <stdexcept>

namespace soundtrackd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto io_deadline = std::chrono::seconds(30);

tcp::endpoint parse_listen(const std::string& listen) {
  auto authority = boost::urls::parse_authority(listen);
  if (!authority || !authority->has_port())
    throw std::runtime_error("server.listen '" + listen + "' is not host:port");
  boost::system::error_code ec;
  std::string host(authority->host_address());
  if (host == "localhost") host = "127.0.0.1";
  auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("server.listen '" + listen + "': '" + host + "' is not an IP address");
  return {address, authority->port_number()};
}

}  // namespace

struct status_server::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor ex, tcp::endpoint endpoint, std::string t, request_handler h, logger_ptr l)
      : acceptor(ex), token(std::move(t)), handler(std::move(h)), log(std::move(l)) {
    boost::system::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      throw std::runtime_error("status server cannot listen on " + endpoint.address().to_string() + ":" +
                               std::to_string(endpoint.port()) + ": " + ec.message());
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (acceptor.is_open()) {
      boost::system::error_code ec;
      auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        continue;  // e.g. out of file descriptors for a moment
      }
      asio::co_spawn(acceptor.get_executor(), serve(beast::tcp_stream(std::move(socket))), asio::detached);
    }
  }

  asio::awaitable<void> serve(beast::tcp_stream stream) {
    auto self = shared_from_this();
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(64 * 1024);
      stream.expires_after(io_deadline);
      boost::system::error_code ec;
      co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;  // closed, timed out, or garbage: nothing to answer
      auto& request = parser.get();
      auto reply = authorized(request) ? handler(std::string_view(request.method_string()),
                                                 std::string_view(request.target()))
                                       : server_reply{401, "text/plain; charset=utf-8", "bearer token required\n"};
      bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(reply.status), request.version()};
      response.set(bhttp::field::server, "soundtrackd");
      response.set(bhttp::field::content_type, reply.content_type);
      response.set(bhttp::field::cache_control, "no-store");
      if (reply.status == 401) response.set(bhttp::field::www_authenticate, "Bearer");
      response.keep_alive(request.keep_alive());
      response.body() = std::move(reply.body);
      response.prepare_payload();
      stream.expires_after(io_deadline);
      co_await bhttp::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !response.keep_alive()) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  bool authorized(const bhttp::request<bhttp::string_body>& request) const {
    if (token.empty()) return true;
    return request[bhttp::field::authorization] == "Bearer " + token;
  }

  tcp::acceptor acceptor;
  std::string token;
  request_handler handler;
  logger_ptr log;
};

status_server::status_server(asio::any_io_executor executor, const std::string& listen, std::string token,
                             request_handler handler, logger_ptr log)
    : impl_(std::make_shared<impl>(executor, parse_listen(listen), std::move(token), std::move(handler),
                                   std::move(log))) {}

status_server::~status_server() { stop(); }

std::string status_server::address() const {
  auto endpoint = impl_->acceptor.local_endpoint();
  auto host = endpoint.address().is_v6() ? "[" + endpoint.address().to_string() + "]" : endpoint.address().to_string();
  return "http://" + host + ":" + std::to_string(endpoint.port());
}

void status_server::start() {
  asio::co_spawn(impl_->acceptor.get_executor(), impl_->accept_loop(), [log = impl_->log](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log->error("status server stopped: {}", ex.what());
    }
  });
}

void status_server::stop() {
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace soundtrackd::http
