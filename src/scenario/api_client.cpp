// Scenario API calls on top of the HTTP client, each answer classified in one place.
#include "soundtrackd/scenario/api_client.hpp"

#include <boost/url.hpp>

#include "soundtrackd/scenario/errors.hpp"
#include "soundtrackd/scenario/messages.hpp"

namespace soundtrackd::scenario {

void latency_histogram::observe(double seconds) {
  for (std::size_t i = 0; i < bounds.size(); ++i)
    if (seconds <= bounds[i]) {
      ++counts[i];
      break;
    }
  ++count;
  sum += seconds;
}

namespace {

// Generous ceiling on one track; the real answer is a few MB.
constexpr std::uint64_t max_asset_bytes = 2ull << 30;

bool is_audio(std::string_view mime) { return mime.substr(0, 6) == "audio/"; }

}  // namespace

api_client::api_client(http::client& http, api_settings settings) : http_(http), settings_(std::move(settings)) {
  while (!settings_.base_url.empty() && settings_.base_url.back() == '/') settings_.base_url.pop_back();
  if (auto url = boost::urls::parse_uri(settings_.base_url)) path_prefix_ = url->encoded_path();
}

std::string api_client::url_for(const std::string& path, bool dry_run) const {
  std::string url = settings_.base_url + path;
  char sep = '?';
  if (dry_run) {
    url += "?dryRun=true";
    sep = '&';
  }
  if (!settings_.project_id.empty()) {
    url += sep;
    url += "projectId=" + boost::urls::encode(settings_.project_id, boost::urls::unreserved_chars);
  }
  return url;
}

// Callers name the request and pass it with std::move: GCC 12 destroys a class temporary
// created inside a co_await expression twice (a known coroutine bug).
http::request api_client::make_request(std::string method, std::string url, std::string body) const {
  http::request req;
  req.method = std::move(method);
  req.url = std::move(url);
  req.body = std::move(body);
  req.timeout = settings_.request_timeout;
  return req;
}

std::string api_client::generate_call() const { return "POST " + path_prefix_ + "/generate/custom/" + settings_.model; }

boost::asio::awaitable<api_result<http::response>> api_client::exchange(call kind, const std::string& what,
                                                                        http::request request) {
  const auto started = std::chrono::steady_clock::now();
  auto answer = co_await http_.send(std::move(request));
  auto& histogram = kind == call::generate   ? latency_.generate
                    : kind == call::get_job  ? latency_.get_job
                    : kind == call::get_bulk ? latency_.get_bulk
                                             : latency_.get_asset;
  histogram.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!answer) co_return classify_transport_error(what, answer.error_message());
  if (answer->status / 100 != 2)
    co_return classify_http_error(kind, what, answer->status, answer->body, answer->retry_after, now_epoch());
  co_return std::move(*answer);
}

boost::asio::awaitable<api_result<submitted_job>> api_client::submit(const db::job_request& request) {
  auto what = generate_call();
  auto req = make_request("POST", url_for("/generate/custom/" + settings_.model), generate_body(request));
  auto answer = co_await exchange(call::generate, what, std::move(req));
  if (!answer) co_return answer.failure();
  co_return parse_generate_answer(answer->body, what);
}

boost::asio::awaitable<api_result<double>> api_client::estimate(const db::job_request& request) {
  auto what = generate_call() + "?dryRun=true";
  auto req = make_request("POST", url_for("/generate/custom/" + settings_.model, true), generate_body(request));
  auto answer = co_await exchange(call::generate, what, std::move(req));
  if (!answer) co_return answer.failure();
  co_return parse_dry_run_answer(answer->body, what);
}

boost::asio::awaitable<api_result<remote_job>> api_client::get_job(const std::string& job_id) {
  auto path = "/jobs/" + boost::urls::encode(job_id, boost::urls::unreserved_chars);
  auto what = "GET " + path_prefix_ + path;
  auto req = make_request("GET", url_for(path), {});
  auto answer = co_await exchange(call::get_job, what, std::move(req));
  if (!answer) co_return answer.failure();
  co_return parse_job_answer(answer->body, what);
}

boost::asio::awaitable<api_result<asset_info>> api_client::get_asset(const std::string& asset_id) {
  auto path = "/assets/" + boost::urls::encode(asset_id, boost::urls::unreserved_chars);
  auto what = "GET " + path_prefix_ + path;
  auto req = make_request("GET", url_for(path), {});
  auto answer = co_await exchange(call::get_asset, what, std::move(req));
  if (!answer) co_return answer.failure();
  auto asset = parse_asset_answer(answer->body, what);
  if (asset && asset->id.empty()) asset->id = asset_id;
  co_return asset;
}

boost::asio::awaitable<api_result<std::vector<asset_info>>> api_client::get_assets(
    const std::vector<std::string>& asset_ids) {
  auto what = "POST " + path_prefix_ + "/assets/get-bulk";
  auto req = make_request("POST", url_for("/assets/get-bulk"), bulk_assets_body(asset_ids));
  auto answer = co_await exchange(call::get_bulk, what, std::move(req));
  if (!answer) co_return answer.failure();
  co_return parse_bulk_assets_answer(answer->body, what);
}

boost::asio::awaitable<api_result<downloaded_file>> api_client::download(const asset_info& asset,
                                                                         const std::string& file,
                                                                         std::uint64_t memory_limit) {
  auto what = "GET " + http::redact_url(asset.url);
  // A CDN that sends more than the asset's reported size (or never stops) is cut off there:
  // those bytes could not pass the size check below anyway.
  const std::uint64_t limit = asset.size ? *asset.size : max_asset_bytes;
  auto got = co_await http_.download(asset.url, file, limit, settings_.download_timeout, memory_limit);
  if (!got) co_return classify_transport_error(what, got.error_message());
  if (got->status / 100 != 2)
    co_return classify_http_error(call::download, what, got->status, got->error_body, {}, now_epoch());

  auto invalid = [&](const std::string& problem) {
    return api_error{
        error_kind::transient, got->status, "download of asset " + asset.id + " is invalid: " + problem, {}, {}};
  };
  if (got->size == 0) co_return invalid("it is empty");
  if (asset.size && *asset.size != got->size)
    co_return invalid("got " + std::to_string(got->size) + " bytes, the asset reports " + std::to_string(*asset.size));
  // The asset's own MIME type is authoritative; a CDN may send a generic one.
  auto mime = !asset.mime_type.empty() ? asset.mime_type : got->content_type;
  if (auto semicolon = mime.find(';'); semicolon != std::string::npos) mime.resize(semicolon);
  if (!is_audio(mime)) co_return invalid("MIME type '" + mime + "' is not audio");
  if (got->bytes) co_return downloaded_file{{}, std::move(got->bytes), mime, got->size, got->sha256};
  co_return downloaded_file{file, {}, mime, got->size, got->sha256};
}

}  // namespace soundtrackd::scenario
