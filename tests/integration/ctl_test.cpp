// End to end: the real soundtrackctl binary on a real database file, every command in text
// and JSON, its exit codes, and the files export writes.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "soundtrackd/db/database.hpp"
#include "soundtrackd/db/migrations.hpp"
#include "soundtrackd/db/queue_database.hpp"
#include "soundtrackd/util/time.hpp"
#include "test_support.hpp"

using namespace soundtrackd;
using namespace soundtrackd::test;
namespace json = boost::json;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The first line of `text` that starts with `prefix`, with runs of spaces collapsed to one (the
// text tables pad their columns); "" when there is none.
std::string line_starting(const std::string& text, const std::string& prefix) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(prefix)) continue;
    std::string collapsed;
    for (char c : line)
      if (c != ' ' || collapsed.empty() || collapsed.back() != ' ') collapsed += c;
    return collapsed;
  }
  return "";
}

class CtlTest : public ::testing::Test {
 protected:
  CtlTest() {
    // An empty config file: the tests must not depend on /etc/soundtrackd on this machine.
    write_file(config_path_, "");
  }

  // soundtrackctl --config <empty> --db <test db> args...
  command_result ctl(const std::vector<std::string>& args) {
    std::vector<std::string> argv{SOUNDTRACKCTL_BIN, "--config", config_path_.string(), "--db", db_path_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }

  // Runs a command that must succeed and returns its output.
  std::string ok(const std::vector<std::string>& args) {
    auto result = ctl(args);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return result.output;
  }

  json::value ok_json(const std::vector<std::string>& args) {
    auto output = ok(args);
    boost::system::error_code ec;
    auto value = json::parse(output, ec);
    EXPECT_FALSE(ec) << "not JSON: " << output;
    return value;
  }

  std::int64_t enqueue(const std::vector<std::string>& flags) {
    std::vector<std::string> args{"enqueue"};
    args.insert(args.end(), flags.begin(), flags.end());
    return std::stoll(ok(args));
  }

  // A row as the daemon would have left it, written with SQL like any other program.
  std::int64_t insert_row(const std::string& columns, const std::string& values) {
    auto db = open_db();
    db.exec("INSERT INTO jobs (prompt, " + columns + ") VALUES ('calm piano', " + values + ")");
    return db.last_insert_rowid();
  }

  std::string text_column(std::int64_t id, const std::string& column) {
    auto db = open_db();
    return db.prepare("SELECT coalesce(" + column + ", '<null>') FROM jobs WHERE id = ?1")
        .bind_all(id)
        .first_row([](db::statement& row) { return row.column_text(0); })
        .value_or("<no row>");
  }

  db::database open_db() { return db::open_queue_database(db_path_); }

  temp_dir dir_;
  std::filesystem::path config_path_ = dir_ / "soundtrackd.toml";
  std::filesystem::path db_path_ = dir_ / "queue.db";
};

TEST_F(CtlTest, MigrateCreatesTheSchemaOnce) {
  const auto latest = std::to_string(db::embedded_migrations().back().number);
  const auto count = std::to_string(db::embedded_migrations().size());
  EXPECT_EQ(ok({"migrate"}), "schema at version " + latest + " (applied " + count + ")\n");
  EXPECT_EQ(ok({"migrate"}), "schema at version " + latest + " (applied 0)\n");
}

TEST_F(CtlTest, SchemaNewerThanTheBinaryIsRefusedWithExit2) {
  ok({"migrate"});
  open_db().exec("PRAGMA user_version = 9999");
  auto result = ctl({"status"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(contains(result.output, "schema version 9999")) << result.output;
}

TEST_F(CtlTest, EnqueuePrintsTheIdAndStoresEveryFlag) {
  const auto id = enqueue({"--prompt",       "upbeat chiptune",
                           "--lyrics",       "[Verse]\nla la",
                           "--instrumental", "--lyrics-optimizer",
                           "--sample-rate",  "32000",
                           "--bitrate",      "128000",
                           "--priority",     "5",
                           "--batch",        "night",
                           "--name",         "Level 1",
                           "--run-after",    "2030-01-02T03:04:05Z",
                           "--max-attempts", "3"});
  auto job = ok_json({"show", std::to_string(id), "--json"}).as_object();
  EXPECT_EQ(job.at("id").as_int64(), id);
  EXPECT_EQ(job.at("prompt").as_string(), "upbeat chiptune");
  EXPECT_EQ(job.at("lyrics").as_string(), "[Verse]\nla la");
  EXPECT_EQ(job.at("is_instrumental").as_bool(), true);
  EXPECT_EQ(job.at("lyrics_optimizer").as_bool(), true);
  EXPECT_EQ(job.at("sample_rate").as_int64(), 32000);
  EXPECT_EQ(job.at("bitrate").as_int64(), 128000);
  EXPECT_EQ(job.at("priority").as_int64(), 5);
  EXPECT_EQ(job.at("batch").as_string(), "night");
  EXPECT_EQ(job.at("name").as_string(), "Level 1");
  EXPECT_EQ(job.at("run_after").to_number<double>(), 1893553445.0);
  EXPECT_EQ(job.at("max_attempts").as_int64(), 3);
  EXPECT_EQ(job.at("status").as_string(), "queued");
}

TEST_F(CtlTest, EnqueueReadsLyricsFilesAndRelativeTimes) {
  write_file(dir_ / "lyrics.txt", "[Chorus]\r\nhey\r\n");
  const auto before = now_epoch();
  // Global options after the subcommand work too.
  auto result = run({SOUNDTRACKCTL_BIN, "enqueue", "--prompt", "p", "--lyrics-file", (dir_ / "lyrics.txt").string(),
                     "--run-after", "+10m", "--config", config_path_.string(), "--db", db_path_.string()});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto id = std::stoll(result.output);
  EXPECT_EQ(text_column(id, "lyrics"), "[Chorus]\nhey");
  const auto run_after = std::stod(text_column(id, "run_after"));
  EXPECT_GE(run_after, before + 600 - 1);
  EXPECT_LE(run_after, now_epoch() + 600 + 1);
}

TEST_F(CtlTest, EnqueueRefusesATooLongPromptNamingTheField) {
  auto result = ctl({"enqueue", "--prompt", std::string(2001, 'x')});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.output, "prompt must be 1 to 2000 characters (got 2001)")) << result.output;

  result = ctl({"enqueue", "--prompt", "x", "--sample-rate", "0"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.output, "sample_rate must be a positive integer (got 0)")) << result.output;
  EXPECT_EQ(ok_json({"list", "--json"}).as_array().size(), 0u);
}

TEST_F(CtlTest, BadUsageExits2) {
  EXPECT_EQ(ctl({"enqueue", "--prompt", "x", "--bogus"}).exit_code, 2);
  EXPECT_EQ(ctl({"enqueue"}).exit_code, 2);  // --prompt is required
  EXPECT_EQ(ctl({"enqueue", "--prompt", "x", "--run-after", "2030-01-02T03:04:05"}).exit_code, 2);  // no zone
  EXPECT_EQ(ctl({"list", "--status", "done"}).exit_code, 2);
  EXPECT_EQ(ctl({"cancel"}).exit_code, 2);
  EXPECT_EQ(ctl({"retry", "--batch", "b"}).exit_code, 2);  // --batch needs --failed
  EXPECT_EQ(ctl({}).exit_code, 2);
  EXPECT_EQ(ctl({"status", "--help"}).exit_code, 0);

  write_file(config_path_, "[queue]\nmax_runing = 3\n");
  auto result = ctl({"status"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(contains(result.output, "max_runing")) << result.output;
}

TEST_F(CtlTest, EveryCommandHasHelp) {
  for (std::string command : {"migrate", "enqueue", "import", "status", "watch", "list", "show", "cancel", "retry",
                              "export", "prune", "backup", "estimate"}) {
    auto result = ctl({command, "--help"});
    EXPECT_EQ(result.exit_code, 0) << command << ": " << result.output;
    EXPECT_TRUE(contains(result.output, "Usage: soundtrackctl " + command)) << result.output;
  }
}

TEST_F(CtlTest, StatusCountsEveryStatusWithProgress) {
  enqueue({"--prompt", "a", "--batch", "b1"});
  const auto now = std::to_string(static_cast<std::int64_t>(now_epoch()));
  insert_row("status, batch, submitted_at, finished_at", "'succeeded', 'b1', " + now + " - 120, " + now + " - 60");
  insert_row("status, batch", "'failed', 'b2'");

  auto text = ok({"status", "--batch", "b1"});
  EXPECT_TRUE(contains(text, "batch b1")) << text;
  EXPECT_TRUE(contains(text, "cancelled")) << text;  // zero counts are shown too
  EXPECT_TRUE(contains(text, "done 1/2")) << text;
  EXPECT_TRUE(contains(text, "ETA")) << text;

  auto all = ok_json({"status", "--json"}).as_object();
  EXPECT_TRUE(all.at("batch").is_null());
  EXPECT_EQ(all.at("total").as_int64(), 3);
  EXPECT_EQ(all.at("done").as_int64(), 2);
  const auto& counts = all.at("counts").as_object();
  EXPECT_EQ(counts.size(), 7u);
  EXPECT_EQ(counts.at("queued").as_int64(), 1);
  EXPECT_EQ(counts.at("succeeded").as_int64(), 1);
  EXPECT_EQ(counts.at("failed").as_int64(), 1);
  EXPECT_EQ(counts.at("running").as_int64(), 0);

  auto b1 = ok_json({"status", "--batch", "b1", "--json"}).as_object();
  EXPECT_EQ(b1.at("batch").as_string(), "b1");
  EXPECT_EQ(b1.at("total").as_int64(), 2);
  // One success in the two minutes since the batch's first submit: about 0.5 per minute.
  EXPECT_NEAR(b1.at("succeeded_per_minute").to_number<double>(), 0.5, 0.05);
  EXPECT_NEAR(b1.at("eta_seconds").to_number<double>(), 120, 10);
}

TEST_F(CtlTest, ListsNewestFirstInTextAndJson) {
  const auto first = enqueue({"--prompt", "first prompt", "--batch", "b1", "--name", "One"});
  const auto second = enqueue({"--prompt", std::string(100, 'p')});
  const auto failed = insert_row("status, remote_job_id, last_error", "'failed', 'job_f', 'remote job job_f failed'");

  auto text = ok({"list"});
  EXPECT_TRUE(contains(text, "remote_job_id")) << text;
  EXPECT_LT(text.find(std::to_string(failed) + " "), text.find(std::to_string(first) + " ")) << text;
  EXPECT_TRUE(contains(text, "...")) << text;  // the long prompt is shortened
  EXPECT_FALSE(contains(text, std::string(100, 'p'))) << text;

  auto rows = ok_json({"list", "--json"}).as_array();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].at("id").as_int64(), failed);
  EXPECT_EQ(rows[0].at("status").as_string(), "failed");
  EXPECT_EQ(rows[0].at("remote_job_id").as_string(), "job_f");
  EXPECT_EQ(rows[0].at("last_error").as_string(), "remote job job_f failed");
  EXPECT_EQ(rows[1].at("prompt").as_string(), std::string(100, 'p'));  // JSON is never shortened
  EXPECT_EQ(rows[2].at("batch").as_string(), "b1");
  EXPECT_EQ(rows[2].at("name").as_string(), "One");
  EXPECT_EQ(rows[2].at("attempts").as_int64(), 0);

  auto queued = ok_json({"list", "--status", "queued", "--limit", "1", "--json"}).as_array();
  ASSERT_EQ(queued.size(), 1u);
  EXPECT_EQ(queued[0].at("id").as_int64(), second);
  auto page2 = ok_json({"list", "--status", "queued", "--status", "failed", "--limit", "1", "--offset", "1", "--json"})
                   .as_array();
  ASSERT_EQ(page2.size(), 1u);
  EXPECT_EQ(page2[0].at("id").as_int64(), second);
}

TEST_F(CtlTest, ShowsColumnsAssetsAndEvents) {
  const auto id = insert_row("status, remote_job_id, finished_at, name", "'succeeded', 'job_s', 1700000000, 'Song'");
  {
    auto db = open_db();
    db.exec("INSERT INTO assets (job_id, remote_asset_id, mime_type, size_bytes, sha256, data) VALUES (" +
            std::to_string(id) + ", 'asset_1', 'audio/mpeg', 3, '" + sha256_hex("abc") + "', CAST('abc' AS BLOB))");
    db.exec("INSERT INTO job_events (job_id, at, kind, detail) VALUES (" + std::to_string(id) +
            ", 1700000000, 'submitted', 'job_s')");
  }

  auto text = ok({"show", std::to_string(id)});
  EXPECT_EQ(line_starting(text, "finished_at"), "finished_at 2023-11-14T22:13:20Z") << text;
  EXPECT_EQ(line_starting(text, "name"), "name Song") << text;
  EXPECT_EQ(line_starting(text, "  1 "), " 1 asset_1 audio/mpeg 3 " + sha256_hex("abc")) << text;
  EXPECT_EQ(line_starting(text, "  2023"), " 2023-11-14T22:13:20Z submitted job_s") << text;

  auto job = ok_json({"show", std::to_string(id), "--json"}).as_object();
  EXPECT_EQ(job.at("status").as_string(), "succeeded");
  EXPECT_EQ(job.at("finished_at").to_number<double>(), 1700000000.0);  // JSON times are epoch seconds
  EXPECT_TRUE(job.at("next_attempt_at").is_null());
  const auto& assets = job.at("assets").as_array();
  ASSERT_EQ(assets.size(), 1u);
  EXPECT_EQ(assets[0].at("remote_asset_id").as_string(), "asset_1");
  EXPECT_EQ(assets[0].at("size_bytes").to_number<std::int64_t>(), 3);
  EXPECT_FALSE(assets[0].as_object().contains("data"));
  const auto& events = job.at("events").as_array();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("kind").as_string(), "submitted");
  EXPECT_EQ(events[0].at("at").to_number<double>(), 1700000000.0);
}

TEST_F(CtlTest, UnknownIdsExit1) {
  ok({"migrate"});
  auto show = ctl({"show", "42"});
  EXPECT_EQ(show.exit_code, 1);
  EXPECT_TRUE(contains(show.output, "job 42 not found")) << show.output;
  auto cancel = ctl({"cancel", "42"});
  EXPECT_EQ(cancel.exit_code, 1);
  EXPECT_TRUE(contains(cancel.output, "job 42: not cancelled: not found")) << cancel.output;
  auto retry = ctl({"retry", "42"});
  EXPECT_EQ(retry.exit_code, 1);
  EXPECT_TRUE(contains(retry.output, "job 42: not found")) << retry.output;
}

TEST_F(CtlTest, CancelsAQueuedRowAndNamesWhoDidIt) {
  const auto id = enqueue({"--prompt", "p"});
  auto output = ok({"cancel", std::to_string(id)});
  EXPECT_TRUE(contains(output, "job " + std::to_string(id) + ": cancelled (was queued)")) << output;
  EXPECT_EQ(text_column(id, "status"), "cancelled");
  EXPECT_TRUE(text_column(id, "last_error").starts_with("cancelled by soundtrackctl at 20"));
  EXPECT_NE(text_column(id, "finished_at"), "<null>");
  auto events = ok_json({"show", std::to_string(id), "--json"}).at("events").as_array();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("kind").as_string(), "cancelled");
}

TEST_F(CtlTest, RefusesToCancelASucceededRow) {
  const auto id = insert_row("status", "'succeeded'");
  auto result = ctl({"cancel", std::to_string(id)});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.output, "not cancelled: already succeeded")) << result.output;
  EXPECT_EQ(text_column(id, "status"), "succeeded");
}

TEST_F(CtlTest, CancelsTheActiveRowsOfABatch) {
  const auto running = insert_row("status, batch, remote_job_id", "'running', 'b', 'job_r'");
  const auto done = insert_row("status, batch", "'succeeded', 'b'");
  const auto other = enqueue({"--prompt", "p", "--batch", "other"});
  auto output = ok({"cancel", "--batch", "b"});
  EXPECT_TRUE(contains(output, "remote job job_r may still finish and be billed")) << output;
  EXPECT_EQ(text_column(running, "status"), "cancelled");
  EXPECT_EQ(text_column(done, "status"), "succeeded");
  EXPECT_EQ(text_column(other, "status"), "queued");
}

TEST_F(CtlTest, RetryResumesOrResubmitsFailedRows) {
  const auto timed_out = insert_row(
      "status, remote_job_id, last_error, finished_at",
      "'failed', 'job_t', 'remote job job_t did not finish within 30m (job_timeout); stopped tracking it', 1");
  const auto remote_failed = insert_row("status, remote_job_id, last_error, finished_at",
                                        "'failed', 'job_f', 'remote job job_f failed: x', 1");
  const auto queued = enqueue({"--prompt", "p"});

  auto output = ok({"retry", std::to_string(timed_out), std::to_string(remote_failed)});
  EXPECT_TRUE(contains(output, "job " + std::to_string(timed_out) + ": resumes remote job job_t")) << output;
  EXPECT_TRUE(contains(output, "job " + std::to_string(remote_failed) + ": queued for a new submit")) << output;

  EXPECT_EQ(text_column(timed_out, "status"), "running");
  EXPECT_EQ(text_column(timed_out, "remote_job_id"), "job_t");
  EXPECT_EQ(text_column(timed_out, "last_error"), "<null>");
  EXPECT_EQ(text_column(timed_out, "finished_at"), "<null>");
  EXPECT_EQ(text_column(remote_failed, "status"), "queued");
  EXPECT_EQ(text_column(remote_failed, "remote_job_id"), "<null>");
  EXPECT_EQ(text_column(remote_failed, "next_attempt_at"), "<null>");
  EXPECT_EQ(text_column(remote_failed, "last_error"), "<null>");

  auto refused = ctl({"retry", std::to_string(queued)});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(contains(refused.output, "not retried: it is queued")) << refused.output;
}

TEST_F(CtlTest, RetryFailedTakesABatch) {
  const auto in_batch = insert_row("status, batch, last_error", "'failed', 'b', 'the API rejected the request'");
  const auto elsewhere = insert_row("status, batch, last_error", "'failed', 'c', 'the API rejected the request'");
  auto output = ok({"retry", "--failed", "--batch", "b"});
  EXPECT_TRUE(contains(output, "job " + std::to_string(in_batch) + ": queued for a new submit")) << output;
  EXPECT_EQ(text_column(in_batch, "status"), "queued");
  EXPECT_EQ(text_column(elsewhere, "status"), "failed");
}

TEST_F(CtlTest, ExportWritesVerifiedFilesAndSkipsUnchangedOnes) {
  std::string audio = "ID3";
  for (int i = 0; i < 5000; ++i) audio += static_cast<char>(i % 256);
  const auto id = insert_row("status, name, batch", "'succeeded', 'My Song!', 'b'");
  const auto other = insert_row("status, batch", "'succeeded', 'c'");
  {
    auto db = open_db();
    auto insert = db.prepare(
        "INSERT INTO assets (job_id, remote_asset_id, mime_type, size_bytes, sha256, data) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    const auto bytes = std::as_bytes(std::span(audio));
    insert.bind_all(id, std::string("asset_1"), std::string("audio/mpeg"), static_cast<std::int64_t>(audio.size()),
                    sha256_hex(audio), db::blob_view(bytes));
    insert.execute();
    insert.bind_all(other, std::string("asset_2"), std::string("audio/wav"), static_cast<std::int64_t>(audio.size()),
                    sha256_hex(audio), db::blob_view(bytes));
    insert.execute();
  }

  const auto out = dir_ / "out" / "nested";  // created, parents too
  auto first = ok_json({"export", "--dir", out.string(), "--batch", "b", "--json"}).as_object();
  EXPECT_EQ(first.at("written").as_int64(), 1);
  EXPECT_EQ(first.at("skipped").as_int64(), 0);
  const auto file = out / ("My-Song-" + std::to_string(id) + ".mp3");
  ASSERT_TRUE(std::filesystem::exists(file));
  EXPECT_EQ(read_file(file), audio);
  EXPECT_FALSE(std::filesystem::exists(out / ("job-" + std::to_string(other) + ".wav")));  // another batch

  auto second = ok({"export", "--dir", out.string()});
  EXPECT_TRUE(contains(second, "1 files written, 1 already up to date")) << second;
  EXPECT_EQ(read_file(out / ("job-" + std::to_string(other) + ".wav")), audio);

  // A file with other content under the same name is replaced.
  write_file(file, "stale");
  auto third = ok_json({"export", "--dir", out.string(), "--json"}).as_object();
  EXPECT_EQ(third.at("written").as_int64(), 1);
  EXPECT_EQ(third.at("skipped").as_int64(), 1);
  EXPECT_EQ(read_file(file), audio);

  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(out)) ++files;
  EXPECT_EQ(files, 2u);  // no temporary files left behind
}

TEST_F(CtlTest, ExportRefusesDataThatDoesNotMatchItsSha256) {
  const auto id = insert_row("status", "'succeeded'");
  open_db().exec("INSERT INTO assets (job_id, remote_asset_id, mime_type, size_bytes, sha256, data) VALUES (" +
                 std::to_string(id) + ", 'a', 'audio/mpeg', 3, '" + sha256_hex("xyz") + "', CAST('abc' AS BLOB))");
  const auto out = dir_ / "out";
  auto result = ctl({"export", "--dir", out.string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.output, "but assets.sha256 says " + sha256_hex("xyz"))) << result.output;
  EXPECT_TRUE(std::filesystem::is_empty(out));
}

}  // namespace

TEST_F(CtlTest, ImportsJsonLinesInOneGoAndPrintsTheIds) {
  enqueue({"--prompt", "before"});
  write_file(dir_ / "night.jsonl",
             "{\"prompt\": \"a\", \"batch\": \"night\", \"name\": \"First\"}\n"
             "\n"
             "{\"prompt\": \"b\", \"is_instrumental\": true, \"sample_rate\": 32000, \"run_after\": 1893553445}\n"
             "{\"prompt\": \"c\", \"lyrics\": \"[Verse]\\nla\", \"max_attempts\": 2, \"priority\": 3}\n");
  EXPECT_EQ(ok({"import", (dir_ / "night.jsonl").string()}), "imported 3 requests, ids 2 to 4\n");

  auto rows = ok_json({"list", "--json"}).as_array();
  ASSERT_EQ(rows.size(), 4u);
  auto b = ok_json({"show", "3", "--json"}).as_object();
  EXPECT_EQ(b.at("prompt").as_string(), "b");
  EXPECT_EQ(b.at("is_instrumental").as_bool(), true);
  EXPECT_EQ(b.at("sample_rate").as_int64(), 32000);
  EXPECT_EQ(b.at("run_after").to_number<double>(), 1893553445.0);
  EXPECT_EQ(b.at("status").as_string(), "queued");
  EXPECT_EQ(text_column(2, "name"), "First");
  EXPECT_EQ(text_column(4, "lyrics"), "[Verse]\nla");
  EXPECT_EQ(text_column(4, "max_attempts"), "2");
}

TEST_F(CtlTest, ImportsCsvWithABatchOverrideAndJsonOutput) {
  write_file(dir_ / "songs.csv",
             "prompt,lyrics,batch,is_instrumental\r\n"
             "\"piano, slow\",\"line one\nline \"\"two\"\"\",old,true\r\n"
             "drums,,,\r\n");
  auto summary = ok_json({"import", (dir_ / "songs.csv").string(), "--batch", "morning", "--json"}).as_object();
  EXPECT_EQ(summary.at("count").as_int64(), 2);
  EXPECT_EQ(summary.at("first_id").as_int64(), 1);
  EXPECT_EQ(summary.at("last_id").as_int64(), 2);
  EXPECT_EQ(text_column(1, "prompt"), "piano, slow");
  EXPECT_EQ(text_column(1, "lyrics"), "line one\nline \"two\"");
  EXPECT_EQ(text_column(1, "batch"), "morning");
  EXPECT_EQ(text_column(1, "is_instrumental"), "1");
  EXPECT_EQ(text_column(2, "batch"), "morning");
  EXPECT_EQ(text_column(2, "is_instrumental"), "0");
}

TEST_F(CtlTest, ABadImportLineLeavesTheQueueUnchanged) {
  enqueue({"--prompt", "before"});
  write_file(dir_ / "bad.jsonl",
             "{\"prompt\": \"a\"}\n"
             "{\"prompt\": \"b\"}\n"
             "{\"prompt\": \"c\", \"sample_rate\": \"abc\"}\n"
             "{\"prompt\": \"d\"}\n");
  auto result = ctl({"import", (dir_ / "bad.jsonl").string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.output, (dir_ / "bad.jsonl").string() +
                                          ": line 3: sample_rate must be a positive integer (got \"abc\"); "
                                          "nothing was imported"))
      << result.output;
  EXPECT_EQ(ok_json({"list", "--json"}).as_array().size(), 1u);

  write_file(dir_ / "bad.csv", "prompt,promt\nx,y\n");
  result = ctl({"import", (dir_ / "bad.csv").string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.output, "line 1: unknown column \"promt\" (did you mean \"prompt\"?)")) << result.output;
  EXPECT_EQ(ok_json({"list", "--json"}).as_array().size(), 1u);
}

TEST_F(CtlTest, ImportReadsStandardInputAndSniffsItsFormat) {
  write_file(dir_ / "in.jsonl", "{\"prompt\": \"from a pipe\"}\n");
  write_file(dir_ / "in.txt", "prompt,batch\nfrom csv,x\n");
  const std::string ctl_command = std::string(SOUNDTRACKCTL_BIN) + " --config '" + config_path_.string() + "' --db '" +
                                  db_path_.string() + "' import - ";
  auto result = run({"/bin/sh", "-c", "cat '" + (dir_ / "in.jsonl").string() + "' | " + ctl_command});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "imported 1 request, ids 1 to 1\n");
  result = run({"/bin/sh", "-c", ctl_command + "< '" + (dir_ / "in.txt").string() + "'"});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(text_column(2, "batch"), "x");
  result = run({"/bin/sh", "-c", ctl_command + "--format jsonl < '" + (dir_ / "in.txt").string() + "'"});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(contains(result.output, "standard input: line 1: not valid JSON")) << result.output;
}

TEST_F(CtlTest, ImportUsageErrorsExit2) {
  write_file(dir_ / "night.txt", "{\"prompt\": \"a\"}\n");
  auto result = ctl({"import", (dir_ / "night.txt").string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(contains(result.output, "name it .jsonl or .csv, or pass --format jsonl|csv")) << result.output;
  EXPECT_EQ(ctl({"import", (dir_ / "night.txt").string(), "--format", "xml"}).exit_code, 2);
  EXPECT_EQ(ctl({"import"}).exit_code, 2);
  EXPECT_EQ(ctl({"import", (dir_ / "night.txt").string(), "--format", "jsonl"}).exit_code, 0);
  result = ctl({"import", (dir_ / "missing.jsonl").string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.output, "cannot read " + (dir_ / "missing.jsonl").string())) << result.output;
}

TEST_F(CtlTest, WatchPrintsALinePerChangeAndReturnsWhenTheBatchIsDone) {
  for (auto prompt : {"a", "b", "c"}) enqueue({"--prompt", prompt, "--batch", "night"});
  enqueue({"--prompt", "other batch", "--batch", "day"});  // stays queued: must not hold the watch
  const auto output_file = dir_ / "watch.out";
  background_process watch({SOUNDTRACKCTL_BIN, "--config", config_path_.string(), "--db", db_path_.string(), "watch",
                            "--batch", "night", "--interval", "50ms"},
                           {}, output_file);
  ASSERT_TRUE(wait_until([&] { return contains(read_file(output_file), "0/3 done (0%) | queued 3"); }, 20));

  // Another connection moves the rows along, as soundtrackd would.
  auto db = open_db();
  db.exec("UPDATE jobs SET status = 'running', remote_job_id = 'job_1', submitted_at = unixepoch() WHERE id = 1");
  ASSERT_TRUE(wait_until([&] { return contains(read_file(output_file), "queued 2, running 1"); }, 20));
  db.exec("UPDATE jobs SET status = 'succeeded', finished_at = unixepoch() WHERE id IN (1, 2)");
  ASSERT_TRUE(wait_until([&] { return contains(read_file(output_file), "2/3 done (66%)"); }, 20));
  EXPECT_EQ(watch.wait(0.3), -1) << "watch returned while a row was still queued";
  db.exec("UPDATE jobs SET status = 'succeeded', finished_at = unixepoch() WHERE id = 3");
  EXPECT_EQ(watch.wait(20), 0) << read_file(output_file);

  const auto output = read_file(output_file);
  EXPECT_TRUE(contains(output, "3/3 done (100%) | succeeded 3")) << output;
  EXPECT_FALSE(contains(output, "\033[")) << "terminal codes in non-terminal output: " << output;
  // One line per change, not per look: four states were seen.
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 4) << output;
}

TEST_F(CtlTest, WatchExits1WhenRowsFailedOrThereAreNone) {
  const auto id = enqueue({"--prompt", "a", "--batch", "night"});
  insert_row("batch, status, last_error, finished_at", "'night', 'failed', 'boom', unixepoch()");
  auto db = open_db();
  db.exec("UPDATE jobs SET status = 'succeeded', finished_at = unixepoch() WHERE id = " + std::to_string(id));
  auto result = ctl({"watch", "--batch", "night", "--interval", "10ms"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.output, "2/2 done (100%) | succeeded 1, failed 1")) << result.output;
  EXPECT_TRUE(contains(result.output, "1 failed: soundtrackctl list --status failed --batch night")) << result.output;

  result = ctl({"watch", "--batch", "nigth"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.output, "no rows in batch nigth")) << result.output;
  EXPECT_EQ(ctl({"watch", "--interval", "0s"}).exit_code, 2);
  EXPECT_EQ(ctl({"watch", "--interval", "fast"}).exit_code, 2);
}

TEST_F(CtlTest, PruneDeletesOldFinishedRowsWithTheirAudioAndReclaimsTheSpace) {
  const std::string old_time = "unixepoch() - 40 * 86400";
  const auto old_succeeded = insert_row("status, finished_at", "'succeeded', " + old_time);
  const auto old_failed = insert_row("status, finished_at, last_error", "'failed', " + old_time + ", 'x'");
  const auto old_cancelled_by_hand = insert_row("status, updated_at", "'cancelled', " + old_time);
  const auto new_succeeded = insert_row("status, finished_at", "'succeeded', unixepoch() - 86400");
  const auto old_running = insert_row("status, updated_at, remote_job_id", "'running', " + old_time + ", 'job_9'");
  {
    auto db = open_db();
    const std::string audio(512 * 1024, 'a');
    for (auto id : {old_succeeded, new_succeeded}) {
      db.prepare(
            "INSERT INTO assets (job_id, remote_asset_id, mime_type, size_bytes, sha256, data) "
            "VALUES (?1, 'asset', 'audio/mpeg', ?2, ?3, zeroblob(?2))")
          .bind_all(id, static_cast<std::int64_t>(audio.size()), sha256_hex(audio))
          .execute();
      db.prepare("INSERT INTO job_events (job_id, kind) VALUES (?1, 'succeeded')").bind_all(id).execute();
    }
  }
  auto outcome = ok_json({"prune", "--older-than", "30d", "--json"}).as_object();
  EXPECT_EQ(outcome.at("jobs_deleted").as_int64(), 3);
  EXPECT_EQ(outcome.at("assets_deleted").as_int64(), 1);
  EXPECT_EQ(outcome.at("events_deleted").as_int64(), 1);
  EXPECT_GE(outcome.at("bytes_reclaimed").as_int64(), 512 * 1024);
  EXPECT_LE(static_cast<std::int64_t>(std::filesystem::file_size(db_path_)), outcome.at("bytes_after").as_int64());

  for (auto id : {old_succeeded, old_failed, old_cancelled_by_hand}) EXPECT_EQ(text_column(id, "status"), "<no row>");
  EXPECT_EQ(text_column(new_succeeded, "status"), "succeeded");
  EXPECT_EQ(text_column(old_running, "status"), "running");
  auto db = open_db();
  auto count = [&](const std::string& sql) {
    return db.prepare(sql).first_row([](db::statement& row) { return row.column_int64(0); }).value_or(-1);
  };
  EXPECT_EQ(count("SELECT count(*) FROM assets"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM job_events"), 1);

  EXPECT_TRUE(contains(ok({"prune", "--older-than", "30d"}), "removed 0 rows finished before"));
  EXPECT_EQ(ctl({"prune"}).exit_code, 2);                        // --older-than is required
  EXPECT_EQ(ctl({"prune", "--older-than", "30"}).exit_code, 2);  // no unit
}

TEST_F(CtlTest, PruneKeepAudioKeepsSucceededRowsAndDropsTheirTimeline) {
  const std::string old_time = "unixepoch() - 40 * 86400";
  const auto succeeded = insert_row("status, finished_at, batch", "'succeeded', " + old_time + ", 'night'");
  const auto failed = insert_row("status, finished_at, batch, last_error", "'failed', " + old_time + ", 'night', 'x'");
  const auto other_batch =
      insert_row("status, finished_at, batch, last_error", "'failed', " + old_time + ", 'day', 'x'");
  open_db().exec("INSERT INTO job_events (job_id, kind) VALUES (" + std::to_string(succeeded) + ", 'submitted'), (" +
                 std::to_string(succeeded) + ", 'succeeded')");
  auto output = ok({"prune", "--older-than", "30d", "--keep-audio", "--batch", "night", "--no-vacuum"});
  EXPECT_TRUE(contains(output, "removed 1 rows finished before")) << output;
  EXPECT_TRUE(contains(output, "(0 audio files, 2 events)")) << output;
  EXPECT_TRUE(contains(output, "not vacuumed")) << output;
  EXPECT_EQ(text_column(succeeded, "status"), "succeeded");
  EXPECT_EQ(text_column(failed, "status"), "<no row>");
  EXPECT_EQ(text_column(other_batch, "status"), "failed");
}

TEST_F(CtlTest, BackupCopiesConsistentlyWhileAnotherConnectionWrites) {
  open_db().exec(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) "
      "INSERT INTO jobs (prompt) SELECT 'before backup ' || i FROM n");
  std::atomic<bool> stop = false;
  std::atomic<int> written = 0;
  std::thread writer([&] {
    auto db = open_db();
    while (!stop) {
      db.exec(
          "BEGIN IMMEDIATE; INSERT INTO jobs (prompt) VALUES ('during backup'); "
          "INSERT INTO job_events (job_id, kind) VALUES (last_insert_rowid(), 'x'); COMMIT");
      ++written;
    }
  });
  ASSERT_TRUE(wait_until([&] { return written > 20; }, 20));
  const auto copy = dir_ / "copy.db";
  auto result = ctl({"backup", copy.string()});
  const int written_after = written;
  stop = true;
  writer.join();
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(contains(result.output, "wrote " + copy.string())) << result.output;
  EXPECT_TRUE(contains(result.output, "integrity_check ok")) << result.output;
  EXPECT_FALSE(std::filesystem::exists(copy.string() + ".partial"));

  {
    db::database backup(copy.string(), db::open_mode::read_write);
    auto count = [&](const std::string& sql) {
      return backup.prepare(sql).first_row([](db::statement& row) { return row.column_int64(0); }).value_or(-1);
    };
    EXPECT_EQ(backup.prepare("PRAGMA integrity_check").first_row([](db::statement& row) { return row.column_text(0); }),
              "ok");
    const auto rows = count("SELECT count(*) FROM jobs");
    EXPECT_GE(rows, 200 + 20);
    EXPECT_LE(rows, 200 + written_after);
    // One snapshot: every row written during the backup came with its event, or neither did.
    EXPECT_EQ(count("SELECT count(*) FROM job_events"), rows - 200);
  }

  // An existing file is kept unless --force.
  result = ctl({"backup", copy.string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.output, copy.string() + " already exists; pass --force to replace it")) << result.output;
  EXPECT_EQ(ok_json({"backup", copy.string(), "--force", "--json"}).as_object().at("integrity_check").as_string(),
            "ok");
}

TEST_F(CtlTest, WatchOnATerminalRedrawsOneBarInPlace) {
  for (auto prompt : {"a", "b"}) enqueue({"--prompt", prompt, "--batch", "night"});
  const auto output_file = dir_ / "tty.out";
  // script(1) (bsdutils, always installed on Debian) gives watch a pseudo-terminal as stdout.
  const std::string command = std::string(SOUNDTRACKCTL_BIN) + " --config '" + config_path_.string() + "' --db '" +
                              db_path_.string() + "' watch --batch night --interval 50ms";
  background_process watch({"/usr/bin/script", "-qefc", command, "/dev/null"}, {}, output_file);
  ASSERT_TRUE(wait_until([&] { return contains(read_file(output_file), "0/2 done (0%)"); }, 20));
  open_db().exec("UPDATE jobs SET status = 'succeeded', finished_at = unixepoch()");
  EXPECT_EQ(watch.wait(20), 0) << read_file(output_file);

  const auto output = read_file(output_file);
  EXPECT_TRUE(contains(output, "\r\033[K[------------------------] 0/2 done (0%) | queued 2")) << output;
  EXPECT_TRUE(contains(output, "\r\033[K[########################] 2/2 done (100%) | succeeded 2")) << output;
}
