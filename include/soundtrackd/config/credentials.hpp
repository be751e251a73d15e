// Scenario API credentials: systemd credential files first, then the environment. Never logged.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace soundtrackd::config {

struct credentials {
  std::string api_key;
  std::string api_secret;
  // Safe to log: "credential files in $CREDENTIALS_DIRECTORY (/run/credentials/...)" or
  // "environment (SCENARIO_API_KEY, SCENARIO_API_SECRET)".
  std::string source;
  // Safe to log: e.g. "credential file /run/.../scenario_api_key is readable by other users
  // (mode 0644): chmod 600 it". Logged as warnings at start.
  std::vector<std::string> warnings;
};

// Looks in $CREDENTIALS_DIRECTORY/scenario_api_key and .../scenario_api_secret (trailing
// whitespace and newlines stripped), then SCENARIO_API_KEY and SCENARIO_API_SECRET. nullopt
// when neither pair is complete (both present and non-empty). Reads the files on every call,
// so a re-check sees replaced credentials.
std::optional<credentials> find_credentials();

// "Basic base64(key:secret)": the Authorization value the API wants.
std::string basic_authorization(const credentials& c);

// The message for a missing pair: says where they are looked for and which half of a
// partial setup is missing or empty.
std::string missing_credentials_message();

}  // namespace soundtrackd::config
