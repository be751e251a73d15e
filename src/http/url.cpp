// URL handling for the HTTP client: parsing, origins, redirect resolution, redaction.
#include "soundtrackd/http/url.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <charconv>

#include "soundtrackd/http/client.hpp"

namespace soundtrackd::http {
namespace urls = boost::urls;

namespace {

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The text of an unparsable URL, cut before anything that could be a query string.
std::string cut_query(std::string_view url) { return std::string(url.substr(0, url.find_first_of("?#"))); }

}  // namespace

std::string url_target::authority() const {
  std::string out;
  if (host.find(':') != std::string::npos)
    out.append("[").append(host).append("]");
  else
    out.append(host);
  return out.append(":").append(std::to_string(port));
}

std::string url_target::host_header() const {
  if (!default_port()) return authority();
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

std::string url_target::origin() const { return std::string(scheme()).append("://").append(authority()); }

std::string_view url_target::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

result<url_target> parse_url(std::string_view url) {
  auto parsed = urls::parse_uri(url);
  if (!parsed) return error{"invalid URL " + redact_url(std::string(url)) + ": " + parsed.error().message()};
  const urls::url_view& u = *parsed;

  url_target t;
  if (u.scheme_id() == urls::scheme::https)
    t.tls = true;
  else if (u.scheme_id() != urls::scheme::http)
    return error{"unsupported URL scheme in " + redact_url(std::string(url)) + " (only http and https)"};

  switch (u.host_type()) {
    case urls::host_type::name:
      t.host = lowercase(u.host());
      break;
    case urls::host_type::ipv4:
    case urls::host_type::ipv6:
      t.host = u.host_address();
      t.host_is_ip = true;
      break;
    default:
      break;
  }
  if (t.host.empty()) return error{"URL " + redact_url(std::string(url)) + " has no host"};

  t.port = t.tls ? 443 : 80;
  if (u.has_port() && !u.port().empty()) {
    // Checked here: port_number() silently wraps values that do not fit in 16 bits.
    const std::string_view digits = u.port();
    unsigned long port = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535)
      return error{"URL " + redact_url(std::string(url)) + " has an invalid port"};
    t.port = static_cast<std::uint16_t>(port);
  }

  // encoded_target() is the path and query as written: no decoding, no re-encoding.
  t.target = u.encoded_target();
  if (t.target.empty() || t.target.front() != '/') t.target.insert(0, "/");
  return t;
}

result<std::string> resolve_location(std::string_view base_url, std::string_view location) {
  auto base = urls::parse_uri(base_url);
  auto ref = urls::parse_uri_reference(location);
  if (!base || !ref) return error{"invalid redirect Location " + cut_query(location)};
  urls::url resolved;
  if (auto r = urls::resolve(*base, *ref, resolved); !r)
    return error{"cannot resolve redirect Location " + cut_query(location) + ": " + r.error().message()};
  return std::string(resolved.buffer());
}

std::string redact_url(const std::string& url) {
  auto parsed = urls::parse_uri(url);
  if (!parsed) return cut_query(url);
  // Rebuilt from parts rather than cut, so user:password@ goes too.
  std::string out(parsed->scheme());
  out.append("://").append(parsed->encoded_host_and_port());
  out.append(parsed->encoded_path());
  return out;
}

}  // namespace soundtrackd::http
