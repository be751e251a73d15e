// Every edge of the job state machine: the actions it asks for, the messages it writes.
#include "soundtrackd/queue/job_fsm.hpp"

#include "soundtrackd/db/queue_admin.hpp"

#include <gtest/gtest.h>

using namespace soundtrackd;
using namespace soundtrackd::queue;
using namespace std::chrono_literals;
using scenario::api_error;
using scenario::error_kind;

namespace {

fsm_policy policy() {
  fsm_policy p;
  p.poll_interval = 5s;
  p.poll_interval_max = 30s;
  p.job_timeout = 30min;
  p.retry_backoff = 10s;
  p.retry_backoff_max = 10min;
  p.max_attempts = 3;
  return p;
}

api_error err(error_kind kind, unsigned status, std::string message) {
  return {kind, status, std::move(message), {}, {}};
}

scenario::remote_job remote(std::string status, std::vector<std::string> assets = {}, double progress = 0) {
  scenario::remote_job j;
  j.job_id = "job_1";
  j.status = std::move(status);
  j.asset_ids = std::move(assets);
  j.progress = progress;
  return j;
}

scenario::asset_info asset(std::string id) { return {id, "https://cdn/" + id + "?Signature=x", "audio/mpeg", 10}; }

constexpr double t0 = 1'000'000;

// A job that has been submitted at t0 and is now waiting for its first poll.
job_fsm submitted() {
  auto fsm = job_fsm::for_submit(policy());
  EXPECT_EQ(fsm.start().kind, action_kind::submit);
  auto a = fsm.on_submitted({"job_1", 5.0}, t0);
  EXPECT_EQ(a.kind, action_kind::wait);
  return fsm;
}

}  // namespace

TEST(JobFsm, HappyPathSubmitPollDownloadStore) {
  auto fsm = job_fsm::for_submit(policy());
  EXPECT_EQ(fsm.start().kind, action_kind::submit);
  auto a = fsm.on_submitted({"job_1", 5.0}, t0);
  EXPECT_EQ(a.kind, action_kind::wait);
  EXPECT_EQ(a.delay, 5s);
  EXPECT_EQ(fsm.remote_job_id(), "job_1");
  EXPECT_EQ(fsm.on_timer(t0 + 5).kind, action_kind::poll);
  EXPECT_EQ(fsm.on_polled(remote("in-progress", {}, 0.5), t0 + 5).kind, action_kind::wait);
  a = fsm.on_polled(remote("success", {"a1", "a2"}), t0 + 12);
  EXPECT_EQ(a.kind, action_kind::resolve_assets);
  EXPECT_EQ(fsm.asset_ids(), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(fsm.on_assets_resolved({asset("a1"), asset("a2")}).kind, action_kind::download);
  EXPECT_EQ(fsm.current_asset().id, "a1");
  EXPECT_EQ(fsm.current_asset_index(), 0u);
  EXPECT_EQ(fsm.on_downloaded().kind, action_kind::download);
  EXPECT_EQ(fsm.current_asset().id, "a2");
  EXPECT_EQ(fsm.on_downloaded().kind, action_kind::store);
}

TEST(JobFsm, PollIntervalGrowsByHalfUpToTheMaximum) {
  auto fsm = submitted();
  std::vector<long long> delays;
  double now = t0;
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(fsm.on_timer(now).kind, action_kind::poll);
    auto a = fsm.on_polled(remote("queued"), now);
    ASSERT_EQ(a.kind, action_kind::wait);
    delays.push_back(a.delay.count());
    now += 1;
  }
  // First wait (after submit) was 5 s; then 7.5, 11.25, 16.875, 25.3125, 30 (capped), ...
  EXPECT_EQ(delays, (std::vector<long long>{7500, 11250, 16875, 25312, 30000, 30000, 30000, 30000}));
}

TEST(JobFsm, TheFirstPollWaitsForTheTypicalRunTimeThenTheScheduleGoesOn) {
  auto fsm = job_fsm::for_submit(policy());
  auto a = fsm.on_submitted({"job_1", 5.0}, t0, 80s);
  ASSERT_EQ(a.kind, action_kind::wait);
  EXPECT_EQ(a.delay, 80s);
  EXPECT_EQ(fsm.on_timer(t0 + 80).kind, action_kind::poll);
  a = fsm.on_polled(remote("in-progress"), t0 + 80);
  ASSERT_EQ(a.kind, action_kind::wait);
  EXPECT_EQ(a.delay, 30s) << "by 80 s the schedule (5, 7.5, 11.25, ...) had grown to its 30 s maximum";
}

TEST(JobFsm, ATypicalRunTimeShorterThanPollIntervalChangesNothing) {
  for (auto typical : {1s, 5s}) {
    auto fsm = job_fsm::for_submit(policy());
    EXPECT_EQ(fsm.on_submitted({"job_1", 5.0}, t0, typical).delay, 5s);
    fsm.on_timer(t0 + 5);
    EXPECT_EQ(fsm.on_polled(remote("queued"), t0 + 5).delay, 7500ms);
  }
}

TEST(JobFsm, ATypicalRunTimeBeyondTheJobTimeoutPollsAtTheDeadline) {
  auto fsm = job_fsm::for_submit(policy());
  EXPECT_EQ(fsm.on_submitted({"job_1", 5.0}, t0, 2h).delay, 30min);
}

// Whatever the typical run time, a job is polled no more often than by the plain schedule,
// for any run time: the user's poll_interval/poll_interval_max stay an upper bound.
TEST(JobFsm, ATypicalRunTimeNeverCostsMorePollsThanThePlainSchedule) {
  auto polls_until_done = [](std::optional<duration> typical, double run_seconds) {
    auto fsm = job_fsm::for_submit(policy());
    auto a = fsm.on_submitted({"job_1", 5.0}, t0, typical);
    double now = t0;
    int polls = 0;
    while (a.kind == action_kind::wait) {
      now += std::chrono::duration<double>(a.delay).count();
      EXPECT_EQ(fsm.on_timer(now).kind, action_kind::poll);
      ++polls;
      a = fsm.on_polled(remote(now - t0 >= run_seconds ? "success" : "in-progress", {"a1"}), now);
    }
    EXPECT_EQ(a.kind, action_kind::resolve_assets);
    return polls;
  };
  for (double run = 1; run <= 400; run += 7.3) {
    const int plain = polls_until_done(std::nullopt, run);
    for (int typical = 1; typical <= 400; typical += 11) {
      const int adaptive = polls_until_done(std::chrono::seconds(typical), run);
      EXPECT_LE(adaptive, plain) << "run " << run << " s, typical " << typical << " s";
    }
  }
  EXPECT_EQ(polls_until_done(90s, 90), 1) << "a job that runs the typical time is polled once";
  EXPECT_EQ(polls_until_done(std::nullopt, 90), 6) << "at 5, 12.5, 23.75, 40.6, 65.9 and 95.9 s";
}

TEST(JobFsm, EveryNonTerminalRemoteStatusKeepsWaiting) {
  for (auto s : {"pending", "warming-up", "queued", "in-progress", "finalizing", "some-new-status"}) {
    auto fsm = submitted();
    EXPECT_EQ(fsm.on_polled(remote(s), t0 + 1).kind, action_kind::wait) << s;
  }
}

TEST(JobFsm, RemoteFailureFailsWithErrorAndHint) {
  for (auto s : {"failure", "failed"}) {
    auto fsm = submitted();
    auto j = remote(s);
    j.error = "content flagged";
    j.hint = "rephrase the prompt";
    auto a = fsm.on_polled(j, t0 + 1);
    EXPECT_EQ(a.kind, action_kind::fail);
    EXPECT_EQ(a.message, "remote job job_1 failed: content flagged (rephrase the prompt)");
  }
}

TEST(JobFsm, RemoteFailureWithoutDetailsStillSaysWhichJob) {
  auto fsm = submitted();
  EXPECT_EQ(fsm.on_polled(remote("failure"), t0 + 1).message, "remote job job_1 failed");
}

TEST(JobFsm, RemoteCancelFails) {
  auto fsm = submitted();
  auto a = fsm.on_polled(remote("canceled"), t0 + 1);
  EXPECT_EQ(a.kind, action_kind::fail);
  EXPECT_EQ(a.message, "remote job job_1 was canceled by the API");
}

// soundtrackctl retry decides between resuming the remote job and a new submit by reading
// last_error (db::remote_job_may_have_audio): the messages written here are the ones it must
// recognise, so a change of wording fails this test rather than turning resumes into new
// (billed) submits.
TEST(JobFsm, RetryRecognisesTheRemoteEndingsThatHaveNoAudio) {
  for (auto s : {"failure", "canceled"}) {
    auto fsm = submitted();
    auto j = remote(s);
    j.error = "content flagged";
    EXPECT_FALSE(db::remote_job_may_have_audio("job_1", fsm.on_polled(j, t0 + 1).message)) << s;
  }
  auto timed_out = submitted();
  auto a = timed_out.on_poll_failed(err(error_kind::transient, 503, "HTTP 503"), t0 + 31 * 60, 0.5);
  ASSERT_EQ(a.kind, action_kind::fail);
  EXPECT_TRUE(db::remote_job_may_have_audio("job_1", a.message)) << a.message;
}

TEST(JobFsm, SuccessWithoutAssetsIsRetriedAsAPollFailure) {
  auto fsm = submitted();
  auto a = fsm.on_polled(remote("success"), t0 + 1);
  EXPECT_EQ(a.kind, action_kind::retry);
  EXPECT_EQ(a.failed_step, step::poll);
  EXPECT_NE(a.message.find("lists no assets"), std::string::npos);
}

TEST(JobFsm, PermanentSubmitErrorFailsAtOnceWithTheApiMessage) {
  auto fsm = job_fsm::for_submit(policy());
  auto a = fsm.on_submit_failed(err(error_kind::permanent, 400, "HTTP 400 from POST /generate: bad prompt"), 0.5);
  EXPECT_EQ(a.kind, action_kind::fail);
  EXPECT_EQ(a.message, "the API rejected the request: HTTP 400 from POST /generate: bad prompt");
}

TEST(JobFsm, TransientSubmitErrorsRetryWithBackoffThenGiveUp) {
  auto fsm = job_fsm::for_submit(policy());
  auto e = err(error_kind::transient, 503, "HTTP 503 from POST /generate");
  auto a = fsm.on_submit_failed(e, 1.0);
  EXPECT_EQ(a.kind, action_kind::retry);
  EXPECT_EQ(a.failed_step, step::submit);
  EXPECT_EQ(a.delay, 10s);
  EXPECT_EQ(a.message, "HTTP 503 from POST /generate (attempt 1/3, retrying in 10s)");
  a = fsm.on_submit_failed(e, 1.0);
  EXPECT_EQ(a.delay, 20s);
  EXPECT_EQ(a.message, "HTTP 503 from POST /generate (attempt 2/3, retrying in 20s)");
  a = fsm.on_submit_failed(e, 1.0);
  EXPECT_EQ(a.kind, action_kind::fail);
  EXPECT_EQ(a.message, "gave up submitting after 3 consecutive failures: HTTP 503 from POST /generate");
}

TEST(JobFsm, SubmitBudgetCarriesOverFromEarlierTries) {
  auto fsm = job_fsm::for_submit(policy(), 2);
  auto a = fsm.on_submit_failed(err(error_kind::transient, 0, "connection reset"), 0.5);
  EXPECT_EQ(a.kind, action_kind::fail);
}

TEST(JobFsm, RateLimitCostsNoBudgetAndHonoursRetryAfter) {
  auto fsm = job_fsm::for_submit(policy());
  auto e = err(error_kind::rate_limited, 429, "HTTP 429 from POST /generate");
  e.retry_after = 7s;
  for (int i = 0; i < 10; ++i) {
    auto a = fsm.on_submit_failed(e, 0.5);
    EXPECT_EQ(a.kind, action_kind::retry);
    EXPECT_EQ(a.delay, 7s);
    EXPECT_EQ(a.message, "HTTP 429 from POST /generate (rate limited, retrying in 7s)");
  }
  EXPECT_EQ(fsm.submit_failures(), 0);
}

TEST(JobFsm, RateLimitWithoutRetryAfterWaitsAtLeastASecond) {
  auto fsm = job_fsm::for_submit(policy());
  auto a = fsm.on_submit_failed(err(error_kind::rate_limited, 429, "HTTP 429"), 0.0);
  EXPECT_EQ(a.kind, action_kind::retry);
  EXPECT_EQ(a.delay, 1s);
}

TEST(JobFsm, GlobalErrorOnSubmitPausesTheQueue) {
  auto fsm = job_fsm::for_submit(policy());
  auto a = fsm.on_submit_failed(err(error_kind::global, 401, "HTTP 401 from POST /generate: Unauthorized"), 0.5);
  EXPECT_EQ(a.kind, action_kind::pause);
  EXPECT_EQ(a.message, "HTTP 401 from POST /generate: Unauthorized");
  EXPECT_EQ(fsm.submit_failures(), 0);
}

TEST(JobFsm, GlobalErrorWhilePollingKeepsTrackingAtNoCost) {
  auto fsm = submitted();
  for (int i = 0; i < 10; ++i) {
    auto a = fsm.on_poll_failed(err(error_kind::global, 401, "HTTP 401"), t0 + 1, 0.5);
    EXPECT_EQ(a.kind, action_kind::retry);
    EXPECT_EQ(a.delay, 10s);
  }
  EXPECT_EQ(fsm.on_timer(t0 + 2).kind, action_kind::poll);
}

TEST(JobFsm, PollFailuresRetryThePollNeverTheSubmit) {
  auto fsm = submitted();
  auto e = err(error_kind::transient, 503, "HTTP 503 from GET /jobs/job_1");
  auto a = fsm.on_poll_failed(e, t0 + 5, 1.0);
  EXPECT_EQ(a.kind, action_kind::retry);
  EXPECT_EQ(a.failed_step, step::poll);
  EXPECT_EQ(fsm.on_timer(t0 + 15).kind, action_kind::poll);
  fsm.on_poll_failed(e, t0 + 15, 1.0);
  a = fsm.on_poll_failed(e, t0 + 35, 1.0);
  EXPECT_EQ(a.kind, action_kind::fail);
  EXPECT_EQ(a.message, "gave up polling after 3 consecutive failures: HTTP 503 from GET /jobs/job_1");
}

TEST(JobFsm, ASuccessfulPollResetsThePollBudget) {
  auto fsm = submitted();
  auto e = err(error_kind::transient, 0, "timed out");
  fsm.on_poll_failed(e, t0 + 1, 0.5);
  fsm.on_poll_failed(e, t0 + 2, 0.5);
  fsm.on_polled(remote("in-progress"), t0 + 3);
  fsm.on_poll_failed(e, t0 + 4, 0.5);
  EXPECT_EQ(fsm.on_poll_failed(e, t0 + 5, 0.5).kind, action_kind::retry);
}

TEST(JobFsm, PermanentPollErrorFails) {
  auto fsm = submitted();
  auto a =
      fsm.on_poll_failed(err(error_kind::permanent, 404, "HTTP 404 from GET /jobs/job_1: Job not found"), t0 + 1, 0.5);
  EXPECT_EQ(a.kind, action_kind::fail);
  EXPECT_EQ(a.message, "remote job job_1 cannot be read: HTTP 404 from GET /jobs/job_1: Job not found");
}

TEST(JobFsm, JobTimeoutFailsWithAClearMessage) {
  auto fsm = submitted();
  const double deadline = t0 + 30 * 60;
  auto a = fsm.on_polled(remote("in-progress"), deadline - 2);
  EXPECT_EQ(a.kind, action_kind::wait);
  EXPECT_LE(a.delay, 2s);                                     // never sleeps past the deadline
  EXPECT_EQ(fsm.on_timer(deadline).kind, action_kind::poll);  // one last look
  a = fsm.on_polled(remote("in-progress"), deadline);
  EXPECT_EQ(a.kind, action_kind::fail);
  EXPECT_EQ(a.message,
            "remote job job_1 did not finish within 30m (job_timeout); stopped tracking it, it may still finish "
            "and be billed");
}

TEST(JobFsm, JobThatSucceedsAtTheDeadlineIsStillDownloaded) {
  auto fsm = submitted();
  const double deadline = t0 + 30 * 60;
  EXPECT_EQ(fsm.on_timer(deadline + 1).kind, action_kind::poll);
  EXPECT_EQ(fsm.on_polled(remote("success", {"a1"}), deadline + 1).kind, action_kind::resolve_assets);
}

TEST(JobFsm, PollErrorsPastTheDeadlineTimeOut) {
  auto fsm = submitted();
  auto a = fsm.on_poll_failed(err(error_kind::transient, 503, "HTTP 503"), t0 + 30 * 60 + 1, 0.5);
  EXPECT_EQ(a.kind, action_kind::fail);
  EXPECT_NE(a.message.find("job_timeout"), std::string::npos);
}

TEST(JobFsm, ResumeAfterRestartPollsAtOnceAndNeverSubmits) {
  auto fsm = job_fsm::for_resume(policy(), "job_9", t0);
  EXPECT_EQ(fsm.start().kind, action_kind::poll);
  EXPECT_EQ(fsm.remote_job_id(), "job_9");
  EXPECT_EQ(fsm.on_polled(remote("in-progress"), t0 + 60).kind, action_kind::wait);
  EXPECT_EQ(fsm.on_timer(t0 + 65).kind, action_kind::poll);
}

TEST(JobFsm, ResumeKeepsTheOriginalDeadline) {
  auto fsm = job_fsm::for_resume(policy(), "job_9", t0);
  EXPECT_EQ(fsm.on_polled(remote("in-progress"), t0 + 31 * 60).kind, action_kind::fail);
}

TEST(JobFsm, AssetErrorsRetryTheAssetStep) {
  auto fsm = submitted();
  fsm.on_polled(remote("success", {"a1"}), t0 + 1);
  auto a = fsm.on_asset_failed(err(error_kind::transient, 502, "HTTP 502 from GET /assets/a1"), 0.5);
  EXPECT_EQ(a.kind, action_kind::retry);
  EXPECT_EQ(a.failed_step, step::asset);
  EXPECT_EQ(fsm.on_timer(t0 + 2).kind, action_kind::resolve_assets);
  fsm.on_asset_failed(err(error_kind::transient, 502, "x"), 0.5);
  a = fsm.on_asset_failed(err(error_kind::transient, 502, "HTTP 502 from GET /assets/a1"), 0.5);
  EXPECT_EQ(a.kind, action_kind::fail);
  EXPECT_EQ(a.message, "gave up fetching the asset after 3 consecutive failures: HTTP 502 from GET /assets/a1");
}

TEST(JobFsm, PermanentAssetErrorFails) {
  auto fsm = submitted();
  fsm.on_polled(remote("success", {"a1"}), t0 + 1);
  auto a = fsm.on_asset_failed(err(error_kind::permanent, 404, "HTTP 404 from GET /assets/a1"), 0.5);
  EXPECT_EQ(a.kind, action_kind::fail);
  EXPECT_EQ(a.message, "asset of remote job job_1 cannot be read: HTTP 404 from GET /assets/a1");
}

TEST(JobFsm, ExpiredUrlFetchesAFreshOneAndKeepsItsPlace) {
  auto fsm = submitted();
  fsm.on_polled(remote("success", {"a1", "a2"}), t0 + 1);
  fsm.on_assets_resolved({asset("a1"), asset("a2")});
  EXPECT_EQ(fsm.on_downloaded().kind, action_kind::download);
  auto a = fsm.on_download_failed(err(error_kind::url_expired, 403, "HTTP 403 from GET https://cdn/a2"), 0.5);
  EXPECT_EQ(a.kind, action_kind::resolve_assets);
  EXPECT_EQ(fsm.on_assets_resolved({asset("a1"), asset("a2")}).kind, action_kind::download);
  EXPECT_EQ(fsm.current_asset().id, "a2");
  EXPECT_EQ(fsm.on_downloaded().kind, action_kind::store);
}

TEST(JobFsm, ExpiredUrlsForeverEventuallyFail) {
  auto fsm = submitted();
  fsm.on_polled(remote("success", {"a1"}), t0 + 1);
  fsm.on_assets_resolved({asset("a1")});
  auto e = err(error_kind::url_expired, 410, "HTTP 410 from GET https://cdn/a1");
  EXPECT_EQ(fsm.on_download_failed(e, 0.5).kind, action_kind::resolve_assets);
  fsm.on_assets_resolved({asset("a1")});
  EXPECT_EQ(fsm.on_download_failed(e, 0.5).kind, action_kind::resolve_assets);
  fsm.on_assets_resolved({asset("a1")});
  auto a = fsm.on_download_failed(e, 0.5);
  EXPECT_EQ(a.kind, action_kind::fail);
  EXPECT_EQ(a.message, "gave up downloading after 3 consecutive failures: HTTP 410 from GET https://cdn/a1");
}

TEST(JobFsm, TruncatedDownloadRetriesTheDownload) {
  auto fsm = submitted();
  fsm.on_polled(remote("success", {"a1"}), t0 + 1);
  fsm.on_assets_resolved({asset("a1")});
  auto a = fsm.on_download_failed(err(error_kind::transient, 200, "truncated download: got 5 of 10 bytes"), 0.5);
  EXPECT_EQ(a.kind, action_kind::retry);
  EXPECT_EQ(a.failed_step, step::download);
  EXPECT_EQ(fsm.on_timer(t0 + 30).kind, action_kind::download);
  EXPECT_EQ(fsm.on_downloaded().kind, action_kind::store);
}

TEST(JobFsm, StoreFailuresRetryTheStoreThenFail) {
  auto fsm = submitted();
  fsm.on_polled(remote("success", {"a1"}), t0 + 1);
  fsm.on_assets_resolved({asset("a1")});
  fsm.on_downloaded();
  auto a = fsm.on_store_failed("disk I/O error", 0.5);
  EXPECT_EQ(a.kind, action_kind::retry);
  EXPECT_EQ(a.failed_step, step::store);
  EXPECT_EQ(fsm.on_timer(t0 + 40).kind, action_kind::store);
  fsm.on_store_failed("disk I/O error", 0.5);
  a = fsm.on_store_failed("disk I/O error", 0.5);
  EXPECT_EQ(a.kind, action_kind::fail);
  EXPECT_EQ(a.message, "gave up storing after 3 consecutive failures: disk I/O error");
}

TEST(JobFsm, RetryAfterLongerThanBackoffWins) {
  auto fsm = submitted();
  auto e = err(error_kind::transient, 503, "HTTP 503");
  e.retry_after = 90s;
  EXPECT_EQ(fsm.on_poll_failed(e, t0 + 1, 0.1).delay, 90s);
}

TEST(JobFsm, StepNamesForMessages) {
  EXPECT_EQ(to_string(step::submit), "submit");
  EXPECT_EQ(to_string(step::poll), "poll");
  EXPECT_EQ(to_string(step::asset), "asset");
  EXPECT_EQ(to_string(step::download), "download");
  EXPECT_EQ(to_string(step::store), "store");
}
