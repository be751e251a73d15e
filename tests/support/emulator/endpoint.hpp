// The kinds of request the emulator tells apart, for its statistics and fault rules.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace soundtrackd::emulator {

enum class endpoint : std::size_t {
  generate,   // POST /v1/generate/custom/model_minimax-music-2-6 (a real submit)
  dry_run,    // the same with ?dryRun=true
  get_job,    // GET /v1/jobs/{jobId}
  get_asset,  // GET /v1/assets/{assetId}
  get_bulk,   // POST /v1/assets/get-bulk
  cdn,        // GET /cdn/{assetId}.mp3
  other,      // anything else under /v1, including the job action endpoint
};

inline constexpr std::size_t endpoint_count = static_cast<std::size_t>(endpoint::other) + 1;

// The names used in GET /_emulator/stats and in fault rules.
inline constexpr std::array<std::string_view, endpoint_count> endpoint_names = {
    "generate", "dry_run", "get_job", "get_asset", "get_bulk", "cdn", "other"};

inline std::string_view name_of(endpoint e) { return endpoint_names[static_cast<std::size_t>(e)]; }

inline std::optional<endpoint> endpoint_named(std::string_view name) {
  for (std::size_t i = 0; i < endpoint_count; ++i)
    if (endpoint_names[i] == name) return static_cast<endpoint>(i);
  return std::nullopt;
}

}  // namespace soundtrackd::emulator
