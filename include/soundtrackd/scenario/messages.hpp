// JSON bodies of the Scenario API: building requests and reading answers (pure, no I/O).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "soundtrackd/db/job_row.hpp"
#include "soundtrackd/scenario/types.hpp"

namespace soundtrackd::scenario {

// {"prompt", "lyrics", "isInstrumental", "lyricsOptimizer", "sampleRate", "bitrate"}
std::string generate_body(const db::job_request& request);

// The answers; a body that does not have what we need is a transient error naming the
// field, e.g. "malformed answer from POST /generate/...: no job.jobId".
api_result<submitted_job> parse_generate_answer(std::string_view body, std::string_view what);
api_result<remote_job> parse_job_answer(std::string_view body, std::string_view what);
// One entry of a POST /assets/get-bulk answer, by the id it names: the asset, or why that
// entry is unusable.
struct bulk_asset {
  std::string id;
  api_result<asset_info> asset;
};

// {"assetIds": [...]}
std::string bulk_assets_body(std::span<const std::string> asset_ids);
// {"assets": [{"id", "url", "mimeType", "size"}, ...]}: entries without an id are left out
// (the ids they should have answered are missing); an entry with one is judged on its own, so
// one bad asset fails only the job it belongs to.
api_result<std::vector<bulk_asset>> parse_bulk_assets_answer(std::string_view body, std::string_view what);
api_result<double> parse_dry_run_answer(std::string_view body, std::string_view what);

}  // namespace soundtrackd::scenario
