// HTTPS proxy selection: the proxy URL, NO_PROXY matching and the loopback bypass.
#include "soundtrackd/http/proxy.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace soundtrackd::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// One NO_PROXY entry in the form hosts are compared with: lowercase, no leading dot,
// no port ("[::1]:8080" -> "::1", "example.com:443" -> "example.com").
std::string no_proxy_entry(std::string_view entry) {
  if (entry.starts_with('[')) {
    entry = entry.substr(1, entry.find(']') - 1);
  } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
    entry = entry.substr(0, entry.find(':'));
  }
  while (entry.starts_with('.')) entry.remove_prefix(1);
  return lowercase(entry);
}

const char* first_env(const char* a, const char* b) {
  if (const char* v = std::getenv(a); v && *v) return v;
  if (const char* v = std::getenv(b); v && *v) return v;
  return "";
}

}  // namespace

proxy_settings::proxy_settings(std::string_view https_proxy, std::string_view no_proxy) {
  std::string spec(trim(https_proxy));
  if (!spec.empty()) {
    if (spec.find("://") == std::string::npos) spec.insert(0, "http://");
    auto uri = boost::urls::parse_uri(spec);
    auto address = parse_url(spec);
    // Only plain-HTTP proxies: a TLS connection to the proxy itself is not supported.
    if (!uri || !address || address->tls)
      throw std::invalid_argument("the HTTPS proxy setting is not an http://host:port URL");
    proxy_endpoint endpoint{std::move(*address), {}};
    if (!uri->has_port()) endpoint.address.port = 1080;
    if (uri->has_userinfo()) endpoint.authorization = "Basic " + base64(uri->user() + ":" + uri->password());
    proxy_ = std::move(endpoint);
  }
  std::string_view rest = no_proxy;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    auto entry = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (!entry.empty()) no_proxy_.push_back(no_proxy_entry(entry));
  }
}

std::string proxy_settings::environment_https_proxy() { return first_env("https_proxy", "HTTPS_PROXY"); }

std::string proxy_settings::environment_no_proxy() { return first_env("no_proxy", "NO_PROXY"); }

const proxy_endpoint* proxy_settings::route(const url_target& target) const {
  if (!proxy_ || !target.tls || is_loopback_host(target.host) || bypassed(target.host)) return nullptr;
  return &*proxy_;
}

bool proxy_settings::bypassed(const std::string& host) const {
  return std::any_of(no_proxy_.begin(), no_proxy_.end(), [&](const std::string& entry) {
    if (entry == "*" || entry == host) return true;
    // A domain suffix matches at a label boundary only: "example.com" covers
    // "api.example.com" but not "badexample.com".
    return host.size() > entry.size() && host.ends_with(entry) && host[host.size() - entry.size() - 1] == '.';
  });
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host.ends_with(".localhost")) return true;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return false;
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).is_loopback();
  return address.is_loopback();
}

}  // namespace soundtrackd::http
