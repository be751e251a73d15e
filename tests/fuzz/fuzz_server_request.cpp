// Fuzzes the status server's request handling up to the handlers: the request bytes parsed
// with the server's limits (server_limits), turned into a server_request as the server does,
// routed through a router with the job API's patterns, and the error replies it would send.
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_checks.hpp"
#include "soundtrackd/http/status_server.hpp"

using namespace soundtrackd;
namespace bhttp = boost::beast::http;

namespace {

boost::asio::awaitable<http::server_reply> no_reply(const http::server_request&) { co_return http::server_reply{}; }

// The patterns of queue::job_api::add_routes and the dashboard (open) routes.
const http::router& routes() {
  static const http::router table = [] {
    http::router r;
    for (const char* path : {"/healthz", "/metrics", "/v1/overview", "/v1/jobs", "/v1/jobs/{id}", "/v1/jobs/{id}/audio",
                             "/v1/jobs/{id}/audio/{asset_id}"})
      r.add("GET", path, no_reply);
    for (const char* path : {"/v1/jobs", "/v1/jobs/{id}/cancel", "/v1/jobs/{id}/retry", "/v1/jobs/{id}/priority"})
      r.add("POST", path, no_reply);
    r.add("GET", "/", no_reply, http::route_access::open);
    r.add("GET", "/ui/*", no_reply, http::route_access::open);
    return r;
  }();
  return table;
}

// A reply body the server builds from request text must stay JSON a client can parse.
void require_json(const http::server_reply& reply) {
  boost::system::error_code ec;
  boost::json::parse(reply.body, ec);
  fuzz::require(!ec, "an error reply is valid JSON");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const http::server_limits limits;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(limits.max_body_bytes);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) {
    require_json(http::json_error(400, "malformed HTTP request: " + ec.message()));
    return 0;
  }

  auto& message = parser.get();
  http::server_request request;
  request.method = message.method() == bhttp::verb::head ? "GET" : std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) request.headers.emplace_back(field.name_string(), field.value());
  request.body = std::move(message.body());
  fuzz::require(request.body.size() <= limits.max_body_bytes, "the body limit holds");

  const auto path = request.path();
  fuzz::require(path.find('?') == std::string_view::npos, "the path has no query");
  (void)request.query();
  (void)request.header("Authorization");
  (void)request.query_param("status");
  (void)request.query_param("limit");

  const auto match = routes().find(request.method, path);
  if (match.handler) {
    for (const auto& [name, value] : match.params)
      fuzz::require(name == "id" || name == "asset_id" || name == "*", "only declared parameters are filled");
  } else {
    require_json(http::json_error(match.path_known ? 405 : 404, "no such resource: " + std::string(path)));
  }
  return 0;
}
