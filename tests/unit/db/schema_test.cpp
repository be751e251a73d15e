// Tests of the schema (migrations/0001_init.sql, 0003_label_lengths.sql): defaults, every CHECK a
// user can trip (with its name in the error), foreign keys and indexes.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

#include "soundtrackd/db/database.hpp"
#include "soundtrackd/db/queue_database.hpp"
#include "soundtrackd/util/time.hpp"
#include "test_support.hpp"

namespace soundtrackd::db {
namespace {

class SchemaTest : public ::testing::Test {
 protected:
  // The error an INSERT gets, "" when it succeeds.
  std::string error_of(const std::string& sql) {
    try {
      db_.exec(sql);
      return "";
    } catch (const db_error& e) {
      return e.what();
    }
  }

  std::string error_of_prompt(const std::string& prompt) {
    try {
      db_.prepare("INSERT INTO jobs (prompt) VALUES (?1)").bind_all(prompt).execute();
      return "";
    } catch (const db_error& e) {
      return e.what();
    }
  }

  std::int64_t count(const std::string& sql) {
    return db_.prepare(sql).first_row([](statement& r) { return r.column_int64(0); }).value_or(-1);
  }

  test::temp_dir dir_;
  database db_ = open_queue_database(dir_ / "queue.db");
};

// The error a person sees names the CHECK that fired, with the statement it came from.
::testing::AssertionResult names_check(const std::string& error, const std::string& constraint) {
  if (error.find("CHECK constraint failed: " + constraint + " (SQLITE_CONSTRAINT_CHECK) in: INSERT") !=
      std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected CHECK " << constraint << ", got: \"" << error << "\"";
}

TEST_F(SchemaTest, MinimalInsertGetsEveryDefault) {
  db_.exec("INSERT INTO jobs (prompt) VALUES ('x')");
  auto row = db_.prepare(
      "SELECT lyrics, is_instrumental, lyrics_optimizer, sample_rate, bitrate, priority, status, attempts, "
      "typeof(created_at), created_at, batch, name, run_after, max_attempts, remote_job_id, last_error, progress "
      "FROM jobs");
  ASSERT_TRUE(row.step());
  EXPECT_EQ(row.column_text(0), "");
  EXPECT_EQ(row.column_int64(1), 0);
  EXPECT_EQ(row.column_int64(2), 0);
  EXPECT_EQ(row.column_int64(3), 44100);
  EXPECT_EQ(row.column_int64(4), 256000);
  EXPECT_EQ(row.column_int64(5), 0);
  EXPECT_EQ(row.column_text(6), "queued");
  EXPECT_EQ(row.column_int64(7), 0);
  EXPECT_EQ(row.column_text(8), "real");
  EXPECT_NEAR(row.column_double(9), now_epoch(), 1.0);
  for (int column = 10; column <= 16; ++column) EXPECT_TRUE(row.is_null(column)) << "column " << column;
}

TEST_F(SchemaTest, PromptLengthIsCheckedInCharacters) {
  EXPECT_TRUE(names_check(error_of("INSERT INTO jobs (prompt) VALUES ('')"), "prompt_must_be_1_to_2000_characters"));
  EXPECT_TRUE(names_check(error_of_prompt(std::string(2001, 'x')), "prompt_must_be_1_to_2000_characters"));
  EXPECT_EQ(error_of_prompt(std::string(2000, 'x')), "");
  // 2000 code points, 4000 bytes: SQLite's length() counts characters, as the API does.
  std::string accented;
  for (int i = 0; i < 2000; ++i) accented += "é";
  EXPECT_EQ(error_of_prompt(accented), "");
  EXPECT_TRUE(names_check(error_of("INSERT INTO jobs (prompt) VALUES (x'41')"), "prompt_must_be_1_to_2000_characters"));
  EXPECT_NE(error_of("INSERT INTO jobs (lyrics) VALUES ('la')").find("NOT NULL constraint failed: jobs.prompt"),
            std::string::npos);
}

TEST_F(SchemaTest, EveryBadValueIsRejectedByName) {
  struct bad_row {
    const char* columns_and_values;
    const char* constraint;
  };
  const bad_row rows[] = {
      {"(prompt, lyrics) VALUES ('x', printf('%.3501c', 'a'))", "lyrics_must_be_at_most_3500_characters"},
      {"(prompt, is_instrumental) VALUES ('x', 2)", "is_instrumental_must_be_0_or_1"},
      {"(prompt, is_instrumental) VALUES ('x', 'true')", "is_instrumental_must_be_0_or_1"},
      {"(prompt, lyrics_optimizer) VALUES ('x', -1)", "lyrics_optimizer_must_be_0_or_1"},
      {"(prompt, sample_rate) VALUES ('x', 0)", "sample_rate_must_be_a_positive_integer"},
      {"(prompt, sample_rate) VALUES ('x', 'abc')", "sample_rate_must_be_a_positive_integer"},
      {"(prompt, sample_rate) VALUES ('x', 44100.5)", "sample_rate_must_be_a_positive_integer"},
      {"(prompt, bitrate) VALUES ('x', -5)", "bitrate_must_be_a_positive_integer"},
      {"(prompt, priority) VALUES ('x', 'high')", "priority_must_be_an_integer"},
      {"(prompt, max_attempts) VALUES ('x', 0)", "max_attempts_must_be_null_or_a_positive_integer"},
      {"(prompt, status) VALUES ('x', 'bogus')",
       "status_must_be_queued_submitting_running_downloading_succeeded_failed_or_cancelled"},
      {"(prompt, progress) VALUES ('x', 1.5)", "progress_must_be_null_or_between_0_and_1"},
      {"(prompt, attempts) VALUES ('x', -1)", "attempts_must_be_a_non_negative_integer"},
      {"(prompt, cost_cu) VALUES ('x', -1)", "cost_cu_must_be_null_or_a_non_negative_number"},
      {"(prompt, run_after) VALUES ('x', datetime('now', '+2 hours'))",
       "run_after_must_be_epoch_seconds_use_unixepoch"},
      {"(prompt, run_after) VALUES ('x', unixepoch() * 1000)", "run_after_must_be_epoch_seconds_use_unixepoch"},
      {"(prompt, created_at) VALUES ('x', datetime('now'))", "created_at_must_be_epoch_seconds_use_unixepoch"},
      {"(prompt, updated_at) VALUES ('x', 'yesterday')", "updated_at_must_be_epoch_seconds_use_unixepoch"},
      {"(prompt, submitted_at) VALUES ('x', date('now'))", "submitted_at_must_be_epoch_seconds_use_unixepoch"},
      {"(prompt, finished_at) VALUES ('x', time('now'))", "finished_at_must_be_epoch_seconds_use_unixepoch"},
      {"(prompt, next_attempt_at) VALUES ('x', datetime('now'))",
       "next_attempt_at_must_be_epoch_seconds_use_unixepoch"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.columns_and_values);
    EXPECT_TRUE(names_check(error_of(std::string("INSERT INTO jobs ") + row.columns_and_values), row.constraint));
  }
  // NULLs, odd types, negative numbers and huge labels: SQLite's NOT NULL message, a CHECK, or
  // 0003's length triggers; each names the column.
  const bad_row more_rows[] = {
      {"(prompt) VALUES (NULL)", "NOT NULL constraint failed: jobs.prompt"},
      {"(prompt, lyrics) VALUES ('x', NULL)", "NOT NULL constraint failed: jobs.lyrics"},
      {"(prompt, is_instrumental) VALUES ('x', NULL)", "NOT NULL constraint failed: jobs.is_instrumental"},
      {"(prompt, status) VALUES ('x', NULL)", "NOT NULL constraint failed: jobs.status"},
      {"(prompt, created_at) VALUES ('x', NULL)", "NOT NULL constraint failed: jobs.created_at"},
      {"(prompt, is_instrumental) VALUES ('x', 0.5)", "CHECK constraint failed: is_instrumental_must_be_0_or_1"},
      {"(prompt, lyrics_optimizer) VALUES ('x', 'yes')", "CHECK constraint failed: lyrics_optimizer_must_be_0_or_1"},
      {"(prompt, sample_rate) VALUES ('x', -44100)", "CHECK constraint failed: sample_rate_must_be_a_positive_integer"},
      {"(prompt, bitrate) VALUES ('x', x'00')", "CHECK constraint failed: bitrate_must_be_a_positive_integer"},
      {"(prompt, max_attempts) VALUES ('x', -3)",
       "CHECK constraint failed: max_attempts_must_be_null_or_a_positive_integer"},
      {"(prompt, priority) VALUES ('x', 1.5)", "CHECK constraint failed: priority_must_be_an_integer"},
      {"(prompt, status) VALUES ('x', 'QUEUED')",
       "CHECK constraint failed: status_must_be_queued_submitting_running_downloading_succeeded_failed_or_cancelled"},
      {"(prompt, run_after) VALUES ('x', -1)",
       "CHECK constraint failed: run_after_must_be_epoch_seconds_use_unixepoch"},
      {"(prompt, run_after) VALUES ('x', '2026-01-01 00:00:00')",
       "CHECK constraint failed: run_after_must_be_epoch_seconds_use_unixepoch"},
      {"(prompt, progress) VALUES ('x', -0.1)", "CHECK constraint failed: progress_must_be_null_or_between_0_and_1"},
      {"(prompt, batch) VALUES ('x', x'0102')", "CHECK constraint failed: batch_must_be_null_or_text"},
      {"(prompt, batch) VALUES ('x', printf('%.201c', 'b'))", "batch_must_be_null_or_at_most_200_characters"},
      {"(prompt, name) VALUES ('x', printf('%.100000c', 'n'))", "name_must_be_null_or_at_most_200_characters"},
  };
  for (const auto& row : more_rows) {
    SCOPED_TRACE(row.columns_and_values);
    EXPECT_NE(error_of(std::string("INSERT INTO jobs ") + row.columns_and_values).find(row.constraint),
              std::string::npos);
  }
  EXPECT_EQ(count("SELECT count(*) FROM jobs"), 0);

  // The label limits also hold for updates, and 200 characters (not bytes) are fine.
  db_.exec("INSERT INTO jobs (prompt, name, batch) VALUES ('x', printf('%.200c', 'n'), 'night')");
  EXPECT_NE(
      error_of("UPDATE jobs SET name = printf('%.201c', 'n')").find("name_must_be_null_or_at_most_200_characters"),
      std::string::npos);
  EXPECT_NE(
      error_of("UPDATE jobs SET batch = printf('%.300c', 'b')").find("batch_must_be_null_or_at_most_200_characters"),
      std::string::npos);
  std::string emoji_name;
  for (int i = 0; i < 200; ++i) emoji_name += "\xF0\x9F\x8E\xB5";  // U+1F3B5, 4 bytes each
  EXPECT_EQ(error_of_prompt("y"), "");
  db_.prepare("UPDATE jobs SET name = ?1 WHERE prompt = 'y'").bind_all(emoji_name).execute();
  EXPECT_EQ(count("SELECT length(name) FROM jobs WHERE prompt = 'y'"), 200);
}

TEST_F(SchemaTest, GoodValuesAreAcceptedAndConverted) {
  EXPECT_EQ(error_of("INSERT INTO jobs (prompt, run_after, sample_rate, is_instrumental, max_attempts, priority, "
                     "lyrics, batch, name) VALUES ('x', unixepoch('now', '+2 hours'), '48000', 1, 3, -2, "
                     "printf('%.3500c', 'a'), 'night', 'Song')"),
            "");
  // A numeric string becomes a number through the column's affinity: accepted as intended.
  EXPECT_EQ(count("SELECT sample_rate FROM jobs"), 48000);
  EXPECT_EQ(count("SELECT typeof(run_after) = 'real' FROM jobs"), 1);
  EXPECT_EQ(error_of("INSERT INTO jobs (prompt, run_after, progress) VALUES ('y', 1700000000, 0.5)"), "");
}

TEST_F(SchemaTest, EventAndAssetTimesAndFieldsAreChecked) {
  db_.exec("INSERT INTO jobs (prompt) VALUES ('x')");
  EXPECT_TRUE(names_check(error_of("INSERT INTO job_events (job_id, at, kind) VALUES (1, datetime('now'), 'retry')"),
                          "at_must_be_epoch_seconds_use_unixepoch"));
  EXPECT_EQ(error_of("INSERT INTO job_events (job_id, kind) VALUES (1, 'retry')"), "");
  EXPECT_NE(
      error_of("INSERT INTO job_events (job_id, kind) VALUES (42, 'retry')").find("FOREIGN KEY constraint failed"),
      std::string::npos);
  const std::string hash(64, 'a');
  EXPECT_TRUE(names_check(error_of("INSERT INTO assets (job_id, remote_asset_id, mime_type, size_bytes, sha256, data) "
                                   "VALUES (1, 'a', 'audio/mpeg', 1, '" +
                                   std::string(64, 'A') + "', x'00')"),
                          "sha256_must_be_64_lowercase_hex_digits"));
  EXPECT_TRUE(names_check(
      error_of("INSERT INTO assets (job_id, remote_asset_id, mime_type, size_bytes, sha256, data, created_at) "
               "VALUES (1, 'a', 'audio/mpeg', 1, '" +
               hash + "', x'00', datetime('now'))"),
      "created_at_must_be_epoch_seconds_use_unixepoch"));
  EXPECT_EQ(error_of("INSERT INTO assets (job_id, remote_asset_id, mime_type, size_bytes, sha256, data) "
                     "VALUES (1, 'a', 'audio/mpeg', 1, '" +
                     hash + "', x'00')"),
            "");
  EXPECT_NE(error_of("INSERT INTO assets (job_id, remote_asset_id, mime_type, size_bytes, sha256, data) "
                     "VALUES (1, 'a', 'audio/mpeg', 1, '" +
                     hash + "', x'00')")
                .find("UNIQUE constraint failed: assets.job_id, assets.remote_asset_id"),
            std::string::npos);
}

TEST_F(SchemaTest, DeletingAJobDeletesItsEventsAndAssets) {
  db_.exec(
      "INSERT INTO jobs (prompt) VALUES ('x'); INSERT INTO job_events (job_id, kind) VALUES (1, 'retry');"
      "INSERT INTO assets (job_id, remote_asset_id, mime_type, size_bytes, sha256, data) "
      "VALUES (1, 'a', 'audio/mpeg', 1, '" +
      std::string(64, '0') + "', x'00')");
  db_.exec("DELETE FROM jobs WHERE id = 1");
  EXPECT_EQ(count("SELECT count(*) FROM job_events"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM assets"), 0);
}

TEST_F(SchemaTest, IndexesExist) {
  std::set<std::string> names;
  db_.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND name NOT LIKE 'sqlite_%'")
      .for_each_row([&](statement& r) { names.insert(r.column_text(0)); });
  EXPECT_EQ(names, (std::set<std::string>{"jobs_by_status_priority", "jobs_by_run_after", "jobs_by_next_attempt_at",
                                          "jobs_by_batch", "jobs_by_submitted_at", "job_events_by_job",
                                          "jobs_by_finished_at", "jobs_queued_by_created_at"}));
  // UNIQUE (job_id, remote_asset_id) makes an automatic index.
  EXPECT_EQ(count("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'assets'"), 1);
}

}  // namespace
}  // namespace soundtrackd::db
