// HTTP/1.1 with keep-alive on the daemon's loop: routing, limits, deadlines, authentication
// and cross-site protection. Handlers are coroutines; their database work runs elsewhere.
#include "soundtrackd/http/status_server.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_path.hpp>
#include <charconv>
#include <list>
#include <stdexcept>

#include "soundtrackd/util/utf8.hpp"

namespace soundtrackd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view token_cookie = "soundtrackd_token";

tcp::endpoint parse_listen(const std::string& listen) {
  auto authority = boost::urls::parse_authority(listen);
  if (!authority || !authority->has_port()) throw std::runtime_error("server.listen '" + listen + "' is not host:port");
  boost::system::error_code ec;
  std::string host(authority->host_address());
  if (host == "localhost") host = "127.0.0.1";
  auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("server.listen '" + listen + "': '" + host + "' is not an IP address");
  return {address, authority->port_number()};
}

bool iequals(std::string_view a, std::string_view b) { return beast::iequals(a, b); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> decoded_segments(std::string_view path) {
  std::vector<std::string> segments;
  auto parsed = boost::urls::parse_path(path);
  if (!parsed) return segments;
  for (auto segment : *parsed) segments.push_back(segment.decode());
  return segments;
}

using digest = std::array<unsigned char, 32>;

digest sha256_of(std::string_view text) {
  digest out{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), out.data(), &length, EVP_sha256(), nullptr);
  return out;
}

// The value of cookie `name` in a Cookie header, "" when absent.
std::string_view cookie_value(std::string_view cookies, std::string_view name) {
  while (!cookies.empty()) {
    auto end = cookies.find(';');
    auto pair = trim(cookies.substr(0, end));
    cookies = end == std::string_view::npos ? std::string_view{} : cookies.substr(end + 1);
    auto equals = pair.find('=');
    if (equals != std::string_view::npos && pair.substr(0, equals) == name) return pair.substr(equals + 1);
  }
  return {};
}

// "application/json; charset=utf-8" -> true.
bool is_json_content_type(std::string_view value) {
  return iequals(trim(value.substr(0, value.find(';'))), "application/json");
}

// The host[:port] of an Origin header ("http://127.0.0.1:8080"), "" when it has none ("null").
std::string_view origin_authority(std::string_view origin) {
  auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return {};
  return origin.substr(scheme_end + 3);
}

}  // namespace

// --- request and reply ---------------------------------------------------------------------

std::string_view server_request::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view server_request::query() const {
  std::string_view t = target;
  auto at = t.find('?');
  return at == std::string_view::npos ? std::string_view{} : t.substr(at + 1);
}

std::string_view server_request::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) return value;
  return {};
}

std::optional<std::string> server_request::query_param(std::string_view name) const {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return std::nullopt;
  for (auto param : url->params())
    if (param.key == name) return std::string(param.value);
  return std::nullopt;
}

server_reply json_error(unsigned status, const std::string& message, const std::string& field) {
  // Messages can carry request text (a path with any bytes): the reply must stay valid JSON.
  boost::json::object body{{"error", to_valid_utf8(message)}};
  if (!field.empty()) body["field"] = field;
  return server_reply{.status = status, .body = boost::json::serialize(body)};
}

// --- Range ---------------------------------------------------------------------------------

namespace {

// A decimal count without sign or spaces.
std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

range_kind parse_range(std::string_view header, std::uint64_t size, byte_range& out) {
  constexpr std::string_view unit = "bytes=";
  if (!header.starts_with(unit) || header.find(',') != std::string_view::npos) return range_kind::none;
  auto spec = header.substr(unit.size());
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return range_kind::none;
  auto first_text = spec.substr(0, dash), last_text = spec.substr(dash + 1);
  if (first_text.empty()) {  // a suffix: the last N bytes
    auto n = parse_count(last_text);
    if (!n) return range_kind::none;
    if (*n == 0 || size == 0) return range_kind::unsatisfiable;
    out = {size - std::min(size, *n), size - 1};
    return range_kind::satisfiable;
  }
  auto first = parse_count(first_text);
  if (!first) return range_kind::none;
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    auto given = parse_count(last_text);
    if (!given || *given < *first) return range_kind::none;
    last = std::min(last, *given);
  }
  if (*first >= size) return range_kind::unsatisfiable;
  out = {*first, last};
  return range_kind::satisfiable;
}

// --- router --------------------------------------------------------------------------------

void router::add(std::string method, const std::string& pattern, route_handler handler, route_access access) {
  std::vector<std::string> segments;
  std::string_view rest = pattern;
  if (!rest.starts_with('/')) throw std::invalid_argument("route pattern must start with '/': " + pattern);
  if (rest == "/") rest = {};  // the root: no segments, as a parsed "/" has none
  while (!rest.empty()) {
    rest.remove_prefix(1);
    auto end = rest.find('/');
    segments.emplace_back(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  }
  routes_.push_back(route{std::move(method), std::move(segments), std::move(handler), access});
}

router::match router::find(std::string_view method, std::string_view path) const {
  match result;
  const auto segments = decoded_segments(path);
  for (const auto& r : routes_) {
    std::map<std::string, std::string, std::less<>> params;
    bool matched = true;
    std::size_t i = 0;
    for (; i < r.segments.size(); ++i) {
      const auto& pattern = r.segments[i];
      if (pattern == "*" && i + 1 == r.segments.size()) {
        std::string tail;
        for (std::size_t j = i; j < segments.size(); ++j) tail += (j > i ? "/" : "") + segments[j];
        params["*"] = std::move(tail);
        i = segments.size();
        break;
      }
      if (i >= segments.size()) {
        matched = false;
        break;
      }
      if (pattern.size() > 2 && pattern.front() == '{' && pattern.back() == '}')
        params[pattern.substr(1, pattern.size() - 2)] = segments[i];
      else if (pattern != segments[i])
        matched = false;
      if (!matched) break;
    }
    if (!matched || i != segments.size()) continue;
    if (r.method != method) {
      result.path_known = true;
      continue;
    }
    result.handler = &r.handler;
    result.access = r.access;
    result.params = std::move(params);
    return result;
  }
  return result;
}

// --- the server ----------------------------------------------------------------------------

struct status_server::impl : std::enable_shared_from_this<impl> {
  struct connection {
    beast::tcp_stream* stream = nullptr;
    bool idle = true;  // waiting for the first byte of a request: may be closed to make room
    std::chrono::steady_clock::time_point idle_since;
  };

  impl(asio::any_io_executor ex, const tcp::endpoint& endpoint, std::string t, std::shared_ptr<const router> r,
       server_limits l, logger_ptr lg)
      : acceptor(ex),
        token(std::move(t)),
        token_digest(sha256_of(token)),
        routes(std::move(r)),
        limits(l),
        log(std::move(lg)) {
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
    asio::steady_timer pause(acceptor.get_executor());
    while (acceptor.is_open()) {
      boost::system::error_code ec;
      auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        // Out of file descriptors, for example: retrying at once would spin the loop.
        log->warn("status server: accept failed ({}); pausing accepts for 100 ms", ec.message());
        pause.expires_after(std::chrono::milliseconds(100));
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      // A reply goes out as a header write and a body write: with Nagle's algorithm the body
      // would wait for the client's delayed ACK of the header (40 ms on Linux) every time.
      socket.set_option(tcp::no_delay(true), ec);
      if (connections.size() >= limits.max_connections && !close_longest_idle()) {
        socket.close(ec);  // every slot is busy with a request: this one is refused
        continue;
      }
      asio::co_spawn(acceptor.get_executor(), serve(beast::tcp_stream(std::move(socket))),
                     [log = log](std::exception_ptr e) {
                       if (!e) return;
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& ex) {
                         log->error("status server connection ended on an error: {}", ex.what());
                       }
                     });
    }
  }

  // An idle keep-alive connection may be closed at any time (RFC 9112 9.5); the client
  // opens a new one when it needs it.
  bool close_longest_idle() {
    auto oldest = connections.end();
    for (auto it = connections.begin(); it != connections.end(); ++it)
      if (it->idle && (oldest == connections.end() || it->idle_since < oldest->idle_since)) oldest = it;
    if (oldest == connections.end()) return false;
    oldest->idle = false;  // closing: not a candidate twice
    beast::error_code ignored;
    oldest->stream->socket().close(ignored);
    return true;
  }

  asio::awaitable<void> serve(beast::tcp_stream stream) {
    auto self = shared_from_this();
    auto slot = connections.insert(connections.end(), connection{&stream, true, std::chrono::steady_clock::now()});
    struct unregister {
      impl& server;
      std::list<connection>::iterator slot;
      ~unregister() { server.connections.erase(slot); }
    } guard{*this, slot};

    beast::flat_buffer buffer;
    for (;;) {
      boost::system::error_code ec;
      if (buffer.size() == 0) {
        slot->idle = true;
        slot->idle_since = std::chrono::steady_clock::now();
        stream.expires_after(limits.idle_timeout);
        auto n = co_await stream.async_read_some(buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;  // closed, idle too long, or closed to make room
        buffer.commit(n);
      }
      slot->idle = false;

      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
      parser.body_limit(limits.max_body_bytes);
      stream.expires_after(limits.read_timeout);
      co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        // Answer what can be answered, then close: the rest of the stream cannot be trusted.
        std::optional<server_reply> reply;
        if (ec == bhttp::error::header_limit)
          reply = json_error(431, "request header larger than " + std::to_string(limits.max_header_bytes) + " bytes");
        else if (ec == bhttp::error::body_limit)
          reply = json_error(413, "request body larger than " + std::to_string(limits.max_body_bytes) + " bytes");
        else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                 ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
          reply = json_error(400, "malformed HTTP request: " + ec.message());
        if (reply) co_await write_reply(stream, *reply, false, 11, false);
        break;
      }

      auto& message = parser.get();
      const bool head = message.method() == bhttp::verb::head;
      server_request request;
      request.method = head ? "GET" : std::string(message.method_string());
      request.target = std::string(message.target());
      for (const auto& field : message) request.headers.emplace_back(field.name_string(), field.value());
      request.body = std::move(message.body());
      const bool keep_alive = message.keep_alive();
      const unsigned version = message.version();

      auto reply = co_await dispatch(request);
      if (!co_await write_reply(stream, reply, head, version, keep_alive) || !keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<server_reply> dispatch(server_request& request) {
    if (!request.target.starts_with('/')) co_return json_error(400, "the request target must be a path");
    const bool session = request.path() == "/v1/session";  // the server's own route: it holds the token
    auto match = session ? router::match{} : routes->find(request.method, request.path());
    if (session && request.method != "POST")
      co_return json_error(405, "method " + request.method + " is not allowed on /v1/session");
    if (!session && !match.handler) {
      if (match.path_known)
        co_return json_error(405, "method " + request.method + " is not allowed on " + std::string(request.path()));
      co_return json_error(404, "no such resource: " + std::string(request.path()));
    }
    if (request.method == "POST") {
      // A browser page on another site can POST forms here; it cannot send application/json
      // without a CORS preflight (which this server never approves), nor fake Origin.
      if (!is_json_content_type(request.header("Content-Type")))
        co_return json_error(415, "POST needs Content-Type: application/json");
      auto origin = request.header("Origin");
      if (!origin.empty() && !iequals(origin_authority(origin), request.header("Host")))
        co_return json_error(403, "cross-site request refused: Origin " + std::string(origin) +
                                      " does not match Host " + std::string(request.header("Host")));
    }
    if (session) co_return start_session(request);
    if (match.access == route_access::token && !authorized(request)) {
      auto reply = json_error(401, "authentication required: send Authorization: Bearer <token> (server.token_file)");
      reply.headers.emplace_back("WWW-Authenticate", "Bearer");
      co_return reply;
    }
    request.params = std::move(match.params);
    try {
      co_return co_await (*match.handler)(request);
    } catch (const std::exception& e) {
      log->error("status server: {} {} failed: {}", request.method, request.path(), e.what());
      co_return json_error(500, std::string("internal error: ") + e.what());
    }
  }

  bool token_matches(std::string_view candidate) const {
    // Digests of equal length, compared without an early exit: the time taken says nothing
    // about how much of a guess was right.
    auto digest = sha256_of(candidate);
    return CRYPTO_memcmp(digest.data(), token_digest.data(), digest.size()) == 0;
  }

  bool authorized(const server_request& request) const {
    if (token.empty()) return true;
    auto authorization = request.header("Authorization");
    if (authorization.size() > 7 && iequals(authorization.substr(0, 7), "Bearer "))
      return token_matches(trim(authorization.substr(7)));
    auto cookie = cookie_value(request.header("Cookie"), token_cookie);
    return !cookie.empty() && token_matches(cookie);
  }

  // POST /v1/session {"token": "..."}: checks the token and sets it as an HttpOnly cookie, so
  // a browser page (and its <audio> elements) authenticate without script access to it.
  server_reply start_session(const server_request& request) const {
    boost::system::error_code ec;
    auto body = boost::json::parse(request.body, ec);
    const auto* fields = ec ? nullptr : body.if_object();
    const auto* given = fields ? fields->if_contains("token") : nullptr;
    if (!given || !given->is_string()) return json_error(400, "the body must be {\"token\": \"...\"}", "token");
    std::string_view candidate = given->get_string();
    if (!token.empty() && !token_matches(candidate)) return json_error(401, "wrong token", "token");
    server_reply reply{.body = R"({"authenticated":true})"};
    if (!token.empty())
      reply.headers.emplace_back("Set-Cookie",
                                 std::string(token_cookie) + "=" + token + "; HttpOnly; SameSite=Strict; Path=/");
    return reply;
  }

  // False when the connection broke.
  asio::awaitable<bool> write_reply(beast::tcp_stream& stream, server_reply& reply, bool head, unsigned version,
                                    bool keep_alive) {
    bhttp::response<bhttp::empty_body> response{static_cast<bhttp::status>(reply.status), version};
    response.set(bhttp::field::server, "soundtrackd");
    response.set(bhttp::field::content_type, reply.content_type);
    response.set(bhttp::field::cache_control, "no-store");
    response.set("X-Content-Type-Options", "nosniff");
    // A reply's own header replaces a default above (the dashboard's files set Cache-Control).
    for (const auto& [name, value] : reply.headers) response.set(name, value);
    response.content_length(reply.next_chunk ? reply.content_length : reply.body.size());
    response.keep_alive(keep_alive);

    boost::system::error_code ec;
    bhttp::response_serializer<bhttp::empty_body> serializer(response);
    stream.expires_after(limits.write_timeout);
    co_await bhttp::async_write_header(stream, serializer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    if (head) co_return true;
    if (!reply.next_chunk) {
      stream.expires_after(limits.write_timeout);
      co_await asio::async_write(stream, asio::buffer(reply.body), asio::redirect_error(asio::use_awaitable, ec));
      co_return !ec;
    }
    std::uint64_t sent = 0;
    while (sent < reply.content_length) {
      std::string chunk;
      try {
        chunk = co_await reply.next_chunk();
      } catch (const std::exception& e) {
        log->warn("status server: streaming {} bytes stopped after {}: {}", reply.content_length, sent, e.what());
        co_return false;  // the client sees a short body and a closed connection
      }
      if (chunk.empty()) break;
      if (chunk.size() > reply.content_length - sent) chunk.resize(reply.content_length - sent);
      stream.expires_after(limits.write_timeout);
      co_await asio::async_write(stream, asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return false;
      sent += chunk.size();
    }
    co_return sent == reply.content_length;
  }

  tcp::acceptor acceptor;
  std::string token;
  digest token_digest;
  std::shared_ptr<const router> routes;
  server_limits limits;
  logger_ptr log;
  std::list<connection> connections;
};

status_server::status_server(asio::any_io_executor executor, const std::string& listen, std::string token,
                             std::shared_ptr<const router> routes, server_limits limits, logger_ptr log)
    : impl_(std::make_shared<impl>(executor, parse_listen(listen), std::move(token), std::move(routes), limits,
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
  for (auto& c : impl_->connections) c.stream->socket().close(ignored);
}

}  // namespace soundtrackd::http
