// The scheduler: finds due rows, admits them under max_running and the API token bucket,
// and drives each row's job_fsm by executing its actions (API calls, timers, store writes).
// Everything runs on one io_context thread; job state needs no locks. SQLite work runs on
// the store thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "soundtrackd/config/config.hpp"
#include "soundtrackd/db/change_watcher.hpp"
#include "soundtrackd/db/store_thread.hpp"
#include "soundtrackd/queue/asset_lookup.hpp"
#include "soundtrackd/queue/backoff.hpp"
#include "soundtrackd/queue/group_commit.hpp"
#include "soundtrackd/queue/job_fsm.hpp"
#include "soundtrackd/scenario/api_client.hpp"
#include "soundtrackd/util/log.hpp"

namespace soundtrackd::queue {

struct scheduler_settings {
  config::queue_config queue;
  config::storage_config storage;
  double max_requests_per_second = 5;
  std::string staging_dir;  // next to the database
  bool exit_when_idle = false;
  // Watched (its -wal file) so rows other programs insert are admitted at once; empty: only
  // the timed scan (scan_interval) notices them.
  std::string database_path;
  // API requests (submit, poll, asset) and downloads each in flight at once; the rest wait
  // in line holding only their job's frames (see request_line in scheduler.cpp).
  int max_requests_in_flight = 16;
};

// Counters for logs, STATUS= and metrics.
struct scheduler_stats {
  std::int64_t submitted = 0;
  std::int64_t succeeded = 0;
  std::int64_t failed = 0;
  std::int64_t retries = 0;
  std::int64_t ambiguous_resubmits = 0;  // submits after a crash that may bill twice
  std::int64_t rate_limit_waits = 0;     // HTTP 429 answers: each slows the calls or lowers the cap
  // API calls by outcome: "ok" or the error kind ("transient", "rate_limited", ...).
  std::map<std::string, std::int64_t> submits, polls, downloads;
  std::map<std::string, std::int64_t> retries_by_step;  // "submit", "poll", "asset", "download", "store"
  std::uint64_t bytes_downloaded = 0;
  scenario::api_latency api_latency;
  std::size_t in_flight = 0;
  std::string paused_reason;  // empty when not paused
};

// Small tracks (at most job_store::group_store_max_bytes) are downloaded into memory and
// stored from there; all of them together hold at most staged_in_memory_max, so a burst of
// finished jobs waiting for a locked database cannot fill the memory.
inline constexpr std::uint64_t staged_in_memory_max = 4 * 1024 * 1024;

// The memory a download may fill before it goes to its staging file, given the bytes small
// tracks already hold: the size the API reported for a small track (unreported: the most a
// small track may be) when it fits beside them, else 0 (straight to the file).
std::uint64_t download_memory_room(std::optional<std::uint64_t> reported_size, std::uint64_t held_in_memory);

class scheduler {
 public:
  // `reload_credentials` is called before each re-check of a queue paused by the API's
  // refusal (401/403/402), so fixed credential files take effect without a restart.
  scheduler(boost::asio::any_io_executor executor, db::store_thread& db, scenario::api_client& api,
            scheduler_settings settings, logger_ptr log, std::function<void()> reload_credentials = {});
  ~scheduler();

  // Resumes unfinished rows, then admits rows until stop() (or, with exit_when_idle, until
  // there is nothing left to do), then waits for running steps to finish.
  boost::asio::awaitable<void> run();

  // No new rows; every job stops at its next step (its row says where to resume).
  void stop();

  scheduler_stats stats() const;

 private:
  struct active_job;
  class request_line;
  class request_turn;

  // Rows in submitting/running/downloading that no job of ours tracks: after a restart, or
  // after a job stopped on an unexpected error.
  boost::asio::awaitable<void> resume_unfinished();
  boost::asio::awaitable<void> admit_due_rows();
  boost::asio::awaitable<void> run_job(std::shared_ptr<active_job> job);
  // Each network step returns the next action, or nullopt when the row is no longer ours.
  boost::asio::awaitable<std::optional<action>> submit(active_job& job);
  boost::asio::awaitable<std::optional<action>> poll(active_job& job);
  // A job looks its assets up holding a turn in the download line, which its first download
  // then uses: URLs are fetched only as fast as they can be used.
  boost::asio::awaitable<std::optional<action>> resolve_assets_in_turn(active_job& job,
                                                                       std::optional<request_turn>& download_turn);
  boost::asio::awaitable<std::optional<action>> resolve_assets(active_job& job);
  // One get-bulk request for asset_lookup, under the token bucket like every API call.
  boost::asio::awaitable<scenario::api_result<std::vector<scenario::asset_info>>> fetch_assets(
      std::vector<std::string> ids);
  boost::asio::awaitable<std::optional<action>> download(active_job& job, std::optional<request_turn>& turn);
  boost::asio::awaitable<bool> store(active_job& job);
  boost::asio::awaitable<bool> record_retry(active_job& job, const action& a);
  boost::asio::awaitable<void> take_token(boost::asio::steady_timer& timer);
  // Waits for a turn in `line`. give_up_on_stop: a stop or a cancel by someone else ends the
  // wait without a turn (the result is then empty); otherwise only a turn does.
  boost::asio::awaitable<std::optional<request_turn>> wait_turn(request_line& line, active_job& job,
                                                                bool give_up_on_stop);
  boost::asio::awaitable<void> sleep(boost::asio::steady_timer& timer, duration d);
  boost::asio::awaitable<void> taken_away(active_job& job);
  // How many more rows may be submitted under spend_limit_cu (the rolling 24 h cost, plus
  // what admitted rows will likely cost); logs when the limit is reached and left.
  boost::asio::awaitable<int> spend_allowance();
  // After another program changed the queue: jobs whose rows were cancelled or deleted stop
  // at once instead of at their next step.
  boost::asio::awaitable<void> notice_taken_away();
  // Wakes admission when another program commits (new rows), confirmed by data_version.
  boost::asio::awaitable<void> watch_database();
  // Progress goes to the database in one transaction per progress_flush_interval.
  boost::asio::awaitable<void> flush_progress_periodically();
  boost::asio::awaitable<void> flush_progress();
  // Admission runs another pass now, or right after the one in progress.
  void wake();
  // A finished job freed a slot: admission runs another pass, scanning only if the queue was
  // not drained.
  void wake_for_free_slot();
  void start_job(const std::shared_ptr<active_job>& job);
  void pause_queue(const std::string& reason);
  // A 429 slows every API call (the token bucket is shared), or, naming the team's
  // concurrent-job ceiling, lowers the in-flight cap; the rate recovers after quiet periods.
  void note_rate_limit(const scenario::api_error& error);
  void recover_rate();
  void resume_queue();
  void write_output_files(const active_job& job);
  // A job's staging slot, taken at its first download and given back, emptied, when it ends.
  std::string staging_path(active_job& job, std::size_t index);
  void release_staging(active_job& job);
  void unstage(active_job& job, std::size_t from);  // forgets what was staged from this index on
  void empty_staging_dir();
  double random01();

  boost::asio::any_io_executor executor_;
  db::store_thread& db_;
  group_commit writes_;  // claims, status changes and small stores of many rows in one transaction
  scenario::api_client& api_;
  scheduler_settings settings_;
  logger_ptr log_;
  fsm_policy policy_;

  token_bucket bucket_;
  run_time_estimate run_times_;                  // when a new job's first poll is worth making
  std::unique_ptr<request_line> api_line_;       // submit, poll, asset lookups
  std::unique_ptr<request_line> download_line_;  // CDN downloads
  asset_lookup assets_;                          // asset lookups of jobs finishing together, in one request
  boost::asio::steady_timer lookup_timer_;       // assets_' wait for a token
  boost::asio::steady_timer wake_;               // admission sleeps here; a finished job or a new row wakes it
  bool woken_ = false;                           // a wake() arrived while admission was not sleeping
  bool queue_drained_ = false;                   // the last scan found fewer due rows than free slots
  std::unique_ptr<db::change_watcher> watcher_;
  boost::asio::steady_timer watch_timer_;
  boost::asio::steady_timer progress_timer_;
  std::map<std::int64_t, double> pending_progress_;  // polled, not yet written
  int helpers_running_ = 0;                          // watch_database and flush_progress_periodically
  // data_version is compared (to resume rows set back to running, and to drop rows cancelled
  // or deleted) once per scan_interval, not on every pass: a pass per finished job is common.
  std::chrono::steady_clock::time_point next_version_check_{};
  std::map<std::int64_t, std::shared_ptr<active_job>> active_;
  std::map<std::int64_t, int> submit_failures_;  // rows waiting in the queue to resubmit
  std::vector<int> free_staging_slots_;          // staging files emptied and ready for reuse
  int staging_slots_ = 0;                        // slots made so far (slot-N-*.part)
  std::uint64_t staged_in_memory_ = 0;  // bytes of small tracks (and downloads that may become one) held in memory
  std::set<std::string> unknown_statuses_logged_;
  bool bulk_lookups_ = true;  // false once the API refused get-bulk (or its answers lacked assets): a GET each
  // Jobs in a row whose get-bulk answer lacked an asset that GET /assets/{id} then found.
  int bulk_misses_ = 0;
  static constexpr int max_bulk_misses = 3;
  std::optional<std::chrono::steady_clock::time_point> paused_until_;
  std::function<void()> reload_credentials_;
  int running_cap_;  // max_running, or lower after a 429 naming actionLimit
  std::chrono::steady_clock::time_point last_rate_limit_{};
  std::chrono::steady_clock::time_point last_rate_change_{};
  int pause_count_ = 0;
  scheduler_stats stats_;
  bool stopping_ = false;
  bool resume_needed_ = false;
  bool spend_paused_ = false;
  // Two independent reasons to stop submitting; stats() reports whichever holds.
  std::string api_pause_reason_;        // credentials or credits refused
  std::string spend_pause_reason_;      // spend_limit_cu reached
  std::optional<double> last_cost_cu_;  // the price of the last generation
  std::int64_t seen_data_version_ = -1;
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace soundtrackd::queue
