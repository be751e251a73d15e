// Absolute http(s) URLs as the HTTP client needs them: origin, request target, redirects.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "soundtrackd/util/result.hpp"

namespace soundtrackd::http {

// Where a request goes. `target` keeps the path and query byte for byte as they were
// given: signed CDN URLs (Policy, Signature, Key-Pair-Id) break if anything re-encodes them.
struct url_target {
  bool tls = false;         // https
  std::string host;         // lowercase; an IPv6 literal without its brackets
  std::uint16_t port = 0;   // explicit, or the scheme's default
  bool host_is_ip = false;  // an IP literal: no SNI, certificate checked for the address
  std::string target;       // path and query ("/" when the path is empty); never the fragment

  std::string_view scheme() const { return tls ? "https" : "http"; }
  bool default_port() const { return port == (tls ? 443 : 80); }
  // "host:port" ("[::1]:443"): what error messages name and what CONNECT asks for.
  std::string authority() const;
  // The Host field: the port only when it is not the scheme's default.
  std::string host_header() const;
  // "scheme://host:port", port always explicit: the unit of pooling and of credentials.
  std::string origin() const;
  // The path without the query: safe for messages.
  std::string_view path() const;
  // "host[:port]/path": how messages name what is being downloaded.
  std::string host_and_path() const { return host_header().append(path()); }
};

// Parses an absolute http:// or https:// URL. The message of an error never repeats the
// query string.
result<url_target> parse_url(std::string_view url);

// Resolves a redirect's Location (absolute or relative, RFC 3986 section 5) against the
// URL that answered with it.
result<std::string> resolve_location(std::string_view base_url, std::string_view location);

}  // namespace soundtrackd::http
