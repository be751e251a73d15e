// A TLS client stream on which OpenSSL reads and writes the socket itself.
//
// Asio's ssl::stream (under beast::ssl_stream) passes every byte through a BIO pair and two
// buffers of its own: about 68 KB per connection (two zero-filled 17 KB vectors and a
// 2 x 17 KB BIO pair) and a copy each way. Here OpenSSL's record layer reads and writes the
// socket through a small BIO (recv and send, with MSG_NOSIGNAL), the event loop only waits
// for readiness, and the only buffers are OpenSSL's own. docs/performance.md has the figures.
//
// It is what Beast's HTTP operations need (AsyncReadStream, AsyncWriteStream) plus the
// client handshake and a deadline in the manner of beast::tcp_stream: expires_at() bounds the
// operations that follow, and one that is still waiting when it passes fails with
// beast::error::timeout and closes the socket. One operation of each direction at a time.
#pragma once

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace soundtrackd::http {

class tls_socket {
 public:
  using executor_type = boost::asio::any_io_executor;
  using error_code = boost::system::error_code;

  // Takes over a connected socket; async_handshake() comes next. Throws std::bad_alloc if
  // OpenSSL cannot allocate the connection.
  tls_socket(boost::asio::ip::tcp::socket socket, SSL_CTX* context);

  SSL* native_handle() const { return ssl_.get(); }
  executor_type get_executor() { return state_->socket.get_executor(); }
  boost::asio::ip::tcp::socket& socket() { return state_->socket; }

  // The operations started from now on must be done by `at`.
  void expires_at(std::chrono::steady_clock::time_point at);

  // The client side of the handshake. Completes with (error_code, 0).
  template <class Token>
  auto async_handshake(Token&& token) {
    return start(action::handshake, nullptr, 0, std::forward<Token>(token));
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    const auto first = first_buffer(buffers);
    return start(action::read, first.data(), first.size(), std::forward<Token>(token));
  }

  // Writes at most one TLS record's worth: the start of `buffers`, gathered into one piece so
  // that Beast's header fragments become one record (and one send), not one each.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    pending_write_.clear();
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
      const boost::asio::const_buffer piece = *it;
      const auto take = std::min(piece.size(), max_record - pending_write_.size());
      pending_write_.append(static_cast<const char*>(piece.data()), take);
      if (pending_write_.size() == max_record) break;
    }
    return start(action::write, pending_write_.data(), pending_write_.size(), std::forward<Token>(token));
  }

  // What the socket BIO (tls_socket.cpp) and the deadline's timer share. The timer's handler
  // holds a weak_ptr to it, so a connection may be destroyed while that handler is queued.
  struct shared_state {
    explicit shared_state(boost::asio::ip::tcp::socket s);
    boost::asio::ip::tcp::socket socket;
    boost::asio::steady_timer timer;
    unsigned deadline_generation = 0;  // a handler of an earlier deadline finds it changed
    bool expired = false;              // the deadline passed: fail the current or next wait
    int socket_errno = 0;              // what recv or send last failed with
    bool peer_closed = false;          // recv saw the end of the stream
  };

 private:
  static constexpr std::size_t max_record = 16 * 1024;  // TLS's largest plaintext record

  enum class action { handshake, read, write };
  enum class want { nothing, read, write };
  struct ssl_deleter {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
  };
  struct outcome {
    want next = want::nothing;
    error_code ec;
    std::size_t bytes = 0;
  };

  template <class MutableBuffers>
  static boost::asio::mutable_buffer first_buffer(const MutableBuffers& buffers) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it)
      if (boost::asio::mutable_buffer piece = *it; piece.size() > 0) return piece;
    return {};
  }

  // One SSL_connect, SSL_read_ex or SSL_write_ex, and what it needs next.
  outcome attempt(action what, void* data, std::size_t size);
  // error_code() when the socket may be waited on; beast::error::timeout past the deadline.
  error_code check_deadline();

  // Tries the action; while OpenSSL wants the socket readable or writable, waits for that
  // and tries again. Never completes inside the initiating call (as Asio requires): an
  // action done at once completes through a post.
  struct operation {
    tls_socket& stream;
    action what;
    void* data;
    std::size_t size;
    bool suspended = false;  // has waited at least once: no longer inside the initiating call
    bool done = false;
    outcome result{};

    template <class Self>
    void operator()(Self& self, error_code wait_error = {}) {
      if (!done) {
        // A wait cut short by the deadline reports operation_aborted: name the timeout.
        if (suspended)
          if (auto late = stream.check_deadline()) wait_error = late;
        result = wait_error ? outcome{want::nothing, wait_error, 0} : stream.attempt(what, data, size);
        if (result.next != want::nothing) {
          if (auto late = stream.check_deadline()) {
            result = {want::nothing, late, 0};
          } else {
            suspended = true;
            using socket_type = boost::asio::ip::tcp::socket;
            stream.state_->socket.async_wait(
                result.next == want::read ? socket_type::wait_read : socket_type::wait_write, std::move(self));
            return;
          }
        }
        done = true;
        if (!suspended) {
          boost::asio::post(stream.get_executor(), std::move(self));
          return;
        }
      }
      self.complete(result.ec, result.bytes);
    }
  };

  template <class Token>
  auto start(action what, void* data, std::size_t size, Token&& token) {
    return boost::asio::async_compose<Token, void(error_code, std::size_t)>(operation{*this, what, data, size}, token,
                                                                            state_->socket);
  }

  std::shared_ptr<shared_state> state_;
  std::unique_ptr<SSL, ssl_deleter> ssl_;
  std::string pending_write_;  // the bytes of the write in progress: OpenSSL retries need the same
};

}  // namespace soundtrackd::http
