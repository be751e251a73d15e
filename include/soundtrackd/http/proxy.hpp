// Which requests go through an HTTPS proxy (HTTPS_PROXY, NO_PROXY) and how to reach it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "soundtrackd/http/url.hpp"

namespace soundtrackd::http {

struct proxy_endpoint {
  url_target address;         // http://host:port of the proxy
  std::string authorization;  // "Basic ..." from user:password in the proxy URL, or empty
};

// https:// targets are tunnelled through the proxy with CONNECT; plain http:// goes
// direct (nothing here needs a proxy for it: the API and the CDN are https).
class proxy_settings {
 public:
  proxy_settings() = default;  // everything direct

  // `https_proxy` as curl takes it: "http://[user:password@]host[:port]" or "host:port"
  // (port 1080 when absent, as in curl). `no_proxy`: comma-separated hosts or domain
  // suffixes (".example.com" and "example.com" both cover "a.example.com"), "*" for all.
  // Throws std::invalid_argument on a malformed proxy URL; the message does not repeat
  // it, since it may hold a password.
  proxy_settings(std::string_view https_proxy, std::string_view no_proxy);

  // The values of https_proxy/HTTPS_PROXY and no_proxy/NO_PROXY (lowercase first, as curl).
  static std::string environment_https_proxy();
  static std::string environment_no_proxy();

  // The proxy to tunnel through for `target`, or nullptr to connect directly.
  const proxy_endpoint* route(const url_target& target) const;

 private:
  bool bypassed(const std::string& host) const;

  std::optional<proxy_endpoint> proxy_;
  std::vector<std::string> no_proxy_;  // lowercase, without a leading dot or a port
};

// localhost, *.localhost, 127.0.0.0/8, ::1: never proxied.
bool is_loopback_host(std::string_view host);

}  // namespace soundtrackd::http
