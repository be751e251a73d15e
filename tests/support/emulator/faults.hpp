// Injected faults: rules a test installs so that the next N requests to an endpoint misbehave,
// or each request with some probability.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "endpoint.hpp"

namespace soundtrackd::emulator {

enum class fault_action {
  status,          // answer `status` with `body` instead of handling the request
  drop,            // close the connection without answering; the request is not handled
  truncate,        // (cdn) announce the full Content-Length, send half the body, close
  delay,           // handle the request at once, send the answer `delay` later
  malformed,       // answer 200 application/json with a body that is not JSON; the request is not handled
  remote_failure,  // (get_job) the job is reported, from now on, as failed remotely
  overlong,        // (cdn) announce the asset's Content-Length, send the asset and as much again, close
  endless,         // (cdn) send bytes without a length until the client gives up
};

struct fault_rule {
  static constexpr std::int64_t unlimited = -1;

  endpoint target = endpoint::generate;
  // Faults left to inject: "count", else 1; unlimited for a "probability" rule without "count".
  std::int64_t remaining = 1;
  double probability = 1.0;  // each matching request gets the fault with this probability
  fault_action action = fault_action::status;
  unsigned status = 503;
  std::string body = R"({"reason":"injected fault"})";
  std::string retry_after;  // the Retry-After header, sent when not empty
  std::string location;     // the Location header (redirects), sent when not empty
  std::chrono::milliseconds delay{0};
  std::mt19937 random{};  // seeded from "seed", else a fixed seed per rule position
};

class fault_plan {
 public:
  // Replaces every rule with those in `json_array` (the body of POST /_emulator/faults).
  // On a malformed rule nothing changes and the reason is returned.
  std::optional<std::string> replace(std::string_view json_array);

  // The fault for the next request to `e`, if a rule still has some left (first rule wins).
  // A probabilistic rule that does not fire lets the request go on to the next rules.
  std::optional<fault_rule> take(endpoint e);

  void clear() { rules_.clear(); }

 private:
  std::vector<fault_rule> rules_;
};

}  // namespace soundtrackd::emulator
