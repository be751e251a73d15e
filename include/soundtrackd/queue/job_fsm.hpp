// The life of one row, as a pure state machine: events in, the next action out. No I/O,
// no clock, no randomness of its own (time and a random draw come in with the events),
// so every edge is unit-tested. The scheduler executes the actions.
//
//   submit -> (wait -> poll)* -> resolve assets -> download each -> store
//
// Each step has its own retry budget: max_attempts consecutive failures of one step fail
// the row. "Not finished yet" is not a failure; rate limits and global pauses cost nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "soundtrackd/scenario/types.hpp"
#include "soundtrackd/util/time.hpp"

namespace soundtrackd::queue {

enum class step { submit, poll, asset, download, store };
std::string_view to_string(step s);

struct fsm_policy {
  duration poll_interval = std::chrono::seconds(5);
  duration poll_interval_max = std::chrono::seconds(30);
  duration job_timeout = std::chrono::minutes(30);
  duration retry_backoff = std::chrono::seconds(10);
  duration retry_backoff_max = std::chrono::minutes(10);
  int max_attempts = 5;  // the row's own max_attempts when set, else the configured one
};

enum class action_kind {
  submit,          // claim the row (queued -> submitting) and POST generate
  poll,            // GET /jobs/{remote_job_id}
  resolve_assets,  // GET /assets/{id} for the assets still to download
  download,        // download current_asset() to a staging file
  store,           // copy the staged files into the database, row succeeded
  wait,            // start a timer for `delay`, then on_timer()
  retry,           // the step failed: record `message`, wait `delay`, then on_timer()
                   // (a submit retry puts the row back in the queue until then)
  pause,           // a global problem (credentials, credits) during submit: requeue the row
                   // untouched and pause the queue; `message` says why
  fail,            // the row failed; `message` is its last_error
};

struct action {
  action(action_kind k, duration d = duration(0), std::string m = {}, step s = step::submit)
      : kind(k), delay(d), message(std::move(m)), failed_step(s) {}

  action_kind kind;
  duration delay;       // wait, retry
  std::string message;  // retry, pause, fail
  step failed_step;     // retry: which step is retried
};

class job_fsm {
 public:
  // A queued row about to be submitted. `submit_failures` carries the consecutive failed
  // submits of earlier tries, which the scheduler remembers while the row waits in the queue.
  static job_fsm for_submit(fsm_policy policy, int submit_failures = 0);
  // A row that already has a remote job (after a restart, or a retry of a row whose remote
  // job may have finished): never submitted again, only polled.
  static job_fsm for_resume(fsm_policy policy, std::string remote_job_id, epoch_seconds submitted_at);

  // The first action.
  action start() const;

  // The first poll comes after poll_interval, or after `typical_run` (how long jobs ran
  // lately, run_time_estimate) when that is later; the polls after it come as far apart as
  // they would have by then, so a job is never polled more often than without it.
  action on_submitted(const scenario::submitted_job& job, epoch_seconds now,
                      std::optional<duration> typical_run = std::nullopt);
  action on_submit_failed(const scenario::api_error& error, double random01);

  action on_polled(const scenario::remote_job& job, epoch_seconds now);
  action on_poll_failed(const scenario::api_error& error, epoch_seconds now, double random01);

  action on_assets_resolved(std::vector<scenario::asset_info> assets);
  action on_asset_failed(const scenario::api_error& error, double random01);

  action on_downloaded();  // current_asset() is staged
  action on_download_failed(const scenario::api_error& error, double random01);

  action on_store_failed(const std::string& message, double random01);

  // The wait or retry delay is over.
  action on_timer(epoch_seconds now);

  const std::string& remote_job_id() const { return remote_job_id_; }
  const std::vector<std::string>& asset_ids() const { return asset_ids_; }
  const scenario::asset_info& current_asset() const { return assets_.at(next_download_); }
  std::size_t current_asset_index() const { return next_download_; }
  int submit_failures() const { return submit_failures_; }

 private:
  enum class phase { submitting, polling, resolving, downloading, storing, done };

  explicit job_fsm(fsm_policy policy) : policy_(policy) {}

  action step_failed(step s, int& failures, const scenario::api_error& error, double random01);
  action next_poll(epoch_seconds now);
  action poll_after(duration delay, epoch_seconds now);  // a wait, ending by the deadline
  duration grown(duration poll_delay) const;
  action timed_out() const;
  action resume_phase() const;  // the action that re-runs the current phase
  bool past_deadline(epoch_seconds now) const;

  fsm_policy policy_;
  phase phase_ = phase::submitting;
  std::string remote_job_id_;
  epoch_seconds submitted_at_ = 0;
  duration poll_delay_{0};
  std::vector<std::string> asset_ids_;
  std::vector<scenario::asset_info> assets_;  // resolved URLs of the assets still to download
  std::size_t next_download_ = 0;
  int submit_failures_ = 0;
  int poll_failures_ = 0;
  int asset_failures_ = 0;
  int download_failures_ = 0;
  int store_failures_ = 0;
};

}  // namespace soundtrackd::queue
