// Tests of sqlite_job_store on a real queue database: every method, the conditional writes
// that must refuse a row someone else changed, asset storage and the scan's query plan.
#include "soundtrackd/db/sqlite_job_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "soundtrackd/db/database.hpp"
#include "soundtrackd/db/queue_database.hpp"
#include "test_support.hpp"

namespace soundtrackd::db {
namespace {

using namespace std::chrono_literals;

constexpr epoch_seconds t0 = 1'700'000'000.0;

class JobStoreTest : public ::testing::Test {
 protected:
  std::int64_t add(std::int64_t priority = 0) {
    job_request r;
    r.prompt = "calm piano";
    r.priority = priority;
    return store_.insert(r);
  }

  // A row walked to `status` through the store itself.
  std::int64_t add_in(job_status status) {
    auto id = add();
    if (status == job_status::queued) return id;
    EXPECT_TRUE(store_.claim_for_submit(id, t0));
    if (status == job_status::submitting) return id;
    EXPECT_TRUE(store_.mark_running(id, "job_remote_" + std::to_string(id), 12.5, t0 + 1));
    if (status == job_status::running) return id;
    EXPECT_TRUE(store_.mark_downloading(id, t0 + 2));
    if (status == job_status::downloading) return id;
    ADD_FAILURE() << "add_in supports queued..downloading";
    return id;
  }

  job_row row(std::int64_t id) {
    auto found = store_.find(id);
    EXPECT_TRUE(found) << "row " << id;
    return found.value_or(job_row{});
  }

  std::vector<std::string> event_kinds(std::int64_t id) {
    std::vector<std::string> kinds;
    for (const auto& e : store_.events_of(id)) kinds.push_back(e.kind);
    return kinds;
  }

  // What another program (sqlite3, the CLI) does to a row.
  void outside(const std::string& sql) {
    database other((dir_ / "queue.db").string());
    other.exec(sql);
  }

  std::int64_t count(const std::string& sql) {
    return db_.prepare(sql).first_row([](statement& r) { return r.column_int64(0); }).value_or(-1);
  }

  std::vector<std::string> query_plan(std::string_view sql, const std::vector<std::string>& binds) {
    auto st = db_.prepare("EXPLAIN QUERY PLAN " + std::string(sql));
    for (std::size_t i = 0; i < binds.size(); ++i) st.bind(static_cast<int>(i + 1), binds[i]);
    std::vector<std::string> details;
    st.for_each_row([&](statement& r) { details.push_back(r.column_text(3)); });
    return details;
  }

  staged_asset stage(const std::string& remote_id, const std::string& content) {
    auto path = dir_ / ("staged-" + remote_id);
    test::write_file(path, content);
    return staged_asset{.remote_asset_id = remote_id,
                        .mime_type = "audio/mpeg",
                        .path = path.string(),
                        .size_bytes = content.size(),
                        .sha256 = test::sha256_hex(content),
                        .bytes = {}};
  }

  // A small track the daemon kept in memory: no staging file.
  staged_asset in_memory(const std::string& remote_id, const std::string& content) {
    return staged_asset{.remote_asset_id = remote_id,
                        .mime_type = "audio/mpeg",
                        .path = {},
                        .size_bytes = content.size(),
                        .sha256 = test::sha256_hex(content),
                        .bytes = content};
  }

  std::string blob_of(std::int64_t asset_id) {
    std::ostringstream out;
    read_blob_to_stream(db_, "assets", "data", asset_id, out);
    return out.str();
  }

  test::temp_dir dir_;
  database db_ = open_queue_database(dir_ / "queue.db");
  sqlite_job_store store_{db_};
};

// --- insert / find -------------------------------------------------------------------------

TEST_F(JobStoreTest, InsertAndFindRoundTrip) {
  job_request r;
  r.prompt = "epic orchestral";
  r.lyrics = "[Verse]\nla la";
  r.is_instrumental = true;
  r.sample_rate = 48000;
  r.bitrate = 128000;
  r.priority = 3;
  r.batch = "night";
  r.name = "Opening";
  r.run_after = t0 + 60;
  r.max_attempts = 2;
  auto id = store_.insert(r);
  auto job = row(id);
  EXPECT_EQ(job.id, id);
  EXPECT_EQ(job.request.prompt, r.prompt);
  EXPECT_EQ(job.request.lyrics, r.lyrics);
  EXPECT_TRUE(job.request.is_instrumental);
  EXPECT_FALSE(job.request.lyrics_optimizer);
  EXPECT_EQ(job.request.sample_rate, 48000);
  EXPECT_EQ(job.request.bitrate, 128000);
  EXPECT_EQ(job.request.priority, 3);
  EXPECT_EQ(job.request.batch, "night");
  EXPECT_EQ(job.request.name, "Opening");
  EXPECT_EQ(job.request.run_after, t0 + 60);
  EXPECT_EQ(job.request.max_attempts, 2);
  EXPECT_EQ(job.status, job_status::queued);
  EXPECT_EQ(job.attempts, 0);
  EXPECT_NEAR(job.created_at, now_epoch(), 2.0);
  EXPECT_FALSE(store_.find(id + 1));
}

TEST_F(JobStoreTest, InsertReportsABadRequestByConstraintName) {
  job_request r;
  r.prompt = std::string(2001, 'x');
  try {
    store_.insert(r);
    FAIL() << "expected a db_error";
  } catch (const db_error& e) {
    EXPECT_NE(std::string(e.what()).find("prompt_must_be_1_to_2000_characters"), std::string::npos) << e.what();
  }
}

// --- due_ids -------------------------------------------------------------------------------

TEST_F(JobStoreTest, DueIdsArePriorityFirstThenOldestFirst) {
  auto a = add(0), b = add(5), c = add(0), d = add(5), e = add(-1);
  EXPECT_EQ(store_.due_ids(10, t0, {}), (std::vector<std::int64_t>{b, d, a, c, e}));
  EXPECT_EQ(store_.due_ids(3, t0, {}), (std::vector<std::int64_t>{b, d, a}));
  EXPECT_EQ(store_.due_ids(10, t0, {d, a}), (std::vector<std::int64_t>{b, c, e}));
  EXPECT_EQ(store_.due_ids(2, t0, {b}), (std::vector<std::int64_t>{d, a}));
  EXPECT_TRUE(store_.due_ids(0, t0, {}).empty());
}

TEST_F(JobStoreTest, DueIdsHonourRunAfterNextAttemptAndStatus) {
  auto plain = add();
  auto later = add();
  auto earlier = add();
  auto backing_off = add();
  auto backed_off = add();
  auto running = add_in(job_status::running);
  outside("UPDATE jobs SET run_after = " + std::to_string(t0 + 10) + " WHERE id = " + std::to_string(later));
  outside("UPDATE jobs SET run_after = " + std::to_string(t0 - 10) + " WHERE id = " + std::to_string(earlier));
  outside("UPDATE jobs SET next_attempt_at = " + std::to_string(t0 + 5) + " WHERE id = " + std::to_string(backing_off));
  outside("UPDATE jobs SET next_attempt_at = " + std::to_string(t0) + " WHERE id = " + std::to_string(backed_off));
  (void)running;
  EXPECT_EQ(store_.due_ids(10, t0, {}), (std::vector<std::int64_t>{plain, earlier, backed_off}));
  EXPECT_EQ(store_.due_ids(10, t0 + 10, {}),
            (std::vector<std::int64_t>{plain, later, earlier, backing_off, backed_off}));
}

TEST_F(JobStoreTest, DueIdsSeekTheIndexAndNeverScanTheTable) {
  // Enough rows in other states that a table scan would be the planner's alternative, and
  // statistics so it decides with real numbers.
  db_.exec(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
      "INSERT INTO jobs (prompt, status, priority) SELECT 'p' || i, "
      "CASE WHEN i % 50 = 0 THEN 'queued' ELSE 'succeeded' END, i % 7 FROM n");
  for (bool analyzed : {false, true}) {
    SCOPED_TRACE(analyzed ? "after ANALYZE" : "without statistics");
    if (analyzed) db_.exec("ANALYZE");
    auto plan = query_plan(sqlite_job_store::due_ids_sql(), {"1700000000", "[1,2]", "16"});
    std::string all;
    for (const auto& line : plan) all += line + "\n";
    EXPECT_NE(all.find("SEARCH jobs USING INDEX jobs_by_status_priority (status=?)"), std::string::npos) << all;
    EXPECT_EQ(all.find("SCAN jobs"), std::string::npos) << all;
    EXPECT_EQ(all.find("TEMP B-TREE"), std::string::npos) << "no sort: the index gives the order\n" << all;
  }
  // Queued rows are i = 50k with priority k % 7; the first with priority 6 are k = 6 and 13.
  EXPECT_EQ(store_.due_ids(2, t0, {}), (std::vector<std::int64_t>{300, 650}));
}

TEST_F(JobStoreTest, NextDueTimeSeeksTheIndexes) {
  auto plan = query_plan(sqlite_job_store::next_due_time_sql(), {"1700000000"});
  std::string all;
  for (const auto& line : plan) all += line + "\n";
  EXPECT_NE(all.find("jobs_by_run_after"), std::string::npos) << all;
  EXPECT_NE(all.find("jobs_by_next_attempt_at"), std::string::npos) << all;
  EXPECT_EQ(all.find("SCAN jobs"), std::string::npos) << all;
}

// --- claim ---------------------------------------------------------------------------------

TEST_F(JobStoreTest, ClaimMovesAQueuedRowToSubmittingOnce) {
  auto id = add();
  outside("UPDATE jobs SET next_attempt_at = 1, remote_job_id = 'job_old', progress = 0.5 WHERE id = " +
          std::to_string(id));
  auto claimed = store_.claim_for_submit(id, t0);
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, id);
  EXPECT_EQ(claimed->status, job_status::submitting);
  EXPECT_EQ(claimed->attempts, 1);
  EXPECT_EQ(claimed->next_attempt_at, std::nullopt);
  EXPECT_EQ(claimed->remote_job_id, std::nullopt) << "a claimed row is about to get a new remote job";
  EXPECT_EQ(claimed->progress, std::nullopt);
  EXPECT_EQ(claimed->updated_at, t0);
  EXPECT_EQ(claimed->request.prompt, "calm piano");
  EXPECT_EQ(row(id).status, job_status::submitting);

  EXPECT_FALSE(store_.claim_for_submit(id, t0 + 1)) << "no longer queued";
  EXPECT_EQ(row(id).attempts, 1);
  EXPECT_FALSE(store_.claim_for_submit(9999, t0));
  EXPECT_TRUE(event_kinds(id).empty()) << "the submit is logged when it succeeds";
}

// --- progress ------------------------------------------------------------------------------

TEST_F(JobStoreTest, MarkRunningRecordsTheRemoteJob) {
  auto id = add();
  EXPECT_FALSE(store_.mark_running(id, "job_a", 10.0, t0)) << "needs submitting";
  ASSERT_TRUE(store_.claim_for_submit(id, t0));
  EXPECT_TRUE(store_.mark_running(id, "job_a", 10.0, t0 + 1.25));
  auto job = row(id);
  EXPECT_EQ(job.status, job_status::running);
  EXPECT_EQ(job.remote_job_id, "job_a");
  EXPECT_EQ(job.cost_cu, 10.0);
  EXPECT_EQ(job.submitted_at, t0 + 1.25);
  EXPECT_EQ(job.updated_at, t0 + 1.25);
  auto events = store_.events_of(id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "submitted");
  EXPECT_EQ(events[0].detail, "job_a");
  EXPECT_EQ(events[0].at, t0 + 1.25);
  EXPECT_FALSE(store_.mark_running(id, "job_b", 1.0, t0 + 2)) << "already running";

  // A second submission keeps the first submitted_at and a known cost when none is reported.
  ASSERT_TRUE(store_.record_retry(id, "remote job failed", t0 + 3, true, t0 + 2));
  ASSERT_TRUE(store_.claim_for_submit(id, t0 + 3));
  EXPECT_TRUE(store_.mark_running(id, "job_b", std::nullopt, t0 + 4));
  job = row(id);
  EXPECT_EQ(job.submitted_at, t0 + 1.25);
  EXPECT_EQ(job.cost_cu, 10.0);
  EXPECT_EQ(job.remote_job_id, "job_b");
  EXPECT_EQ(job.attempts, 2);
}

TEST_F(JobStoreTest, RecordProgressOnlyWhileRunning) {
  auto id = add_in(job_status::submitting);
  store_.record_progress({{id, 0.5}}, t0);
  EXPECT_EQ(row(id).progress, std::nullopt);
  ASSERT_TRUE(store_.mark_running(id, "job_a", std::nullopt, t0));
  store_.record_progress({{id, 0.25}}, t0 + 5);
  EXPECT_EQ(row(id).progress, 0.25);
  EXPECT_EQ(row(id).updated_at, t0 + 5);
  store_.record_progress({{id, 1.0000001}}, t0 + 6);
  EXPECT_EQ(row(id).progress, 1.0) << "clamped into the CHECKed range";
  auto other = add_in(job_status::running);
  auto queued = add_in(job_status::queued);
  store_.record_progress({{other, 0.5}, {queued, 0.5}, {id, 0.75}}, t0 + 7);
  EXPECT_EQ(row(other).progress, 0.5) << "one batch: the rows still running are written";
  EXPECT_EQ(row(id).progress, 0.75);
  EXPECT_EQ(row(queued).progress, std::nullopt) << "the others left as they are";
  EXPECT_TRUE(event_kinds(id) == std::vector<std::string>{"submitted"}) << "progress adds no events";
}

TEST_F(JobStoreTest, MarkDownloadingOnlyFromRunning) {
  auto id = add_in(job_status::submitting);
  EXPECT_FALSE(store_.mark_downloading(id, t0));
  ASSERT_TRUE(store_.mark_running(id, "job_a", std::nullopt, t0));
  EXPECT_TRUE(store_.mark_downloading(id, t0 + 9));
  EXPECT_EQ(row(id).status, job_status::downloading);
  EXPECT_EQ(row(id).updated_at, t0 + 9);
  EXPECT_FALSE(store_.mark_downloading(id, t0 + 10));
}

TEST_F(JobStoreTest, RecordRetryKeepsOrRequeues) {
  auto running = add_in(job_status::running);
  EXPECT_TRUE(store_.record_retry(running, "HTTP 503 from GET /jobs/job_remote_1", t0 + 30, false, t0 + 10));
  auto job = row(running);
  EXPECT_EQ(job.status, job_status::running);
  EXPECT_EQ(job.last_error, "HTTP 503 from GET /jobs/job_remote_1");
  EXPECT_EQ(job.next_attempt_at, t0 + 30);

  auto submitting = add_in(job_status::submitting);
  EXPECT_TRUE(store_.record_retry(submitting, "connection reset", t0 + 20, true, t0 + 10));
  job = row(submitting);
  EXPECT_EQ(job.status, job_status::queued);
  EXPECT_EQ(job.next_attempt_at, t0 + 20);
  auto events = store_.events_of(submitting);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "retry");
  EXPECT_EQ(events[0].detail, "connection reset");

  EXPECT_FALSE(store_.record_retry(submitting, "again", t0 + 40, true, t0 + 11)) << "queued now";
  auto downloading = add_in(job_status::downloading);
  EXPECT_TRUE(store_.record_retry(downloading, "HTTP 403 from the CDN", t0 + 40, false, t0 + 11));
  EXPECT_EQ(row(downloading).status, job_status::downloading);
}

TEST_F(JobStoreTest, RequeueForAPauseIsNotAFailure) {
  auto id = add_in(job_status::submitting);
  EXPECT_TRUE(store_.requeue(id, "queue paused: HTTP 401 (check the API key)", t0 + 1));
  auto job = row(id);
  EXPECT_EQ(job.status, job_status::queued);
  EXPECT_EQ(job.last_error, std::nullopt);
  auto events = store_.events_of(id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "paused");
  EXPECT_EQ(events[0].detail, "queue paused: HTTP 401 (check the API key)");
  EXPECT_FALSE(store_.requeue(id, "again", t0 + 2)) << "already queued";
  EXPECT_TRUE(store_.requeue(add_in(job_status::running), "paused", t0));
  EXPECT_TRUE(store_.requeue(add_in(job_status::downloading), "paused", t0));
}

TEST_F(JobStoreTest, RequeueAmbiguousOnlyWithoutARemoteJob) {
  auto ambiguous = add_in(job_status::submitting);
  EXPECT_TRUE(store_.requeue_ambiguous(ambiguous, "submit may have reached the API: a duplicate may be billed", t0));
  EXPECT_EQ(row(ambiguous).status, job_status::queued);
  auto events = store_.events_of(ambiguous);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "requeued");
  EXPECT_EQ(events[0].detail, "submit may have reached the API: a duplicate may be billed");

  auto with_remote = add_in(job_status::submitting);
  outside("UPDATE jobs SET remote_job_id = 'job_x' WHERE id = " + std::to_string(with_remote));
  EXPECT_FALSE(store_.requeue_ambiguous(with_remote, "x", t0));
  EXPECT_FALSE(store_.requeue_ambiguous(add_in(job_status::running), "x", t0));
  EXPECT_EQ(row(with_remote).status, job_status::submitting);
}

// --- endings -------------------------------------------------------------------------------

TEST_F(JobStoreTest, MarkFailedFromEveryActiveStatus) {
  for (auto status : {job_status::queued, job_status::submitting, job_status::running, job_status::downloading}) {
    SCOPED_TRACE(std::string(to_string(status)));
    auto id = add_in(status);
    EXPECT_TRUE(store_.mark_failed(id, "prompt is 2113 characters; the limit is 2000", t0 + 50));
    auto job = row(id);
    EXPECT_EQ(job.status, job_status::failed);
    EXPECT_EQ(job.last_error, "prompt is 2113 characters; the limit is 2000");
    EXPECT_EQ(job.finished_at, t0 + 50);
    EXPECT_EQ(store_.events_of(id).back().kind, "failed");
    EXPECT_FALSE(store_.mark_failed(id, "twice", t0 + 51));
    EXPECT_EQ(row(id).last_error, "prompt is 2113 characters; the limit is 2000");
  }
}

TEST_F(JobStoreTest, StoreAssetsCopiesTheAudioAndSucceeds) {
  auto id = add_in(job_status::downloading);
  std::string audio(3 * 1024 * 1024, '\0');
  std::mt19937 random(42);
  for (auto& c : audio) c = static_cast<char>(random());
  auto staged = stage("asset_1", audio);

  EXPECT_TRUE(store_.store_assets(id, {staged}, t0 + 100));
  auto job = row(id);
  EXPECT_EQ(job.status, job_status::succeeded);
  EXPECT_EQ(job.progress, 1.0);
  // The copy's own time is added: finished_at says when the audio was in.
  ASSERT_TRUE(job.finished_at);
  EXPECT_GE(*job.finished_at, t0 + 100);
  EXPECT_LT(*job.finished_at, t0 + 110);
  EXPECT_EQ(job.last_error, std::nullopt);

  auto assets = store_.assets_of(id);
  ASSERT_EQ(assets.size(), 1u);
  EXPECT_EQ(assets[0].remote_asset_id, "asset_1");
  EXPECT_EQ(assets[0].mime_type, "audio/mpeg");
  EXPECT_EQ(assets[0].size_bytes, audio.size());
  EXPECT_EQ(assets[0].sha256, staged.sha256);
  EXPECT_EQ(assets[0].created_at, t0 + 100);
  EXPECT_TRUE(blob_of(assets[0].id) == audio) << "the bytes read back differ";

  auto events = store_.events_of(id);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[events.size() - 2].kind, "downloaded");
  EXPECT_EQ(events.back().kind, "succeeded");
  EXPECT_EQ(events.back().detail, "1 asset, 3145728 bytes");
}

TEST_F(JobStoreTest, StoreAssetsFromMemoryAndFromAFileInOneJob) {
  auto id = add_in(job_status::downloading);
  const std::string small("small \0 track", 14), large(300'000, 'L');
  ASSERT_TRUE(store_.store_assets(id, {in_memory("a1", small), stage("a2", large)}, t0));
  auto assets = store_.assets_of(id);
  ASSERT_EQ(assets.size(), 2u);
  EXPECT_EQ(blob_of(assets[0].id), small);
  EXPECT_EQ(assets[0].size_bytes, small.size());
  EXPECT_TRUE(blob_of(assets[1].id) == large);
  EXPECT_EQ(row(id).status, job_status::succeeded);
}

TEST_F(JobStoreTest, AnInMemoryTrackOfTheWrongSizeIsRefusedBeforeAnythingIsWritten) {
  auto id = add_in(job_status::downloading);
  auto staged = in_memory("a1", "twelve bytes");
  staged.size_bytes = 13;
  try {
    store_.store_assets(id, {staged}, t0);
    FAIL() << "a wrong size was stored";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "the downloaded track is 12 bytes but asset a1 of job " + std::to_string(id) + " was verified at 13");
  }
  EXPECT_TRUE(store_.assets_of(id).empty());
  EXPECT_EQ(row(id).status, job_status::downloading);
}

TEST_F(JobStoreTest, StoreAssetsAgainReplacesInsteadOfDuplicating) {
  auto id = add_in(job_status::downloading);
  ASSERT_TRUE(store_.store_assets(id, {stage("a1", "first take"), stage("a2", "second")}, t0));
  auto before = store_.assets_of(id);
  ASSERT_EQ(before.size(), 2u);

  // As if the first store's outcome were lost and the daemon stored the same download again.
  outside("UPDATE jobs SET status = 'downloading' WHERE id = " + std::to_string(id));
  ASSERT_TRUE(store_.store_assets(id, {stage("a1", "first take, again")}, t0 + 1));
  auto after = store_.assets_of(id);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].id, before[0].id) << "the asset keeps its id";
  EXPECT_EQ(after[0].size_bytes, std::string("first take, again").size());
  EXPECT_EQ(blob_of(after[0].id), "first take, again");
  EXPECT_EQ(blob_of(after[1].id), "second");
  EXPECT_EQ(count("SELECT count(*) FROM assets"), 2);
}

TEST_F(JobStoreTest, StoreAssetsRefusesARowNotDownloading) {
  auto running = add_in(job_status::running);
  EXPECT_FALSE(store_.store_assets(running, {stage("a", "audio")}, t0));
  EXPECT_EQ(row(running).status, job_status::running);
  auto cancelled = add_in(job_status::downloading);
  outside("UPDATE jobs SET status = 'cancelled' WHERE id = " + std::to_string(cancelled));
  EXPECT_FALSE(store_.store_assets(cancelled, {stage("b", "audio")}, t0));
  EXPECT_FALSE(store_.store_assets(12345, {stage("c", "audio")}, t0));
  EXPECT_EQ(count("SELECT count(*) FROM assets"), 0);
  EXPECT_FALSE(db_.in_transaction());
}

TEST_F(JobStoreTest, StoreAssetsRollsBackWhenAFileIsWrong) {
  auto id = add_in(job_status::downloading);
  auto good = stage("good", "good audio");
  auto bad = stage("bad", "short");
  bad.size_bytes = 100;  // the staging file does not match what was verified
  EXPECT_THROW(store_.store_assets(id, {good, bad}, t0), std::runtime_error);
  EXPECT_FALSE(db_.in_transaction());
  EXPECT_EQ(row(id).status, job_status::downloading);
  EXPECT_EQ(count("SELECT count(*) FROM assets"), 0) << "all or nothing";
  EXPECT_TRUE(store_.store_assets(id, {good}, t0)) << "and the next attempt works";
}

// A person cancels with sqlite3 between two of the daemon's steps: every later write is
// refused, and note_taken_away records what happened without overriding the person.
TEST_F(JobStoreTest, RowCancelledByABareUpdateBetweenSteps) {
  auto id = add_in(job_status::running);
  outside("UPDATE jobs SET status = 'cancelled' WHERE id = " + std::to_string(id));

  store_.record_progress({{id, 0.5}}, t0 + 10);
  EXPECT_EQ(row(id).status, job_status::cancelled) << "progress does not touch a cancelled row";
  EXPECT_FALSE(store_.mark_downloading(id, t0 + 10));
  EXPECT_FALSE(store_.record_retry(id, "x", t0 + 20, false, t0 + 10));
  EXPECT_FALSE(store_.requeue(id, "x", t0 + 10));
  EXPECT_FALSE(store_.mark_failed(id, "x", t0 + 10));
  EXPECT_EQ(row(id).status, job_status::cancelled);
  EXPECT_EQ(row(id).progress, std::nullopt);

  auto status =
      store_.note_taken_away(id, "cancelled outside soundtrackd while running remote job job_remote_1", t0 + 11);
  EXPECT_EQ(status, job_status::cancelled);
  auto job = row(id);
  EXPECT_EQ(job.last_error, "cancelled outside soundtrackd while running remote job job_remote_1");
  EXPECT_EQ(job.finished_at, t0 + 11);
  EXPECT_EQ(store_.events_of(id).back().kind, "cancelled");

  EXPECT_EQ(store_.note_taken_away(id, "second note", t0 + 12), job_status::cancelled);
  EXPECT_EQ(row(id).last_error, "cancelled outside soundtrackd while running remote job job_remote_1")
      << "an existing last_error is kept";
  EXPECT_EQ(row(id).finished_at, t0 + 11);
}

TEST_F(JobStoreTest, NoteTakenAwayKeepsThePersonsReasonAndOtherStatuses) {
  auto cancelled = add_in(job_status::running);
  outside("UPDATE jobs SET status = 'cancelled', last_error = 'wrong prompt (alice)' WHERE id = " +
          std::to_string(cancelled));
  EXPECT_EQ(store_.note_taken_away(cancelled, "cancelled outside soundtrackd", t0), job_status::cancelled);
  EXPECT_EQ(row(cancelled).last_error, "wrong prompt (alice)");

  auto requeued = add_in(job_status::running);
  outside("UPDATE jobs SET status = 'queued' WHERE id = " + std::to_string(requeued));
  EXPECT_EQ(store_.note_taken_away(requeued, "x", t0), job_status::queued);
  EXPECT_EQ(row(requeued).last_error, std::nullopt);
  EXPECT_TRUE(event_kinds(requeued) == std::vector<std::string>{"submitted"});

  auto deleted = add_in(job_status::running);
  outside("DELETE FROM jobs WHERE id = " + std::to_string(deleted));
  EXPECT_EQ(store_.note_taken_away(deleted, "x", t0), std::nullopt);
  EXPECT_FALSE(store_.mark_failed(deleted, "x", t0));
}

// --- observation ---------------------------------------------------------------------------

TEST_F(JobStoreTest, AppendEventAddsToTheTimelineAndIgnoresGoneRows) {
  auto id = add_in(job_status::running);
  store_.append_event(id, "poll_error", "HTTP 502 from GET /jobs/job_remote_1", t0 + 7.5);
  auto events = store_.events_of(id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, "poll_error");
  EXPECT_EQ(events[1].detail, "HTTP 502 from GET /jobs/job_remote_1");
  EXPECT_EQ(events[1].at, t0 + 7.5);
  EXPECT_NO_THROW(store_.append_event(9999, "poll_error", "gone", t0));
  EXPECT_EQ(count("SELECT count(*) FROM job_events WHERE job_id = 9999"), 0);
}

TEST_F(JobStoreTest, DataVersionChangesWhenAnotherConnectionCommits) {
  auto before = store_.data_version();
  EXPECT_EQ(store_.data_version(), before);
  outside("INSERT INTO jobs (prompt) VALUES ('from sqlite3')");
  EXPECT_NE(store_.data_version(), before);
}

TEST_F(JobStoreTest, CountsEveryStatusIncludingZero) {
  auto empty = store_.counts();
  EXPECT_EQ(empty.by_status.size(), 7u);
  EXPECT_EQ(empty.total(), 0);
  add();
  add();
  add_in(job_status::running);
  store_.mark_failed(add(), "bad", t0);
  auto counts = store_.counts();
  EXPECT_EQ(counts.by_status.size(), 7u);
  EXPECT_EQ(counts.by_status[job_status::queued], 2);
  EXPECT_EQ(counts.by_status[job_status::running], 1);
  EXPECT_EQ(counts.by_status[job_status::failed], 1);
  EXPECT_EQ(counts.by_status[job_status::succeeded], 0);
  EXPECT_EQ(counts.total(), 4);
}

TEST_F(JobStoreTest, NextDueTimeIsTheEarliestFutureTime) {
  EXPECT_EQ(store_.next_due_time(t0), std::nullopt);
  auto a = add(), b = add(), c = add();
  (void)c;
  outside("UPDATE jobs SET run_after = " + std::to_string(t0 + 100) + " WHERE id = " + std::to_string(a));
  outside("UPDATE jobs SET next_attempt_at = " + std::to_string(t0 + 40) + " WHERE id = " + std::to_string(b));
  EXPECT_EQ(store_.next_due_time(t0), t0 + 40);
  EXPECT_EQ(store_.next_due_time(t0 + 40), t0 + 100) << "times not after now are due already";
  EXPECT_EQ(store_.next_due_time(t0 + 100), std::nullopt);
  outside("UPDATE jobs SET status = 'failed', last_error = 'x' WHERE id = " + std::to_string(b));
  EXPECT_EQ(store_.next_due_time(t0), t0 + 100) << "only queued rows count";
}

TEST_F(JobStoreTest, HasPendingWork) {
  EXPECT_FALSE(store_.has_pending_work(t0));
  auto later = add();
  outside("UPDATE jobs SET run_after = " + std::to_string(t0 + 3600) + " WHERE id = " + std::to_string(later));
  EXPECT_FALSE(store_.has_pending_work(t0)) << "a future run_after does not count";
  EXPECT_TRUE(store_.has_pending_work(t0 + 3600));

  auto failed = add();
  store_.mark_failed(failed, "x", t0);
  EXPECT_FALSE(store_.has_pending_work(t0));

  auto retrying = add_in(job_status::submitting);
  store_.record_retry(retrying, "HTTP 503", t0 + 60, true, t0);
  EXPECT_TRUE(store_.has_pending_work(t0)) << "a row waiting for its retry is still being worked on";
  store_.mark_failed(retrying, "gave up", t0);
  EXPECT_FALSE(store_.has_pending_work(t0));

  for (auto status : {job_status::submitting, job_status::running, job_status::downloading}) {
    auto id = add_in(status);
    EXPECT_TRUE(store_.has_pending_work(t0)) << to_string(status);
    store_.mark_failed(id, "x", t0);
  }
  add();
  EXPECT_TRUE(store_.has_pending_work(t0));
}

TEST_F(JobStoreTest, UnfinishedListsTheRowsInFlight) {
  add();
  auto submitting = add_in(job_status::submitting);
  auto running = add_in(job_status::running);
  auto downloading = add_in(job_status::downloading);
  store_.mark_failed(add_in(job_status::running), "x", t0);
  std::vector<std::int64_t> ids;
  for (const auto& job : store_.unfinished()) ids.push_back(job.id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{submitting, running, downloading}));
  auto rows = store_.unfinished();
  EXPECT_EQ(rows[1].remote_job_id, "job_remote_" + std::to_string(running));
}

// The daemon retries a write that meets another program's lock on a timer; the store must
// fail fast (with the connection's short busy_timeout) and leave nothing half-written.
TEST_F(JobStoreTest, BusyDatabaseFailsCleanlyAndCanBeRetried) {
  auto id = add_in(job_status::running);
  db_.busy_timeout(0ms);
  database other((dir_ / "queue.db").string());
  {
    transaction held(other);
    try {
      store_.mark_failed(id, "x", t0);
      FAIL() << "expected SQLITE_BUSY";
    } catch (const db_error& e) {
      EXPECT_TRUE(e.is_busy()) << e.what();
    }
    EXPECT_FALSE(db_.in_transaction());
    EXPECT_EQ(row(id).status, job_status::running) << "reads still work";
  }
  EXPECT_TRUE(store_.mark_failed(id, "x", t0));
}

namespace soundtrackd::db {
namespace {

TEST(JobStoreSpend, SumsTheCostOfRowsSubmittedInTheWindowUsingItsIndex) {
  test::temp_dir dir;
  auto db = open_queue_database(dir / "q.db");
  sqlite_job_store store(db);
  db.exec(
      "INSERT INTO jobs(prompt, submitted_at, cost_cu) VALUES ('old', 1000, 7), ('new', 5000, 5), "
      "('newer', 6000, 2.5), ('unpriced', 6000, NULL), ('never submitted', NULL, NULL)");
  EXPECT_DOUBLE_EQ(store.spent_cu_since(4000), 7.5);
  EXPECT_DOUBLE_EQ(store.spent_cu_since(0), 14.5);
  EXPECT_DOUBLE_EQ(store.spent_cu_since(7000), 0.0);
  std::string plan;
  db.prepare("EXPLAIN QUERY PLAN SELECT coalesce(sum(cost_cu), 0) FROM jobs WHERE submitted_at >= 1")
      .for_each_row([&](statement& r) { plan += r.column_text(3) + "\n"; });
  EXPECT_NE(plan.find("jobs_by_submitted_at"), std::string::npos) << plan;
}

}  // namespace
}  // namespace soundtrackd::db

// Group commit: several rows' writes in one transaction, each still all-or-nothing.
TEST_F(JobStoreTest, OneTransactionHoldsManyRowWritesAndAFailingOneFailsAlone) {
  auto first = add_in(job_status::queued);
  auto second = add_in(job_status::submitting);
  auto third = add_in(job_status::submitting);
  std::optional<job_row> claimed;
  bool running = false, retried = false, threw = false;
  store_.in_one_transaction([&](job_store& s) {
    claimed = s.claim_for_submit(first, t0 + 1);
    running = s.mark_running(second, "job_second", std::nullopt, t0 + 1);
    try {
      // A cost the CHECK refuses: this write throws, and only it is undone.
      s.mark_running(third, "job_third", -5.0, t0 + 1);
    } catch (const db_error&) {
      threw = true;
    }
    retried = s.mark_running(third, "job_third_priced", 1.0, t0 + 2);
  });
  EXPECT_FALSE(db_.in_transaction());
  ASSERT_TRUE(claimed);
  EXPECT_EQ(row(first).status, job_status::submitting);
  EXPECT_TRUE(running);
  EXPECT_EQ(row(second).remote_job_id, "job_second");
  EXPECT_TRUE(event_kinds(second) == std::vector<std::string>{"submitted"});
  EXPECT_TRUE(threw);
  EXPECT_TRUE(retried) << "the failed write left the row as it was";
  EXPECT_EQ(row(third).remote_job_id, "job_third_priced");
  EXPECT_TRUE(event_kinds(third) == std::vector<std::string>{"submitted"}) << "the failed write's event is undone too";
}

// Jobs finishing together store their tracks in one transaction; a store that fails (a
// staging file that does not match) leaves nothing of itself and the others commit.
TEST_F(JobStoreTest, SmallTracksOfSeveralJobsStoreInOneTransaction) {
  auto first = add_in(job_status::downloading);
  auto second = add_in(job_status::downloading);
  auto third = add_in(job_status::downloading);
  auto bad = stage("bad", "short");
  bad.size_bytes = 100;
  const auto second_events = event_kinds(second);
  bool stored_first = false, stored_third = false, threw = false;
  store_.in_one_transaction([&](job_store& s) {
    stored_first = s.store_assets(first, {stage("a1", "first audio")}, t0 + 1);
    try {
      s.store_assets(second, {stage("a2", "second audio"), bad}, t0 + 1);
    } catch (const std::runtime_error&) {
      threw = true;
    }
    stored_third = s.store_assets(third, {stage("a3", "third audio")}, t0 + 1);
  });
  EXPECT_FALSE(db_.in_transaction());
  EXPECT_TRUE(stored_first);
  EXPECT_TRUE(stored_third);
  EXPECT_TRUE(threw);
  EXPECT_EQ(row(first).status, job_status::succeeded);
  EXPECT_EQ(row(third).status, job_status::succeeded);
  EXPECT_EQ(row(second).status, job_status::downloading);
  EXPECT_TRUE(store_.assets_of(second).empty()) << "the failed store's first asset is undone too";
  EXPECT_EQ(blob_of(store_.assets_of(first).at(0).id), "first audio");
  EXPECT_EQ(blob_of(store_.assets_of(third).at(0).id), "third audio");
  EXPECT_TRUE(event_kinds(second) == second_events) << "no event of the failed store remains";
}

// A large track is reserved with zeroblob and copied in 256 KiB pieces: SQLite never holds it
// in memory. (Before migration 0004 put assets.data last, reserving a 50 MB track built 100 MB
// of zeros and record in SQLite's heap: the daemon's RSS grew by that much per track.)
TEST_F(JobStoreTest, LargeTracksAreCopiedWithoutHoldingThemInMemory) {
  auto id = add_in(job_status::downloading);
  std::string audio(24 * 1024 * 1024, '\0');
  std::mt19937 random(7);
  for (auto& c : audio) c = static_cast<char>(random());
  auto staged = stage("big", audio);

  sqlite3_memory_highwater(1);  // from here on
  EXPECT_TRUE(store_.store_assets(id, {staged}, t0));
  const auto sqlite_peak = sqlite3_memory_highwater(0);
  EXPECT_GT(sqlite_peak, 0) << "SQLite counts its memory (SQLITE_DEFAULT_MEMSTATUS)";
  EXPECT_LT(sqlite_peak, 8 * 1024 * 1024)
      << "SQLite's heap peaked at " << sqlite_peak << " bytes for a " << audio.size() << "-byte track";

  EXPECT_EQ(row(id).status, job_status::succeeded);
  EXPECT_TRUE(blob_of(store_.assets_of(id).at(0).id) == audio) << "the bytes read back differ";
  EXPECT_EQ(event_kinds(id).back(), "succeeded");
}

}  // namespace
}  // namespace soundtrackd::db
