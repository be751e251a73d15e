// End to end: the real soundtrackd binary over HTTPS against the emulator turns queued rows
// into verified audio in the database (and files in output_dir).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <map>

#include "daemon_setup.hpp"

using namespace soundtrackd;
using namespace soundtrackd::test;
namespace json = boost::json;

namespace {

// Every row matching `where` succeeded with the emulator's track for its remote job, after one
// submit: the asset id, the size, the sha256 (as stored, and of the bytes), the MIME type, and
// the same bytes exported to output_dir. Returns how many rows it checked.
int expect_stored_audio(daemon_setup& stage, const std::string& where, std::int64_t size) {
  const auto stats = stage.emulator().stats();
  std::map<std::string, json::object> remote_jobs;  // by remote job id
  for (auto& j : stats.at("jobs").as_array()) remote_jobs[json::value_to<std::string>(j.at("jobId"))] = j.as_object();
  auto db = stage.open_db();
  auto rows = db.prepare(
      "SELECT j.id, j.status, j.remote_job_id, j.attempts, a.remote_asset_id, a.sha256, a.size_bytes, a.data, "
      "a.mime_type FROM jobs j LEFT JOIN assets a ON a.job_id = j.id WHERE " +
      where + " ORDER BY j.id");
  int verified = 0;
  while (rows.step()) {
    const auto id = rows.column_int64(0);
    EXPECT_EQ(rows.column_text(1), "succeeded") << "job " << id;
    EXPECT_EQ(rows.column_int64(3), 1) << "job " << id << " was submitted more than once";
    auto remote = remote_jobs.find(rows.column_text(2));
    if (remote == remote_jobs.end()) {
      ADD_FAILURE() << "job " << id << " has an unknown remote job id";
      continue;
    }
    const auto& remote_asset = remote->second.at("assets").as_array().at(0).as_object();
    EXPECT_EQ(rows.column_text(4), json::value_to<std::string>(remote_asset.at("id")));
    auto blob = rows.column_blob(7);
    std::string bytes(reinterpret_cast<const char*>(blob.data()), blob.size());
    EXPECT_EQ(static_cast<std::int64_t>(bytes.size()), size) << "job " << id;
    EXPECT_EQ(rows.column_int64(6), size) << "job " << id;
    EXPECT_EQ(sha256_hex(bytes), json::value_to<std::string>(remote_asset.at("sha256"))) << "job " << id;
    EXPECT_EQ(rows.column_text(5), sha256_hex(bytes)) << "job " << id;
    EXPECT_EQ(rows.column_text(8), "audio/mpeg");
    // The same bytes were exported as a file named from the row's name.
    auto file = stage.output_dir() / ("Track-" + std::to_string(id - 1) + "-" + std::to_string(id) + ".mp3");
    EXPECT_EQ(read_file(file), bytes) << file;
    ++verified;
  }
  return verified;
}

}  // namespace

TEST(Pipeline, TwoHundredRowsBecomeVerifiedAudioOverHttps) {
  emulator_options eo;
  eo.job_duration = "1s";
  eo.asset_size = 20000;
  daemon_setup stage(eo);
  auto& emu = stage.emulator();
  stage.insert_rows(199, "upbeat chiptune, 140 BPM, track");
  // Accepted by our CHECKs (> 0) but not by the API: must end failed with the API's words.
  stage.open_db().exec("INSERT INTO jobs(prompt, sample_rate) VALUES('odd sample rate', 12345)");

  auto start = std::chrono::steady_clock::now();
  auto result = stage.run_until_idle(180);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ e2e ] 200 rows, max_running 50, 1 s remote jobs: " << seconds << " s wall\n";
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output.find("test-secret"), std::string::npos) << "the secret leaked into the log";

  auto stats = emu.stats();
  EXPECT_EQ(stats.at("duplicate_submits").as_int64(), 0);
  EXPECT_EQ(stats.at("submits").as_int64(), 199);
  EXPECT_EQ(stats.at("cdn_requests_with_credentials").as_int64(), 0);
  EXPECT_EQ(expect_stored_audio(stage, "j.sample_rate = 44100", 20000), 199);
  std::cout << "[ e2e ] asset lookups: " << stats.at("requests").at("get_bulk").as_int64() << " get-bulk requests\n";
  // Jobs finishing together looked their assets up together, never one GET per asset.
  EXPECT_EQ(stats.at("requests").at("get_asset").as_int64(), 0);
  EXPECT_LT(stats.at("requests").at("get_bulk").as_int64(), 199);

  auto db = stage.open_db();
  auto rejected = db.prepare("SELECT status, last_error, finished_at IS NOT NULL FROM jobs WHERE sample_rate = 12345");
  ASSERT_TRUE(rejected.step());
  EXPECT_EQ(rejected.column_text(0), "failed");
  EXPECT_NE(rejected.column_text(1).find("sampleRate must be one of 16000, 24000, 32000, 44100"), std::string::npos)
      << rejected.column_text(1);
  EXPECT_EQ(rejected.column_int64(2), 1);

  // Nothing left behind in the staging directory.
  EXPECT_TRUE(std::filesystem::is_empty(stage.db_path() + ".staging"));
}

// Tracks over 256 KiB are streamed to staging files and copied in with incremental BLOB I/O
// (smaller ones go through memory, as above): the same verified bytes either way.
TEST(Pipeline, LargeTracksGoThroughStagingFiles) {
  emulator_options eo;
  eo.job_duration = "1s";
  eo.asset_size = 700'000;
  daemon_setup stage(eo);
  stage.insert_rows(12, "slow strings, track");
  auto result = stage.run_until_idle(180);
  ASSERT_EQ(result.exit_code, 0) << result.output;

  EXPECT_EQ(expect_stored_audio(stage, "1", 700'000), 12);
  EXPECT_TRUE(std::filesystem::is_empty(stage.db_path() + ".staging"));
}
