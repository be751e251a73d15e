// Injected faults: rules a test installs so that the next N requests to an endpoint misbehave.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "endpoint.hpp"

namespace soundtrackd::emulator {

enum class fault_action {
  status,    // answer `status` with `body` instead of handling the request
  drop,      // close the connection without answering; the request is not handled
  truncate,  // (cdn) announce the full Content-Length, send half the body, close
  delay,     // handle the request at once, send the answer `delay` later
};

struct fault_rule {
  endpoint target = endpoint::generate;
  int remaining = 1;
  fault_action action = fault_action::status;
  unsigned status = 503;
  std::string body = R"({"reason":"injected fault"})";
  std::string retry_after;  // the Retry-After header, sent when not empty
  std::chrono::milliseconds delay{0};
};

class fault_plan {
 public:
  // Replaces every rule with those in `json_array` (the body of POST /_emulator/faults).
  // On a malformed rule nothing changes and the reason is returned.
  std::optional<std::string> replace(std::string_view json_array);

  // The fault for the next request to `e`, if a rule still has some left (first rule wins).
  std::optional<fault_rule> take(endpoint e);

  void clear() { rules_.clear(); }

 private:
  std::vector<fault_rule> rules_;
};

}  // namespace soundtrackd::emulator
