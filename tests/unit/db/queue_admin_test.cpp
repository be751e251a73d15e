// Tests of queue_admin on a real queue database: enqueue and its messages, counts, listing,
// cancel and retry rules, and streaming assets out for export.
#include "soundtrackd/db/queue_admin.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "soundtrackd/db/database.hpp"
#include "soundtrackd/db/queue_database.hpp"
#include "test_support.hpp"

namespace soundtrackd::db {
namespace {

constexpr epoch_seconds t0 = 1'700'000'000.0;

// A row as the daemon would have left it.
// Every member has an initializer, so designated initializers may name only some of them.
struct row_spec {
  std::string status = "queued";
  std::optional<std::string> batch{};
  std::optional<std::string> remote_job_id{};
  std::optional<std::string> last_error{};
  std::optional<double> submitted_at{};
  std::optional<double> finished_at{};
  std::optional<std::string> name{};
};

class QueueAdminTest : public ::testing::Test {
 protected:
  std::int64_t add(const row_spec& spec) {
    db_.prepare(
           "INSERT INTO jobs (prompt, status, batch, remote_job_id, last_error, submitted_at, finished_at, name) "
           "VALUES ('calm piano', ?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .bind_all(spec.status, spec.batch, spec.remote_job_id, spec.last_error, spec.submitted_at, spec.finished_at,
                  spec.name)
        .execute();
    return db_.last_insert_rowid();
  }

  std::int64_t add_asset(std::int64_t job_id, const std::string& remote_id, const std::string& content,
                         const std::string& mime_type = "audio/mpeg") {
    const auto bytes = std::as_bytes(std::span(content));
    db_.prepare(
           "INSERT INTO assets (job_id, remote_asset_id, mime_type, size_bytes, sha256, data) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind_all(job_id, remote_id, mime_type, static_cast<std::int64_t>(content.size()), test::sha256_hex(content),
                  blob_view(bytes))
        .execute();
    return db_.last_insert_rowid();
  }

  job_row row(std::int64_t id) {
    auto details = admin_.get(id);
    EXPECT_TRUE(details) << "row " << id;
    return details ? details->job : job_row{};
  }

  std::vector<job_event> events(std::int64_t id) {
    auto details = admin_.get(id);
    return details ? details->events : std::vector<job_event>{};
  }

  test::temp_dir dir_;
  database db_ = open_queue_database(dir_ / "queue.db");
  queue_admin admin_{db_};
};

TEST(QueueAdminText, CountsCodePointsLikeSqlite) {
  EXPECT_EQ(code_points(""), 0u);
  EXPECT_EQ(code_points("abc"), 3u);
  EXPECT_EQ(code_points("é"), 1u);                 // 2 bytes
  EXPECT_EQ(code_points("\xF0\x9F\x8E\xB5"), 1u);  // U+1F3B5, 4 bytes
}

TEST(QueueAdminText, RemoteJobMayHaveAudioUnlessTheApiSaidItFailed) {
  EXPECT_TRUE(remote_job_may_have_audio("job_a", std::nullopt));
  EXPECT_TRUE(remote_job_may_have_audio("job_a", "remote job job_a did not finish within 30m (job_timeout)"));
  EXPECT_TRUE(remote_job_may_have_audio("job_a", "gave up downloading after 5 consecutive failures: HTTP 503"));
  EXPECT_TRUE(remote_job_may_have_audio("job_a", "cancelled by soundtrackctl at 2025-01-01T00:00:00Z"));
  EXPECT_FALSE(remote_job_may_have_audio("job_a", "remote job job_a failed: out of memory (try again)"));
  EXPECT_FALSE(remote_job_may_have_audio("job_a", "remote job job_a failed"));
  EXPECT_FALSE(remote_job_may_have_audio("job_a", "remote job job_a was canceled by the API"));
  // Only a failure of this row's own remote job counts.
  EXPECT_TRUE(remote_job_may_have_audio("job_a", "remote job job_b failed"));
}

TEST_F(QueueAdminTest, EnqueueStoresEveryField) {
  job_request r;
  r.prompt = "lo-fi beat";
  r.lyrics = "[Verse]\nla la";
  r.is_instrumental = true;
  r.lyrics_optimizer = true;
  r.sample_rate = 32000;
  r.bitrate = 128000;
  r.priority = 7;
  r.batch = "night";
  r.name = "Track 1";
  r.run_after = t0;
  r.max_attempts = 3;
  const auto id = admin_.enqueue(r);

  const auto job = row(id);
  EXPECT_EQ(job.status, job_status::queued);
  EXPECT_EQ(job.request.prompt, r.prompt);
  EXPECT_EQ(job.request.lyrics, r.lyrics);
  EXPECT_TRUE(job.request.is_instrumental);
  EXPECT_TRUE(job.request.lyrics_optimizer);
  EXPECT_EQ(job.request.sample_rate, 32000);
  EXPECT_EQ(job.request.bitrate, 128000);
  EXPECT_EQ(job.request.priority, 7);
  EXPECT_EQ(job.request.batch, "night");
  EXPECT_EQ(job.request.name, "Track 1");
  EXPECT_EQ(job.request.run_after, t0);
  EXPECT_EQ(job.request.max_attempts, 3);
  EXPECT_GT(job.created_at, 0);
}

TEST_F(QueueAdminTest, EnqueueCountsPromptAndLyricsInCodePoints) {
  job_request r;
  std::string prompt;
  for (std::size_t i = 0; i < max_prompt_characters; ++i) prompt += "é";
  r.prompt = prompt;
  EXPECT_NO_THROW(admin_.enqueue(r));

  r.prompt += "é";
  try {
    admin_.enqueue(r);
    FAIL() << "expected invalid_request";
  } catch (const invalid_request& e) {
    EXPECT_STREQ(e.what(), "prompt must be 1 to 2000 characters (got 2001)");
  }

  r.prompt = "";
  EXPECT_THROW(admin_.enqueue(r), invalid_request);

  r.prompt = "ok";
  r.lyrics = std::string(max_lyrics_characters + 1, 'a');
  try {
    admin_.enqueue(r);
    FAIL() << "expected invalid_request";
  } catch (const invalid_request& e) {
    EXPECT_STREQ(e.what(), "lyrics must be at most 3500 characters (got 3501)");
  }
}

TEST_F(QueueAdminTest, EnqueueRefusesWhatTheChecksRefuseInWords) {
  job_request r;
  r.prompt = "ok";
  r.sample_rate = 0;
  try {
    admin_.enqueue(r);
    FAIL() << "expected invalid_request";
  } catch (const invalid_request& e) {
    EXPECT_STREQ(e.what(), "sample_rate must be a positive integer (got 0)");
  }
  r.sample_rate = 44100;
  r.run_after = 1893553445000.0;  // milliseconds: a common slip
  try {
    admin_.enqueue(r);
    FAIL() << "expected invalid_request";
  } catch (const invalid_request& e) {
    EXPECT_STREQ(e.what(),
                 "run_after must be epoch seconds (0 to 253402300800) or UTC ISO-8601 text such as "
                 "2026-01-01T08:00:00Z (got 1893553445000)");
  }
  r.run_after.reset();
  r.max_attempts = -1;
  try {
    admin_.enqueue(r);
    FAIL() << "expected invalid_request";
  } catch (const invalid_request& e) {
    EXPECT_STREQ(e.what(), "max_attempts must be null or a positive integer (got -1)");
  }
}

TEST_F(QueueAdminTest, EnqueueLeavesOtherDatabaseErrorsAlone) {
  db_.exec("CREATE TRIGGER refuse BEFORE INSERT ON jobs BEGIN SELECT RAISE(ABORT, 'queue closed'); END");
  job_request r;
  r.prompt = "ok";
  EXPECT_THROW(
      {
        try {
          admin_.enqueue(r);
        } catch (const db_error& e) {
          EXPECT_NE(std::string(e.what()).find("queue closed"), std::string::npos) << e.what();
          throw;
        }
      },
      db_error);
}

TEST_F(QueueAdminTest, CountsEveryStatusWithRateInputs) {
  add({.status = "queued", .batch = "a"});
  add({.status = "running", .batch = "a", .remote_job_id = "job_1", .submitted_at = t0 - 300});
  add({.status = "succeeded", .batch = "a", .submitted_at = t0 - 400, .finished_at = t0 - 60});
  add({.status = "succeeded", .batch = "a", .submitted_at = t0 - 900, .finished_at = t0 - 700});
  add({.status = "failed", .batch = "b", .submitted_at = t0 - 5000, .finished_at = t0 - 10});

  const auto all = admin_.counts(std::nullopt, t0 - 600);
  EXPECT_EQ(all.counts.by_status.size(), 7u);
  EXPECT_EQ(all.counts.by_status.at(job_status::queued), 1);
  EXPECT_EQ(all.counts.by_status.at(job_status::succeeded), 2);
  EXPECT_EQ(all.counts.by_status.at(job_status::cancelled), 0);
  EXPECT_EQ(all.counts.total(), 5);
  EXPECT_EQ(all.succeeded_since, 1);  // the failed row finished recently but did not succeed
  EXPECT_EQ(all.first_submitted_at, t0 - 5000);

  const auto a = admin_.counts("a", t0 - 600);
  EXPECT_EQ(a.counts.total(), 4);
  EXPECT_EQ(a.counts.by_status.at(job_status::failed), 0);
  EXPECT_EQ(a.succeeded_since, 1);
  EXPECT_EQ(a.first_submitted_at, t0 - 900);

  const auto none = admin_.counts("nope", t0);
  EXPECT_EQ(none.counts.total(), 0);
  EXPECT_EQ(none.first_submitted_at, std::nullopt);
}

TEST_F(QueueAdminTest, ListsNewestFirstWithFiltersAndPaging) {
  const auto q1 = add({.status = "queued", .batch = "a"});
  const auto f1 = add({.status = "failed", .batch = "a", .last_error = "boom"});
  const auto q2 = add({.status = "queued", .batch = "b"});
  const auto s1 = add({.status = "succeeded", .batch = "a", .remote_job_id = "job_s", .name = "Song"});

  auto ids = [](const std::vector<job_summary>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& r : rows) out.push_back(r.id);
    return out;
  };
  EXPECT_EQ(ids(admin_.list({})), (std::vector<std::int64_t>{s1, q2, f1, q1}));
  EXPECT_EQ(ids(admin_.list({.statuses = {job_status::queued}})), (std::vector<std::int64_t>{q2, q1}));
  EXPECT_EQ(ids(admin_.list({.statuses = {job_status::queued, job_status::failed}, .batch = "a"})),
            (std::vector<std::int64_t>{f1, q1}));
  EXPECT_EQ(ids(admin_.list({.limit = 2, .offset = 1})), (std::vector<std::int64_t>{q2, f1}));

  const auto rows = admin_.list({.statuses = {job_status::succeeded, job_status::failed}});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].status, job_status::succeeded);
  EXPECT_EQ(rows[0].remote_job_id, "job_s");
  EXPECT_EQ(rows[0].name, "Song");
  EXPECT_EQ(rows[0].batch, "a");
  EXPECT_EQ(rows[0].prompt, "calm piano");
  EXPECT_EQ(rows[1].last_error, "boom");
}

TEST_F(QueueAdminTest, GetHasAssetsWithoutDataAndEvents) {
  const auto id = add({.status = "succeeded", .remote_job_id = "job_x"});
  add_asset(id, "asset_1", "abc");
  db_.exec("INSERT INTO job_events (job_id, at, kind, detail) VALUES (" + std::to_string(id) +
           ", 1700000000, 'submitted', 'job_x')");

  const auto details = admin_.get(id);
  ASSERT_TRUE(details);
  ASSERT_EQ(details->assets.size(), 1u);
  EXPECT_EQ(details->assets[0].remote_asset_id, "asset_1");
  EXPECT_EQ(details->assets[0].size_bytes, 3u);
  EXPECT_EQ(details->assets[0].sha256, test::sha256_hex("abc"));
  ASSERT_EQ(details->events.size(), 1u);
  EXPECT_EQ(details->events[0].kind, "submitted");
  EXPECT_EQ(details->events[0].at, t0);
  EXPECT_FALSE(admin_.get(id + 1));
}

TEST_F(QueueAdminTest, CancelsOnlyRowsStillInTheDaemonsHands) {
  const auto queued = add({.status = "queued"});
  const auto running = add({.status = "running", .remote_job_id = "job_r"});
  const auto succeeded = add({.status = "succeeded"});
  const std::string note = "cancelled by soundtrackctl at 2023-11-14T22:13:20Z";

  const auto outcomes = admin_.cancel({queued, running, succeeded, 999}, note, t0);
  ASSERT_EQ(outcomes.size(), 4u);
  EXPECT_TRUE(outcomes[0].cancelled);
  EXPECT_EQ(outcomes[0].previous_status, job_status::queued);
  EXPECT_TRUE(outcomes[1].cancelled);
  EXPECT_EQ(outcomes[1].remote_job_id, "job_r");
  EXPECT_FALSE(outcomes[2].cancelled);
  EXPECT_EQ(outcomes[2].previous_status, job_status::succeeded);
  EXPECT_FALSE(outcomes[3].cancelled);
  EXPECT_EQ(outcomes[3].previous_status, std::nullopt);

  const auto job = row(running);
  EXPECT_EQ(job.status, job_status::cancelled);
  EXPECT_EQ(job.last_error, note);
  EXPECT_EQ(job.finished_at, t0);
  EXPECT_EQ(job.remote_job_id, "job_r");  // kept: a retry may resume it
  const auto timeline = events(running);
  ASSERT_EQ(timeline.size(), 1u);
  EXPECT_EQ(timeline[0].kind, "cancelled");
  EXPECT_NE(timeline[0].detail.find("remote job job_r was not stopped"), std::string::npos);

  EXPECT_EQ(row(succeeded).status, job_status::succeeded);
  EXPECT_TRUE(events(succeeded).empty());
}

TEST_F(QueueAdminTest, CancelsTheActiveRowsOfABatch) {
  const auto a1 = add({.status = "queued", .batch = "a"});
  const auto a2 = add({.status = "downloading", .batch = "a", .remote_job_id = "job_2"});
  const auto a3 = add({.status = "succeeded", .batch = "a"});
  const auto b1 = add({.status = "queued", .batch = "b"});

  const auto outcomes = admin_.cancel_batch("a", "cancelled by test", t0);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].id, a1);
  EXPECT_EQ(outcomes[1].id, a2);
  EXPECT_EQ(outcomes[1].previous_status, job_status::downloading);
  EXPECT_EQ(row(a2).status, job_status::cancelled);
  EXPECT_EQ(row(a3).status, job_status::succeeded);
  EXPECT_EQ(row(b1).status, job_status::queued);
}

TEST_F(QueueAdminTest, RetryResumesARemoteJobThatMayHaveAudioAndResubmitsTheRest) {
  const auto timed_out = add({.status = "failed",
                              .remote_job_id = "job_t",
                              .last_error = "remote job job_t did not finish within 30m (job_timeout)",
                              .submitted_at = t0 - 3600,
                              .finished_at = t0 - 1800});
  const auto remote_failed = add({.status = "failed",
                                  .remote_job_id = "job_f",
                                  .last_error = "remote job job_f failed: bad prompt (rephrase it)",
                                  .finished_at = t0 - 1800});
  const auto never_submitted = add({.status = "failed", .last_error = "the API rejected the request: 422"});
  const auto cancelled = add({.status = "cancelled", .remote_job_id = "job_c", .last_error = "cancelled by x"});
  const auto running = add({.status = "running", .remote_job_id = "job_r"});

  const auto outcomes =
      admin_.retry({timed_out, remote_failed, never_submitted, cancelled, running, 999}, "retried by test", t0);
  ASSERT_EQ(outcomes.size(), 6u);
  EXPECT_EQ(outcomes[0].action, retry_action::resume_remote_job);
  EXPECT_EQ(outcomes[0].remote_job_id, "job_t");
  EXPECT_EQ(outcomes[1].action, retry_action::resubmit);
  EXPECT_EQ(outcomes[2].action, retry_action::resubmit);
  EXPECT_EQ(outcomes[3].action, retry_action::resume_remote_job);
  EXPECT_EQ(outcomes[4].action, std::nullopt);
  EXPECT_EQ(outcomes[4].previous_status, job_status::running);
  EXPECT_EQ(outcomes[5].action, std::nullopt);
  EXPECT_EQ(outcomes[5].previous_status, std::nullopt);

  const auto resumed = row(timed_out);
  EXPECT_EQ(resumed.status, job_status::running);
  EXPECT_EQ(resumed.remote_job_id, "job_t");
  EXPECT_EQ(resumed.submitted_at, t0 - 3600);
  EXPECT_EQ(resumed.last_error, std::nullopt);
  EXPECT_EQ(resumed.finished_at, std::nullopt);

  const auto resubmitted = row(remote_failed);
  EXPECT_EQ(resubmitted.status, job_status::queued);
  EXPECT_EQ(resubmitted.remote_job_id, std::nullopt);
  EXPECT_EQ(resubmitted.next_attempt_at, std::nullopt);
  EXPECT_EQ(resubmitted.last_error, std::nullopt);
  EXPECT_EQ(resubmitted.finished_at, std::nullopt);

  // The error is cleared from the row but kept in the timeline.
  const auto timeline = events(remote_failed);
  ASSERT_EQ(timeline.size(), 1u);
  EXPECT_EQ(timeline[0].kind, "retried");
  EXPECT_EQ(timeline[0].detail,
            "retried by test: queued for a new submit (was: remote job job_f failed: bad prompt (rephrase it))");
  EXPECT_EQ(row(running).status, job_status::running);
}

TEST_F(QueueAdminTest, RetryFailedTakesEveryFailedRowOrOneBatch) {
  const auto a = add({.status = "failed", .batch = "a", .last_error = "x"});
  const auto b = add({.status = "failed", .batch = "b", .last_error = "x"});
  add({.status = "cancelled", .batch = "a"});

  auto batch_a = admin_.retry_failed("a", "retried by test", t0);
  ASSERT_EQ(batch_a.size(), 1u);
  EXPECT_EQ(batch_a[0].id, a);
  EXPECT_EQ(row(b).status, job_status::failed);

  auto all = admin_.retry_failed(std::nullopt, "retried by test", t0);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, b);
  EXPECT_TRUE(admin_.retry_failed(std::nullopt, "retried by test", t0).empty());
}

TEST_F(QueueAdminTest, VisitsAssetsOfSucceededRowsAcrossPages) {
  // More assets than one page holds, two per job, so the -<n> index must survive paging.
  std::vector<std::int64_t> jobs;
  transaction tx(db_);  // one fsync instead of 240
  for (int i = 0; i < 80; ++i) {
    const auto id = add({.status = "succeeded", .batch = i % 2 ? "odd" : "even", .name = "n" + std::to_string(i)});
    add_asset(id, "first", "a" + std::to_string(i));
    add_asset(id, "second", "b" + std::to_string(i), "audio/wav");
    jobs.push_back(id);
  }
  add_asset(add({.status = "running"}), "not-done", "zzz");
  tx.commit();

  std::vector<exportable_asset> seen;
  admin_.for_each_exportable_asset(std::nullopt, [&](const exportable_asset& a) { seen.push_back(a); });
  ASSERT_EQ(seen.size(), 160u);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].asset.job_id, jobs[i / 2]);
    EXPECT_EQ(seen[i].index, i % 2);
    EXPECT_EQ(seen[i].job_name, "n" + std::to_string(i / 2));
  }
  EXPECT_EQ(seen[1].asset.mime_type, "audio/wav");

  std::size_t odd = 0;
  admin_.for_each_exportable_asset("odd", [&](const exportable_asset&) { ++odd; });
  EXPECT_EQ(odd, 80u);
}

TEST_F(QueueAdminTest, CopiesAssetDataInChunks) {
  // Larger than one chunk of incremental BLOB I/O, and not a multiple of it.
  std::string content(blob_chunk_size * 2 + 123, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 31 % 251);
  const auto asset_id = add_asset(add({.status = "succeeded"}), "big", content);

  std::ostringstream out;
  EXPECT_EQ(admin_.copy_asset_data(asset_id, out), content.size());
  EXPECT_EQ(out.str(), content);
  EXPECT_FALSE(db_.in_transaction());
}

TEST_F(QueueAdminTest, ImportInsertsEveryLineWithConsecutiveIdsAndTheBatchOverride) {
  add({.status = "queued"});
  std::istringstream in("{\"prompt\": \"a\", \"batch\": \"x\"}\n{\"prompt\": \"b\"}\n");
  const auto summary = admin_.import_requests(in, import_format::json_lines, std::string("night"));
  EXPECT_EQ(summary.count, 2);
  EXPECT_EQ(summary.first_id, 2);
  EXPECT_EQ(summary.last_id, 3);
  EXPECT_EQ(row(2).request.prompt, "a");
  EXPECT_EQ(row(2).request.batch, "night");
  EXPECT_EQ(row(3).request.batch, "night");
  EXPECT_FALSE(db_.in_transaction());

  std::istringstream empty("");
  const auto nothing = admin_.import_requests(empty, import_format::csv, std::nullopt);
  EXPECT_EQ(nothing.count, 0);
  EXPECT_FALSE(nothing.first_id);
}

TEST_F(QueueAdminTest, ABadImportLineRollsEverythingBack) {
  std::istringstream in("prompt,sample_rate\na,1\nb,2\nc,-5\n");
  try {
    admin_.import_requests(in, import_format::csv, std::nullopt);
    FAIL() << "expected invalid_import_line";
  } catch (const invalid_import_line& e) {
    EXPECT_EQ(e.line(), 4u);
    EXPECT_EQ(e.field(), "sample_rate");
  }
  EXPECT_FALSE(db_.in_transaction());
  EXPECT_EQ(admin_.counts(std::nullopt, t0).counts.total(), 0);

  // A database error on a line (here a trigger) names the line too, and also rolls back.
  db_.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON jobs WHEN NEW.prompt = 'no' BEGIN SELECT RAISE(ABORT, 'closed'); END");
  std::istringstream refused("{\"prompt\": \"yes\"}\n{\"prompt\": \"no\"}\n");
  try {
    admin_.import_requests(refused, import_format::json_lines, std::nullopt);
    FAIL() << "expected db_error";
  } catch (const db_error& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("line 2: closed")) << e.what();
  }
  EXPECT_EQ(admin_.counts(std::nullopt, t0).counts.total(), 0);
}

TEST_F(QueueAdminTest, QueuedIdsAreOldestFirstAndPerBatch) {
  const auto a = add({.status = "queued", .batch = "night"});
  add({.status = "running", .batch = "night", .remote_job_id = "job_1"});
  const auto c = add({.status = "queued"});
  const auto d = add({.status = "queued", .batch = "night"});
  EXPECT_EQ(admin_.queued_ids(std::nullopt), (std::vector<std::int64_t>{a, c, d}));
  EXPECT_EQ(admin_.queued_ids(std::string("night")), (std::vector<std::int64_t>{a, d}));
}

TEST_F(QueueAdminTest, PruneTakesOnlyFinishedRowsOlderThanTheCutoff) {
  const auto old_done = add({.status = "succeeded", .finished_at = t0 - 100});
  const auto old_failed = add({.status = "failed", .last_error = "x", .finished_at = t0 - 100});
  const auto new_done = add({.status = "succeeded", .finished_at = t0 + 100});
  const auto old_running = add({.status = "running", .remote_job_id = "job_1", .submitted_at = t0 - 100});
  const auto other_batch = add({.status = "cancelled", .batch = "day", .finished_at = t0 - 100});
  add_asset(old_done, "asset_1", "sound");
  db_.prepare("INSERT INTO job_events (job_id, kind) VALUES (?1, 'succeeded')").bind_all(old_done).execute();

  auto kept_audio = admin_.prune(t0, /*keep_audio=*/true, std::nullopt);
  EXPECT_EQ(kept_audio.jobs_deleted, 2);  // old_failed, other_batch
  EXPECT_EQ(kept_audio.assets_deleted, 0);
  EXPECT_EQ(kept_audio.events_deleted, 1);  // old_done's timeline
  EXPECT_TRUE(admin_.get(old_done));
  EXPECT_FALSE(admin_.get(old_failed));
  EXPECT_FALSE(admin_.get(other_batch));

  auto other = admin_.prune(t0, false, std::string("day"));
  EXPECT_EQ(other.jobs_deleted, 0);
  auto all = admin_.prune(t0, false, std::nullopt);
  EXPECT_EQ(all.jobs_deleted, 1);
  EXPECT_EQ(all.assets_deleted, 1);
  EXPECT_FALSE(admin_.get(old_done));
  EXPECT_TRUE(admin_.get(new_done));
  EXPECT_TRUE(admin_.get(old_running));
}

TEST_F(QueueAdminTest, BackupWritesAVerifiedCopyAndKeepsAnExistingFile) {
  add({.status = "queued", .name = "kept"});
  const auto copy = (dir_ / "copy.db").string();
  EXPECT_GT(admin_.backup_to(copy, false), 0u);
  {
    database backup(copy, open_mode::read_only);
    EXPECT_EQ(backup.prepare("SELECT name FROM jobs").first_row([](statement& row) { return row.column_text(0); }),
              "kept");
  }
  try {
    admin_.backup_to(copy, false);
    FAIL() << "expected a refusal";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), copy + " already exists; pass --force to replace it");
  }
  EXPECT_GT(admin_.backup_to(copy, true), 0u);
  EXPECT_FALSE(std::filesystem::exists(copy + ".partial"));
}

}  // namespace
}  // namespace soundtrackd::db
