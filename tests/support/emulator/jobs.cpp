// Jobs whose status is a pure function of elapsed time, and the assets created when they succeed.
#include "jobs.hpp"

#include <boost/json.hpp>

#include "cdn.hpp"

namespace soundtrackd::emulator {

namespace {

// Where each stage starts, as a fraction of the job's duration. The real API spends most of a
// job in-progress after a short wait in pending and queued; clients must cope with all three.
constexpr double queued_from = 0.1;
constexpr double in_progress_from = 0.2;

double elapsed_fraction(const job_record& job, clock::time_point now) {
  if (job.duration.count() <= 0) return 1.0;
  std::chrono::duration<double> elapsed = now - job.submitted_at;
  return elapsed / std::chrono::duration<double>(job.duration);
}

// Two submits are the same request when every field that shapes the music is the same.
std::string duplicate_key(const generation_request& r) {
  return boost::json::serialize(boost::json::array{std::string_view(r.prompt), std::string_view(r.lyrics),
                                                   r.is_instrumental, r.lyrics_optimizer, r.sample_rate, r.bitrate});
}

}  // namespace

std::string_view name_of(job_status status) {
  switch (status) {
    case job_status::pending:
      return "pending";
    case job_status::queued:
      return "queued";
    case job_status::in_progress:
      return "in-progress";
    case job_status::success:
      return "success";
  }
  return "unknown";
}

job_status job_record::status_at(clock::time_point now) const {
  double fraction = elapsed_fraction(*this, now);
  if (fraction >= 1.0) return job_status::success;
  if (fraction >= in_progress_from) return job_status::in_progress;
  if (fraction >= queued_from) return job_status::queued;
  return job_status::pending;
}

double job_record::progress_at(clock::time_point now) const {
  switch (status_at(now)) {
    case job_status::success:
      return 1.0;
    case job_status::in_progress:
      return elapsed_fraction(*this, now);
    default:
      return 0.0;
  }
}

clock::time_point job_record::entered_at(job_status s) const {
  auto after = [this](double fraction) {
    return submitted_at + std::chrono::duration_cast<clock::duration>(duration * fraction);
  };
  switch (s) {
    case job_status::pending:
      return submitted_at;
    case job_status::queued:
      return after(queued_from);
    case job_status::in_progress:
      return after(in_progress_from);
    case job_status::success:
      return after(1.0);
  }
  return submitted_at;
}

job_registry::job_registry() : random_(std::random_device{}()) {}

std::string job_registry::random_id(std::string_view prefix) {
  std::array<unsigned char, 12> bytes;
  for (auto& byte : bytes) byte = static_cast<unsigned char>(random_());
  return std::string(prefix) + to_hex(bytes);
}

job_registry::submission job_registry::submit(generation_request request, const api_settings& settings,
                                              clock::time_point now) {
  bool duplicate = !accepted_requests_.insert(duplicate_key(request)).second;
  if (duplicate) ++duplicate_submits_;

  job_record job;
  do job.id = random_id("job_");
  while (job_index_.contains(job.id));
  job.request = std::move(request);
  job.submitted_at = now;
  job.duration = settings.job_duration;
  job.asset_size = settings.asset_size;
  job.asset_count = settings.assets_per_job;
  job.cost = settings.cost;

  job_index_.emplace(job.id, jobs_.size());
  jobs_.push_back(std::move(job));
  return {jobs_.back(), duplicate};
}

void job_registry::advance(job_record& job, clock::time_point now) {
  if (job.status == job_status::success) return;
  job.status = job.status_at(now);
  if (job.status != job_status::success) return;
  // The digest is taken once, here, rather than per download, so a test compares what it
  // downloaded against what the "server" produced.
  for (int i = 0; i < job.asset_count; ++i) {
    std::string id;
    do id = random_id("asset_");
    while (assets_.contains(id));
    asset_record asset{id, job.id, job.asset_size, asset_sha256(id, job.asset_size)};
    assets_.emplace(id, std::move(asset));
    job.asset_ids.push_back(std::move(id));
  }
}

const job_record* job_registry::observe(std::string_view job_id, clock::time_point now) {
  auto found = job_index_.find(job_id);
  if (found == job_index_.end()) return nullptr;
  auto& job = jobs_[found->second];
  advance(job, now);
  return &job;
}

const std::vector<job_record>& job_registry::observe_all(clock::time_point now) {
  for (auto& job : jobs_) advance(job, now);
  return jobs_;
}

const asset_record* job_registry::find_asset(std::string_view asset_id) const {
  auto found = assets_.find(asset_id);
  return found == assets_.end() ? nullptr : &found->second;
}

void job_registry::clear() {
  jobs_.clear();
  job_index_.clear();
  assets_.clear();
  accepted_requests_.clear();
  duplicate_submits_ = 0;
}

}  // namespace soundtrackd::emulator
