// JSON shapes of jobs, assets and events.
#include "soundtrackd/db/job_json.hpp"

#include <boost/json/value_from.hpp>

namespace soundtrackd::db {

namespace json = boost::json;

namespace {

template <class T>
json::value json_or_null(const std::optional<T>& value) {
  if (!value) return nullptr;
  return json::value_from(*value);
}

}  // namespace

json::object row_json(const job_row& job) {
  const auto& request = job.request;
  return {
      {"id", job.id},
      {"prompt", request.prompt},
      {"lyrics", request.lyrics},
      {"is_instrumental", request.is_instrumental},
      {"lyrics_optimizer", request.lyrics_optimizer},
      {"sample_rate", request.sample_rate},
      {"bitrate", request.bitrate},
      {"priority", request.priority},
      {"batch", json_or_null(request.batch)},
      {"name", json_or_null(request.name)},
      {"run_after", json_or_null(request.run_after)},
      {"max_attempts", json_or_null(request.max_attempts)},
      {"created_at", job.created_at},
      {"status", to_string(job.status)},
      {"attempts", job.attempts},
      {"remote_job_id", json_or_null(job.remote_job_id)},
      {"last_error", json_or_null(job.last_error)},
      {"updated_at", json_or_null(job.updated_at)},
      {"submitted_at", json_or_null(job.submitted_at)},
      {"finished_at", json_or_null(job.finished_at)},
      {"next_attempt_at", json_or_null(job.next_attempt_at)},
      {"progress", json_or_null(job.progress)},
      {"cost_cu", json_or_null(job.cost_cu)},
  };
}

json::object summary_json(const job_summary& job) {
  return {
      {"id", job.id},
      {"status", to_string(job.status)},
      {"priority", job.priority},
      {"batch", json_or_null(job.batch)},
      {"name", json_or_null(job.name)},
      {"prompt", job.prompt},
      {"attempts", job.attempts},
      {"remote_job_id", json_or_null(job.remote_job_id)},
      {"progress", json_or_null(job.progress)},
      {"last_error", json_or_null(job.last_error)},
      {"created_at", job.created_at},
      {"updated_at", json_or_null(job.updated_at)},
      {"submitted_at", json_or_null(job.submitted_at)},
      {"finished_at", json_or_null(job.finished_at)},
  };
}

json::object asset_json(const asset_row& asset) {
  return {
      {"id", asset.id},
      {"job_id", asset.job_id},
      {"remote_asset_id", asset.remote_asset_id},
      {"mime_type", asset.mime_type},
      {"size_bytes", asset.size_bytes},
      {"sha256", asset.sha256},
      {"created_at", asset.created_at},
  };
}

json::object event_json(const job_event& event) {
  return {{"id", event.id}, {"at", event.at}, {"kind", event.kind}, {"detail", event.detail}};
}

}  // namespace soundtrackd::db
