// Admission and the per-row driver: executes job_fsm actions with the API, timers and the store.
#include "soundtrackd/queue/scheduler.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <system_error>
#include <utility>

#include "soundtrackd/util/file_names.hpp"

namespace soundtrackd::queue {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using db::job_store;

struct scheduler::active_job {
  active_job(asio::any_io_executor ex, db::job_row r, job_fsm f) : row(std::move(r)), fsm(std::move(f)), timer(ex) {}

  db::job_row row;
  job_fsm fsm;
  asio::steady_timer timer;  // every wait of this job: token, poll interval, retry delay
  std::vector<db::staged_asset> staged;
  int staging_slot = -1;  // which of the reused staging files it downloads into (staging_path)
  db::job_status db_status = db::job_status::queued;  // what we last wrote
  double recorded_progress = -1;
  bool taken_away = false;  // a person cancelled or deleted the row meanwhile
  bool has_turn = false;    // a request_line handed this job its turn while it waited
};

// Jobs waiting to make a request, `limit` of them making one at a time. A job that waits for
// a connection inside the HTTP client holds its whole call chain meanwhile: the coroutine
// frames of poll, get_job, exchange, send and the pool's acquire, and the formatted request,
// about 5 KB. Polls come in bursts (jobs submitted together are polled together), so at
// 10,000 in flight nearly all of them waited there at once: 97 MB peak RSS. Waiting here,
// before anything is built, costs only the job's own frames; the job's timer is its wake-up.
class scheduler::request_line {
 public:
  explicit request_line(int limit) : limit_(std::max(1, limit)) {}

  bool try_enter() {
    if (busy_ >= limit_ || !waiting_.empty()) return false;
    ++busy_;
    return true;
  }
  void wait(active_job& job) { waiting_.push_back(&job); }
  void forget(active_job& job) { std::erase(waiting_, &job); }
  // A request ended: its turn passes to the first job in line.
  void leave() {
    if (waiting_.empty()) {
      --busy_;
      return;
    }
    auto* next = waiting_.front();
    waiting_.pop_front();
    next->has_turn = true;
    next->timer.cancel();
  }

 private:
  int limit_;
  int busy_ = 0;
  std::deque<active_job*> waiting_;  // FIFO
};

// One request's turn in a request_line; ending it (destruction) hands it on.
class scheduler::request_turn {
 public:
  explicit request_turn(request_line& line) : line_(&line) {}
  request_turn(request_turn&& other) noexcept : line_(std::exchange(other.line_, nullptr)) {}
  request_turn& operator=(request_turn&&) = delete;
  ~request_turn() {
    if (line_) line_->leave();
  }

 private:
  request_line* line_;
};

namespace {

template <class T>
void count_outcome(std::map<std::string, std::int64_t>& counts, const scenario::api_result<T>& answer) {
  ++counts[answer ? std::string("ok") : std::string(scenario::to_string(answer.failure().kind))];
}

// How often polled progress is written. Progress is for people watching; at 10k jobs in flight
// a transaction per poll would cost thousands of fsyncs a second.
constexpr auto progress_flush_interval = std::chrono::seconds(1);

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// "job 12 remote job_abc", or "job 12" before the API answered the submit: every job line
// starts so, for grep and for journalctl. (A template: active_job is the scheduler's private type.)
template <class Job>
std::string job_label(const Job& job) {
  const auto& remote =
      job.fsm.remote_job_id().empty() && job.row.remote_job_id ? *job.row.remote_job_id : job.fsm.remote_job_id();
  return "job " + std::to_string(job.row.id) + (remote.empty() ? "" : " remote " + remote);
}

// get-bulk refused as such (an API or a proxy without it, an answer of another shape), not
// failing for a while: each asset is then asked for on its own, as GET /assets/{id}.
bool bulk_lookup_unavailable(const scenario::api_error& e) {
  return e.kind == scenario::error_kind::permanent || e.http_status == 405 || e.http_status == 501 ||
         e.http_status / 100 == 2;  // 2xx: the answer was not what get-bulk answers
}

fsm_policy policy_from(const config::queue_config& q) {
  return {q.poll_interval, q.poll_interval_max, q.job_timeout, q.retry_backoff, q.retry_backoff_max, q.max_attempts};
}

}  // namespace

scheduler::scheduler(asio::any_io_executor executor, db::store_thread& db, scenario::api_client& api,
                     scheduler_settings settings, logger_ptr log, std::function<void()> reload_credentials)
    : executor_(executor),
      db_(db),
      writes_(executor, db),
      api_(api),
      settings_(std::move(settings)),
      log_(std::move(log)),
      policy_(policy_from(settings_.queue)),
      bucket_(settings_.max_requests_per_second, settings_.max_requests_per_second),
      api_line_(std::make_unique<request_line>(settings_.max_requests_in_flight)),
      download_line_(std::make_unique<request_line>(settings_.max_requests_in_flight)),
      assets_(executor, [this](std::vector<std::string> ids) { return fetch_assets(std::move(ids)); }),
      lookup_timer_(executor),
      wake_(executor),
      watch_timer_(executor),
      progress_timer_(executor),
      reload_credentials_(std::move(reload_credentials)),
      running_cap_(settings_.queue.max_running) {}

scheduler::~scheduler() = default;

double scheduler::random01() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }

scheduler_stats scheduler::stats() const {
  auto s = stats_;
  s.in_flight = active_.size();
  s.api_latency = api_.latency();
  // The API's refusal says more than the spend limit when both hold.
  s.paused_reason = !api_pause_reason_.empty() ? api_pause_reason_ : spend_pause_reason_;
  return s;
}

void scheduler::stop() {
  if (stopping_) return;
  stopping_ = true;
  wake_.cancel();
  watch_timer_.cancel();
  progress_timer_.cancel();
  lookup_timer_.cancel();
  if (watcher_) watcher_->cancel();
  for (auto& [id, job] : active_) job->timer.cancel();
}

asio::awaitable<void> scheduler::sleep(asio::steady_timer& timer, duration d) {
  timer.expires_after(d);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> scheduler::run() {
  std::error_code ec;
  fs::create_directories(settings_.staging_dir, ec);
  if (ec) throw std::runtime_error("cannot create staging directory " + settings_.staging_dir + ": " + ec.message());
  // Staged files of downloads cut short are incomplete: those downloads start over.
  empty_staging_dir();
  if (!settings_.database_path.empty()) {
    watcher_ = std::make_unique<db::change_watcher>(executor_, settings_.database_path);
    if (!watcher_->active())
      log_->warn("new rows are noticed by the scan every {} only: {}", format_duration(settings_.queue.scan_interval),
                 watcher_->failure());
  }
  auto on_helper_done = [this](std::exception_ptr e) {
    --helpers_running_;
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      // Both are optimisations: the timed scan and the final flush still do their work.
      log_->error("background task stopped: {}", ex.what());
    }
  };
  helpers_running_ = 2;
  asio::co_spawn(executor_, watch_database(), on_helper_done);
  asio::co_spawn(executor_, flush_progress_periodically(), on_helper_done);

  co_await admit_due_rows();  // resumes unfinished rows first
  stop();                     // with exit_when_idle, admission ends by itself

  // Let running steps reach their next stop; their rows record where to resume.
  asio::steady_timer drain(executor_);
  while (!active_.empty() || helpers_running_ > 0) co_await sleep(drain, std::chrono::milliseconds(20));
  co_await flush_progress();
  empty_staging_dir();  // the reused files are empty by now; nothing is left behind
}

asio::awaitable<void> scheduler::watch_database() {
  if (!watcher_ || !watcher_->active()) co_return;
  auto read_version = [](job_store& s) { return s.data_version(); };
  auto seen = co_await db_.run(read_version);
  while (!stopping_ && co_await watcher_->changed()) {
    // The event can come before the writer's commit is visible (it is still syncing: 10-30 ms
    // for the sqlite3 CLI here), and our own commits cause events too: look every few
    // milliseconds at first, then less often, for a quarter of a second (in ms since the event).
    static constexpr std::array<int, 13> rechecks{0, 2, 5, 10, 15, 20, 30, 40, 60, 80, 120, 160, 240};
    int waited = 0;
    for (int at : rechecks) {
      if (at > waited) co_await sleep(watch_timer_, std::chrono::milliseconds(at - waited));
      waited = at;
      if (stopping_) co_return;
      const auto version = co_await db_.run(read_version);
      if (version != seen) {
        seen = version;
        wake();
        break;
      }
    }
  }
}

asio::awaitable<void> scheduler::flush_progress_periodically() {
  while (!stopping_) {
    co_await sleep(progress_timer_, progress_flush_interval);
    co_await flush_progress();
  }
}

asio::awaitable<void> scheduler::flush_progress() {
  if (pending_progress_.empty()) co_return;
  std::vector<db::progress_update> updates;
  updates.reserve(pending_progress_.size());
  for (const auto& [id, progress] : pending_progress_) updates.push_back({id, progress});
  pending_progress_.clear();
  auto record_progress = [updates = std::move(updates)](job_store& s) {
    return s.record_progress(updates, now_epoch());
  };
  // Rows no longer running are not acted on here: our own mark_downloading may have committed
  // first, and a person's cancel is noticed by notice_taken_away within a scan_interval.
  co_await db_.run(std::move(record_progress));
}

void scheduler::wake() {
  queue_drained_ = false;
  wake_for_free_slot();
}

void scheduler::wake_for_free_slot() {
  woken_ = true;
  wake_.cancel();
}

asio::awaitable<void> scheduler::resume_unfinished() {
  auto find_unfinished = [](job_store& s) { return s.unfinished(); };
  auto rows = co_await db_.run(std::move(find_unfinished));
  for (auto& row : rows) {
    if (active_.count(row.id)) continue;
    if (!row.remote_job_id) {
      // Submitting without a remote id: the POST may or may not have reached the API.
      auto detail = "restarted while submitting (generate call " + std::to_string(row.attempts) +
                    "); submitting again, a duplicate generation may be billed";
      log_->warn("job {}: {}", row.id, detail);
      ++stats_.ambiguous_resubmits;
      auto requeue_ambiguous = [id = row.id, detail](job_store& s) {
        return s.requeue_ambiguous(id, detail, now_epoch());
      };
      co_await db_.run(std::move(requeue_ambiguous));
      continue;
    }
    log_->info("job {} remote {}: resuming ({})", row.id, *row.remote_job_id, db::to_string(row.status));
    // job_timeout counts from the submit, or from a person's retry of a row that timed out.
    auto tracking_since = std::max(row.submitted_at.value_or(now_epoch()), row.retried_at.value_or(0.0));
    auto fsm = job_fsm::for_resume(policy_, *row.remote_job_id, tracking_since);
    auto job = std::make_shared<active_job>(executor_, row, std::move(fsm));
    job->db_status = row.status;
    start_job(job);
  }
}

asio::awaitable<void> scheduler::admit_due_rows() {
  while (!stopping_) {
    woken_ = false;  // this pass looks at everything
    // Another program changed the queue (soundtrackctl retry may have set a row back to
    // running to resume its remote job, a person may have cancelled one): look for rows to
    // resume or to drop, once per scan_interval.
    if (std::chrono::steady_clock::now() >= next_version_check_) {
      next_version_check_ = std::chrono::steady_clock::now() + settings_.queue.scan_interval;
      auto read_version = [](job_store& s) { return s.data_version(); };
      const auto version = co_await db_.run(std::move(read_version));
      if (version != seen_data_version_) {
        seen_data_version_ = version;
        queue_drained_ = false;
        resume_needed_ = true;
        co_await notice_taken_away();
      }
    }
    if (resume_needed_) {
      resume_needed_ = false;
      co_await resume_unfinished();
    }
    const auto now = std::chrono::steady_clock::now();
    if (paused_until_ && *paused_until_ > now) {
      wake_.expires_at(*paused_until_);
      boost::system::error_code ec;
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (!stopping_ && *paused_until_ <= std::chrono::steady_clock::now() && reload_credentials_)
        reload_credentials_();  // the next submit is the re-check
      queue_drained_ = false;
      continue;
    }

    int free_slots = running_cap_ - static_cast<int>(active_.size());
    if (free_slots > 0) {
      const int allowed = co_await spend_allowance();
      if (allowed <= 0) {
        co_await sleep(wake_, std::max<duration>(settings_.queue.scan_interval, std::chrono::minutes(1)));
        queue_drained_ = false;
        continue;
      }
      free_slots = std::min(free_slots, allowed);
    }
    // A scan that found fewer due rows than free slots drained the queue: a finished job's slot
    // needs no new scan until something may have made rows due (another program's commit, our
    // own requeue, a timer). With 20,000 rows waiting for a future run_after, each such scan
    // walked all of them: 7 ms of the store thread per finished job of a batch's last wave.
    if (free_slots > 0 && !queue_drained_) {
      // Admitted rows still waiting for a token are queued in the database until claimed.
      std::vector<std::int64_t> admitted;
      for (const auto& [id, job] : active_)
        if (job->db_status == db::job_status::queued) admitted.push_back(id);
      auto find_due = [free_slots, admitted = std::move(admitted)](job_store& s) {
        return s.due_ids(free_slots, now_epoch(), admitted);
      };
      auto ids = co_await db_.run(std::move(find_due));
      queue_drained_ = static_cast<int>(ids.size()) < free_slots;
      for (auto id : ids) {
        db::job_row row;
        row.id = id;
        int failures = 0;
        if (auto it = submit_failures_.find(id); it != submit_failures_.end()) failures = it->second;
        start_job(std::make_shared<active_job>(executor_, row, job_fsm::for_submit(policy_, failures)));
      }
      if (static_cast<int>(ids.size()) == free_slots) continue;  // there may be more due now
    }

    if (settings_.exit_when_idle && active_.empty()) {
      auto check_pending = [](job_store& s) { return s.has_pending_work(now_epoch()); };
      bool pending = co_await db_.run(std::move(check_pending));
      if (!pending) {
        log_->info("nothing queued, due or in flight: exiting (--exit-when-idle)");
        co_return;
      }
    }

    // Sleep until the fallback scan, a finished job, a new row, or the next row's run_after.
    auto find_next_due = [](job_store& s) { return s.next_due_time(now_epoch()); };
    auto next_due = co_await db_.run(std::move(find_next_due));
    duration wait = std::chrono::duration_cast<duration>(next_version_check_ - std::chrono::steady_clock::now());
    wait = std::clamp(wait, duration(0), duration(settings_.queue.scan_interval));
    if (next_due) {
      auto until = std::chrono::milliseconds(static_cast<long long>((*next_due - now_epoch()) * 1000) + 1);
      wait = std::clamp(until, duration(0), wait);
    }
    if (woken_) continue;
    co_await sleep(wake_, wait);
    if (!woken_) queue_drained_ = false;  // the scan interval, or a row's run_after or retry time
  }
}

asio::awaitable<int> scheduler::spend_allowance() {
  const double limit = settings_.queue.spend_limit_cu;
  if (limit <= 0) co_return std::numeric_limits<int>::max();
  auto sum_last_day = [](job_store& s) { return s.spent_cu_since(now_epoch() - 24 * 3600); };
  const double spent = co_await db_.run(std::move(sum_last_day));
  // Rows admitted but not yet answered will cost about what the last generation did; until a
  // price is known, one row at a time.
  int unpriced = 0;
  for (const auto& [id, job] : active_)
    if (job->db_status == db::job_status::queued || job->db_status == db::job_status::submitting) ++unpriced;
  const double expected = spent + unpriced * last_cost_cu_.value_or(0.0);
  int allowed = 0;
  if (expected < limit)
    allowed = last_cost_cu_ && *last_cost_cu_ > 0 ? static_cast<int>(std::ceil((limit - expected) / *last_cost_cu_))
                                                  : (unpriced == 0 ? 1 : 0);
  const bool over = spent >= limit;
  if (over && !spend_paused_) {
    spend_pause_reason_ = "spend limit reached (" + std::to_string(static_cast<long long>(spent)) + " of " +
                          std::to_string(static_cast<long long>(limit)) + " creative units in the last 24 h)";
    log_->error("{}: submissions paused until the rolling window allows more; running jobs continue",
                spend_pause_reason_);
  } else if (!over && spend_paused_) {
    log_->info("spend back under spend_limit_cu ({:.1f} of {:.1f} in the last 24 h): submissions resume", spent, limit);
    spend_pause_reason_.clear();
  }
  spend_paused_ = over;
  co_return allowed;
}

asio::awaitable<void> scheduler::notice_taken_away() {
  std::vector<std::int64_t> claimed;
  for (const auto& [id, job] : active_)
    if (job->db_status != db::job_status::queued) claimed.push_back(id);
  if (claimed.empty()) co_return;
  auto find_gone = [claimed = std::move(claimed)](job_store& s) { return s.no_longer_active(claimed); };
  for (auto id : co_await db_.run(std::move(find_gone))) {
    auto it = active_.find(id);
    if (it == active_.end()) continue;
    it->second->taken_away = true;
    it->second->timer.cancel();  // a job waiting for its next poll notices now
  }
}

void scheduler::start_job(const std::shared_ptr<active_job>& job) {
  auto id = job->row.id;
  active_[id] = job;
  asio::co_spawn(executor_, run_job(job), [this, id, job](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        // The row keeps its status, which says where to resume: admission picks it up again.
        log_->error("{}: stopped by an unexpected error: {}; resuming it from its saved state", job_label(*job),
                    ex.what());
        resume_needed_ = true;
      }
    }
    release_staging(*job);
    active_.erase(id);
    pending_progress_.erase(id);
    if (!stopping_) wake_for_free_slot();
  });
}

asio::awaitable<void> scheduler::take_token(asio::steady_timer& timer) {
  recover_rate();
  auto wait = bucket_.reserve(steady_seconds());
  if (wait.count() > 0) co_await sleep(timer, wait);
}

asio::awaitable<std::optional<scheduler::request_turn>> scheduler::wait_turn(request_line& line, active_job& job,
                                                                             bool give_up_on_stop) {
  std::optional<request_turn> turn;
  if (line.try_enter()) {
    turn.emplace(line);
    co_return turn;
  }
  line.wait(job);
  for (;;) {
    if (job.has_turn) {  // checked first: the turn may come together with a stop's cancel
      job.has_turn = false;
      turn.emplace(line);
      co_return turn;
    }
    if (give_up_on_stop && (stopping_ || job.taken_away)) {
      line.forget(job);
      co_return turn;
    }
    job.timer.expires_at(std::chrono::steady_clock::time_point::max());
    boost::system::error_code ec;
    co_await job.timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> scheduler::taken_away(active_job& job) {
  std::string detail = "cancelled outside soundtrackd";
  if (!job.fsm.remote_job_id().empty()) detail += " while running remote job " + job.fsm.remote_job_id();
  auto note_taken_away = [id = job.row.id, detail](job_store& s) { return s.note_taken_away(id, detail, now_epoch()); };
  auto status = co_await db_.run(std::move(note_taken_away));
  log_->info("{}: no longer ours ({}); stopped tracking it", job_label(job),
             status ? std::string(db::to_string(*status)) : std::string("deleted"));
}

asio::awaitable<void> scheduler::run_job(std::shared_ptr<active_job> job) {
  auto& fsm = job->fsm;
  auto a = fsm.start();
  // A resumed row whose step was waiting to be retried keeps its schedule across a restart.
  if (job->row.next_attempt_at && *job->row.next_attempt_at > now_epoch())
    a = action(action_kind::wait,
               std::chrono::milliseconds(static_cast<long long>((*job->row.next_attempt_at - now_epoch()) * 1000)));
  std::optional<request_turn> download_turn;  // taken to look the assets up, used by the first download
  while (!stopping_) {
    if (job->taken_away) {
      co_await taken_away(*job);
      co_return;
    }
    switch (a.kind) {
      // The steps are awaited here, not through a dispatching coroutine, and the waits on
      // the job's timer directly, not through sleep(): at 10,000 jobs in flight every frame
      // a waiting job keeps alive costs megabytes.
      case action_kind::submit:
      case action_kind::poll:
      case action_kind::resolve_assets:
      case action_kind::download: {
        std::optional<action> next;
        if (a.kind == action_kind::submit)
          next = co_await submit(*job);
        else if (a.kind == action_kind::poll)
          next = co_await poll(*job);
        else if (a.kind == action_kind::resolve_assets)
          next = co_await resolve_assets_in_turn(*job, download_turn);
        else
          next = co_await download(*job, download_turn);
        if (next && next->kind != action_kind::download) download_turn.reset();  // no waiting with it
        if (!next) co_return;                                                    // the row is no longer ours
        a = std::move(*next);
        break;
      }
      case action_kind::wait: {
        job->timer.expires_after(a.delay);
        boost::system::error_code ec;
        co_await job->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        a = fsm.on_timer(now_epoch());
        break;
      }
      case action_kind::retry:
        ++stats_.retries;
        ++stats_.retries_by_step[std::string(to_string(a.failed_step))];
        if (!co_await record_retry(*job, a)) co_return;
        if (a.failed_step == step::submit) {
          queue_drained_ = false;
          co_return;  // back in the queue until next_attempt_at
        }
        co_await sleep(job->timer, a.delay);
        a = fsm.on_timer(now_epoch());
        break;
      case action_kind::pause: {
        pause_queue(a.message);
        auto requeue = [id = job->row.id, msg = a.message](job_store& s) { return s.requeue(id, msg, now_epoch()); };
        co_await db_.run(std::move(requeue));
        queue_drained_ = false;
        co_return;
      }
      case action_kind::fail: {
        ++stats_.failed;
        submit_failures_.erase(job->row.id);
        log_->error("{}: failed: {}", job_label(*job), a.message);
        auto mark_failed = [id = job->row.id, msg = a.message](job_store& s) {
          return s.mark_failed(id, msg, now_epoch());
        };
        bool ok = co_await db_.run(std::move(mark_failed));
        if (!ok) co_await taken_away(*job);
        co_return;
      }
      case action_kind::store: {
        if (co_await store(*job)) co_return;
        a = fsm.on_store_failed("cannot store the audio in the database", random01());
        break;
      }
    }
  }
}

asio::awaitable<std::optional<action>> scheduler::submit(active_job& job) {
  co_await take_token(job.timer);
  if (stopping_) co_return std::nullopt;  // not claimed yet: the row stays queued
  std::optional<db::job_row> claimed;
  group_commit::write_fn claim = [&claimed, id = job.row.id](job_store& s) {
    claimed = s.claim_for_submit(id, now_epoch());
  };
  // At once: a claim is what a person waits for after inserting a row (scenario 4).
  co_await writes_.write(std::move(claim), group_commit::urgency::at_once);
  if (!claimed) {
    // Cancelled, or changed by someone else, between the scan and now.
    submit_failures_.erase(job.row.id);
    co_return std::nullopt;
  }
  job.row = std::move(*claimed);
  job.db_status = db::job_status::submitting;

  // Claimed: the request is made even if a stop comes meanwhile, so the row does not look
  // ambiguous (submitting, maybe billed) on the next start.
  auto turn = co_await wait_turn(*api_line_, job, false);
  auto answer = co_await api_.submit(job.row.request);
  turn.reset();
  count_outcome(stats_.submits, answer);
  if (!answer) {
    note_rate_limit(answer.failure());
    auto next = job.fsm.on_submit_failed(answer.failure(), random01());
    // The row waits in the queue for its retry; its budget waits here.
    if (next.kind == action_kind::retry) submit_failures_[job.row.id] = job.fsm.submit_failures();
    co_return next;
  }

  // The id is what makes a restart resume instead of paying again: persist it first.
  bool ok = false;
  group_commit::write_fn mark_running = [&ok, id = job.row.id, remote = answer->job_id, cost = answer->cost_cu](
                                            job_store& s) { ok = s.mark_running(id, remote, cost, now_epoch()); };
  // At once as well: until this commits, a crash leaves the row ambiguous (maybe paid for).
  co_await writes_.write(std::move(mark_running), group_commit::urgency::at_once);
  submit_failures_.erase(job.row.id);
  ++stats_.submitted;
  if (answer->cost_cu) last_cost_cu_ = answer->cost_cu;
  resume_queue();
  auto next = job.fsm.on_submitted(*answer, job.row.submitted_at.value_or(now_epoch()), run_times_.typical());
  if (!ok) {
    co_await taken_away(job);
    co_return std::nullopt;
  }
  job.db_status = db::job_status::running;
  log_->info("job {} remote {}: submitted (generate call {})", job.row.id, answer->job_id, job.row.attempts);
  co_return next;
}

asio::awaitable<std::optional<action>> scheduler::poll(active_job& job) {
  co_await take_token(job.timer);
  auto turn = co_await wait_turn(*api_line_, job, true);
  if (!turn) co_return action(action_kind::wait);  // stopping or taken away: run_job sees which
  auto answer = co_await api_.get_job(job.fsm.remote_job_id());
  turn.reset();
  count_outcome(stats_.polls, answer);
  if (!answer) {
    note_rate_limit(answer.failure());
    co_return job.fsm.on_poll_failed(answer.failure(), now_epoch(), random01());
  }

  const auto& remote = *answer;
  if (!scenario::is_known_remote_status(remote.status) && unknown_statuses_logged_.insert(remote.status).second)
    log_->warn("remote status '{}' is unknown; treating it as still running", remote.status);

  if (remote.run_seconds) run_times_.add(*remote.run_seconds);
  auto next = job.fsm.on_polled(remote, now_epoch());
  if (next.kind == action_kind::resolve_assets && job.db_status != db::job_status::downloading) {
    bool ok = false;
    group_commit::write_fn mark_downloading = [&ok, id = job.row.id](job_store& s) {
      ok = s.mark_downloading(id, now_epoch());
    };
    co_await writes_.write(std::move(mark_downloading));
    if (!ok) {
      co_await taken_away(job);
      co_return std::nullopt;
    }
    job.db_status = db::job_status::downloading;
    pending_progress_.erase(job.row.id);
    log_->info("job {} remote {}: finished remotely, downloading {} asset(s)", job.row.id, job.fsm.remote_job_id(),
               remote.asset_ids.size());
  } else if (next.kind == action_kind::wait && remote.progress != job.recorded_progress &&
             job.db_status == db::job_status::running) {
    pending_progress_[job.row.id] = remote.progress;  // written by flush_progress
    job.recorded_progress = remote.progress;
  }
  co_return next;
}

asio::awaitable<scenario::api_result<std::vector<scenario::asset_info>>> scheduler::fetch_assets(
    std::vector<std::string> ids) {
  co_await take_token(lookup_timer_);
  auto answer = co_await api_.get_assets(ids);
  if (!answer) note_rate_limit(answer.failure());
  co_return answer;
}

// A job looks its assets up holding a turn in the download line, which its first download then
// uses: URLs are fetched only as fast as they are used, and only the jobs holding a turn have
// resolve_assets' frame (its locals for both kinds of lookup). 10,000 jobs finishing together
// and waiting in resolve_assets itself held 2-3 MB more at the peak of scenario 2.
asio::awaitable<std::optional<action>> scheduler::resolve_assets_in_turn(active_job& job,
                                                                         std::optional<request_turn>& download_turn) {
  auto turn = co_await wait_turn(*download_line_, job, true);
  if (!turn) co_return action(action_kind::wait);  // stopping or taken away: run_job sees which
  download_turn.emplace(std::move(*turn));
  co_return co_await resolve_assets(job);
}

// The job's assets, from the get-bulk request it shares with the jobs finishing with it; an
// asset that answer lacks (or every asset, once the API refused get-bulk) is asked for alone.
asio::awaitable<std::optional<action>> scheduler::resolve_assets(active_job& job) {
  const auto& ids = job.fsm.asset_ids();
  asset_lookup::found_assets found(ids.size());
  bool bulk_answered = false;
  if (bulk_lookups_) {
    auto answer = co_await assets_.resolve(ids);
    if (answer) {
      found = std::move(*answer);
      bulk_answered = true;
    } else if (bulk_lookup_unavailable(answer.failure())) {
      if (std::exchange(bulk_lookups_, false))
        log_->warn("{}; asking for each asset on its own from now on", answer.failure().message);
    } else {
      co_return job.fsm.on_asset_failed(answer.failure(), random01());
    }
    if (stopping_ || job.taken_away) co_return action(action_kind::wait);  // run_job sees which
  }
  std::vector<scenario::asset_info> assets;
  bool bulk_lacked_one = false;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (found[i]) {
      assets.push_back(std::move(*found[i]));
      continue;
    }
    if (bulk_answered) bulk_lacked_one = true;
    co_await take_token(job.timer);
    auto turn = co_await wait_turn(*api_line_, job, true);
    if (!turn) co_return action(action_kind::wait);  // stopping or taken away: run_job sees which
    auto answer = co_await api_.get_asset(ids[i]);
    turn.reset();
    if (!answer) {
      note_rate_limit(answer.failure());
      co_return job.fsm.on_asset_failed(answer.failure(), random01());
    }
    assets.push_back(std::move(*answer));
  }
  // An API whose get-bulk answers leave out what GET /assets/{id} finds (say, entries without
  // their url) would cost two requests a job: after a few such jobs in a row, one it is.
  if (bulk_answered) bulk_misses_ = bulk_lacked_one ? bulk_misses_ + 1 : 0;
  if (bulk_misses_ >= max_bulk_misses && std::exchange(bulk_lookups_, false))
    log_->warn(
        "POST /assets/get-bulk left out assets that GET /assets/{{id}} found, for {} jobs in a row; asking "
        "for each asset on its own from now on",
        bulk_misses_);
  co_return job.fsm.on_assets_resolved(std::move(assets));
}

// Staging files are reused, not created per download: a job takes a free slot for its
// downloads and gives it back, emptied, when it ends (release_staging). Creating and deleting a
// file per track cost more CPU than anything else per job in scenario 1 (ext4 searching its
// inode bitmap past every recently deleted inode, 2,000 of them in 30 s).
std::string scheduler::staging_path(active_job& job, std::size_t index) {
  if (job.staging_slot < 0) {
    if (free_staging_slots_.empty()) {
      job.staging_slot = staging_slots_++;
    } else {
      job.staging_slot = free_staging_slots_.back();
      free_staging_slots_.pop_back();
    }
  }
  return (fs::path(settings_.staging_dir) /
          ("slot-" + std::to_string(job.staging_slot) + "-" + std::to_string(index) + ".part"))
      .string();
}

// A staging file for a 20 KB track costs more CPU (create, write, truncate, read back,
// fstat) than storing it. Room is reserved before the download and trimmed to the track's
// size after: reserving 256 KiB for a reported 20 KB track let only 16 downloads fit in
// memory, and in a burst of finished jobs 40% of the tracks went through files.
std::uint64_t download_memory_room(std::optional<std::uint64_t> reported_size, std::uint64_t held_in_memory) {
  const std::uint64_t room = reported_size.value_or(job_store::group_store_max_bytes);
  return room <= job_store::group_store_max_bytes && held_in_memory + room <= staged_in_memory_max ? room : 0;
}

asio::awaitable<std::optional<action>> scheduler::download(active_job& job, std::optional<request_turn>& turn) {
  std::error_code ec;
  const auto space = fs::space(settings_.staging_dir, ec);
  if (!ec && space.available < settings_.storage.min_free_space) {
    // A full disk is nobody's fault in particular: wait without spending the row's budget.
    co_return action(action_kind::retry, policy_.retry_backoff,
                     "downloads paused: " + std::to_string(space.available >> 20) + " MiB free for " +
                         settings_.staging_dir + ", below storage.min_free_space (" +
                         std::to_string(settings_.storage.min_free_space >> 20) + " MiB)",
                     step::download);
  }
  // The first download of a job uses the turn its asset lookup took.
  if (!turn) {
    auto next_turn = co_await wait_turn(*download_line_, job, true);
    if (!next_turn) co_return action(action_kind::wait);  // stopping or taken away: run_job sees which
    turn.emplace(std::move(*next_turn));
  }
  const auto index = job.fsm.current_asset_index();
  const auto& asset = job.fsm.current_asset();
  const auto file = staging_path(job, index);
  unstage(job, index);  // a re-download replaces what was staged for this index
  const std::uint64_t in_memory = download_memory_room(asset.size, staged_in_memory_);
  staged_in_memory_ += in_memory;
  auto got = co_await api_.download(asset, file, in_memory);
  staged_in_memory_ -= in_memory;
  turn.reset();
  count_outcome(stats_.downloads, got);
  if (got) stats_.bytes_downloaded += got->size;
  if (!got) co_return job.fsm.on_download_failed(got.failure(), random01());
  if (got->bytes) staged_in_memory_ += got->bytes->size();
  job.staged.push_back({asset.id, got->mime_type, got->path, got->size, got->sha256, std::move(got->bytes)});
  co_return job.fsm.on_downloaded();
}

asio::awaitable<bool> scheduler::store(active_job& job) {
  bool ok = false;
  std::uint64_t bytes = 0;
  for (const auto& a : job.staged) bytes += a.size_bytes;
  try {
    if (bytes <= job_store::group_store_max_bytes) {
      // Small tracks of jobs finishing together share one transaction (one fsync).
      group_commit::write_fn store_assets = [&ok, &job](job_store& s) {
        ok = s.store_assets(job.row.id, job.staged, now_epoch());
      };
      co_await writes_.write(std::move(store_assets));
    } else {
      auto store_assets = [id = job.row.id, staged = job.staged](job_store& s) {
        return s.store_assets(id, staged, now_epoch());
      };
      ok = co_await db_.run(std::move(store_assets));
    }
  } catch (const std::exception& e) {
    log_->error("{}: storing {} asset(s) failed: {}", job_label(job), job.staged.size(), e.what());
    co_return false;
  }
  if (!ok) {
    co_await taken_away(job);
    co_return true;
  }
  ++stats_.succeeded;
  log_->info("job {} remote {}: succeeded, {} asset(s), {} bytes stored", job.row.id, job.fsm.remote_job_id(),
             job.staged.size(), bytes);
  if (!settings_.storage.output_dir.empty()) write_output_files(job);
  co_return true;
}

asio::awaitable<bool> scheduler::record_retry(active_job& job, const action& a) {
  log_->warn("{}: {} failed: {}", job_label(job), to_string(a.failed_step), a.message);
  const bool requeue = a.failed_step == step::submit;
  const auto next_at = now_epoch() + std::chrono::duration<double>(a.delay).count();
  auto record_retry = [id = job.row.id, msg = a.message, next_at, requeue](job_store& s) {
    return s.record_retry(id, msg, next_at, requeue, now_epoch());
  };
  bool ok = co_await db_.run(std::move(record_retry));
  if (!ok) co_await taken_away(job);
  co_return ok;
}

void scheduler::pause_queue(const std::string& reason) {
  ++pause_count_;
  auto delay = backoff_delay(policy_.retry_backoff, policy_.retry_backoff_max, pause_count_, 1.0);
  paused_until_ = std::chrono::steady_clock::now() + delay;
  if (api_pause_reason_.empty())
    log_->error("queue paused: {}; rows stay queued, checking again in {}", reason, format_duration(delay));
  else
    log_->info("queue still paused ({}); checking again in {}", reason, format_duration(delay));
  api_pause_reason_ = reason;
}

void scheduler::note_rate_limit(const scenario::api_error& error) {
  if (error.kind != scenario::error_kind::rate_limited) return;
  ++stats_.rate_limit_waits;
  if (error.action_limit) {
    const int ceiling = std::max(1, *error.action_limit);
    if (ceiling < running_cap_) {
      log_->warn(
          "the API allows this team {} concurrent jobs (429 with actionLimit): in-flight cap lowered from {} to {}",
          ceiling, running_cap_, ceiling);
      running_cap_ = ceiling;
    }
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  last_rate_limit_ = now;
  if (now - last_rate_change_ < std::chrono::seconds(1)) return;  // one burst of 429s halves once
  const double slower = std::max(bucket_.rate() / 2, 0.1);
  bucket_.set_rate(slower);
  last_rate_change_ = now;
  log_->warn("rate limited by the API (HTTP 429): all API calls slowed to {:.2f}/s", slower);
}

void scheduler::recover_rate() {
  using namespace std::chrono_literals;
  const double configured = settings_.max_requests_per_second;
  if (bucket_.rate() >= configured) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_rate_limit_ < 30s || now - last_rate_change_ < 30s) return;
  const double faster = std::min(configured, bucket_.rate() * 1.5);
  bucket_.set_rate(faster);
  last_rate_change_ = now;
  log_->info("no rate limit for 30s: API calls back up to {:.2f}/s (configured {:.2f}/s)", faster, configured);
}

void scheduler::resume_queue() {
  if (api_pause_reason_.empty()) return;
  log_->info("queue resumed: the API accepts requests again");
  api_pause_reason_.clear();
  paused_until_.reset();
  pause_count_ = 0;
}

void scheduler::write_output_files(const active_job& job) {
  const fs::path dir(settings_.storage.output_dir);
  for (std::size_t i = 0; i < job.staged.size(); ++i) {
    const auto& asset = job.staged[i];
    auto target = dir / export_file_name(job.row.request.name, job.row.id, i, asset.mime_type);
    auto temp = target;
    temp += ".tmp";
    std::error_code ec;
    if (asset.bytes) {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      out.write(asset.bytes->data(), static_cast<std::streamsize>(asset.bytes->size()));
      out.close();
      if (!out) ec = std::make_error_code(std::errc::io_error);
    } else {
      fs::copy_file(asset.path, temp, fs::copy_options::overwrite_existing, ec);
    }
    if (!ec) fs::rename(temp, target, ec);  // readers never see a half-written file
    if (ec) {
      // The audio is safe in the database; the file is a convenience copy.
      log_->error("{}: cannot write {}: {} (the audio is stored in the database)", job_label(job), target.string(),
                  ec.message());
      fs::remove(temp, ec);
    }
  }
}

void scheduler::unstage(active_job& job, std::size_t from) {
  std::error_code ec;
  for (std::size_t i = from; i < job.staged.size(); ++i) {
    const auto& asset = job.staged[i];
    if (asset.bytes)
      staged_in_memory_ -= asset.bytes->size();
    else
      fs::resize_file(asset.path, 0, ec);  // emptied, not removed: the slot's next download reuses the file
  }
  job.staged.resize(std::min(from, job.staged.size()));
}

void scheduler::release_staging(active_job& job) {
  // A failed download emptied its own file already (a partial file never passes for a result).
  unstage(job, 0);
  if (job.staging_slot >= 0) free_staging_slots_.push_back(std::exchange(job.staging_slot, -1));
}

void scheduler::empty_staging_dir() {
  std::error_code ec;
  for (auto& entry : fs::directory_iterator(settings_.staging_dir, ec)) fs::remove(entry.path(), ec);
  free_staging_slots_.clear();
  staging_slots_ = 0;
}

}  // namespace soundtrackd::queue
