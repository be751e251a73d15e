// Fuzzes what the Scenario API answers: the JSON of generate, job, asset and dry-run answers,
// and the error classification of non-2xx bodies (whose text ends up in last_error).
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_checks.hpp"
#include "soundtrackd/scenario/errors.hpp"
#include "soundtrackd/scenario/messages.hpp"
#include "valid_utf8.hpp"

using namespace soundtrackd;
using namespace soundtrackd::scenario;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  if (auto job = parse_generate_answer(body, "POST /generate")) {
    fuzz::require(!job->job_id.empty(), "a submitted job has an id");
    fuzz::require(!job->cost_cu || *job->cost_cu == *job->cost_cu, "cost is a number");
  }
  if (auto job = parse_job_answer(body, "GET /jobs/x")) {
    fuzz::require(!job->status.empty(), "a job answer has a status");
    fuzz::require(job->progress >= 0.0 && job->progress <= 1.0, "progress within 0..1");
  }
  if (auto asset = parse_asset_answer(body, "GET /assets/x")) fuzz::require(!asset->url.empty(), "asset has a url");
  if (auto assets = parse_bulk_assets_answer(body, "POST /assets/get-bulk"))
    for (const auto& asset : *assets)
      fuzz::require(!asset.id.empty() && !asset.url.empty(), "a bulk asset has an id and a url");
  (void)parse_dry_run_answer(body, "POST /generate?dryRun=true");

  // Whatever the body, the message stored in last_error is one line of valid UTF-8.
  for (const unsigned status : {400u, 402u, 429u, 503u}) {
    for (const call c : {call::generate, call::get_job, call::download}) {
      const std::optional<std::string> retry_after = std::string(body.substr(0, 40));
      const auto e = classify_http_error(c, "GET /jobs/x", status, body, retry_after, 1.7e9);
      fuzz::require(test::valid_utf8(e.message), "error message is valid UTF-8");
      fuzz::require(e.message.find('\n') == std::string::npos, "error message is one line");
      fuzz::require(e.message.size() < 1024, "error message is short");
      if (e.retry_after) fuzz::require(e.retry_after->count() >= 0, "Retry-After is not negative");
    }
  }
  return 0;
}
