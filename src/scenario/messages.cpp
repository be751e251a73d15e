// Maps Scenario API JSON to our types, defensively: fields documented in more than one
// place are looked up in each (job.jobId, then job.id).
#include "soundtrackd/scenario/messages.hpp"

#include <boost/json.hpp>

#include "soundtrackd/util/time.hpp"

namespace soundtrackd::scenario {

namespace json = boost::json;

namespace {

api_error malformed(std::string_view what, std::string_view problem) {
  return {
      error_kind::transient, 200, "malformed answer from " + std::string(what) + ": " + std::string(problem), {}, {}};
}

const json::object* object_at(const json::object& parent, std::string_view key) {
  auto* v = parent.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

std::string string_at(const json::object& parent, std::string_view key) {
  auto* v = parent.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::optional<double> number_at(const json::object& parent, std::string_view key) {
  auto* v = parent.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_double()) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  return std::nullopt;
}

// statusHistory's first date to its "success" date, in seconds; nothing if either is
// missing or unreadable.
std::optional<double> run_seconds(const json::object& job) {
  auto* history = job.if_contains("statusHistory");
  if (!history || !history->is_array() || history->as_array().empty()) return std::nullopt;
  auto date_of = [](const json::value& entry) -> std::optional<epoch_seconds> {
    if (!entry.is_object()) return std::nullopt;
    return parse_utc_iso8601(string_at(entry.as_object(), "date"));
  };
  auto created = date_of(history->as_array().front());
  for (const auto& entry : history->as_array())
    if (entry.is_object() && string_at(entry.as_object(), "status") == "success") {
      auto finished = date_of(entry);
      if (created && finished && *finished >= *created) return *finished - *created;
    }
  return std::nullopt;
}

result<json::object, api_error> parse_object(std::string_view body, std::string_view what) {
  boost::system::error_code ec;
  auto doc = json::parse(body, ec);
  if (ec) return malformed(what, "not JSON (" + ec.message() + ")");
  if (!doc.is_object()) return malformed(what, "not a JSON object");
  return std::move(doc.as_object());
}

// An asset object, from GET /assets/{id} or an entry of POST /assets/get-bulk.
api_result<asset_info> asset_from(const json::object& asset, std::string_view what) {
  asset_info out;
  out.id = string_at(asset, "id");
  out.url = string_at(asset, "url");
  out.mime_type = string_at(asset, "mimeType");
  if (out.url.empty()) return malformed(what, "no asset.url");
  const auto size = number_at(asset, "size");
  // Converting a double beyond 2^64 is undefined: such a size (fuzzing sent 1e300) is a lie.
  if (size && *size >= 0x1p63) return malformed(what, "asset.size is not a byte count");
  if (size && *size > 0) out.size = static_cast<std::uint64_t>(*size);
  return out;
}

}  // namespace

std::string generate_body(const db::job_request& request) {
  json::object body;
  body["prompt"] = request.prompt;
  body["lyrics"] = request.lyrics;
  body["isInstrumental"] = request.is_instrumental;
  body["lyricsOptimizer"] = request.lyrics_optimizer;
  body["sampleRate"] = request.sample_rate;
  body["bitrate"] = request.bitrate;
  return json::serialize(body);
}

std::string bulk_assets_body(const std::vector<std::string>& asset_ids) {
  json::array ids;
  for (const auto& id : asset_ids) ids.emplace_back(id);
  return json::serialize(json::object{{"assetIds", std::move(ids)}});
}

api_result<submitted_job> parse_generate_answer(std::string_view body, std::string_view what) {
  auto doc = parse_object(body, what);
  if (!doc) return doc.failure();
  auto* job = object_at(*doc, "job");
  if (!job) return malformed(what, "no job object");
  submitted_job out;
  out.job_id = string_at(*job, "jobId");
  if (out.job_id.empty()) out.job_id = string_at(*job, "id");  // older documentation's name
  if (out.job_id.empty()) return malformed(what, "no job.jobId");
  if (auto* billing = object_at(*job, "billing")) out.cost_cu = number_at(*billing, "cuCost");
  if (!out.cost_cu) out.cost_cu = number_at(*doc, "creativeUnitsCost");
  return out;
}

api_result<remote_job> parse_job_answer(std::string_view body, std::string_view what) {
  auto doc = parse_object(body, what);
  if (!doc) return doc.failure();
  auto* job = object_at(*doc, "job");
  if (!job) return malformed(what, "no job object");
  remote_job out;
  out.job_id = string_at(*job, "jobId");
  if (out.job_id.empty()) out.job_id = string_at(*job, "id");
  out.status = string_at(*job, "status");
  if (out.status.empty()) return malformed(what, "no job.status");
  out.progress = std::clamp(number_at(*job, "progress").value_or(0.0), 0.0, 1.0);
  if (auto* metadata = object_at(*job, "metadata")) {
    if (auto* ids = metadata->if_contains("assetIds"); ids && ids->is_array())
      for (auto& id : ids->as_array())
        if (id.is_string()) out.asset_ids.emplace_back(id.as_string());
    out.error = string_at(*metadata, "error");
    out.hint = string_at(*metadata, "hint");
  }
  if (classify_remote_status(out.status) == remote_state::succeeded) out.run_seconds = run_seconds(*job);
  return out;
}

api_result<asset_info> parse_asset_answer(std::string_view body, std::string_view what) {
  auto doc = parse_object(body, what);
  if (!doc) return doc.failure();
  auto* asset = object_at(*doc, "asset");
  if (!asset) return malformed(what, "no asset object");
  return asset_from(*asset, what);
}

api_result<std::vector<asset_info>> parse_bulk_assets_answer(std::string_view body, std::string_view what) {
  auto doc = parse_object(body, what);
  if (!doc) return doc.failure();
  auto* assets = doc->if_contains("assets");
  if (!assets || !assets->is_array()) return malformed(what, "no assets array");
  std::vector<asset_info> out;
  for (const auto& entry : assets->as_array()) {
    if (!entry.is_object()) continue;
    // An entry we cannot use is left out: that asset is then looked up on its own, and
    // that answer says what is wrong with it.
    if (auto asset = asset_from(entry.as_object(), what); asset && !asset->id.empty()) out.push_back(std::move(*asset));
  }
  return out;
}

api_result<double> parse_dry_run_answer(std::string_view body, std::string_view what) {
  auto doc = parse_object(body, what);
  if (!doc) return doc.failure();
  auto cost = number_at(*doc, "creativeUnitsCost");
  if (!cost) return malformed(what, "no creativeUnitsCost");
  return *cost;
}

}  // namespace soundtrackd::scenario
