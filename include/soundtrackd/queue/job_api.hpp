// The status server's routes: /healthz, /metrics and the JSON job API (/v1/...). Database work
// runs on the API's own connections and threads, never on the event loop and never on the
// scheduler's store thread: reads on one (WAL readers are never blocked by a writer), writes
// on another, so a held write lock delays only the API's writes.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "soundtrackd/db/database.hpp"
#include "soundtrackd/db/queue_admin.hpp"
#include "soundtrackd/db/store_thread.hpp"
#include "soundtrackd/http/status_server.hpp"
#include "soundtrackd/queue/scheduler.hpp"
#include "soundtrackd/util/log.hpp"

namespace soundtrackd::queue {

// A connection of the API's own, with the queue statements on it; used by one thread.
struct api_connection {
  explicit api_connection(db::database connection) : db(std::move(connection)), admin(db) {}
  api_connection(const api_connection&) = delete;
  api_connection& operator=(const api_connection&) = delete;

  db::database db;
  db::queue_admin admin;
};

using api_thread = db::basic_store_thread<api_connection>;

class job_api {
 public:
  // `stats` reads the scheduler's counters (on the loop thread, where handlers run).
  job_api(boost::asio::any_io_executor executor, api_thread& reads, api_thread& writes,
          std::function<scheduler_stats()> stats, logger_ptr log);
  ~job_api();

  // Adds /healthz, /metrics and /v1/... to `routes`; the handlers refer to this object.
  void add_routes(http::router& routes);

 private:
  struct pending_insert;

  boost::asio::awaitable<http::server_reply> health(const http::server_request& request);
  boost::asio::awaitable<http::server_reply> metrics(const http::server_request& request);
  boost::asio::awaitable<http::server_reply> list_jobs(const http::server_request& request);
  boost::asio::awaitable<http::server_reply> get_job(const http::server_request& request);
  boost::asio::awaitable<http::server_reply> create_job(const http::server_request& request);
  boost::asio::awaitable<http::server_reply> cancel_job(const http::server_request& request);
  boost::asio::awaitable<http::server_reply> retry_job(const http::server_request& request);
  boost::asio::awaitable<http::server_reply> set_priority(const http::server_request& request);
  // A write on the row of the route's {id}: its status before (nullopt: no such row), whether
  // it changed, and the row after.
  struct row_change {
    std::optional<db::job_status> previous_status;
    bool changed = false;
    std::optional<db::job_details> details;
  };
  using row_write = std::function<row_change(api_connection&, std::int64_t id, epoch_seconds now)>;
  // Runs `write` on the write thread: 200 with the row, 404, or 409 "job N is <status>: <refusal>".
  boost::asio::awaitable<http::server_reply> write_row(const http::server_request& request, row_write write,
                                                       std::string refusal);
  boost::asio::awaitable<http::server_reply> audio(const http::server_request& request);
  boost::asio::awaitable<http::server_reply> overview(const http::server_request& request);

  // Group commit: the inserts waiting for the next transaction, and the one flushing them.
  boost::asio::awaitable<void> flush_inserts();

  boost::asio::any_io_executor executor_;
  api_thread& reads_;
  api_thread& writes_;
  std::function<scheduler_stats()> stats_;
  logger_ptr log_;
  std::vector<std::shared_ptr<pending_insert>> pending_;
  bool flushing_ = false;
};

}  // namespace soundtrackd::queue
