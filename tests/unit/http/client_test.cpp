// Tests of the HTTP client against in-process loopback HTTP, HTTPS and CONNECT-proxy servers.
#include "soundtrackd/http/client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "soundtrackd/http/proxy.hpp"
#include "soundtrackd/http/url.hpp"
#include "test_support.hpp"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
namespace st = soundtrackd::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

constexpr auto as_result = net::as_tuple(net::use_awaitable);

// The CA costs three openssl runs: made once for the whole binary.
const soundtrackd::test::test_ca& shared_ca() {
  static soundtrackd::test::temp_dir dir;
  static const soundtrackd::test::test_ca ca = soundtrackd::test::make_test_ca(dir.path());
  return ca;
}

// ---------------------------------------------------------------------------------------
// A loopback test server: HTTP/1.1 (TLS when asked), answers through a handler, counts
// connections.

struct seen_request {
  std::string method;
  std::string target;
  std::string host;
  std::string user_agent;
  std::string accept;
  std::string content_type;
  std::optional<std::string> authorization;
  std::string body;
  int on_connection = 0;  // 1 for the first request on its connection
};

// What the server does with one request.
struct reply {
  http::status status = http::status::ok;
  std::string body{};
  std::vector<std::pair<http::field, std::string>> headers{};
  std::chrono::milliseconds delay{0};
  bool keep_alive = true;
  bool chunked = false;
  bool drop = false;                       // close the connection instead of answering
  std::optional<std::size_t> cut_after{};  // announce the whole body, send this much, close
};

using handler = std::function<reply(const seen_request&)>;

class test_server {
 public:
  enum class scheme { http, https };

  test_server(net::io_context& ioc, scheme s, handler h) : state_(std::make_shared<state>(ioc, std::move(h))) {
    if (s == scheme::https) {
      state_->tls.emplace(ssl::context::tls_server);
      state_->tls->use_certificate_chain_file(shared_ca().cert_file.string());
      state_->tls->use_private_key_file(shared_ca().key_file.string(), ssl::context::pem);
    }
    net::co_spawn(ioc, accept_loop(state_), net::detached);
  }
  ~test_server() { state_->acceptor.close(); }

  std::string origin() const {
    return std::string(state_->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
  }
  std::string url(const std::string& path) const { return origin() + path; }
  unsigned short port() const { return state_->acceptor.local_endpoint().port(); }
  int accepted() const { return state_->accepted; }
  int max_open() const { return state_->max_open; }
  const std::vector<seen_request>& requests() const { return state_->requests; }
  // The server's keep-alive timeout: an idle connection is closed after this.
  void set_idle_timeout(std::chrono::milliseconds d) { state_->idle_timeout = d; }

 private:
  struct state {
    state(net::io_context& ioc, handler h)
        : acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0}), on_request(std::move(h)) {}
    tcp::acceptor acceptor;
    std::optional<ssl::context> tls;
    handler on_request;
    std::chrono::milliseconds idle_timeout = 30s;
    int accepted = 0;
    int open = 0;
    int max_open = 0;
    std::vector<seen_request> requests;
  };

  static net::awaitable<void> accept_loop(std::shared_ptr<state> s) {
    for (;;) {
      auto [ec, socket] = co_await s->acceptor.async_accept(as_result);
      if (ec) co_return;
      ++s->accepted;
      net::co_spawn(s->acceptor.get_executor(), session(s, std::move(socket)), net::detached);
    }
  }

  static net::awaitable<void> session(std::shared_ptr<state> s, tcp::socket socket) {
    s->max_open = std::max(s->max_open, ++s->open);
    if (s->tls) {
      beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *s->tls);
      beast::get_lowest_layer(stream).expires_after(5s);
      if (auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, as_result); !ec) {
        if (co_await serve(s, stream)) {
          // Like nginx at its keep-alive timeout: close_notify, then the TCP close.
          beast::get_lowest_layer(stream).expires_after(200ms);
          co_await stream.async_shutdown(as_result);
        }
      }
    } else {
      beast::tcp_stream stream(std::move(socket));
      co_await serve(s, stream);
    }
    --s->open;
  }

  // Serves requests until the connection ends; true when it ended by the idle timeout.
  template <class Stream>
  static net::awaitable<bool> serve(std::shared_ptr<state> s, Stream& stream) {
    beast::flat_buffer buffer;
    for (int n = 1;; ++n) {
      http::request<http::string_body> req;
      beast::get_lowest_layer(stream).expires_after(s->idle_timeout);
      auto [ec, bytes] = co_await http::async_read(stream, buffer, req, as_result);
      if (ec) co_return ec == beast::error::timeout;

      seen_request seen{std::string(req.method_string()),
                        std::string(req.target()),
                        std::string(req[http::field::host]),
                        std::string(req[http::field::user_agent]),
                        std::string(req[http::field::accept]),
                        std::string(req[http::field::content_type]),
                        std::nullopt,
                        req.body(),
                        n};
      if (auto it = req.find(http::field::authorization); it != req.end())
        seen.authorization = std::string(it->value());
      s->requests.push_back(seen);
      reply r = s->on_request(seen);

      if (r.delay > 0ms) {
        net::steady_timer timer(s->acceptor.get_executor(), r.delay);
        co_await timer.async_wait(as_result);
      }
      if (r.drop) co_return false;

      http::response<http::string_body> res{r.status, 11};
      for (auto& [field, value] : r.headers) res.set(field, value);
      res.keep_alive(r.keep_alive && req.keep_alive());
      if (r.cut_after) {
        res.content_length(r.body.size());
        res.body() = r.body.substr(0, *r.cut_after);
      } else {
        res.body() = std::move(r.body);
        if (r.chunked) res.chunked(true);
        res.prepare_payload();
      }
      beast::get_lowest_layer(stream).expires_after(10s);
      auto [write_ec, written] = co_await http::async_write(stream, res, as_result);
      if (write_ec || !res.keep_alive() || r.cut_after) co_return false;
    }
  }

  std::shared_ptr<state> state_;
};

reply ok(std::string body) { return reply{.body = std::move(body)}; }

// Answers after 3 s, later than any test waits.
reply late(const seen_request&) {
  reply r = ok("late");
  r.delay = 3s;
  return r;
}

// The client's behaviour over both transports: a test loops over these, naming each.
constexpr test_server::scheme both_schemes[] = {test_server::scheme::http, test_server::scheme::https};
const char* name_of(test_server::scheme s) { return s == test_server::scheme::https ? "https" : "http"; }

// ---------------------------------------------------------------------------------------
// A CONNECT proxy: records what it was asked, then either refuses or splices the tunnel
// to `upstream_port` on 127.0.0.1 (whatever host the client named).

class connect_proxy {
 public:
  connect_proxy(net::io_context& ioc, unsigned short upstream_port, http::status answer)
      : state_(std::make_shared<state>(ioc, upstream_port, answer)) {
    net::co_spawn(ioc, accept_loop(state_), net::detached);
  }
  ~connect_proxy() { state_->acceptor.close(); }

  std::string address() const { return "127.0.0.1:" + std::to_string(state_->acceptor.local_endpoint().port()); }
  const std::vector<std::string>& targets() const { return state_->targets; }
  const std::vector<std::string>& authorizations() const { return state_->authorizations; }

 private:
  struct state {
    state(net::io_context& ioc, unsigned short port, http::status a)
        : acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0}), upstream_port(port), answer(a) {}
    tcp::acceptor acceptor;
    unsigned short upstream_port;
    http::status answer;
    std::vector<std::string> targets;
    std::vector<std::string> authorizations;
  };

  static net::awaitable<void> accept_loop(std::shared_ptr<state> s) {
    for (;;) {
      auto [ec, socket] = co_await s->acceptor.async_accept(as_result);
      if (ec) co_return;
      net::co_spawn(s->acceptor.get_executor(), session(s, std::move(socket)), net::detached);
    }
  }

  static net::awaitable<void> session(std::shared_ptr<state> s, tcp::socket client) {
    using namespace net::experimental::awaitable_operators;
    beast::flat_buffer buffer;
    http::request<http::empty_body> req;
    if (auto [ec, n] = co_await http::async_read(client, buffer, req, as_result); ec) co_return;
    s->targets.emplace_back(req.target());
    s->authorizations.emplace_back(req[http::field::proxy_authorization]);
    http::response<http::empty_body> res{s->answer, 11};
    if (s->answer != http::status::ok) res.keep_alive(false);
    // No Content-Length: a 2xx answer to CONNECT has no body by definition.
    http::response_serializer<http::empty_body> serializer(res);
    serializer.split(true);
    if (auto [ec, n] = co_await http::async_write_header(client, serializer, as_result); ec) co_return;
    if (s->answer != http::status::ok) co_return;

    tcp::socket upstream(s->acceptor.get_executor());
    if (auto [ec] = co_await upstream.async_connect({net::ip::make_address("127.0.0.1"), s->upstream_port}, as_result);
        ec)
      co_return;
    co_await (pipe(client, upstream) || pipe(upstream, client));
  }

  static net::awaitable<void> pipe(tcp::socket& from, tcp::socket& to) {
    std::array<char, 16 * 1024> chunk;
    for (;;) {
      auto [ec, n] = co_await from.async_read_some(net::buffer(chunk), as_result);
      if (ec) co_return;
      if (auto [wec, m] = co_await net::async_write(to, net::buffer(chunk.data(), n), as_result); wec) co_return;
    }
  }

  std::shared_ptr<state> state_;
};

// ---------------------------------------------------------------------------------------

class HttpClient : public ::testing::Test {
 protected:
  st::client_options options() const {
    st::client_options o;
    o.user_agent = "soundtrackd-test/1";
    o.ca_file = shared_ca().ca_file.string();
    o.connect_timeout = 2s;
    o.proxy_from_environment = false;  // the tests must not depend on the caller's shell
    return o;
  }

  // Runs the io_context until `op` completes (the servers never run out of work).
  template <class T>
  T run(net::awaitable<T> op) {
    std::optional<T> out;
    std::exception_ptr failure;
    bool done = false;
    net::co_spawn(
        ioc_, [&]() -> net::awaitable<void> { out.emplace(co_await std::move(op)); },
        [&](std::exception_ptr e) {
          failure = e;
          done = true;
        });
    run_until([&] { return done; });
    if (failure) std::rethrow_exception(failure);
    if (!out) throw std::runtime_error("operation did not finish within 10 s");
    return std::move(*out);
  }

  void run_until(const std::function<bool()>& done) {
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < give_up) ioc_.run_one_for(100ms);
  }

  void pause(std::chrono::milliseconds d) {
    net::steady_timer timer(ioc_, d);
    bool done = false;
    timer.async_wait([&](auto) { done = true; });
    run_until([&] { return done; });
  }

  st::request get(const std::string& url, std::chrono::milliseconds timeout = 5s) {
    return st::request{.method = "GET", .url = url, .body = {}, .timeout = timeout};
  }

  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  // Declared first: destroyed last, after the clients and servers that use it.
  net::io_context ioc_;
  soundtrackd::test::temp_dir dir_;
};

class HttpDownload : public HttpClient {};

// ---------------------------------------------------------------------------------------
// URLs and proxy selection (no sockets).

TEST(HttpUrl, ParsesOriginAndKeepsTheTargetByteForByte) {
  auto t =
      st::parse_url("https://CDN.Example.com/a%2Fb/track.mp3?Policy=eyJ%2B~_-&Signature=ab%3D%3D&Key-Pair-Id=K1#x");
  ASSERT_TRUE(t.ok()) << t.error_message();
  EXPECT_TRUE(t->tls);
  EXPECT_EQ(t->host, "cdn.example.com");
  EXPECT_EQ(t->port, 443);
  EXPECT_EQ(t->target, "/a%2Fb/track.mp3?Policy=eyJ%2B~_-&Signature=ab%3D%3D&Key-Pair-Id=K1");
  EXPECT_EQ(t->origin(), "https://cdn.example.com:443");
  EXPECT_EQ(t->host_header(), "cdn.example.com");
  EXPECT_EQ(t->path(), "/a%2Fb/track.mp3");

  auto v6 = st::parse_url("http://[::1]:8080?q=1");
  ASSERT_TRUE(v6.ok()) << v6.error_message();
  EXPECT_TRUE(v6->host_is_ip);
  EXPECT_EQ(v6->authority(), "[::1]:8080");
  EXPECT_EQ(v6->host_header(), "[::1]:8080");
  EXPECT_EQ(v6->target, "/?q=1");

  EXPECT_FALSE(st::parse_url("ftp://example.com/").ok());
  EXPECT_FALSE(st::parse_url("https://example.com:99999/").ok());
  auto bad = st::parse_url("https://example.com/a b?Signature=secret");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error_message().find("secret"), std::string::npos) << bad.error_message();
}

TEST(HttpUrl, RedactsQueryFragmentAndUserinfo) {
  EXPECT_EQ(st::redact_url("https://u:p@cdn.example.com:8443/a/b.mp3?Policy=x&Signature=y#f"),
            "https://cdn.example.com:8443/a/b.mp3");
  EXPECT_EQ(st::redact_url("https://api.example.com/v1/jobs/j1"), "https://api.example.com/v1/jobs/j1");
  EXPECT_EQ(st::redact_url("not a url?Signature=y"), "not a url");
}

TEST(HttpUrl, ResolvesRedirectsWithoutTouchingSignedQueries) {
  const std::string signed_query = "?Policy=eyJ%2B~_-&Signature=ab%3D%3D&Key-Pair-Id=K1";
  auto absolute = st::resolve_location("https://api.example.com/v1/a", "https://cdn.example.com/x.mp3" + signed_query);
  ASSERT_TRUE(absolute.ok());
  EXPECT_EQ(*absolute, "https://cdn.example.com/x.mp3" + signed_query);
  auto relative = st::resolve_location("https://cdn.example.com/dir/a?old=1", "b.mp3" + signed_query);
  ASSERT_TRUE(relative.ok());
  EXPECT_EQ(*relative, "https://cdn.example.com/dir/b.mp3" + signed_query);
  auto rooted = st::resolve_location("https://cdn.example.com/dir/a", "/c.mp3");
  ASSERT_TRUE(rooted.ok());
  EXPECT_EQ(*rooted, "https://cdn.example.com/c.mp3");
}

TEST(HttpProxy, RoutesHttpsThroughTheProxyUnlessBypassed) {
  st::proxy_settings proxy("http://user:pa%40ss@proxy.local:3128", "example.org, .internal.test,[::2]:443");
  auto route = [&](const std::string& url) { return proxy.route(*st::parse_url(url)); };

  const st::proxy_endpoint* via = route("https://api.cloud.scenario.com/v1");
  ASSERT_NE(via, nullptr);
  EXPECT_EQ(via->address.authority(), "proxy.local:3128");
  EXPECT_EQ(via->authorization, "Basic dXNlcjpwYUBzcw==");      // user:pa@ss
  EXPECT_EQ(route("http://api.cloud.scenario.com/"), nullptr);  // only https is tunnelled
  EXPECT_EQ(route("https://example.org/"), nullptr);
  EXPECT_EQ(route("https://cdn.example.org/"), nullptr);
  EXPECT_NE(route("https://badexample.org/"), nullptr);
  EXPECT_EQ(route("https://a.internal.test/"), nullptr);
  EXPECT_EQ(route("https://[::2]/"), nullptr);
  EXPECT_EQ(route("https://127.0.0.1:8443/"), nullptr);
  EXPECT_EQ(route("https://localhost/"), nullptr);
  EXPECT_EQ(route("https://[::1]/"), nullptr);

  EXPECT_EQ(st::proxy_settings("proxy.local", "").route(*st::parse_url("https://a.example/"))->address.port, 1080);
  EXPECT_EQ(st::proxy_settings("http://proxy:8080", "*").route(*st::parse_url("https://a.example/")), nullptr);
  EXPECT_THROW(st::proxy_settings("https://proxy:8080", ""), std::invalid_argument);
  EXPECT_EQ(st::proxy_settings().route(*st::parse_url("https://a.example/")), nullptr);
}

// ---------------------------------------------------------------------------------------
// Requests.

reply echo(const seen_request& r) {
  return reply{.body = r.method + " " + r.target + " " + r.body,
               .headers = {{http::field::content_type, "text/plain"}}};
}

TEST_F(HttpClient, GetAndPostOverHttpAndHttps) {
  for (auto scheme : both_schemes) {
    test_server server(ioc_, scheme, echo);
    st::client client(ioc_.get_executor(), options());

    auto got = run(client.send(get(server.url("/v1/jobs/j1?projectId=p%2B1"))));
    ASSERT_TRUE(got.ok()) << got.error_message();
    EXPECT_EQ(got->status, 200u);
    EXPECT_EQ(got->body, "GET /v1/jobs/j1?projectId=p%2B1 ");
    EXPECT_EQ(got->content_type, "text/plain");
    EXPECT_FALSE(got->retry_after);

    auto posted = run(client.send({.method = "POST", .url = server.url("/v1/generate"), .body = R"({"prompt":"x"})"}));
    ASSERT_TRUE(posted.ok()) << posted.error_message();
    EXPECT_EQ(posted->body, R"(POST /v1/generate {"prompt":"x"})");

    ASSERT_EQ(server.requests().size(), 2u);
    const auto& first = server.requests()[0];
    EXPECT_EQ(first.host, "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(first.user_agent, "soundtrackd-test/1");
    EXPECT_EQ(first.accept, "application/json");
    EXPECT_EQ(first.content_type, "");
    EXPECT_EQ(server.requests()[1].content_type, "application/json");
  }
}

TEST_F(HttpClient, UntrustedCertificateFailsVerification) {
  test_server server(ioc_, test_server::scheme::https, echo);
  auto o = options();
  o.ca_file.clear();  // the system store does not know the test CA
  st::client client(ioc_.get_executor(), o);
  auto got = run(client.send(get(server.url("/"))));
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error_message().find("TLS handshake with 127.0.0.1:" + std::to_string(server.port()) +
                                     " failed: certificate verify failed"),
            std::string::npos)
      << got.error_message();
}

// The system store is read from a directory of hashed links when there is one (SSL_CERT_DIR
// names it here): a CA linked there is trusted, and one that is not, is not.
TEST_F(HttpClient, TheSystemStoreIsLookedUpInItsHashedDirectory) {
  soundtrackd::test::temp_dir store;
  const auto hash = soundtrackd::test::run({"openssl", "x509", "-hash", "-noout", "-in", shared_ca().ca_file.string()});
  ASSERT_EQ(hash.exit_code, 0) << hash.output;
  std::filesystem::copy_file(shared_ca().ca_file, store / "other-name.pem");
  struct cert_dir_variable {  // set for this test only
    explicit cert_dir_variable(const std::filesystem::path& dir) { ::setenv("SSL_CERT_DIR", dir.c_str(), 1); }
    ~cert_dir_variable() { ::unsetenv("SSL_CERT_DIR"); }
  } variable(store.path());
  ::unsetenv("SSL_CERT_FILE");
  test_server server(ioc_, test_server::scheme::https, echo);
  auto o = options();
  o.ca_file.clear();
  {
    st::client client(ioc_.get_executor(), o);
    auto got = run(client.send(get(server.url("/"))));
    ASSERT_FALSE(got.ok()) << "no hashed link: the system bundle file is used, and it lacks the test CA";
    EXPECT_NE(got.error_message().find("certificate verify failed"), std::string::npos) << got.error_message();
  }
  std::filesystem::create_symlink("other-name.pem", store / (hash.output.substr(0, 8) + ".0"));
  st::client client(ioc_.get_executor(), o);
  auto got = run(client.send(get(server.url("/"))));
  ASSERT_TRUE(got.ok()) << got.error_message();
  EXPECT_EQ(got->status, 200u);
}

TEST_F(HttpClient, ReusesKeepAliveConnections) {
  for (auto scheme : both_schemes) {
    test_server server(ioc_, scheme, echo);
    st::client client(ioc_.get_executor(), options());
    for (int i = 0; i < 10; ++i) {
      auto got = run(client.send(get(server.url("/n"))));
      ASSERT_TRUE(got.ok()) << got.error_message();
    }
    EXPECT_EQ(server.accepted(), 1);
  }
}

TEST_F(HttpClient, ServerSayingConnectionCloseIsNotReused) {
  test_server server(ioc_, test_server::scheme::http, [](const seen_request&) {
    reply r = ok("bye");
    r.keep_alive = false;
    return r;
  });
  st::client client(ioc_.get_executor(), options());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(run(client.send(get(server.url("/")))).ok());
  EXPECT_EQ(server.accepted(), 3);
}

TEST_F(HttpClient, CapsConcurrentConnectionsPerHost) {
  test_server server(ioc_, test_server::scheme::http, [](const seen_request&) {
    reply r = ok("slow");
    r.delay = 20ms;
    return r;
  });
  auto o = options();
  o.max_connections_per_host = 3;
  st::client client(ioc_.get_executor(), o);

  int finished = 0;
  int succeeded = 0;
  for (int i = 0; i < 20; ++i) {
    net::co_spawn(
        ioc_,
        [&]() -> net::awaitable<void> {
          auto got = co_await client.send(get(server.url("/slow")));
          succeeded += got.ok() && got->status == 200;
          ++finished;
        },
        net::detached);
  }
  run_until([&] { return finished == 20; });
  EXPECT_EQ(succeeded, 20);
  EXPECT_LE(server.max_open(), 3);
  EXPECT_EQ(server.accepted(), 3);
}

TEST_F(HttpClient, WaitingForAFreeConnectionIsBoundedByTheRequestTimeout) {
  test_server server(ioc_, test_server::scheme::http, [](const seen_request&) {
    reply r = ok("slow");
    r.delay = 500ms;
    return r;
  });
  auto o = options();
  o.max_connections_per_host = 1;
  st::client client(ioc_.get_executor(), o);

  std::optional<soundtrackd::result<st::response>> holder;
  net::co_spawn(
      ioc_, [&]() -> net::awaitable<void> { holder.emplace(co_await client.send(get(server.url("/hold")))); },
      net::detached);
  auto waiter = run(client.send(get(server.url("/wait"), 100ms)));
  ASSERT_FALSE(waiter.ok());
  EXPECT_EQ(waiter.error_message(),
            "timed out after 100ms waiting for a free connection to 127.0.0.1:" + std::to_string(server.port()));
  run_until([&] { return holder.has_value(); });
  ASSERT_TRUE(holder && holder->ok());
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(HttpClient, RequestTimeoutNamesTheLimit) {
  for (auto scheme : both_schemes) {
    SCOPED_TRACE(name_of(scheme));
    test_server server(ioc_, scheme, late);
    st::client client(ioc_.get_executor(), options());
    const auto started = std::chrono::steady_clock::now();
    auto got = run(client.send(get(server.url("/slow"), 200ms)));
    ASSERT_FALSE(got.ok());
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    EXPECT_EQ(got.error_message(),
              "timed out after 200ms reading the response from 127.0.0.1:" + std::to_string(server.port()));
  }
}

// A server that accepts the connection and never answers the ClientHello: the handshake is
// bounded like every other step, and the message names that step.
TEST_F(HttpClient, SilentTlsServerTimesOutInTheHandshake) {
  tcp::acceptor silent(ioc_, {net::ip::make_address("127.0.0.1"), 0});
  std::optional<tcp::socket> held;
  silent.async_accept([&](boost::system::error_code, tcp::socket s) { held.emplace(std::move(s)); });
  const auto port = std::to_string(silent.local_endpoint().port());
  st::client client(ioc_.get_executor(), options());
  const auto started = std::chrono::steady_clock::now();
  auto got = run(client.send(get("https://127.0.0.1:" + port + "/v1", 300ms)));
  ASSERT_FALSE(got.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(got.error_message(), "TLS handshake with 127.0.0.1:" + port + " timed out after 300ms");
  EXPECT_TRUE(held.has_value());
}

TEST_F(HttpClient, CancellationEndsARequestPromptly) {
  for (auto scheme : both_schemes) {
    SCOPED_TRACE(name_of(scheme));
    test_server server(ioc_, scheme, late);
    st::client client(ioc_.get_executor(), options());
    net::cancellation_signal cancel;
    std::optional<soundtrackd::result<st::response>> got;
    net::co_spawn(
        ioc_, [&]() -> net::awaitable<void> { got.emplace(co_await client.send(get(server.url("/slow")))); },
        net::bind_cancellation_slot(cancel.slot(), net::detached));
    pause(100ms);
    const auto cancelled_at = std::chrono::steady_clock::now();
    cancel.emit(net::cancellation_type::terminal);
    run_until([&] { return got.has_value(); });
    ASSERT_TRUE(got.has_value());
    EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, 1s);
    ASSERT_FALSE(got->ok());
    EXPECT_NE(got->error_message().find("cancelled"), std::string::npos) << got->error_message();
  }
}

TEST_F(HttpClient, ConnectionRefusedNamesThePeer) {
  unsigned short port;
  {
    tcp::acceptor closed(ioc_, {net::ip::make_address("127.0.0.1"), 0});
    port = closed.local_endpoint().port();
  }
  st::client client(ioc_.get_executor(), options());
  auto got = run(client.send(get("http://127.0.0.1:" + std::to_string(port) + "/")));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error_message(), "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

TEST_F(HttpClient, UnresolvableHostIsNamed) {
  st::client client(ioc_.get_executor(), options());
  auto got = run(client.send(get("https://nonexistent.invalid/v1?projectId=secret", 2s)));
  ASSERT_FALSE(got.ok());
  // A resolver without network answers at once; a stuck one meets the deadline.
  const auto& message = got.error_message();
  EXPECT_TRUE(message.starts_with("cannot resolve nonexistent.invalid: ") ||
              message == "resolving nonexistent.invalid timed out after 2s")
      << message;
}

TEST_F(HttpClient, CloseIdleClosesPooledConnections) {
  test_server server(ioc_, test_server::scheme::http, echo);
  st::client client(ioc_.get_executor(), options());
  ASSERT_TRUE(run(client.send(get(server.url("/1")))).ok());
  client.close_idle();
  ASSERT_TRUE(run(client.send(get(server.url("/2")))).ok());
  EXPECT_EQ(server.accepted(), 2);
}

TEST_F(HttpClient, IdleConnectionClosedByTheServerIsReplaced) {
  for (auto scheme : both_schemes) {
    test_server server(ioc_, scheme, echo);
    server.set_idle_timeout(50ms);
    st::client client(ioc_.get_executor(), options());
    ASSERT_TRUE(run(client.send(get(server.url("/1")))).ok());
    pause(300ms);  // the server closes the pooled connection meanwhile
    auto posted = run(client.send({.method = "POST", .url = server.url("/2"), .body = "{}"}));
    ASSERT_TRUE(posted.ok()) << posted.error_message();
    EXPECT_EQ(server.accepted(), 2);
  }
}

// The stale case the idle check cannot see: the server drops the connection only once
// the next request has arrived on it.
TEST_F(HttpClient, StaleConnectionRetriesGetOnceButNeverARequestThatWasSent) {
  for (auto scheme : both_schemes) {
    SCOPED_TRACE(name_of(scheme));
    test_server server(ioc_, scheme, [](const seen_request& r) {
      reply out = ok("fine");
      out.drop = r.on_connection > 1;
      return out;
    });
    st::client client(ioc_.get_executor(), options());
    ASSERT_TRUE(run(client.send(get(server.url("/a")))).ok());
    auto again = run(client.send(get(server.url("/b"))));
    ASSERT_TRUE(again.ok()) << again.error_message();
    EXPECT_EQ(server.accepted(), 2);

    // The POST reached the server before the connection died: repeating it could run a
    // generation twice, so the failure is reported.
    auto posted = run(client.send({.method = "POST", .url = server.url("/c"), .body = "{}"}));
    ASSERT_FALSE(posted.ok());
    EXPECT_EQ(posted.error_message(),
              "connection closed by 127.0.0.1:" + std::to_string(server.port()) + " while reading the response");
    EXPECT_EQ(server.accepted(), 2);
  }
}

TEST_F(HttpClient, AuthorizationGoesOnlyToItsOrigin) {
  test_server api(ioc_, test_server::scheme::http, echo);
  test_server other(ioc_, test_server::scheme::http, echo);
  auto o = options();
  o.authorization = "Basic a2V5OnNlY3JldA==";
  o.authorization_origin = api.origin();
  st::client client(ioc_.get_executor(), o);

  ASSERT_TRUE(run(client.send(get(api.url("/v1/jobs")))).ok());
  ASSERT_TRUE(run(client.send(get(other.url("/v1/jobs")))).ok());
  EXPECT_EQ(api.requests().at(0).authorization, "Basic a2V5OnNlY3JldA==");
  EXPECT_FALSE(other.requests().at(0).authorization);
}

TEST_F(HttpClient, CapturesRetryAfterAndErrorStatuses) {
  test_server server(ioc_, test_server::scheme::http, [](const seen_request&) {
    return reply{.status = http::status::too_many_requests,
                 .body = R"({"reason":"slow down"})",
                 .headers = {{http::field::retry_after, "7"}, {http::field::content_type, "application/json"}}};
  });
  st::client client(ioc_.get_executor(), options());
  auto got = run(client.send(get(server.url("/"))));
  ASSERT_TRUE(got.ok()) << got.error_message();
  EXPECT_EQ(got->status, 429u);
  EXPECT_EQ(got->retry_after, "7");
  EXPECT_EQ(got->body, R"({"reason":"slow down"})");
  EXPECT_EQ(got->content_type, "application/json");
}

TEST_F(HttpClient, TunnelsHttpsThroughAConnectProxy) {
  test_server upstream(ioc_, test_server::scheme::https, echo);
  connect_proxy proxy(ioc_, upstream.port(), http::status::ok);
  auto o = options();
  o.https_proxy = "http://u:p@" + proxy.address();
  st::client client(ioc_.get_executor(), o);

  // The proxy resolves the name, and connects to the test server whatever it is; the
  // test certificate does not name upstream.test, so the handshake that went through
  // the tunnel must refuse it.
  const std::string authority = "upstream.test:" + std::to_string(upstream.port());
  auto got = run(client.send(get("https://" + authority + "/v1")));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error_message(),
            "TLS handshake with " + authority + " failed: certificate verify failed (hostname mismatch)");
  ASSERT_EQ(proxy.targets().size(), 1u);
  EXPECT_EQ(proxy.targets()[0], authority);
  EXPECT_EQ(proxy.authorizations()[0], "Basic dTpw");
  EXPECT_EQ(upstream.accepted(), 1);

  // Loopback never goes through the proxy.
  ASSERT_TRUE(run(client.send(get(upstream.url("/direct")))).ok());
  EXPECT_EQ(proxy.targets().size(), 1u);
}

TEST_F(HttpClient, ProxyRefusalIsReported) {
  connect_proxy proxy(ioc_, 1, http::status::proxy_authentication_required);
  auto o = options();
  o.https_proxy = proxy.address();
  st::client client(ioc_.get_executor(), o);
  auto got = run(client.send(get("https://api.example.test/v1?projectId=secret")));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error_message(),
            "proxy " + proxy.address() + " refused CONNECT to api.example.test:443: 407 Proxy Authentication Required");
}

// ---------------------------------------------------------------------------------------
// Downloads.

std::string random_bytes(std::size_t n) {
  std::mt19937 gen(42);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(gen());
  return out;
}

TEST_F(HttpDownload, StreamsALargeBodyToTheFile) {
  const std::string audio = random_bytes(5 * 1000 * 1000);
  test_server cdn(ioc_, test_server::scheme::https, [&](const seen_request&) {
    return reply{.body = audio, .headers = {{http::field::content_type, "audio/mpeg"}}};
  });
  st::client client(ioc_.get_executor(), options());
  auto got = run(client.download(cdn.url("/track.mp3?Signature=s"), file("track.mp3"), 10'000'000, 5s));
  ASSERT_TRUE(got.ok()) << got.error_message();
  EXPECT_EQ(got->status, 200u);
  EXPECT_EQ(got->content_type, "audio/mpeg");
  EXPECT_EQ(got->content_length, audio.size());
  EXPECT_EQ(got->size, audio.size());
  EXPECT_EQ(got->sha256, soundtrackd::test::sha256_hex(audio));
  EXPECT_TRUE(soundtrackd::test::read_file(file("track.mp3")) == audio);
  EXPECT_EQ(std::filesystem::status(file("track.mp3")).permissions() & std::filesystem::perms::others_all,
            std::filesystem::perms::none);
  EXPECT_EQ(cdn.requests().at(0).accept, "*/*");
}

// Up to memory_limit the bytes come back in memory and the file is never created; one byte
// more and they all go to the file, whether the length was announced or not.
TEST_F(HttpDownload, ASmallBodyStaysInMemoryALargerOneGoesToTheFile) {
  const std::string audio = random_bytes(200'000);
  for (bool chunked : {false, true}) {
    test_server cdn(ioc_, test_server::scheme::https, [&](const seen_request&) {
      reply r = ok(audio);
      r.chunked = chunked;
      return r;
    });
    st::client client(ioc_.get_executor(), options());
    const auto small = file(chunked ? "small-chunked.mp3" : "small.mp3");
    auto kept = run(client.download(cdn.url("/t.mp3"), small, 1'000'000, 5s, audio.size()));
    ASSERT_TRUE(kept.ok()) << kept.error_message();
    ASSERT_TRUE(kept->bytes);
    EXPECT_TRUE(*kept->bytes == audio);
    EXPECT_EQ(kept->size, audio.size());
    EXPECT_EQ(kept->sha256, soundtrackd::test::sha256_hex(audio));
    EXPECT_FALSE(std::filesystem::exists(small)) << "a download held in memory never creates its file";

    const auto large = file(chunked ? "large-chunked.mp3" : "large.mp3");
    auto spilled = run(client.download(cdn.url("/t.mp3"), large, 1'000'000, 5s, audio.size() - 1));
    ASSERT_TRUE(spilled.ok()) << spilled.error_message();
    EXPECT_FALSE(spilled->bytes);
    EXPECT_EQ(spilled->size, audio.size());
    EXPECT_EQ(spilled->sha256, soundtrackd::test::sha256_hex(audio));
    EXPECT_TRUE(soundtrackd::test::read_file(large) == audio) << "what was kept in memory went to the file first";
  }
}

TEST_F(HttpDownload, FollowsRedirectsAndKeepsCredentialsHome) {
  const std::string signed_path = "/file.mp3?Policy=eyJ%2B~_-&Signature=ab%3D%3D&Key-Pair-Id=K1";
  test_server cdn(ioc_, test_server::scheme::https, [](const seen_request&) { return ok("audio"); });
  test_server api(ioc_, test_server::scheme::https, [&](const seen_request& r) {
    if (r.target == "/v1/start")
      return reply{.status = http::status::found, .headers = {{http::field::location, "next"}}};
    return reply{.status = http::status::moved_permanently,
                 .body = "moved",
                 .headers = {{http::field::location, cdn.url(signed_path)}}};
  });
  auto o = options();
  o.authorization = "Basic a2V5OnNlY3JldA==";
  o.authorization_origin = api.origin();
  st::client client(ioc_.get_executor(), o);

  auto got = run(client.download(api.url("/v1/start"), file("a.mp3"), 1000, 5s));
  ASSERT_TRUE(got.ok()) << got.error_message();
  EXPECT_EQ(got->status, 200u);
  EXPECT_EQ(soundtrackd::test::read_file(file("a.mp3")), "audio");
  ASSERT_EQ(api.requests().size(), 2u);
  EXPECT_EQ(api.requests()[1].target, "/v1/next");
  EXPECT_TRUE(api.requests()[0].authorization);
  ASSERT_EQ(cdn.requests().size(), 1u);
  EXPECT_EQ(cdn.requests()[0].target, signed_path);
  EXPECT_FALSE(cdn.requests()[0].authorization);
}

TEST_F(HttpDownload, RefusesARedirectFromHttpsToHttp) {
  test_server plain(ioc_, test_server::scheme::http, [](const seen_request&) { return ok("audio"); });
  test_server secure(ioc_, test_server::scheme::https, [&](const seen_request&) {
    return reply{.status = http::status::found, .headers = {{http::field::location, plain.url("/a.mp3?Signature=s")}}};
  });
  st::client client(ioc_.get_executor(), options());
  auto got = run(client.download(secure.url("/a"), file("a.mp3"), 1000, 5s));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error_message(),
            "refusing redirect from https to http: " + secure.url("/a") + " -> " + plain.url("/a.mp3"));
  EXPECT_TRUE(plain.requests().empty());
}

TEST_F(HttpDownload, StopsAfterMaxRedirects) {
  test_server loop(ioc_, test_server::scheme::http, [](const seen_request&) {
    return reply{.status = http::status::temporary_redirect, .headers = {{http::field::location, "/again"}}};
  });
  auto o = options();
  o.max_redirects = 3;
  st::client client(ioc_.get_executor(), o);
  auto got = run(client.download(loop.url("/"), file("a.mp3"), 1000, 5s));
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error_message().find("more than 3 redirects"), std::string::npos) << got.error_message();
  EXPECT_EQ(loop.requests().size(), 4u);
  EXPECT_EQ(loop.accepted(), 1);  // empty redirect bodies leave the connection reusable
}

TEST_F(HttpDownload, TruncatedBodyIsAnError) {
  for (auto scheme : both_schemes) {
    SCOPED_TRACE(name_of(scheme));
    test_server cdn(ioc_, scheme, [](const seen_request&) {
      reply r = ok(std::string(200'000, 'x'));
      r.cut_after = 150'000;
      return r;
    });
    st::client client(ioc_.get_executor(), options());
    auto got = run(client.download(cdn.url("/t.mp3?Signature=s"), file("t.mp3"), 1'000'000, 5s));
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error_message(),
              "truncated download from 127.0.0.1:" + std::to_string(cdn.port()) + "/t.mp3: got 150000 of 200000 bytes");
    EXPECT_EQ(std::filesystem::file_size(file("t.mp3")), 0u);
  }
}

TEST_F(HttpDownload, MaxBytesIsEnforced) {
  for (bool chunked : {false, true}) {
    test_server cdn(ioc_, test_server::scheme::http, [&](const seen_request&) {
      reply r = ok(std::string(300'000, 'x'));
      r.chunked = chunked;  // no Content-Length to refuse early: the running count must stop it
      return r;
    });
    st::client client(ioc_.get_executor(), options());
    auto got = run(client.download(cdn.url("/big"), file("big"), 100'000, 5s));
    ASSERT_FALSE(got.ok());
    EXPECT_NE(got.error_message().find("100000"), std::string::npos) << got.error_message();
    EXPECT_EQ(std::filesystem::file_size(file("big")), 0u);
  }
}

TEST_F(HttpDownload, NonSuccessStatusIsReturnedWithTheStartOfTheBody) {
  test_server cdn(ioc_, test_server::scheme::http, [](const seen_request& r) {
    if (r.target == "/huge") return reply{.status = http::status::forbidden, .body = std::string(100'000, 'e')};
    return reply{.status = http::status::not_found, .body = "<Error>NoSuchKey</Error>"};
  });
  soundtrackd::test::write_file(file("x"), "stale");
  st::client client(ioc_.get_executor(), options());

  auto got = run(client.download(cdn.url("/missing"), file("x"), 1000, 5s));
  ASSERT_TRUE(got.ok()) << got.error_message();
  EXPECT_EQ(got->status, 404u);
  EXPECT_EQ(got->error_body, "<Error>NoSuchKey</Error>");
  EXPECT_EQ(std::filesystem::file_size(file("x")), 0u);

  auto huge = run(client.download(cdn.url("/huge"), file("x"), 1000, 5s));
  ASSERT_TRUE(huge.ok()) << huge.error_message();
  EXPECT_EQ(huge->status, 403u);
  EXPECT_EQ(huge->error_body.size(), 4096u);
}

}  // namespace
