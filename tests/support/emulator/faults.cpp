// Parsing and consuming fault rules.
#include "faults.hpp"

#include <algorithm>
#include <boost/json.hpp>

namespace soundtrackd::emulator {

namespace json = boost::json;

namespace {

std::optional<fault_action> action_named(std::string_view name) {
  if (name == "status") return fault_action::status;
  if (name == "drop") return fault_action::drop;
  if (name == "truncate") return fault_action::truncate;
  if (name == "delay") return fault_action::delay;
  if (name == "malformed") return fault_action::malformed;
  if (name == "remote_failure") return fault_action::remote_failure;
  if (name == "overlong") return fault_action::overlong;
  if (name == "endless") return fault_action::endless;
  return std::nullopt;
}

// Reads an optional integer member into `out` (JSON numbers may arrive as int64, uint64 or
// double); returns the problem when it is present but not an integer within [minimum, maximum].
std::optional<std::string> read_integer(const json::object& rule, std::string_view key, std::int64_t minimum,
                                        std::int64_t maximum, std::int64_t& out) {
  auto* value = rule.if_contains(key);
  if (!value) return std::nullopt;
  boost::system::error_code ec;
  auto number = value->is_number() ? value->to_number<std::int64_t>(ec) : minimum - 1;
  if (ec || number < minimum || number > maximum)
    return "fault " + std::string(key) + " must be an integer from " + std::to_string(minimum) + " to " +
           std::to_string(maximum);
  out = number;
  return std::nullopt;
}

// Decodes UTF-8 `text` whose characters are all at most U+00FF into one byte each.
std::optional<std::string> latin1_bytes(std::string_view text, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < text.size()) {
      out += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(text[++i]) & 0x3F));
    } else {
      return "fault body_bytes may only hold characters U+0000..U+00FF";
    }
  }
  return std::nullopt;
}

std::optional<std::string> parse_rule(const json::value& value, std::size_t position, fault_rule& rule) {
  auto* object = value.if_object();
  if (!object) return "each fault rule must be a JSON object";
  for (const auto& member : *object) {
    static constexpr std::string_view known[] = {"endpoint",    "count",    "status",     "body",
                                                 "retry_after", "action",   "delay_ms",   "probability",
                                                 "seed",        "location", "body_bytes", "pad_bytes"};
    if (std::find(std::begin(known), std::end(known), member.key()) == std::end(known))
      return "unknown fault rule field '" + std::string(member.key()) + "'";
  }
  auto* endpoint_name = object->if_contains("endpoint");
  if (!endpoint_name || !endpoint_name->is_string()) return "fault rule needs \"endpoint\"";
  auto target = endpoint_named(endpoint_name->get_string());
  if (!target || target == endpoint::dry_run || target == endpoint::other)
    return "fault endpoint must be one of generate, get_job, get_asset, get_bulk, cdn";
  rule.target = *target;

  if (auto* action = object->if_contains("action")) {
    auto parsed = action->is_string() ? action_named(action->get_string()) : std::nullopt;
    if (!parsed)
      return "fault action must be one of status, drop, truncate, delay, malformed, remote_failure, overlong, "
             "endless";
    rule.action = *parsed;
  }
  if ((rule.action == fault_action::truncate || rule.action == fault_action::overlong ||
       rule.action == fault_action::endless) &&
      rule.target != endpoint::cdn)
    return "truncate, overlong and endless apply to the cdn endpoint only";
  if (rule.action == fault_action::malformed && rule.target == endpoint::cdn)
    return "malformed applies to the JSON endpoints only (generate, get_job, get_asset, get_bulk)";
  if (rule.action == fault_action::remote_failure && rule.target != endpoint::get_job)
    return "remote_failure applies to the get_job endpoint only";

  if (auto* probability = object->if_contains("probability")) {
    boost::system::error_code ec;
    double p = probability->is_number() ? probability->to_number<double>(ec) : 0.0;
    if (ec || !(p > 0.0 && p <= 1.0)) return "fault probability must be a number greater than 0 and at most 1";
    rule.probability = p;
    if (!object->contains("count")) rule.remaining = fault_rule::unlimited;
  }
  std::int64_t seed = 0x5eed0000 + static_cast<std::int64_t>(position);
  if (auto problem = read_integer(*object, "seed", 0, 0xFFFFFFFF, seed)) return problem;
  rule.random.seed(static_cast<std::mt19937::result_type>(seed));

  std::int64_t count = rule.remaining, status = rule.status, delay_ms = rule.delay.count();
  if (auto problem = read_integer(*object, "count", 1, 1'000'000'000, count)) return problem;
  if (auto problem = read_integer(*object, "status", 100, 599, status)) return problem;
  if (auto problem = read_integer(*object, "delay_ms", 0, 3'600'000, delay_ms)) return problem;
  rule.remaining = count;
  rule.status = static_cast<unsigned>(status);
  rule.delay = std::chrono::milliseconds(delay_ms);
  if (auto* body = object->if_contains("body")) {
    if (!body->is_string()) return "fault body must be a string (the literal response body)";
    rule.body = body->get_string();
  }
  // Bytes JSON cannot carry (invalid UTF-8): each character U+0000..U+00FF is sent as that byte.
  if (auto* bytes = object->if_contains("body_bytes")) {
    if (!bytes->is_string()) return "fault body_bytes must be a string";
    auto problem = latin1_bytes(bytes->get_string(), rule.body);
    if (problem) return problem;
  }
  // Trailing spaces (still valid JSON) that make a body as large as a test needs.
  std::int64_t pad_bytes = 0;
  if (auto problem = read_integer(*object, "pad_bytes", 0, 64 << 20, pad_bytes)) return problem;
  rule.body.append(static_cast<std::size_t>(pad_bytes), ' ');
  if (auto* location = object->if_contains("location")) {
    if (!location->is_string()) return "fault location must be a string (the header's value)";
    rule.location = location->get_string();
  }
  if (auto* retry_after = object->if_contains("retry_after")) {
    if (!retry_after->is_string()) return "fault retry_after must be a string (the header's value)";
    rule.retry_after = retry_after->get_string();
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> fault_plan::replace(std::string_view json_array) {
  boost::system::error_code ec;
  auto parsed = json::parse(json_array, ec);
  if (ec || !parsed.is_array()) return "faults must be a JSON array of rules";
  std::vector<fault_rule> rules;
  for (const auto& value : parsed.get_array()) {
    fault_rule rule;
    if (auto problem = parse_rule(value, rules.size(), rule)) return problem;
    rules.push_back(std::move(rule));
  }
  rules_ = std::move(rules);
  return std::nullopt;
}

std::optional<fault_rule> fault_plan::take(endpoint e) {
  // A dry run goes to the same URL as a submit, so a rule on "generate" hits both, as an
  // outage of that endpoint would.
  if (e == endpoint::dry_run) e = endpoint::generate;
  for (auto& rule : rules_) {
    if (rule.target != e || rule.remaining == 0) continue;
    if (rule.probability < 1.0 && std::uniform_real_distribution<double>(0.0, 1.0)(rule.random) >= rule.probability)
      continue;
    if (rule.remaining != fault_rule::unlimited) --rule.remaining;
    return rule;
  }
  return std::nullopt;
}

}  // namespace soundtrackd::emulator
