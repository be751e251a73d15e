// Job status names as stored in jobs.status, and the status count total.
#include "soundtrackd/db/job_row.hpp"

#include <array>
#include <utility>

#include "soundtrackd/db/job_store.hpp"

namespace soundtrackd::db {

namespace {

// The spelling is the schema's contract (the CHECK on jobs.status): never rename.
constexpr std::array<std::pair<job_status, std::string_view>, 7> status_names{{
    {job_status::queued, "queued"},
    {job_status::submitting, "submitting"},
    {job_status::running, "running"},
    {job_status::downloading, "downloading"},
    {job_status::succeeded, "succeeded"},
    {job_status::failed, "failed"},
    {job_status::cancelled, "cancelled"},
}};

}  // namespace

std::string_view to_string(job_status s) {
  for (const auto& [status, name] : status_names)
    if (status == s) return name;
  return "unknown";
}

std::optional<job_status> parse_job_status(std::string_view s) {
  for (const auto& [status, name] : status_names)
    if (name == s) return status;
  return std::nullopt;
}

std::int64_t status_counts::total() const {
  std::int64_t sum = 0;
  for (const auto& [status, count] : by_status) sum += count;
  return sum;
}

}  // namespace soundtrackd::db
