// OpenSSL on the socket itself: the BIO that reads and writes it, one SSL call at a time, and
// the deadline's timer.
#include "tls_socket.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <cerrno>
#include <new>

namespace soundtrackd::http {

namespace net = boost::asio;

namespace {

tls_socket::shared_state& state_of(BIO* bio) { return *static_cast<tls_socket::shared_state*>(BIO_get_data(bio)); }

bool would_block(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

// MSG_DONTWAIT: the event loop waits for readiness, never the call. MSG_NOSIGNAL: a peer that
// has gone away is an error to report, not a SIGPIPE.
int bio_write(BIO* bio, const char* data, size_t size, size_t* written) {
  auto& state = state_of(bio);
  BIO_clear_retry_flags(bio);
  const auto n = ::send(state.socket.native_handle(), data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n >= 0) {
    *written = static_cast<size_t>(n);
    return 1;
  }
  if (would_block(errno))
    BIO_set_retry_write(bio);
  else
    state.socket_errno = errno;
  return 0;
}

int bio_read(BIO* bio, char* data, size_t size, size_t* read) {
  auto& state = state_of(bio);
  BIO_clear_retry_flags(bio);
  const auto n = ::recv(state.socket.native_handle(), data, size, MSG_DONTWAIT);
  if (n > 0) {
    *read = static_cast<size_t>(n);
    return 1;
  }
  if (n == 0)
    state.peer_closed = true;
  else if (would_block(errno))
    BIO_set_retry_read(bio);
  else
    state.socket_errno = errno;
  return 0;
}

long bio_control(BIO* bio, int command, long, void*) {
  switch (command) {
    case BIO_CTRL_FLUSH:  // OpenSSL flushes after each record; nothing is held back here
      return 1;
    case BIO_CTRL_EOF:  // lets OpenSSL tell a truncated stream from other failures
      return state_of(bio).peer_closed ? 1 : 0;
    default:
      return 0;
  }
}

const BIO_METHOD* socket_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "soundtrackd socket");
    if (!m || !BIO_meth_set_write_ex(m, bio_write) || !BIO_meth_set_read_ex(m, bio_read) ||
        !BIO_meth_set_ctrl(m, bio_control))
      throw std::bad_alloc();
    return m;
  }();
  return method;
}

}  // namespace

tls_socket::shared_state::shared_state(net::ip::tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}

tls_socket::tls_socket(net::ip::tcp::socket socket, SSL_CTX* context)
    : state_(std::make_shared<shared_state>(std::move(socket))), ssl_(SSL_new(context)) {
  BIO* bio = ssl_ ? BIO_new(socket_method()) : nullptr;
  if (!bio) throw std::bad_alloc();
  BIO_set_data(bio, state_.get());
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_.get(), bio, bio);  // the SSL owns it from here
  SSL_set_connect_state(ssl_.get());
  // One recv takes whole records (and whatever follows), not a 5-byte header and then the rest.
  SSL_set_read_ahead(ssl_.get(), 1);
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

void tls_socket::expires_at(std::chrono::steady_clock::time_point at) {
  auto& state = *state_;
  state.expired = false;
  state.timer.expires_at(at);
  state.timer.async_wait([weak = std::weak_ptr(state_), generation = ++state.deadline_generation](error_code ec) {
    if (ec) return;  // replaced by a later deadline, or the connection is gone
    auto state = weak.lock();
    if (!state || state->deadline_generation != generation) return;  // fired just before being replaced
    state->expired = true;
    state->socket.cancel();  // a pending wait ends now; the operation sees `expired`
  });
}

tls_socket::error_code tls_socket::check_deadline() {
  if (!state_->expired) return {};
  error_code ignored;
  state_->socket.close(ignored);  // as beast::tcp_stream does: a timed-out stream is unusable
  return boost::beast::error::timeout;
}

tls_socket::outcome tls_socket::attempt(action what, void* data, std::size_t size) {
  if (what != action::handshake && size == 0) return {};  // as with sockets: nothing to move, done
  ERR_clear_error();
  state_->socket_errno = 0;
  std::size_t bytes = 0;
  int ok = 0;
  switch (what) {
    case action::handshake:
      ok = SSL_connect(ssl_.get());
      break;
    case action::read:
      ok = SSL_read_ex(ssl_.get(), data, size, &bytes);
      break;
    case action::write:
      ok = SSL_write_ex(ssl_.get(), data, size, &bytes);
      break;
  }
  if (ok == 1) return {want::nothing, {}, bytes};

  switch (SSL_get_error(ssl_.get(), ok)) {
    case SSL_ERROR_WANT_READ:
      return {want::read, {}, 0};
    case SSL_ERROR_WANT_WRITE:
      return {want::write, {}, 0};
    case SSL_ERROR_ZERO_RETURN:  // the peer's close_notify: an orderly end
      return {want::nothing, net::error::eof, 0};
    case SSL_ERROR_SYSCALL:
      if (state_->socket_errno != 0)
        return {want::nothing, error_code(state_->socket_errno, boost::system::system_category())};
      if (ERR_peek_error() == 0) return {want::nothing, net::ssl::error::stream_truncated, 0};
      break;
    default:
      break;
  }
  // The names Asio's ssl::stream gives: callers (and their messages) compare against them.
  const unsigned long code = ERR_get_error();
  if (ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
    return {want::nothing, net::ssl::error::stream_truncated, 0};
  if (code == 0) return {want::nothing, net::ssl::error::unspecified_system_error, 0};
  return {want::nothing, error_code(static_cast<int>(code), net::error::get_ssl_category())};
}

}  // namespace soundtrackd::http
