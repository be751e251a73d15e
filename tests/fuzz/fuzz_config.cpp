// Fuzzes the config file parser: any text gives a config or an error naming the problem.
#include <cstdint>
#include <string_view>

#include "fuzz_checks.hpp"
#include "soundtrackd/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = soundtrackd::config::parse_config(text, "fuzz.toml");
  if (!parsed) soundtrackd::fuzz::require(!parsed.error_message().empty(), "a rejected config says why");
  // The value parsers the config uses, alone (they are also used by the CLI).
  (void)soundtrackd::config::parse_duration(text.substr(0, 64));
  (void)soundtrackd::config::parse_size(text.substr(0, 64));
  return 0;
}
