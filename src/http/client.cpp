// The HTTP client: requests and streamed downloads over pooled, deadline-bound connections.
#include "soundtrackd/http/client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <type_traits>

#include "connection.hpp"
#include "connection_pool.hpp"
#include "hashed_download.hpp"
#include "soundtrackd/http/proxy.hpp"
#include "soundtrackd/http/url.hpp"

namespace soundtrackd::http {

namespace http = beast::http;
namespace ssl = net::ssl;

namespace {

// Whether `dir` holds OpenSSL's hashed links to certificates ("1a2b3c4d.0"), as
// update-ca-certificates makes in /etc/ssl/certs.
bool has_hashed_certificates(const char* dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    if (name.size() >= 10 && name[8] == '.' && std::all_of(name.begin(), name.begin() + 8, [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c));
        }))
      return true;
  }
  return false;
}

// The system's trusted CAs. Where the default directory of hashed links exists (Debian's
// /etc/ssl/certs), a certificate is read from it when a handshake needs it: loading the
// bundle file instead parses some 140 certificates, about 1 MB of memory for as long as the
// daemon runs. SSL_CERT_FILE and SSL_CERT_DIR mean what they mean to OpenSSL.
void trust_system_store(ssl::context& tls) {
  const char* dir = std::getenv(X509_get_default_cert_dir_env());
  if (dir == nullptr) dir = X509_get_default_cert_dir();
  if (std::getenv(X509_get_default_cert_file_env()) == nullptr && has_hashed_certificates(dir) &&
      SSL_CTX_load_verify_locations(tls.native_handle(), nullptr, dir) == 1)
    return;
  // Without a system store (a bare container), ca_file alone can still do.
  error_code ignored;
  tls.set_default_verify_paths(ignored);
}

constexpr std::size_t download_chunk_size = 64 * 1024;
constexpr std::size_t error_body_size = 4 * 1024;

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// A keep-alive connection that the server closed while it sat in the pool fails on its
// next write or read. That is the pool's doing, not the request's, so the exchange is
// repeated once on a fresh connection, but only while no byte of a response has arrived
// (past that, the server did answer), and only when repeating cannot do anything twice:
//  - idempotent methods (RFC 9110 section 9.2.2: GET and friends) may always be repeated;
//  - anything else (POST: a generation, which is billed) only when the *write* failed.
//    A failed write means the whole request never reached the server (the kernel took
//    part of it at most), and no server acts on an incomplete request. Once the write
//    has completed, a failed read is ambiguous: the server may have received the request
//    and acted on it before the connection died. That failure goes to the caller, whose
//    retry policy knows what a duplicate would cost.
// A timeout or a cancellation is never retried: the request's time is what ran out.
bool may_repeat_on_fresh_connection(http::verb method, io_step failed_step, const error_code& ec) {
  if (ec == beast::error::timeout || ec == net::error::operation_aborted) return false;
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::trace:
    case http::verb::put:
    case http::verb::delete_:
      return true;
    default:
      return failed_step == io_step::write_request;
  }
}

bool ended_early(const error_code& ec) {
  return ec == http::error::partial_message || ec == net::error::eof || ec == ssl::error::stream_truncated;
}

proxy_settings make_proxy_settings(const client_options& options) {
  std::string https_proxy = options.https_proxy;
  std::string no_proxy = options.no_proxy;
  if (options.proxy_from_environment) {
    if (https_proxy.empty()) https_proxy = proxy_settings::environment_https_proxy();
    if (no_proxy.empty()) no_proxy = proxy_settings::environment_no_proxy();
  }
  return proxy_settings(https_proxy, no_proxy);
}

// Normalised ("https://API.example.com" and "https://api.example.com:443/v1" are the
// same origin), so credentials are compared as scheme, host and port, nothing looser.
std::string normalised_origin(const client_options& options) {
  if (options.authorization.empty()) return {};
  auto origin = parse_url(options.authorization_origin);
  if (!origin) throw std::invalid_argument("authorization_origin is not an http(s) URL");
  return origin->origin();
}

}  // namespace

struct client::impl {
  impl(net::any_io_executor executor, client_options options);

  net::awaitable<result<response>> send(request req);
  net::awaitable<result<download_result>> download(std::string url, std::string file, std::uint64_t max_bytes,
                                                   duration timeout, std::uint64_t memory_limit);

  request_message make_request(http::verb method, const url_target& target, std::string_view accept) const;

  // Writes `msg` on the lease's connection (opening one if needed) and reads the response
  // into `parser`: the whole of it for a string_parser, the header for a buffer_parser.
  template <class Parser>
  net::awaitable<std::optional<error>> exchange(connection_pool::lease& lease, const url_target& target,
                                                const request_message& msg, Parser& parser, const deadline& limit);

  // Reads at most `size` bytes of a body nobody needs in full (an error page, a redirect
  // notice) into `out`. A longer body is left unread and its connection closed.
  net::awaitable<void> read_small_body(connection_pool::lease& lease, buffer_parser& parser, std::string& out,
                                       std::size_t size, const deadline& limit);

  // Streams a 2xx body into `out`, at most `max_bytes` of it, and checks it arrived whole.
  net::awaitable<std::optional<error>> receive_body(connection& conn, buffer_parser& parser, hashed_download& out,
                                                    std::uint64_t max_bytes, const url_target& target,
                                                    const deadline& limit);

  net::any_io_executor executor_;
  client_options options_;
  ssl::context tls_{ssl::context::tls_client};
  std::string authorization_origin_;  // empty: the Authorization header is never sent
  proxy_settings proxy_;
  connection_pool pool_;
};

client::impl::impl(net::any_io_executor executor, client_options options)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      authorization_origin_(normalised_origin(options_)),
      proxy_(make_proxy_settings(options_)),
      pool_(executor_, options_.max_connections_per_host) {
  SSL_CTX_set_min_proto_version(tls_.native_handle(), TLS1_2_VERSION);
  trust_system_store(tls_);
  if (!options_.ca_file.empty()) {
    error_code ec;
    tls_.load_verify_file(options_.ca_file, ec);
    if (ec) throw std::runtime_error("cannot load CA file " + options_.ca_file + ": " + ec.message());
  }
}

request_message client::impl::make_request(http::verb method, const url_target& target, std::string_view accept) const {
  request_message msg{method, target.target, 11};
  msg.set(http::field::host, target.host_header());
  msg.set(http::field::user_agent, options_.user_agent);
  msg.set(http::field::accept, accept);
  // Credentials go to the API's origin only: never to the CDN, to a redirect target
  // elsewhere, or to the same host over another scheme or port.
  if (!authorization_origin_.empty() && target.origin() == authorization_origin_)
    msg.set(http::field::authorization, options_.authorization);
  return msg;
}

template <class Parser>
net::awaitable<std::optional<error>> client::impl::exchange(connection_pool::lease& lease, const url_target& target,
                                                            const request_message& msg, Parser& parser,
                                                            const deadline& limit) {
  for (bool repeated = false;; repeated = true) {
    if (!lease.get()) {
      const connection::endpoint to{executor_, target, proxy_.route(target), tls_, options_.user_agent};
      auto opened = co_await connection::open(to, deadline::earliest(deadline::after(options_.connect_timeout), limit));
      if (!opened) co_return error{opened.error_message()};
      lease.attach(std::move(*opened));
    }
    connection& conn = *lease.get();

    io_step step = io_step::write_request;
    error_code ec = co_await conn.write(msg, limit);
    if (!ec) {
      step = io_step::read_response;
      if constexpr (std::is_same_v<Parser, string_parser>)
        ec = co_await conn.read(parser, limit);
      else
        ec = co_await conn.read_header(parser, limit);
    }
    if (!ec) co_return std::nullopt;

    const bool response_started = parser.got_some() || !conn.drained();
    if (!repeated && lease.reused() && !response_started && may_repeat_on_fresh_connection(msg.method(), step, ec)) {
      lease.discard();
      continue;
    }
    co_return error{describe_io_error(step, target.authority(), ec, limit.limit)};
  }
}

net::awaitable<void> client::impl::read_small_body(connection_pool::lease& lease, buffer_parser& parser,
                                                   std::string& out, std::size_t size, const deadline& limit) {
  out.resize(size);
  std::size_t got = 0;
  while (!parser.is_done() && got < size) {
    parser.get().body().data = out.data() + got;
    parser.get().body().size = size - got;
    const error_code ec = co_await lease.get()->read_body(parser, limit);
    got = size - parser.get().body().size;
    if (ec) break;  // the status is the news; a broken error page adds nothing
  }
  out.resize(got);
  if (parser.is_done() && parser.get().keep_alive() && lease.get()->drained()) lease.keep();
}

net::awaitable<std::optional<error>> client::impl::receive_body(connection& conn, buffer_parser& parser,
                                                                hashed_download& out, std::uint64_t max_bytes,
                                                                const url_target& target, const deadline& limit) {
  const std::string where = target.host_and_path();
  // One chunk buffer per download: the body goes from the socket to the file 64 KiB at a
  // time, however large it is, and a smaller announced body gets a buffer of its own size
  // (16 downloads of 20 KB tracks at once should not hold a megabyte).
  const std::size_t chunk_size = static_cast<std::size_t>(
      std::clamp<std::uint64_t>(parser.content_length().value_or(download_chunk_size), 1, download_chunk_size));
  auto chunk = std::make_unique_for_overwrite<char[]>(chunk_size);
  while (!parser.is_done()) {
    parser.get().body().data = chunk.get();
    parser.get().body().size = chunk_size;
    const error_code ec = co_await conn.read_body(parser, limit);
    const std::size_t got = chunk_size - parser.get().body().size;
    if (out.size() + got > max_bytes)
      co_return error{"download from " + where + " exceeds the limit of " + std::to_string(max_bytes) + " bytes"};
    if (auto failure = out.append(chunk.get(), got)) co_return failure;
    if (!ec) continue;

    if (!ended_early(ec))
      co_return error{describe_io_error(io_step::read_response, target.authority(), ec, limit.limit)};
    if (auto expected = parser.content_length())
      co_return error{"truncated download from " + where + ": got " + std::to_string(out.size()) + " of " +
                      std::to_string(*expected) + " bytes"};
    co_return error{"truncated download from " + where + ": got " + std::to_string(out.size()) +
                    " bytes before the connection closed"};
  }
  co_return std::nullopt;
}

net::awaitable<result<response>> client::impl::send(request req) {
  const auto target = parse_url(req.url);
  if (!target) co_return error{target.error_message()};
  const http::verb method = http::string_to_verb(req.method);
  if (method == http::verb::unknown) co_return error{"unsupported HTTP method " + req.method};
  const deadline limit = deadline::after(req.timeout);

  request_message msg = make_request(method, *target, "application/json");
  if (!req.body.empty()) {
    msg.set(http::field::content_type, "application/json");
    msg.body() = std::move(req.body);
  }
  msg.prepare_payload();

  auto acquired = co_await pool_.acquire(*target, limit);
  if (!acquired) co_return error{acquired.error_message()};
  connection_pool::lease& lease = *acquired;
  string_parser parser;
  parser.skip(method == http::verb::head);  // a HEAD response announces a body it does not carry
  if (auto failure = co_await exchange(lease, *target, msg, parser, limit)) co_return std::move(*failure);

  if (parser.get().keep_alive() && lease.get()->drained()) lease.keep();
  co_return response_from(parser);
}

net::awaitable<result<download_result>> client::impl::download(std::string url, std::string file,
                                                               std::uint64_t max_bytes, duration timeout,
                                                               std::uint64_t memory_limit) {
  const deadline limit = deadline::after(timeout);
  // Created (and emptied) first unless the bytes may stay in memory: whatever happens next,
  // the caller never finds stale bytes.
  auto out = hashed_download::create(std::move(file), memory_limit);
  if (!out) co_return error{out.error_message()};

  for (int redirects = 0;; ++redirects) {
    const auto target = parse_url(url);
    if (!target) co_return error{target.error_message()};
    auto acquired = co_await pool_.acquire(*target, limit);
    if (!acquired) co_return error{acquired.error_message()};
    connection_pool::lease& lease = *acquired;

    const request_message msg = make_request(http::verb::get, *target, "*/*");
    buffer_parser parser;
    parser.body_limit(boost::none);  // max_bytes is enforced below, with a message that says so
    if (auto failure = co_await exchange(lease, *target, msg, parser, limit)) co_return std::move(*failure);
    const auto& head = parser.get();
    const unsigned status = head.result_int();

    if (is_redirect(status) && head.count(http::field::location) != 0) {
      if (redirects == options_.max_redirects)
        co_return error{"more than " + std::to_string(options_.max_redirects) + " redirects downloading from " +
                        target->host_and_path()};
      auto next = resolve_location(url, head[http::field::location]);
      if (!next) co_return error{next.error_message()};
      const auto next_target = parse_url(*next);
      if (!next_target) co_return error{next_target.error_message()};
      // A downgrade would expose the signed URL and the audio to anyone on the path.
      if (target->tls && !next_target->tls)
        co_return error{"refusing redirect from https to http: " + redact_url(url) + " -> " + redact_url(*next)};
      std::string notice;
      co_await read_small_body(lease, parser, notice, error_body_size, limit);
      url = std::move(*next);
      continue;
    }

    download_result result;
    result.status = status;
    result.content_type = head[http::field::content_type];
    if (auto length = parser.content_length()) result.content_length = *length;
    if (status / 100 != 2) {
      co_await read_small_body(lease, parser, result.error_body, error_body_size, limit);
      co_return result;
    }
    if (result.content_length && *result.content_length > max_bytes)
      co_return error{"download from " + target->host_and_path() + " is " + std::to_string(*result.content_length) +
                      " bytes, over the limit of " + std::to_string(max_bytes)};

    if (auto failure = co_await receive_body(*lease.get(), parser, *out, max_bytes, *target, limit)) {
      out->discard();
      co_return std::move(*failure);
    }
    if (head.keep_alive() && lease.get()->drained()) lease.keep();

    result.size = out->size();
    result.sha256 = out->sha256_hex();
    result.bytes = out->take_bytes();
    co_return result;
  }
}

client::client(net::any_io_executor executor, client_options options)
    : impl_(std::make_unique<impl>(std::move(executor), std::move(options))) {}

client::~client() = default;

net::awaitable<result<response>> client::send(request req) { return impl_->send(std::move(req)); }

net::awaitable<result<download_result>> client::download(std::string url, std::string file, std::uint64_t max_bytes,
                                                         duration timeout, std::uint64_t memory_limit) {
  return impl_->download(std::move(url), std::move(file), max_bytes, timeout, memory_limit);
}

void client::close_idle() { impl_->pool_.close_idle(); }

void client::set_authorization(std::string authorization) { impl_->options_.authorization = std::move(authorization); }

}  // namespace soundtrackd::http
