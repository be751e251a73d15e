// api-load: POST /v1/jobs from many concurrent keep-alive clients and report the insert rate.
// Used by the integration test of the group commit and by bench/ (scenario 6, HTTP ingest):
//   api-load --url http://127.0.0.1:8080 --clients 50 --requests 20000 [--token-file F] [--batch B]
//            [--run-after EPOCH]   (rows due only then: measures the inserts without the daemon's work)
// Prints one JSON object: requests, created (201 answers), failed, seconds, inserts_per_second,
// p50_ms and p99_ms (per-request latency).
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  int clients = 50;
  int requests = 10000;
  std::string token;
  std::string batch = "api-load";
  std::optional<double> run_after;
};

struct totals {
  int next = 0;  // the next request number to send
  int created = 0;
  int failed = 0;
  std::string first_error;
  std::vector<double> latencies_ms;
};

asio::awaitable<void> client(const options& opt, tcp::endpoint endpoint, totals& t) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  co_await stream.async_connect(endpoint, asio::use_awaitable);
  stream.socket().set_option(tcp::no_delay(true));
  beast::flat_buffer buffer;
  while (t.next < opt.requests) {
    const int n = t.next++;
    boost::json::object body{
        {"prompt", "api-load track " + std::to_string(n)}, {"batch", opt.batch}, {"name", "Load " + std::to_string(n)}};
    if (opt.run_after) body["run_after"] = *opt.run_after;
    bhttp::request<bhttp::string_body> request{bhttp::verb::post, "/v1/jobs", 11};
    request.set(bhttp::field::host, opt.host + ":" + opt.port);
    request.set(bhttp::field::content_type, "application/json");
    if (!opt.token.empty()) request.set(bhttp::field::authorization, "Bearer " + opt.token);
    request.body() = boost::json::serialize(body);
    request.prepare_payload();
    const auto started = clock_type::now();
    co_await bhttp::async_write(stream, request, asio::use_awaitable);
    bhttp::response<bhttp::string_body> response;
    co_await bhttp::async_read(stream, buffer, response, asio::use_awaitable);
    t.latencies_ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - started).count());
    if (response.result_int() == 201) {
      ++t.created;
    } else {
      ++t.failed;
      if (t.first_error.empty()) t.first_error = std::to_string(response.result_int()) + " " + response.body();
    }
  }
}

int usage() {
  std::cerr << "usage: api-load --url http://HOST:PORT [--clients N] [--requests N] [--token-file F] [--batch B] "
               "[--run-after EPOCH]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return usage();
    std::string value = argv[++i];
    if (arg == "--url") {
      auto url = boost::urls::parse_uri(value);
      if (!url || url->host().empty()) return usage();
      opt.host = url->host();
      opt.port = url->has_port() ? std::string(url->port()) : "80";
    } else if (arg == "--clients") {
      opt.clients = std::stoi(value);
    } else if (arg == "--requests") {
      opt.requests = std::stoi(value);
    } else if (arg == "--token-file") {
      std::ifstream in(value);
      std::getline(in, opt.token);
    } else if (arg == "--run-after") {
      opt.run_after = std::stod(value);
    } else if (arg == "--batch") {
      opt.batch = value;
    } else {
      return usage();
    }
  }

  asio::io_context io;
  tcp::resolver resolver(io);
  auto endpoint = *resolver.resolve(opt.host, opt.port).begin();
  totals t;
  int errors = 0;
  const auto started = clock_type::now();
  for (int c = 0; c < opt.clients; ++c)
    asio::co_spawn(io, client(opt, endpoint, t), [&](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        if (errors++ == 0) std::cerr << "api-load: a client stopped: " << ex.what() << "\n";
      }
    });
  io.run();
  const double seconds = std::chrono::duration<double>(clock_type::now() - started).count();
  std::sort(t.latencies_ms.begin(), t.latencies_ms.end());
  auto percentile = [&](double p) {
    if (t.latencies_ms.empty()) return 0.0;
    return t.latencies_ms[std::min(t.latencies_ms.size() - 1, static_cast<std::size_t>(p * t.latencies_ms.size()))];
  };
  boost::json::object report{
      {"requests", opt.requests},   {"clients", opt.clients},
      {"created", t.created},       {"failed", t.failed + errors},
      {"seconds", seconds},         {"inserts_per_second", seconds > 0 ? t.created / seconds : 0.0},
      {"p50_ms", percentile(0.50)}, {"p99_ms", percentile(0.99)}};
  if (!t.first_error.empty()) report["first_error"] = t.first_error;
  std::cout << boost::json::serialize(report) << "\n";
  return t.created == opt.requests && errors == 0 ? 0 : 1;
}
