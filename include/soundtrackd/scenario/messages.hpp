// JSON bodies of the Scenario API: building requests and reading answers (pure, no I/O).
#pragma once

#include <string>
#include <string_view>

#include "soundtrackd/db/job_row.hpp"
#include "soundtrackd/scenario/types.hpp"

namespace soundtrackd::scenario {

// {"prompt", "lyrics", "isInstrumental", "lyricsOptimizer", "sampleRate", "bitrate"}
std::string generate_body(const db::job_request& request);
// {"assetIds": [...]} for POST /assets/get-bulk
std::string bulk_assets_body(const std::vector<std::string>& asset_ids);

// The answers; a body that does not have what we need is a transient error naming the
// field, e.g. "malformed answer from POST /generate/...: no job.jobId".
api_result<submitted_job> parse_generate_answer(std::string_view body, std::string_view what);
api_result<remote_job> parse_job_answer(std::string_view body, std::string_view what);
api_result<asset_info> parse_asset_answer(std::string_view body, std::string_view what);
// {"assets": [...]}: the usable entries (an id and a url); the API leaves unknown ids out.
api_result<std::vector<asset_info>> parse_bulk_assets_answer(std::string_view body, std::string_view what);
api_result<double> parse_dry_run_answer(std::string_view body, std::string_view what);

}  // namespace soundtrackd::scenario
