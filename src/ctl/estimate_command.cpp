// soundtrackctl estimate: the API's dry-run price of every queued row, summed, before anything is spent.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <iostream>

#include "commands.hpp"
#include "output.hpp"
#include "soundtrackd/config/credentials.hpp"
#include "soundtrackd/http/client.hpp"
#include "soundtrackd/http/url.hpp"
#include "soundtrackd/scenario/api_client.hpp"

namespace soundtrackd::ctl {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Tries of one row's dry run when the API answers 429 or fails transiently.
constexpr int max_tries = 4;

struct row_failure {
  std::int64_t id;
  std::string message;
};

// Shared by the workers; one thread, so no locks.
struct estimate_run {
  db::queue_admin& admin;
  scenario::api_client& api;
  std::vector<std::int64_t> ids;
  std::size_t next = 0;
  // Requests are spaced to max_requests_per_second, as the daemon spaces them.
  std::chrono::steady_clock::duration spacing;
  std::chrono::steady_clock::time_point next_slot = std::chrono::steady_clock::now();
  double total_cu = 0;
  std::int64_t priced = 0;
  std::int64_t gone = 0;  // no longer queued when their turn came
  std::vector<row_failure> failures{};
  std::optional<std::string> stopped{};  // an error that concerns every row (credentials, credits)
};

asio::awaitable<void> wait_until(std::chrono::steady_clock::time_point at) {
  asio::steady_timer timer(co_await asio::this_coro::executor, at);
  co_await timer.async_wait(asio::use_awaitable);
}

// One row's price, retrying 429s and transient failures a few times.
asio::awaitable<scenario::api_result<double>> price_of(estimate_run& run, const db::job_request& request) {
  for (int attempt = 1;; ++attempt) {
    const auto slot = std::max(run.next_slot, std::chrono::steady_clock::now());
    run.next_slot = slot + run.spacing;
    co_await wait_until(slot);
    auto price = co_await run.api.estimate(request);
    if (price) co_return price;
    const auto kind = price.failure().kind;
    const bool retryable = kind == scenario::error_kind::transient || kind == scenario::error_kind::rate_limited;
    if (!retryable || attempt == max_tries) co_return price;
    const auto delay = price.failure().retry_after.value_or(std::chrono::seconds(1 << attempt));
    // Named first: GCC 12 mishandles class temporaries inside a co_await expression.
    const auto retry_at = std::chrono::steady_clock::now() + delay;
    co_await wait_until(retry_at);
  }
}

asio::awaitable<void> worker(estimate_run& run) {
  while (!run.stopped && run.next < run.ids.size()) {
    const auto id = run.ids[run.next++];
    auto details = run.admin.get(id);
    if (!details || details->job.status != db::job_status::queued) {
      ++run.gone;  // soundtrackd took it (or someone cancelled it) meanwhile
      continue;
    }
    const db::job_request request = details->job.request;
    auto price = co_await price_of(run, request);
    if (price) {
      run.total_cu += *price;
      ++run.priced;
    } else if (price.failure().kind == scenario::error_kind::global) {
      run.stopped = price.failure().message;
    } else {
      run.failures.push_back({id, price.failure().message});
    }
  }
}

}  // namespace

int run_estimate(db::queue_admin& admin, const estimate_options& options, const config::config& cfg) {
  auto creds = config::find_credentials();
  if (!creds) {
    std::cerr << "soundtrackctl: estimate asks the API and needs credentials: " << config::missing_credentials_message()
              << '\n';
    return exit_failure;
  }
  auto origin = http::parse_url(cfg.api.base_url);
  if (!origin) {
    std::cerr << "soundtrackctl: api.base_url: " << origin.error_message() << '\n';
    return exit_usage;
  }

  asio::io_context io;
  http::client_options http_options;
  http_options.user_agent = std::string("soundtrackctl/") + SOUNDTRACKD_VERSION;
  http_options.ca_file = cfg.api.ca_file;
  http_options.connect_timeout = cfg.api.connect_timeout;
  http_options.max_connections_per_host = options.concurrency;
  http_options.authorization = config::basic_authorization(*creds);
  http_options.authorization_origin = origin->origin();
  http::client http(io.get_executor(), http_options);
  scenario::api_client api(
      http, {cfg.api.base_url, cfg.api.model, cfg.api.project_id, cfg.api.request_timeout, cfg.api.download_timeout});

  estimate_run run{
      .admin = admin,
      .api = api,
      .ids = admin.queued_ids(options.batch),
      .spacing = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(1.0 / std::max(cfg.api.max_requests_per_second, 0.001))),
  };
  std::exception_ptr crashed;
  for (int i = 0; i < options.concurrency; ++i)
    asio::co_spawn(io, worker(run), [&](std::exception_ptr e) {
      if (e && !crashed) crashed = e;
    });
  io.run();
  if (crashed) std::rethrow_exception(crashed);

  const std::string scope = options.batch ? "batch " + *options.batch : "the queue";
  if (options.json) {
    json::array failures;
    for (const auto& f : run.failures) failures.push_back(json::object{{"id", f.id}, {"error", f.message}});
    print_json(std::cout, json::object{
                              {"batch", options.batch ? json::value(*options.batch) : json::value(nullptr)},
                              {"queued", run.ids.size()},
                              {"priced", run.priced},
                              {"left_the_queue", run.gone},
                              {"total_cu", run.total_cu},
                              {"failures", std::move(failures)},
                              {"stopped", run.stopped ? json::value(*run.stopped) : json::value(nullptr)},
                          });
  } else {
    for (const auto& f : run.failures) std::cout << "job " << f.id << ": not priced: " << f.message << '\n';
    std::cout << run.priced << " queued rows of " << scope << " would cost " << run.total_cu
              << " creative units (dry run: nothing was generated)";
    const auto asked = static_cast<std::int64_t>(run.ids.size()) - run.gone;
    if (run.priced < asked) std::cout << "; " << asked - run.priced << " of " << asked << " rows not priced";
    if (run.gone > 0) std::cout << "; " << run.gone << " left the queue meanwhile";
    std::cout << '\n';
  }
  if (run.stopped) {
    std::cerr << "soundtrackctl: stopped: " << *run.stopped << '\n';
    return exit_failure;
  }
  return run.failures.empty() ? exit_ok : exit_failure;
}

}  // namespace soundtrackd::ctl
