// Turns every non-2xx answer and transport failure into an api_error the state machine acts on.
#include "soundtrackd/scenario/errors.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <ctime>
#include <limits>
#include <string>

#include "soundtrackd/util/utf8.hpp"

namespace soundtrackd::scenario {

std::string_view to_string(error_kind kind) {
  switch (kind) {
    case error_kind::transient:
      return "transient";
    case error_kind::rate_limited:
      return "rate_limited";
    case error_kind::permanent:
      return "permanent";
    case error_kind::global:
      return "global";
    case error_kind::url_expired:
      return "url_expired";
  }
  return "unknown";
}

namespace json = boost::json;

namespace {

// Error bodies are whatever the server sent: the text kept for last_error, logs and JSON output
// is one line of valid UTF-8 (invalid bytes become U+FFFD, control characters spaces), cut
// at a character boundary after at most `limit` bytes.
std::string shorten(std::string_view text, std::size_t limit = 300) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t length = utf8_sequence_length(text.substr(i));
    const std::string_view piece = length ? text.substr(i, length) : std::string_view("\xEF\xBF\xBD");
    if (out.size() + piece.size() > limit) break;
    const auto c = static_cast<unsigned char>(piece[0]);
    if (c < 0x20 || c == 0x7F)
      out += ' ';
    else
      out += piece;
    i += length ? length : 1;
  }
  if (i < text.size()) out += "...";
  return out;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A 429 over the team's concurrent-job ceiling carries details.actionLimit.
std::optional<int> action_limit_of(std::string_view body) {
  boost::system::error_code ec;
  auto doc = json::parse(body, ec);
  if (ec || !doc.is_object()) return std::nullopt;
  auto* details = doc.as_object().if_contains("details");
  if (!details || !details->is_object()) return std::nullopt;
  auto* limit = details->as_object().if_contains("actionLimit");
  if (!limit) return std::nullopt;
  // A ceiling beyond int is none the daemon could apply; converting such a double (fuzzing sent
  // 1e114) would be undefined, such an integer would wrap.
  constexpr auto int_max = std::numeric_limits<int>::max();
  if (limit->is_int64() && limit->as_int64() > 0 && limit->as_int64() <= int_max)
    return static_cast<int>(limit->as_int64());
  if (limit->is_double() && limit->as_double() >= 1 && limit->as_double() <= int_max)
    return static_cast<int>(limit->as_double());
  return std::nullopt;
}

bool mentions_credits(std::string_view text) {
  auto lower = lowercase(text);
  return lower.find("creative unit") != std::string::npos || lower.find("credit") != std::string::npos;
}

}  // namespace

std::string error_text(std::string_view body) {
  boost::system::error_code ec;
  auto doc = json::parse(body, ec);
  if (!ec && doc.is_object()) {
    for (auto key : {"reason", "message", "error", "details"}) {
      auto* v = doc.as_object().if_contains(key);
      if (!v) continue;
      if (v->is_string() && !v->as_string().empty()) return shorten(v->as_string());
      if (v->is_object() || v->is_array()) return shorten(json::serialize(*v));
    }
  }
  return shorten(body);
}

std::optional<duration> parse_retry_after(std::string_view value, epoch_seconds now) {
  // A server (or whatever answers in its place) asking for days would stall every row that
  // long: an hour is the most we wait on its word, then ask again.
  constexpr duration longest = std::chrono::hours(1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  bool digits = true;
  for (char c : value) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (digits) {
    if (value.size() > 9) return longest;
    return std::min<duration>(std::chrono::seconds(std::stol(std::string(value))), longest);
  }
  std::tm tm{};
  std::string text(value);
  if (!strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) return std::nullopt;
  auto at = static_cast<double>(timegm(&tm));
  auto delta = at - now;
  if (!(delta > 0)) return duration::zero();
  return delta >= 3600 ? longest : std::chrono::milliseconds(static_cast<long long>(delta * 1000));
}

api_error classify_http_error(call c, std::string_view what, unsigned status, std::string_view body,
                              const std::optional<std::string>& retry_after, epoch_seconds now) {
  api_error e;
  e.http_status = status;
  auto text = error_text(body);
  e.message = "HTTP " + std::to_string(status) + " from " + std::string(what);
  if (!text.empty()) e.message += ": " + text;
  if (retry_after) e.retry_after = parse_retry_after(*retry_after, now);

  if (c == call::download) {
    // The signed URL expired or was revoked: a fresh one from GET /assets/{id} fixes it.
    e.kind = (status == 403 || status == 404 || status == 410) ? error_kind::url_expired : error_kind::transient;
    return e;
  }
  if (status == 429) {
    e.kind = error_kind::rate_limited;
    e.action_limit = action_limit_of(body);
  } else if (status == 401 || status == 403 || status == 402 ||
             (status >= 400 && status < 500 && mentions_credits(text))) {
    // Bad credentials, or out of creative units: every submit would fail alike.
    e.kind = error_kind::global;
  } else if (status == 400 || status == 404 || status == 409 || status == 422) {
    e.kind = error_kind::permanent;
  } else {
    e.kind = error_kind::transient;  // 5xx, 408, and anything unexpected: try again
  }
  return e;
}

api_error classify_transport_error(std::string_view what, std::string_view message) {
  api_error e;
  e.kind = error_kind::transient;
  e.message = std::string(message) + " (" + std::string(what) + ")";
  return e;
}

remote_state classify_remote_status(const std::string& status) {
  if (status == "success") return remote_state::succeeded;
  if (status == "failure" || status == "failed") return remote_state::failed;
  if (status == "canceled" || status == "cancelled") return remote_state::canceled;
  return remote_state::running;
}

bool is_known_remote_status(const std::string& status) {
  for (auto known : {"pending", "warming-up", "queued", "in-progress", "finalizing", "success", "failure", "failed",
                     "canceled", "cancelled"})
    if (status == known) return true;
  return false;
}

}  // namespace soundtrackd::scenario
