// The pipeline meeting trouble: API errors, dropped connections, truncated downloads,
// expired URLs and rejected credentials. Every row still ends where it should.
#include <signal.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "daemon_setup.hpp"

using namespace soundtrackd;
using namespace soundtrackd::test;

namespace {

std::int64_t requests(emulator_process& emu, const char* endpoint) {
  return emu.stats().at("requests").at(endpoint).as_int64();
}

// `rows` rows while get-bulk answers as `faults` say: each row succeeds on its first submit,
// the log says why get-bulk was given up, and after at most `bulk_requests` of them every asset
// was asked for alone.
void expect_bulk_given_up(const std::string& faults, int rows, const std::string& warning, int bulk_requests) {
  daemon_setup stage;
  stage.emulator().set_faults(faults);
  stage.insert_rows(rows);
  auto r = stage.run_until_idle();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(stage.count("status = 'succeeded' AND last_error IS NULL AND attempts = 1"), std::to_string(rows))
      << r.output;
  EXPECT_NE(r.output.find(warning), std::string::npos) << r.output;
  EXPECT_LE(requests(stage.emulator(), "get_bulk"), bulk_requests);
  EXPECT_EQ(requests(stage.emulator(), "get_asset"), rows);
}

}  // namespace

TEST(Faults, TransientSubmitErrorsAreRetriedAndCountedAsGenerateCalls) {
  daemon_setup stage;
  stage.emulator().set_faults(R"([{"endpoint": "generate", "count": 2, "status": 503}])");
  stage.insert_rows(1);
  auto r = stage.run_until_idle();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(stage.count("status = 'succeeded' AND attempts = 3 AND last_error IS NULL"), "1") << r.output;
  EXPECT_NE(
      r.output.find("HTTP 503 from POST /v1/generate/custom/model_minimax-music-2-6: injected fault (attempt 1/5"),
      std::string::npos)
      << r.output;
  EXPECT_EQ(stage.count("id = 1 AND (SELECT count(*) FROM job_events WHERE kind = 'retry') = 2"), "1");
}

TEST(Faults, PollFailuresRetryThePollNeverTheSubmit) {
  daemon_setup stage;
  stage.emulator().set_faults(R"([{"endpoint": "get_job", "count": 3, "action": "drop"}])");
  stage.insert_rows(2);
  auto r = stage.run_until_idle();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(stage.count("status = 'succeeded' AND attempts = 1"), "2") << r.output;
  EXPECT_EQ(stage.emulator().stats().at("submits").as_int64(), 2);
}

TEST(Faults, GivingUpNamesTheStepTheErrorAndTheCount) {
  daemon_setup stage;
  stage.emulator().set_faults(R"([{"endpoint": "get_job", "count": 1000, "status": 502}])");
  stage.insert_rows(1);
  auto r = stage.run_until_idle();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto db = stage.open_db();
  auto q = db.prepare("SELECT status, last_error FROM jobs");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.column_text(0), "failed");
  EXPECT_EQ(q.column_text(1).rfind("gave up polling after 5 consecutive failures: HTTP 502 from GET /v1/jobs/job_", 0),
            0u)
      << q.column_text(1);
}

TEST(Faults, TruncatedDownloadIsRetriedAndTheStoredBytesAreWhole) {
  daemon_setup stage;
  stage.emulator().set_faults(R"([{"endpoint": "cdn", "count": 1, "action": "truncate"}])");
  stage.insert_rows(1);
  auto r = stage.run_until_idle();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("truncated"), std::string::npos) << r.output;
  auto stats = stage.emulator().stats();
  auto expected = stats.at("jobs").as_array().at(0).at("assets").as_array().at(0).at("sha256").as_string();
  EXPECT_EQ(stage.count("status = 'succeeded' AND (SELECT sha256 FROM assets) = '" + std::string(expected) +
                        "' AND (SELECT length(data) FROM assets) = 20000"),
            "1");
}

TEST(Faults, AnExpiredUrlIsFetchedAgainForAFreshOne) {
  daemon_setup stage;
  stage.emulator().set_faults(R"([{"endpoint": "cdn", "count": 1, "status": 403}])");
  stage.insert_rows(1);
  auto r = stage.run_until_idle();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(stage.count("status = 'succeeded'"), "1") << r.output;
  EXPECT_EQ(requests(stage.emulator(), "get_bulk"), 2);
  EXPECT_EQ(requests(stage.emulator(), "get_asset"), 0);
}

TEST(Faults, AFailedBulkAssetLookupIsRetried) {
  daemon_setup stage;
  stage.emulator().set_faults(R"([{"endpoint": "get_bulk", "count": 1, "status": 503}])");
  stage.insert_rows(1);
  auto r = stage.run_until_idle();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(stage.count("status = 'succeeded' AND last_error IS NULL"), "1") << r.output;
  EXPECT_NE(r.output.find("asset failed: HTTP 503 from POST /v1/assets/get-bulk"), std::string::npos) << r.output;
  EXPECT_EQ(requests(stage.emulator(), "get_bulk"), 2);
  EXPECT_EQ(requests(stage.emulator(), "get_asset"), 0);
}

// An API (or a proxy) without get-bulk: after its first refusal every asset is asked for on
// its own.
TEST(Faults, WithoutBulkLookupsEachAssetIsAskedForAlone) {
  expect_bulk_given_up(
      R"([{"endpoint": "get_bulk", "count": 1000, "status": 404, "body": "{\"reason\": \"Not found\"}"}])", 3,
      "HTTP 404 from POST /v1/assets/get-bulk: Not found; asking for each asset on its own from now on", 1);
}

// get-bulk answering without the assets GET /assets/{id} finds (an API whose bulk answer has
// another shape): each asset is fetched alone, and after three such jobs get-bulk is no longer
// asked, so no job keeps paying two requests.
TEST(Faults, BulkAnswersThatLackTheAssetsAreGivenUp) {
  expect_bulk_given_up(
      R"([{"endpoint": "get_bulk", "count": 1000, "status": 200, "body": "{\"assets\": []}"}])", 6,
      "POST /assets/get-bulk left out assets that GET /assets/{id} found, for 3 jobs in a row; asking for each asset "
      "on its own from now on",
      3);
}

TEST(Faults, RejectedCredentialsPauseTheQueueWithOneClearError) {
  emulator_options eo;
  eo.api_secret = "the-right-secret";
  daemon_setup stage(eo);
  stage.listen_on_any_port();
  stage.insert_rows(5);
  // The daemon is given another secret than the emulator expects.
  background_process daemon({SOUNDTRACKD_BIN, "--config", stage.config_path(), "--exit-when-idle"},
                            {"SCENARIO_API_KEY=test-key", "SCENARIO_API_SECRET=a-wrong-secret"},
                            stage.dir() / "daemon.log");
  ASSERT_TRUE(
      wait_until([&] { return read_file(stage.dir() / "daemon.log").find("queue paused") != std::string::npos; }, 20));
  EXPECT_EQ(daemon.wait(1.5), -1) << "--exit-when-idle must keep waiting while paused";
  auto health = run({"/usr/bin/curl", "-sS", "-w", " %{http_code}", stage.status_url(5) + "/healthz"}).output;
  EXPECT_EQ(health.rfind("paused: HTTP 401 from POST /v1/generate/custom/model_minimax-music-2-6", 0), 0u) << health;
  EXPECT_NE(health.find(" 503"), std::string::npos) << health;
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(10), 0);
  auto log = read_file(stage.dir() / "daemon.log");
  EXPECT_EQ(stage.count("status = 'queued' AND last_error IS NULL"), "5") << log;
  std::size_t errors = 0;
  for (auto at = log.find(" error "); at != std::string::npos; at = log.find(" error ", at + 1)) ++errors;
  EXPECT_EQ(errors, 1u) << log;
  EXPECT_NE(log.find("HTTP 401"), std::string::npos) << log;
  EXPECT_EQ(log.find("a-wrong-secret"), std::string::npos);
}

TEST(Faults, ARateLimitSlowsEveryCallAndEveryRowStillSucceeds) {
  daemon_setup stage;
  stage.emulator().set_faults(R"([{"endpoint": "get_job", "count": 2, "status": 429, "retry_after": "1"}])");
  stage.insert_rows(4);
  auto r = stage.run_until_idle();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(stage.count("status = 'succeeded' AND attempts = 1"), "4") << r.output;
  EXPECT_NE(r.output.find("all API calls slowed to 500.00/s"), std::string::npos) << r.output;
}

TEST(Faults, AConcurrentJobCeilingLowersTheInFlightCap) {
  daemon_setup stage;
  stage.emulator().set_faults(
      R"([{"endpoint": "generate", "count": 1, "status": 429,
           "body": "{\"reason\":\"Too many running jobs\",\"details\":{\"actionName\":\"generate\",\"actionLimit\":2}}"}])");
  stage.insert_rows(6);
  auto r = stage.run_until_idle();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(stage.count("status = 'succeeded'"), "6") << r.output;
  EXPECT_NE(r.output.find("in-flight cap lowered from 50 to 2"), std::string::npos) << r.output;
  // The 429 was not billed and cost no budget; the row was submitted again.
  EXPECT_EQ(stage.emulator().stats().at("duplicate_submits").as_int64(), 0);
}

TEST(Faults, FixedCredentialFilesAreReadAgainWhilePaused) {
  emulator_options eo;
  eo.api_secret = "the-right-secret";
  daemon_setup stage(eo);
  stage.insert_rows(3);
  const auto creds = stage.dir() / "credentials";
  std::filesystem::create_directory(creds);
  write_file(creds / "scenario_api_key", "test-key\n");
  write_file(creds / "scenario_api_secret", "an-old-secret\n");
  background_process daemon({SOUNDTRACKD_BIN, "--config", stage.config_path(), "--exit-when-idle"},
                            {"CREDENTIALS_DIRECTORY=" + creds.string(), "SCENARIO_API_KEY=", "SCENARIO_API_SECRET="},
                            stage.dir() / "daemon.log");
  ASSERT_TRUE(
      wait_until([&] { return read_file(stage.dir() / "daemon.log").find("queue paused") != std::string::npos; }, 20));
  write_file(creds / "scenario_api_secret", "the-right-secret\n");
  EXPECT_EQ(daemon.wait(30), 0) << read_file(stage.dir() / "daemon.log");
  EXPECT_EQ(stage.count("status = 'succeeded'"), "3");
  EXPECT_NE(read_file(stage.dir() / "daemon.log").find("queue resumed"), std::string::npos);
}

TEST(Faults, TheSpendLimitStopsSubmissionsAtTheLimit) {
  // Each generation costs 5 CU in the emulator: a limit of 10 allows exactly two.
  daemon_setup stage({}, daemon_setup::default_queue_toml + "spend_limit_cu = 10\n");
  stage.insert_rows(5);
  auto daemon = stage.start();
  ASSERT_TRUE(wait_until([&] { return stage.count("status = 'succeeded'") == "2"; }, 20))
      << read_file(stage.dir() / "daemon.log");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10), 0);
  auto log = read_file(stage.dir() / "daemon.log");
  EXPECT_EQ(stage.count("status = 'queued'"), "3") << log;
  EXPECT_EQ(stage.emulator().stats().at("submits").as_int64(), 2);
  EXPECT_NE(log.find("spend limit reached (10 of 10 creative units in the last 24 h)"), std::string::npos) << log;
}

TEST(Faults, DownloadsWaitWhileFreeSpaceIsBelowTheMinimum) {
  daemon_setup stage;
  auto config = read_file(stage.config_path());
  config.replace(config.find("[storage]\n"), 10, "[storage]\nmin_free_space = \"1000TiB\"\n");
  write_file(stage.config_path(), config);
  stage.insert_rows(1);
  auto daemon = stage.start();
  ASSERT_TRUE(wait_until(
      [&] { return stage.count("status = 'downloading' AND last_error LIKE 'downloads paused: %'") == "1"; }, 20))
      << read_file(stage.dir() / "daemon.log");
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10), 0);
  EXPECT_EQ(stage.count("(SELECT count(*) FROM assets) = 0"), "1");
}
