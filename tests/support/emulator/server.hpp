// The emulator's HTTP(S) front: accepts loopback connections and serves each with one coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <optional>
#include <string>

#include "api.hpp"
#include "options.hpp"

namespace soundtrackd::emulator {

class server {
 public:
  // Binds at once (so the port is known before start()); throws std::system_error when it cannot.
  server(boost::asio::io_context& io, emulated_api& api, const emulator_options& options);

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::string origin() const;  // e.g. "https://127.0.0.1:41234"

  void start();  // begins accepting; connections are served on the io_context's one thread
  void stop();   // stops accepting

 private:
  boost::asio::awaitable<void> accept_connections();
  boost::asio::awaitable<void> run_connection(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  emulated_api& api_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::optional<boost::asio::ssl::context> tls_;
  bool log_requests_;
};

}  // namespace soundtrackd::emulator
