// The job state machine: every decision about a row's next step is made here.
#include "soundtrackd/queue/job_fsm.hpp"

#include <algorithm>
#include <cmath>

#include "soundtrackd/queue/backoff.hpp"

namespace soundtrackd::queue {

using scenario::error_kind;

namespace {

// A rate limit with no Retry-After is retried no sooner than this, so a tight ceiling is
// not hammered by a lucky jitter draw.
constexpr duration min_rate_limit_delay = std::chrono::seconds(1);

std::string verb(step s) {
  switch (s) {
    case step::submit:
      return "submitting";
    case step::poll:
      return "polling";
    case step::asset:
      return "fetching the asset";
    case step::download:
      return "downloading";
    case step::store:
      return "storing";
  }
  return "working";
}

}  // namespace

std::string_view to_string(step s) {
  switch (s) {
    case step::submit:
      return "submit";
    case step::poll:
      return "poll";
    case step::asset:
      return "asset";
    case step::download:
      return "download";
    case step::store:
      return "store";
  }
  return "unknown";
}

job_fsm job_fsm::for_submit(fsm_policy policy, int submit_failures) {
  job_fsm fsm(policy);
  fsm.phase_ = phase::submitting;
  fsm.submit_failures_ = submit_failures;
  return fsm;
}

job_fsm job_fsm::for_resume(fsm_policy policy, std::string remote_job_id, epoch_seconds submitted_at) {
  job_fsm fsm(policy);
  fsm.phase_ = phase::polling;
  fsm.remote_job_id_ = std::move(remote_job_id);
  fsm.submitted_at_ = submitted_at;
  fsm.poll_delay_ = policy.poll_interval;
  return fsm;
}

action job_fsm::start() const { return resume_phase(); }

action job_fsm::resume_phase() const {
  switch (phase_) {
    case phase::submitting:
      return {action_kind::submit};
    case phase::polling:
      return {action_kind::poll};
    case phase::resolving:
      return {action_kind::resolve_assets};
    case phase::downloading:
      return {action_kind::download};
    case phase::storing:
      return {action_kind::store};
    case phase::done:
      break;
  }
  return {action_kind::fail, {}, "internal error: job already finished"};
}

bool job_fsm::past_deadline(epoch_seconds now) const {
  return now - submitted_at_ >= std::chrono::duration<double>(policy_.job_timeout).count();
}

action job_fsm::timed_out() const {
  return {action_kind::fail,
          {},
          "remote job " + remote_job_id_ + " did not finish within " + format_duration(policy_.job_timeout) +
              " (job_timeout); stopped tracking it, it may still finish and be billed"};
}

action job_fsm::step_failed(step s, int& failures, const scenario::api_error& error, double random01) {
  if (error.kind == error_kind::rate_limited) {
    auto delay = error.retry_after.value_or(
        std::max(min_rate_limit_delay, backoff_delay(policy_.retry_backoff, policy_.retry_backoff_max, 1, random01)));
    return {action_kind::retry, delay, error.message + " (rate limited, retrying in " + format_duration(delay) + ")",
            s};
  }
  if (error.kind == error_kind::global) {
    if (s == step::submit) return {action_kind::pause, {}, error.message, s};
    // A remote job already runs: keep tracking it, at no cost to its budget.
    auto delay = error.retry_after.value_or(policy_.retry_backoff);
    return {action_kind::retry, delay, error.message + " (queue paused, retrying in " + format_duration(delay) + ")",
            s};
  }
  ++failures;
  if (failures >= policy_.max_attempts) {
    phase_ = phase::done;
    return {action_kind::fail,
            {},
            "gave up " + verb(s) + " after " + std::to_string(failures) + " consecutive failures: " + error.message};
  }
  auto delay = backoff_delay(policy_.retry_backoff, policy_.retry_backoff_max, failures, random01);
  if (error.retry_after) delay = std::max(delay, *error.retry_after);
  return {action_kind::retry, delay,
          error.message + " (attempt " + std::to_string(failures) + "/" + std::to_string(policy_.max_attempts) +
              ", retrying in " + format_duration(delay) + ")",
          s};
}

action job_fsm::on_submitted(const scenario::submitted_job& job, epoch_seconds now,
                             std::optional<duration> typical_run) {
  phase_ = phase::polling;
  remote_job_id_ = job.job_id;
  submitted_at_ = now;
  submit_failures_ = 0;
  poll_delay_ = policy_.poll_interval;
  if (!typical_run || *typical_run <= poll_delay_) return next_poll(now);
  const auto first = std::min(*typical_run, policy_.job_timeout);
  // The delay the schedule would have grown to by then.
  for (auto polled_at = poll_delay_; polled_at < first && poll_delay_ > duration(0); polled_at += poll_delay_)
    poll_delay_ = grown(poll_delay_);
  return poll_after(first, now);
}

action job_fsm::on_submit_failed(const scenario::api_error& error, double random01) {
  if (error.kind == error_kind::permanent) {
    phase_ = phase::done;
    return {action_kind::fail, {}, "the API rejected the request: " + error.message};
  }
  return step_failed(step::submit, submit_failures_, error, random01);
}

action job_fsm::next_poll(epoch_seconds now) {
  auto next = poll_after(poll_delay_, now);
  poll_delay_ = grown(poll_delay_);
  return next;
}

action job_fsm::poll_after(duration delay, epoch_seconds now) {
  auto left = std::chrono::duration<double>(policy_.job_timeout).count() - (now - submitted_at_);
  if (left <= 0) {
    phase_ = phase::done;
    return timed_out();
  }
  // Never sleep past the deadline: the last poll lands on it.
  return {action_kind::wait, std::min(delay, duration(static_cast<duration::rep>(std::ceil(left * 1000))))};
}

duration job_fsm::grown(duration poll_delay) const {
  return std::min(duration(static_cast<duration::rep>(static_cast<double>(poll_delay.count()) * 1.5)),
                  policy_.poll_interval_max);
}

action job_fsm::on_polled(const scenario::remote_job& job, epoch_seconds now) {
  switch (scenario::classify_remote_status(job.status)) {
    case scenario::remote_state::running:
      poll_failures_ = 0;
      return next_poll(now);
    case scenario::remote_state::succeeded:
      if (job.asset_ids.empty()) {
        scenario::api_error missing{error_kind::transient,
                                    200,
                                    "remote job " + remote_job_id_ + " reports success but lists no assets",
                                    {},
                                    {}};
        return step_failed(step::poll, poll_failures_, missing, 0.5);
      }
      poll_failures_ = 0;
      asset_ids_ = job.asset_ids;
      phase_ = phase::resolving;
      return {action_kind::resolve_assets};
    case scenario::remote_state::failed: {
      phase_ = phase::done;
      std::string message = "remote job " + remote_job_id_ + " failed";
      if (!job.error.empty()) message += ": " + job.error;
      if (!job.hint.empty()) message += " (" + job.hint + ")";
      return {action_kind::fail, {}, message};
    }
    case scenario::remote_state::canceled: {
      phase_ = phase::done;
      std::string message = "remote job " + remote_job_id_ + " was canceled by the API";
      if (!job.error.empty()) message += ": " + job.error;
      return {action_kind::fail, {}, message};
    }
  }
  return {action_kind::fail, {}, "internal error: unhandled remote status"};
}

action job_fsm::on_poll_failed(const scenario::api_error& error, epoch_seconds now, double random01) {
  if (error.kind == error_kind::permanent) {
    phase_ = phase::done;
    return {action_kind::fail, {}, "remote job " + remote_job_id_ + " cannot be read: " + error.message};
  }
  if (past_deadline(now)) {
    phase_ = phase::done;
    return timed_out();
  }
  return step_failed(step::poll, poll_failures_, error, random01);
}

action job_fsm::on_assets_resolved(std::vector<scenario::asset_info> assets) {
  asset_failures_ = 0;
  assets_ = std::move(assets);
  phase_ = phase::downloading;
  return {action_kind::download};
}

action job_fsm::on_asset_failed(const scenario::api_error& error, double random01) {
  if (error.kind == error_kind::permanent) {
    phase_ = phase::done;
    return {action_kind::fail, {}, "asset of remote job " + remote_job_id_ + " cannot be read: " + error.message};
  }
  return step_failed(step::asset, asset_failures_, error, random01);
}

action job_fsm::on_downloaded() {
  download_failures_ = 0;
  ++next_download_;
  if (next_download_ < assets_.size()) return {action_kind::download};
  phase_ = phase::storing;
  return {action_kind::store};
}

action job_fsm::on_download_failed(const scenario::api_error& error, double random01) {
  if (error.kind == error_kind::url_expired) {
    // The signed URL is stale: a fresh one is one GET away, and that is worth no wait.
    ++download_failures_;
    if (download_failures_ >= policy_.max_attempts) {
      phase_ = phase::done;
      return {action_kind::fail,
              {},
              "gave up downloading after " + std::to_string(download_failures_) +
                  " consecutive failures: " + error.message};
    }
    phase_ = phase::resolving;
    return {action_kind::resolve_assets};
  }
  return step_failed(step::download, download_failures_, error, random01);
}

action job_fsm::on_store_failed(const std::string& message, double random01) {
  scenario::api_error error{error_kind::transient, 0, message, {}, {}};
  return step_failed(step::store, store_failures_, error, random01);
}

action job_fsm::on_timer(epoch_seconds now) {
  if (phase_ == phase::polling && past_deadline(now)) {
    // One last look: the job may have finished right at the deadline.
    return {action_kind::poll};
  }
  return resume_phase();
}

}  // namespace soundtrackd::queue
