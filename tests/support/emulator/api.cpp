// Routing, validation and JSON answers of the emulated Scenario API, plus its test-control endpoints.
#include "api.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <cmath>
#include <ctime>
#include <variant>
#include <vector>

namespace soundtrackd::emulator {

namespace json = boost::json;
namespace urls = boost::urls;

namespace {

constexpr std::string_view model_id = "model_minimax-music-2-6";
constexpr std::size_t max_prompt_code_points = 2000;
constexpr std::size_t max_lyrics_code_points = 3500;
constexpr std::size_t max_bulk_assets = 200;

enum class operation { generate, get_job, get_asset, get_bulk, job_action, cdn_download, control, not_found };

struct route {
  operation op = operation::not_found;
  endpoint counted_as = endpoint::other;
  bool needs_credentials = false;  // everything under /v1
  std::string_view id;             // the job or asset id, CDN file name or control action from the path
};

route parse_route(std::string_view method, const urls::url_view& url, bool dry_run) {
  std::vector<std::string_view> path;
  for (auto segment : url.encoded_segments()) path.emplace_back(segment);
  auto is = [&](std::initializer_list<std::string_view> expected) {
    return std::equal(path.begin(), path.end(), expected.begin(), expected.end(),
                      [](std::string_view actual, std::string_view want) { return want == "*" || actual == want; });
  };
  bool get = method == "GET", post = method == "POST";

  if ((post && is({"_emulator", "*"})) || (get && is({"_emulator", "stats"})))
    return {operation::control, endpoint::other, false, path[1]};
  if (get && is({"cdn", "*"})) return {operation::cdn_download, endpoint::cdn, false, path[1]};
  if (path.empty() || path[0] != "v1") return {};
  if (post && is({"v1", "generate", "custom", model_id}))
    return {operation::generate, dry_run ? endpoint::dry_run : endpoint::generate, true, {}};
  if (post && is({"v1", "assets", "get-bulk"})) return {operation::get_bulk, endpoint::get_bulk, true, {}};
  if (get && is({"v1", "jobs", "*"})) return {operation::get_job, endpoint::get_job, true, path[2]};
  if (get && is({"v1", "assets", "*"})) return {operation::get_asset, endpoint::get_asset, true, path[2]};
  if (post && is({"v1", "jobs", "*", "action"})) return {operation::job_action, endpoint::other, true, path[2]};
  return {operation::not_found, endpoint::other, true, {}};
}

api_response json_response(unsigned status, const json::value& body) {
  return {status, "application/json", json::serialize(body), {}, {}};
}

api_response error_response(unsigned status, std::string_view reason) {
  return json_response(status, json::object{{"reason", reason}});
}

// What a CloudFront-style CDN answers: XML, not the API's JSON.
api_response cdn_error(unsigned status, std::string_view code, std::string_view message) {
  std::string body = R"(<?xml version="1.0" encoding="UTF-8"?>)";
  body.append("\n<Error><Code>").append(code).append("</Code><Message>").append(message).append("</Message></Error>\n");
  return {status, "text/xml", std::move(body), {}, {}};
}

reply respond(api_response response) {
  reply r;
  r.response = std::move(response);
  return r;
}

// The API counts characters as Unicode code points; the body was parsed as valid UTF-8.
std::size_t code_points(std::string_view utf8) {
  return static_cast<std::size_t>(
      std::count_if(utf8.begin(), utf8.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string iso8601(clock::time_point t) {
  auto since_epoch = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch());
  std::time_t seconds = std::chrono::floor<std::chrono::seconds>(since_epoch).count();
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  auto length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  auto millis = static_cast<int>(since_epoch.count() % 1000);
  return std::string(text, length) + '.' + std::to_string(1000 + millis).substr(1) + 'Z';
}

// The reason a request body is refused, answered as 400 {"reason": ...}.
struct invalid_request {
  std::string reason;
};

std::variant<generation_request, invalid_request> parse_generation_request(std::string_view body) {
  boost::system::error_code ec;
  auto parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) return invalid_request{"body must be a JSON object"};
  const auto& object = parsed.get_object();
  generation_request request;

  auto* prompt = object.if_contains("prompt");
  if (!prompt || prompt->is_null()) return invalid_request{"prompt is required"};
  if (!prompt->is_string()) return invalid_request{"prompt must be a string"};
  request.prompt = prompt->get_string();
  if (request.prompt.empty()) return invalid_request{"prompt is required"};
  if (code_points(request.prompt) > max_prompt_code_points)
    return invalid_request{"prompt must be at most 2000 characters"};

  if (auto* lyrics = object.if_contains("lyrics")) {
    if (!lyrics->is_string()) return invalid_request{"lyrics must be a string"};
    request.lyrics = lyrics->get_string();
    if (code_points(request.lyrics) > max_lyrics_code_points)
      return invalid_request{"lyrics must be at most 3500 characters"};
  }
  for (auto [key, target] : {std::pair{"isInstrumental", &request.is_instrumental},
                             std::pair{"lyricsOptimizer", &request.lyrics_optimizer}}) {
    if (auto* flag = object.if_contains(key)) {
      if (!flag->is_bool()) return invalid_request{std::string(key) + " must be a boolean"};
      *target = flag->get_bool();
    }
  }

  // The API accepts only these exact values, and says which in its message.
  struct enumerated_number {
    const char* key;
    std::int64_t* target;
    std::array<std::int64_t, 4> allowed;
  };
  for (const auto& field : {enumerated_number{"sampleRate", &request.sample_rate, {16000, 24000, 32000, 44100}},
                            enumerated_number{"bitrate", &request.bitrate, {32000, 64000, 128000, 256000}}}) {
    auto* value = object.if_contains(field.key);
    if (!value) continue;
    boost::system::error_code number_ec;
    auto number = value->is_number() ? value->to_number<std::int64_t>(number_ec) : 0;
    if (value->is_number() && !number_ec && std::ranges::find(field.allowed, number) != field.allowed.end()) {
      *field.target = number;
      continue;
    }
    std::string reason = std::string(field.key) + " must be one of ";
    for (auto allowed : field.allowed)
      reason += std::to_string(allowed) + (allowed == field.allowed.back() ? "" : ", ");
    return invalid_request{reason};
  }
  return request;
}

// Numbers as the real (JavaScript) API writes them: 0 and 1 without a fraction. A client must
// read "progress" whether it arrives as an integer or a double; this makes it meet both.
json::value js_number(double value) {
  if (value == std::floor(value)) return static_cast<std::int64_t>(value);
  return value;
}

json::object job_json(const job_record& job, job_status status, double progress) {
  json::array history;
  for (auto stage : {job_status::pending, job_status::queued, job_status::in_progress, job_status::success}) {
    history.push_back(json::object{{"status", name_of(stage)}, {"date", iso8601(job.entered_at(stage))}});
    if (stage == status) break;
  }
  json::array asset_ids;
  if (status == job_status::success)
    for (const auto& id : job.asset_ids) asset_ids.emplace_back(id);
  return json::object{
      {"jobId", job.id},
      {"modelId", model_id},
      {"status", name_of(status)},
      {"progress", js_number(progress)},
      {"createdAt", iso8601(job.submitted_at)},
      {"updatedAt", iso8601(job.entered_at(status))},
      {"statusHistory", std::move(history)},
      {"metadata", json::object{{"assetIds", std::move(asset_ids)}}},
      {"billing", json::object{{"cuCost", job.cost}}},
  };
}

json::object asset_json(const asset_record& asset, std::string url) {
  return json::object{{"id", asset.id},  {"url", std::move(url)}, {"mimeType", "audio/mpeg"},
                      {"kind", "audio"}, {"size", asset.size},    {"jobId", asset.job_id}};
}

std::optional<std::int64_t> parse_int64(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

emulated_api::emulated_api(api_settings settings) : settings_(std::move(settings)) {
  auto credentials = settings_.api_key + ':' + settings_.api_secret;
  std::string encoded(4 * ((credentials.size() + 2) / 3), '\0');
  auto length =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                      reinterpret_cast<const unsigned char*>(credentials.data()), static_cast<int>(credentials.size()));
  encoded.resize(static_cast<std::size_t>(length));
  expected_credentials_ = std::move(encoded);
}

reply emulated_api::handle(const api_request& request, clock::time_point now) {
  auto url = urls::parse_origin_form(request.target);
  if (!url) return respond(error_response(400, "malformed request target"));
  auto query = url->params();
  auto query_value = [&](std::string_view key) -> std::string {
    auto found = query.find(key);
    return found != query.end() && (*found).has_value ? (*found).value : std::string();
  };

  auto r = parse_route(request.method, *url, query_value("dryRun") == "true");
  if (r.op == operation::control)
    return respond(control(request.method, r.id, request.body, query_value("summary") == "1", now));

  ++request_counts_[static_cast<std::size_t>(r.counted_as)];
  if (r.op == operation::cdn_download && request.authorization) ++cdn_requests_with_credentials_;

  auto fault = faults_.take(r.counted_as);
  if (fault && fault->action == fault_action::status)
    return respond({fault->status, "application/json", fault->body, fault->retry_after, fault->location});
  if (fault && fault->action == fault_action::malformed)
    return respond({200, "application/json", R"({"job": {"jobId": )", {}, {}});
  if (fault && fault->action == fault_action::drop) {
    reply dropped;
    dropped.action = reply::kind::drop;
    return dropped;
  }

  reply result;
  if (r.needs_credentials && !authorized(request)) {
    result = respond(error_response(401, "Unauthorized: invalid API key or secret"));
  } else {
    switch (r.op) {
      case operation::generate:
        result = respond(generate(request.body, r.counted_as == endpoint::dry_run, query_value("projectId"), now));
        break;
      case operation::get_job:
        result = respond(get_job(r.id, now, fault && fault->action == fault_action::remote_failure));
        break;
      case operation::get_asset:
        result = respond(get_asset(r.id, now));
        break;
      case operation::get_bulk:
        result = respond(get_bulk(request.body, now));
        break;
      case operation::job_action:
        result = respond(job_action(r.id, now));
        break;
      case operation::cdn_download:
        result = cdn_download(r.id, query_value("Expires"), query_value("Signature"), now);
        break;
      case operation::control:
      case operation::not_found:
        result = respond(
            error_response(404, "Not found: " + std::string(request.method) + ' ' + std::string(url->encoded_path())));
        break;
    }
  }
  if (fault && fault->action == fault_action::delay) result.delay = fault->delay;
  if (fault && fault->action == fault_action::truncate) result.truncate = true;
  if (fault && fault->action == fault_action::overlong) result.overlong = true;
  if (fault && fault->action == fault_action::endless) result.endless = true;
  return result;
}

bool emulated_api::authorized(const api_request& request) const {
  if (!request.authorization) return false;
  constexpr std::string_view scheme = "basic ";
  auto header = *request.authorization;
  if (header.size() <= scheme.size()) return false;
  // The scheme name is case-insensitive (RFC 9110); the credentials are not.
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i]) return false;
  return header.substr(scheme.size()) == expected_credentials_;
}

api_response emulated_api::generate(std::string_view body, bool dry_run, std::string project_id,
                                    clock::time_point now) {
  auto parsed = parse_generation_request(body);
  if (auto* invalid = std::get_if<invalid_request>(&parsed)) return error_response(400, invalid->reason);
  if (dry_run) return json_response(200, json::object{{"creativeUnitsCost", settings_.cost}});

  auto& request = std::get<generation_request>(parsed);
  // A hook for tests of permanent per-row failures: the real API refuses some prompts.
  if (request.prompt.find("REJECT_ME") != std::string::npos)
    return error_response(400, "prompt rejected by content policy");
  request.project_id = std::move(project_id);

  ++submits_;
  auto submission = jobs_.submit(std::move(request), settings_, now);
  // A submit always answers the job as just created, however short the job duration.
  return json_response(200, json::object{{"job", job_json(submission.job, job_status::pending, 0.0)},
                                         {"creativeUnitsCost", submission.job.cost}});
}

api_response emulated_api::get_job(std::string_view job_id, clock::time_point now, bool fail_remotely) {
  auto* job = jobs_.observe(job_id, now);
  if (!job) return error_response(404, "Job not found");
  auto body = job_json(*job, job->status, job->progress_at(now));
  auto failed = failed_jobs_.find(job_id);
  if (failed == failed_jobs_.end() && fail_remotely) failed = failed_jobs_.emplace(std::string(job_id), now).first;
  if (failed != failed_jobs_.end()) {
    body["status"] = "failure";
    body["updatedAt"] = iso8601(failed->second);
    body["statusHistory"].as_array().push_back(json::object{{"status", "failure"}, {"date", iso8601(failed->second)}});
    body["metadata"] =
        json::object{{"assetIds", json::array{}}, {"error", "emulated generation failure"}, {"hint", "try again"}};
  }
  return json_response(200, json::object{{"job", std::move(body)}});
}

api_response emulated_api::get_asset(std::string_view asset_id, clock::time_point now) {
  auto* asset = jobs_.find_asset(asset_id);
  if (!asset) return error_response(404, "Asset not found");
  return json_response(200, json::object{{"asset", asset_json(*asset, signed_url(asset->id, now))}});
}

api_response emulated_api::get_bulk(std::string_view body, clock::time_point now) {
  boost::system::error_code ec;
  auto parsed = json::parse(body, ec);
  auto* ids = !ec && parsed.is_object() ? parsed.get_object().if_contains("assetIds") : nullptr;
  if (!ids || !ids->is_array()) return error_response(400, "assetIds is required");
  if (ids->get_array().size() > max_bulk_assets) return error_response(400, "assetIds must have at most 200 entries");
  json::array assets;
  for (const auto& id : ids->get_array()) {
    if (!id.is_string()) return error_response(400, "assetIds must be strings");
    // Unknown ids are left out rather than failing the whole batch.
    if (auto* asset = jobs_.find_asset(id.get_string()))
      assets.push_back(asset_json(*asset, signed_url(asset->id, now)));
  }
  return json_response(200, json::object{{"assets", std::move(assets)}});
}

api_response emulated_api::job_action(std::string_view job_id, clock::time_point now) {
  if (!jobs_.observe(job_id, now)) return error_response(404, "Job not found");
  return error_response(400, "Cannot cancel this type of job. Action not permitted.");
}

std::string emulated_api::signed_url(std::string_view asset_id, clock::time_point now) const {
  // Rounded up, so a URL lives at least url_ttl.
  auto expires = std::chrono::ceil<std::chrono::seconds>((now + settings_.url_ttl).time_since_epoch()).count();
  std::string url = cdn_origin_;
  url.append("/cdn/").append(asset_id).append(".mp3?Expires=").append(std::to_string(expires));
  url.append("&Signature=").append(signer_.sign(asset_id, expires)).append("&Key-Pair-Id=emu");
  return url;
}

reply emulated_api::cdn_download(std::string_view file_name, std::string_view expires_text, std::string_view signature,
                                 clock::time_point now) const {
  constexpr std::string_view extension = ".mp3";
  if (!file_name.ends_with(extension)) return respond(cdn_error(404, "NoSuchKey", "The specified key does not exist."));
  auto asset_id = file_name.substr(0, file_name.size() - extension.size());

  auto expires = parse_int64(expires_text);
  if (!expires || signature.empty())
    return respond(cdn_error(403, "MissingKey", "Missing Key-Pair-Id query parameter or cookie value"));
  if (!signer_.verify(asset_id, *expires, signature)) return respond(cdn_error(403, "AccessDenied", "Access denied"));
  if (now > clock::time_point(std::chrono::seconds(*expires)))
    return respond(cdn_error(403, "AccessDenied", "Request has expired"));

  auto* asset = jobs_.find_asset(asset_id);
  if (!asset) return respond(cdn_error(404, "NoSuchKey", "The specified key does not exist."));
  reply r;
  r.action = reply::kind::stream_asset;
  r.asset_id = asset->id;
  r.asset_size = asset->size;
  return r;
}

api_response emulated_api::control(std::string_view method, std::string_view action, std::string_view body,
                                   bool summary, clock::time_point now) {
  if (method == "GET" && action == "stats") return stats(summary, now);
  if (action == "faults") {
    if (auto problem = faults_.replace(body)) return error_response(400, *problem);
    return json_response(200, json::object{{"ok", true}});
  }
  if (action == "reset") {
    jobs_.clear();
    faults_.clear();
    failed_jobs_.clear();
    request_counts_ = {};
    submits_ = 0;
    cdn_requests_with_credentials_ = 0;
    return json_response(200, json::object{{"ok", true}});
  }
  if (action == "config") return configure(body);
  return error_response(404, "unknown emulator control '" + std::string(action) + "'");
}

api_response emulated_api::stats(bool summary, clock::time_point now) {
  json::object requests;
  for (std::size_t i = 0; i < endpoint_count; ++i) requests[endpoint_names[i]] = request_counts_[i];
  json::object result{
      {"requests", std::move(requests)},
      {"submits", submits_},
      {"duplicate_submits", jobs_.duplicate_submits()},
      {"cdn_requests_with_credentials", cdn_requests_with_credentials_},
  };
  if (summary) return json_response(200, result);

  json::array jobs;
  for (const auto& job : jobs_.observe_all(now)) {
    json::array assets;
    for (const auto& id : job.asset_ids) {
      const auto& asset = *jobs_.find_asset(id);
      assets.push_back(
          json::object{{"id", asset.id}, {"size", asset.size}, {"sha256", asset.sha256}, {"mimeType", "audio/mpeg"}});
    }
    // The request fields are echoed so a test can check what the client really sent.
    json::object entry{
        {"jobId", job.id},
        {"prompt", job.request.prompt},
        {"lyrics", job.request.lyrics},
        {"isInstrumental", job.request.is_instrumental},
        {"lyricsOptimizer", job.request.lyrics_optimizer},
        {"sampleRate", job.request.sample_rate},
        {"bitrate", job.request.bitrate},
        {"status", failed_jobs_.contains(job.id) ? std::string_view("failure") : name_of(job.status)},
        {"assets", std::move(assets)},
    };
    if (!job.request.project_id.empty()) entry["projectId"] = job.request.project_id;
    jobs.push_back(std::move(entry));
  }
  result["jobs"] = std::move(jobs);
  return json_response(200, result);
}

api_response emulated_api::configure(std::string_view body) {
  boost::system::error_code ec;
  auto parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) return error_response(400, "config must be a JSON object");
  // Validate everything before changing anything, so a bad field leaves the settings as they were.
  api_settings updated = settings_;
  for (const auto& [key, value] : parsed.get_object()) {
    boost::system::error_code number_ec;
    auto number = value.is_number() ? value.to_number<std::int64_t>(number_ec) : -1;
    if (number_ec || number < 0) return error_response(400, std::string(key) + " must be a non-negative integer");
    if (key == "job_duration_ms")
      updated.job_duration = std::chrono::milliseconds(number);
    else if (key == "url_ttl_ms")
      updated.url_ttl = std::chrono::milliseconds(number);
    else if (key == "asset_size")
      updated.asset_size = static_cast<std::uint64_t>(number);
    else if (key == "assets_per_job" && number >= 1)
      updated.assets_per_job = static_cast<int>(number);
    else if (key == "cost")
      updated.cost = number;
    else
      return error_response(400, "unknown or invalid config field '" + std::string(key) + "'");
  }
  settings_ = updated;
  return json_response(200, json::object{
                                {"job_duration_ms", settings_.job_duration.count()},
                                {"url_ttl_ms", settings_.url_ttl.count()},
                                {"asset_size", settings_.asset_size},
                                {"assets_per_job", settings_.assets_per_job},
                                {"cost", settings_.cost},
                            });
}

}  // namespace soundtrackd::emulator
