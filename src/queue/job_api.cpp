// The JSON job API, /healthz and /metrics: parse the request, run the queue statements on the
// API's database threads, shape the answer. Field names are the column names.
#include "soundtrackd/queue/job_api.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>

#include "soundtrackd/db/job_json.hpp"
#include "soundtrackd/db/request_reader.hpp"
#include "soundtrackd/queue/status_report.hpp"
#include "soundtrackd/util/file_names.hpp"

namespace soundtrackd::queue {

namespace asio = boost::asio;
namespace json = boost::json;
using http::json_error;
using http::server_reply;
using http::server_request;

namespace {

constexpr std::int64_t max_page = 1000;
constexpr double recent_window_seconds = 600;  // a batch's rate: rows finished in the last 10 minutes
constexpr double throughput_window_seconds = 6 * 3600;

constexpr std::string_view all_statuses = "queued, submitting, running, downloading, succeeded, failed or cancelled";

server_reply json_reply(unsigned status, const json::value& body) {
  return server_reply{.status = status, .body = json::serialize(body)};
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The {id} of the route: a positive integer.
std::optional<std::int64_t> path_id(const server_request& request, std::string_view name = "id") {
  auto it = request.params.find(name);
  if (it == request.params.end()) return std::nullopt;
  auto id = parse_integer(it->second);
  if (!id || *id <= 0) return std::nullopt;
  return id;
}

server_reply no_job(const server_request& request) {
  auto it = request.params.find("id");
  return json_error(404, "no job " + (it == request.params.end() ? std::string() : it->second));
}

json::object counts_json(const std::map<db::job_status, std::int64_t>& counts) {
  json::object out;
  for (const auto& [status, n] : counts) out[db::to_string(status)] = n;
  return out;
}

json::object details_json(const db::job_details& details) {
  json::array assets;
  for (const auto& asset : details.assets) assets.push_back(db::asset_json(asset));
  json::array events;
  for (const auto& event : details.events) events.push_back(db::event_json(event));
  return {{"job", db::row_json(details.job)}, {"assets", std::move(assets)}, {"events", std::move(events)}};
}

// Who changed a row, for its timeline and last_error.
std::string api_note(std::string_view verb, epoch_seconds now) {
  return std::string(verb) + " via the HTTP API at " + format_utc(now);
}

// The bytes of one asset still to send; each chunk is read on the API's read thread with
// incremental BLOB I/O, so a track is never in memory whole.
struct audio_source {
  api_thread& reads;
  std::int64_t asset_id;
  std::uint64_t next;
  std::uint64_t end;  // one past the last byte
};

asio::awaitable<std::string> read_audio_chunk(std::shared_ptr<audio_source> source) {
  if (source->next >= source->end) co_return std::string{};
  auto read = [id = source->asset_id, offset = source->next,
               n = std::min<std::uint64_t>(db::blob_chunk_size, source->end - source->next)](api_connection& c) {
    return c.admin.read_asset_data(id, offset, static_cast<std::size_t>(n));
  };
  auto bytes = co_await source->reads.run(read);
  if (bytes.empty()) throw std::runtime_error("asset " + std::to_string(source->asset_id) + " shrank while being sent");
  source->next += bytes.size();
  co_return bytes;
}

}  // namespace

// One POST /v1/jobs waiting for the transaction that holds its row.
struct job_api::pending_insert {
  pending_insert(asio::any_io_executor executor, db::job_request r) : request(std::move(r)), done(executor) {
    done.expires_at(asio::steady_timer::time_point::max());
  }
  db::job_request request;
  db::queue_admin::group_outcome outcome;
  std::exception_ptr failure;  // the whole transaction failed
  asio::steady_timer done;     // expires when the transaction is over (committed or not)
};

job_api::job_api(asio::any_io_executor executor, api_thread& reads, api_thread& writes,
                 std::function<scheduler_stats()> stats, logger_ptr log)
    : executor_(std::move(executor)), reads_(reads), writes_(writes), stats_(std::move(stats)), log_(std::move(log)) {}

job_api::~job_api() = default;

void job_api::add_routes(http::router& routes) {
  auto bind = [this](auto member) {
    return [this, member](const server_request& request) { return (this->*member)(request); };
  };
  routes.add("GET", "/healthz", bind(&job_api::health));
  routes.add("GET", "/metrics", bind(&job_api::metrics));
  routes.add("GET", "/v1/overview", bind(&job_api::overview));
  routes.add("GET", "/v1/jobs", bind(&job_api::list_jobs));
  routes.add("GET", "/v1/jobs/{id}", bind(&job_api::get_job));
  routes.add("POST", "/v1/jobs", bind(&job_api::create_job));
  routes.add("POST", "/v1/jobs/{id}/cancel", bind(&job_api::cancel_job));
  routes.add("POST", "/v1/jobs/{id}/retry", bind(&job_api::retry_job));
  routes.add("POST", "/v1/jobs/{id}/priority", bind(&job_api::set_priority));
  routes.add("GET", "/v1/jobs/{id}/audio", bind(&job_api::audio));
  routes.add("GET", "/v1/jobs/{id}/audio/{asset_id}", bind(&job_api::audio));
}

asio::awaitable<server_reply> job_api::health(const server_request&) { co_return health_reply(stats_()); }

asio::awaitable<server_reply> job_api::metrics(const server_request&) {
  auto read = [](api_connection& c) {
    const auto now = now_epoch();
    queue_snapshot snapshot;
    snapshot.counts = c.admin.counts(std::nullopt, now).counts;
    if (auto due = c.admin.oldest_due_since(now)) snapshot.queue_lag_seconds = std::max(0.0, now - *due);
    return snapshot;
  };
  auto snapshot = co_await reads_.run(read);
  co_return server_reply{.content_type = "text/plain; version=0.0.4; charset=utf-8",
                         .body = metrics_text(stats_(), snapshot)};
}

asio::awaitable<server_reply> job_api::list_jobs(const server_request& request) {
  db::list_filter filter;
  if (auto statuses = request.query_param("status"); statuses && !statuses->empty()) {
    std::string_view rest = *statuses;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto name = rest.substr(0, comma);
      auto status = db::parse_job_status(name);
      if (!status)
        co_return json_error(400, "unknown status '" + std::string(name) + "'; use " + std::string(all_statuses),
                             "status");
      filter.statuses.push_back(*status);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  if (auto batch = request.query_param("batch")) filter.batch = *batch;
  if (auto text = request.query_param("q"); text && !text->empty()) filter.text = *text;
  if (auto limit = request.query_param("limit")) {
    auto n = parse_integer(*limit);
    if (!n || *n < 1 || *n > max_page)
      co_return json_error(400, "limit must be an integer from 1 to " + std::to_string(max_page), "limit");
    filter.limit = *n;
  }
  if (auto offset = request.query_param("offset")) {
    auto n = parse_integer(*offset);
    if (!n || *n < 0) co_return json_error(400, "offset must be an integer >= 0", "offset");
    filter.offset = *n;
  }

  auto read = [filter](api_connection& c) {
    db::transaction tx(c.db, db::transaction_mode::deferred);  // the page and its total from one moment
    auto rows = c.admin.list(filter);
    auto total = c.admin.count(filter);
    tx.commit();
    return std::pair(std::move(rows), total);
  };
  auto [rows, total] = co_await reads_.run(read);
  json::array jobs;
  for (const auto& row : rows) jobs.push_back(db::summary_json(row));
  co_return json_reply(
      200,
      json::object{{"jobs", std::move(jobs)}, {"total", total}, {"limit", filter.limit}, {"offset", filter.offset}});
}

asio::awaitable<server_reply> job_api::get_job(const server_request& request) {
  auto id = path_id(request);
  if (!id) co_return no_job(request);
  auto read = [id = *id](api_connection& c) { return c.admin.get(id); };
  auto details = co_await reads_.run(read);
  if (!details) co_return no_job(request);
  co_return json_reply(200, details_json(*details));
}

asio::awaitable<server_reply> job_api::create_job(const server_request& request) {
  db::job_request job;
  try {
    job = db::job_request_from_json(std::string_view(request.body));
  } catch (const db::invalid_request& e) {
    co_return json_error(400, e.what(), e.field());
  }
  auto entry = std::make_shared<pending_insert>(executor_, std::move(job));
  pending_.push_back(entry);
  if (!flushing_) {
    flushing_ = true;
    asio::co_spawn(executor_, flush_inserts(), [log = log_](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log->error("HTTP API: inserting rows stopped: {}", ex.what());
      }
    });
  }
  boost::system::error_code ec;
  co_await entry->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (entry->failure) std::rethrow_exception(entry->failure);
  if (!entry->outcome.row) co_return json_error(400, entry->outcome.error);
  co_return json_reply(201, json::object{{"job", db::row_json(*entry->outcome.row)}});
}

// Requests that arrive while a transaction commits wait for the next one, which takes them all:
// under load each fsync serves many rows, and every client is answered only after its COMMIT.
asio::awaitable<void> job_api::flush_inserts() {
  constexpr std::size_t max_group = 1000;
  std::size_t last_group = 0;
  asio::steady_timer linger(executor_);
  while (!pending_.empty()) {
    // The clients of the last group are about to send their next rows: waiting a moment for
    // them makes one commit of what would be two (PostgreSQL's commit_delay, in small).
    if (pending_.size() < last_group / 2) {
      linger.expires_after(std::chrono::milliseconds(1));
      boost::system::error_code ignored;
      co_await linger.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    std::vector<std::shared_ptr<pending_insert>> group;
    const auto n = std::min(max_group, pending_.size());
    group.assign(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
    last_group = n;
    std::vector<db::job_request> requests;
    requests.reserve(group.size());
    for (const auto& entry : group) requests.push_back(entry->request);
    auto insert = [requests = std::move(requests)](api_connection& c) { return c.admin.enqueue_group(requests); };
    try {
      const auto started = std::chrono::steady_clock::now();
      auto outcomes = co_await writes_.run(insert);
      log_->debug("HTTP API: {} row(s) inserted in one transaction in {:.1f} ms", group.size(),
                  std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
      for (std::size_t i = 0; i < group.size(); ++i) group[i]->outcome = std::move(outcomes[i]);
    } catch (const std::exception& e) {
      log_->error("HTTP API: inserting {} row(s) failed: {}", group.size(), e.what());
      for (auto& entry : group) entry->failure = std::current_exception();
    }
    // expires_at, not cancel: it also wakes a wait that has not started yet.
    for (auto& entry : group) entry->done.expires_at(asio::steady_timer::time_point::min());
  }
  flushing_ = false;
}

asio::awaitable<server_reply> job_api::write_row(const server_request& request, row_write write, std::string refusal) {
  auto id = path_id(request);
  if (!id) co_return no_job(request);
  auto task = [id = *id, write = std::move(write)](api_connection& c) { return write(c, id, now_epoch()); };
  auto change = co_await writes_.run(task);
  if (!change.previous_status || !change.details) co_return no_job(request);
  if (!change.changed)
    co_return json_error(409, "job " + std::to_string(*id) + " is " +
                                  std::string(db::to_string(*change.previous_status)) + ": " + refusal);
  co_return json_reply(200, details_json(*change.details));
}

asio::awaitable<server_reply> job_api::cancel_job(const server_request& request) {
  row_write cancel = [](api_connection& c, std::int64_t id, epoch_seconds now) {
    auto outcome = c.admin.cancel({id}, api_note("cancelled", now), now).front();
    return row_change{outcome.previous_status, outcome.cancelled, c.admin.get(id)};
  };
  std::string refusal = "only queued, submitting, running or downloading rows can be cancelled";
  co_return co_await write_row(request, std::move(cancel), std::move(refusal));
}

asio::awaitable<server_reply> job_api::retry_job(const server_request& request) {
  row_write retry = [](api_connection& c, std::int64_t id, epoch_seconds now) {
    auto outcome = c.admin.retry({id}, api_note("retried", now), now).front();
    return row_change{outcome.previous_status, outcome.action.has_value(), c.admin.get(id)};
  };
  std::string refusal = "only failed or cancelled rows can be retried";
  co_return co_await write_row(request, std::move(retry), std::move(refusal));
}

asio::awaitable<server_reply> job_api::set_priority(const server_request& request) {
  boost::system::error_code ec;
  auto body = json::parse(request.body, ec);
  const auto* fields = ec ? nullptr : body.if_object();
  const auto* given = fields ? fields->if_contains("priority") : nullptr;
  if (!path_id(request)) co_return no_job(request);
  if (!given || !given->is_int64()) co_return json_error(400, "the body must be {\"priority\": <integer>}", "priority");
  row_write change = [priority = given->get_int64()](api_connection& c, std::int64_t id, epoch_seconds now) {
    auto status = c.admin.set_priority(id, priority, api_note("changed", now), now);
    return row_change{status, status == db::job_status::queued, c.admin.get(id)};
  };
  std::string refusal = "priority only orders queued rows";
  co_return co_await write_row(request, std::move(change), std::move(refusal));
}

asio::awaitable<server_reply> job_api::audio(const server_request& request) {
  auto id = path_id(request);
  if (!id) co_return no_job(request);
  std::optional<std::int64_t> asset_id;
  if (request.params.count("asset_id")) {
    asset_id = path_id(request, "asset_id");
    if (!asset_id)
      co_return json_error(404, "job " + std::to_string(*id) + " has no asset " + request.params.at("asset_id"));
  }
  auto find = [id = *id, asset_id](api_connection& c) {
    auto asset = c.admin.find_asset(id, asset_id);
    auto job = c.admin.get(id);
    return std::pair(std::move(asset), std::move(job));
  };
  auto [asset, job] = co_await reads_.run(find);
  if (!asset) {
    if (!job) co_return no_job(request);
    if (asset_id)
      co_return json_error(404, "job " + std::to_string(*id) + " has no asset " + std::to_string(*asset_id));
    co_return json_error(404, "job " + std::to_string(*id) + " has no stored audio yet");
  }

  const auto size = asset->size_bytes;
  http::byte_range range{0, size == 0 ? 0 : size - 1};
  server_reply reply{.content_type = asset->mime_type};
  reply.headers.emplace_back("Accept-Ranges", "bytes");
  reply.headers.emplace_back("ETag", "\"" + asset->sha256 + "\"");
  // The name soundtrackctl export gives the file, so a download from the dashboard matches it
  // (export_file_name keeps only [A-Za-z0-9._-]: nothing to quote).
  if (job) {
    std::size_t index = 0;
    while (index < job->assets.size() && job->assets[index].id != asset->id) ++index;
    auto file_name = export_file_name(job->job.request.name, *id, index, asset->mime_type);
    reply.headers.emplace_back("Content-Disposition", "inline; filename=\"" + file_name + "\"");
  }
  switch (http::parse_range(request.header("Range"), size, range)) {
    case http::range_kind::unsatisfiable: {
      auto refused = json_error(416, "range not satisfiable: the audio is " + std::to_string(size) + " bytes");
      refused.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
      co_return refused;
    }
    case http::range_kind::satisfiable:
      reply.status = 206;
      reply.headers.emplace_back("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                                      std::to_string(range.last) + "/" + std::to_string(size));
      break;
    case http::range_kind::none:
      break;
  }
  const std::uint64_t end = size == 0 ? 0 : range.last + 1;
  auto source = std::make_shared<audio_source>(audio_source{reads_, asset->id, range.first, end});
  reply.content_length = end - range.first;
  reply.next_chunk = [source] { return read_audio_chunk(source); };
  co_return reply;
}

asio::awaitable<server_reply> job_api::overview(const server_request&) {
  auto read = [](api_connection& c) {
    const auto now = now_epoch();
    return std::pair(now, c.admin.overview(now, now - recent_window_seconds, now - throughput_window_seconds));
  };
  auto [now, view] = co_await reads_.run(read);
  const auto stats = stats_();

  json::array batches;
  for (const auto& b : view.batches) {
    std::int64_t total = 0, done = 0;
    for (const auto& [status, n] : b.counts) {
      total += n;
      if (status == db::job_status::succeeded || status == db::job_status::failed ||
          status == db::job_status::cancelled)
        done += n;
    }
    const double rate = static_cast<double>(b.finished_recently) / (recent_window_seconds / 60);
    json::value eta = nullptr;
    if (done == total)
      eta = 0;
    else if (rate > 0)
      eta = std::round(static_cast<double>(total - done) / rate * 60);
    batches.push_back(json::object{{"batch", b.batch},
                                   {"counts", counts_json(b.counts)},
                                   {"total", total},
                                   {"done", done},
                                   {"rate_per_minute", rate},
                                   {"eta_seconds", eta}});
  }

  // Every minute of the window, zeros included, so a chart needs no gap filling.
  json::array throughput;
  const auto first_minute = static_cast<std::int64_t>(std::floor((now - throughput_window_seconds) / 60)) * 60;
  const auto last_minute = static_cast<std::int64_t>(std::floor(now / 60)) * 60;
  auto completed = view.throughput.begin();
  for (auto minute = first_minute; minute <= last_minute; minute += 60) {
    while (completed != view.throughput.end() && completed->first < minute) ++completed;
    const std::int64_t n = completed != view.throughput.end() && completed->first == minute ? completed->second : 0;
    throughput.push_back(json::object{{"minute", minute}, {"completed", n}});
  }

  json::value reason = nullptr;
  if (!stats.paused_reason.empty()) reason = stats.paused_reason;
  co_return json_reply(
      200,
      json::object{{"counts", counts_json(view.counts.counts.by_status)},
                   {"batches", std::move(batches)},
                   {"throughput", std::move(throughput)},
                   {"queue_lag_seconds", view.oldest_due_since ? std::max(0.0, now - *view.oldest_due_since) : 0.0},
                   {"rate_limit_waits", stats.rate_limit_waits},
                   {"retries", stats.retries},
                   {"health", json::object{{"ok", stats.paused_reason.empty()}, {"reason", std::move(reason)}}},
                   {"now", now}});
}

}  // namespace soundtrackd::queue
