// Serves the embedded dashboard (web/*) with headers that keep it self-contained: a CSP that
// allows only this origin (no inline script, no external request), no framing, no referrer,
// and ETags so a page left open revalidates with a 304 instead of downloading again.
#include "soundtrackd/http/dashboard.hpp"

#include <boost/asio/use_awaitable.hpp>

#include "soundtrackd/http/dashboard_files.hpp"

namespace soundtrackd::http {

namespace {

constexpr std::string_view content_security_policy =
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

// If-None-Match may list several tags, or be "*".
bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match == "*") return true;
  while (!if_none_match.empty()) {
    auto end = if_none_match.find(',');
    auto candidate = if_none_match.substr(0, end);
    while (!candidate.empty() && candidate.front() == ' ') candidate.remove_prefix(1);
    while (!candidate.empty() && candidate.back() == ' ') candidate.remove_suffix(1);
    if (candidate.starts_with("W/")) candidate.remove_prefix(2);
    if (candidate == etag) return true;
    if (end == std::string_view::npos) break;
    if_none_match.remove_prefix(end + 1);
  }
  return false;
}

}  // namespace

server_reply dashboard_reply(std::string_view path, std::string_view if_none_match) {
  const auto* file = find_dashboard_file(path);
  if (!file) return {404, "text/plain; charset=utf-8", "no dashboard file " + std::string(path) + "\n"};
  server_reply reply;
  reply.content_type = std::string(file->content_type);
  reply.headers = {
      {"Content-Security-Policy", std::string(content_security_policy)},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      // The names do not change with the content, so the browser revalidates each time (a 304).
      {"Cache-Control", "no-cache"},
      {"ETag", std::string(file->etag)},
  };
  if (etag_matches(if_none_match, file->etag))
    reply.status = 304;
  else
    reply.body = std::string(file->bytes);
  return reply;
}

void add_dashboard_routes(router& routes) {
  auto serve = [](const server_request& request) -> boost::asio::awaitable<server_reply> {
    co_return dashboard_reply(request.path(), request.header("If-None-Match"));
  };
  routes.add("GET", "/", serve, route_access::open);
  routes.add("GET", "/ui/*", serve, route_access::open);
}

}  // namespace soundtrackd::http
