// The soundtrackd binary as a user meets it: exit codes and messages, credentials, the
// one-daemon lock, schema versions, and stopping and resuming without paying twice.
#include <signal.h>

#include <chrono>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "daemon_setup.hpp"
#include "soundtrackd/db/daemon_lock.hpp"

using namespace soundtrackd;
using namespace soundtrackd::test;

namespace {

// No credentials from the test's own environment may leak into these runs.
const std::vector<std::string> no_credentials = {"SCENARIO_API_KEY=", "SCENARIO_API_SECRET=", "CREDENTIALS_DIRECTORY="};

command_result daemon(const std::vector<std::string>& args, const std::vector<std::string>& env = no_credentials) {
  std::vector<std::string> argv{"/usr/bin/env", "-u", "CREDENTIALS_DIRECTORY", SOUNDTRACKD_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, env);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(Daemon, CheckConfigAcceptsAGoodFileAndSaysWhereCredentialsAre) {
  temp_dir dir;
  write_file(dir / "c.toml", "[queue]\nmax_running = 4\n");
  auto r = daemon({"--config", (dir / "c.toml").string(), "--check-config"},
                  {"SCENARIO_API_KEY=k", "SCENARIO_API_SECRET=s"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "config OK")) << r.output;
  EXPECT_TRUE(contains(r.output, "SCENARIO_API_KEY")) << r.output;
}

TEST(Daemon, CheckConfigNeedsNoCredentials) {
  temp_dir dir;
  write_file(dir / "c.toml", "");
  auto r = daemon({"--config", (dir / "c.toml").string(), "--check-config"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "no Scenario API credentials")) << r.output;
}

TEST(Daemon, CheckConfigRejectsAnUnknownKeyNamingItAndTheLine) {
  temp_dir dir;
  write_file(dir / "c.toml", "[queue]\nmax_running = 4\nmax_runing = 5\n");
  auto r = daemon({"--config", (dir / "c.toml").string(), "--check-config"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.output, ":3:")) << r.output;
  EXPECT_TRUE(contains(r.output, "queue.max_runing")) << r.output;
}

TEST(Daemon, MissingExplicitConfigFileIsAnError) {
  auto r = daemon({"--config", "/nonexistent/soundtrackd.toml", "--check-config"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.output, "/nonexistent/soundtrackd.toml")) << r.output;
}

TEST(Daemon, BadUsageExitsTwo) {
  EXPECT_EQ(daemon({"--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(daemon({"--log-level", "loud"}).exit_code, 2);
  auto version = daemon({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(contains(version.output, "soundtrackd ")) << version.output;
}

TEST(Daemon, MissingCredentialsExitTwoSayingWhereTheyAreLookedFor) {
  temp_dir dir;
  auto r = daemon({"--db", (dir / "q.db").string(), "--config", "/dev/null", "--exit-when-idle"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "CREDENTIALS_DIRECTORY")) << r.output;
  EXPECT_TRUE(contains(r.output, "SCENARIO_API_KEY")) << r.output;
}

TEST(Daemon, CredentialFilesWinAndAreNeverPrinted) {
  temp_dir dir;
  std::filesystem::create_directory(dir / "creds");
  write_file(dir / "creds" / "scenario_api_key", "file-key\n");
  write_file(dir / "creds" / "scenario_api_secret", "file-secret-value\n");
  auto r = run({SOUNDTRACKD_BIN, "--config", "/dev/null", "--check-config"},
               {"CREDENTIALS_DIRECTORY=" + (dir / "creds").string(), "SCENARIO_API_KEY=env-key",
                "SCENARIO_API_SECRET=env-secret"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "CREDENTIALS_DIRECTORY")) << r.output;
  EXPECT_FALSE(contains(r.output, "file-secret-value"));
  EXPECT_FALSE(contains(r.output, "env-secret"));
}

TEST(Daemon, ASecondDaemonOnTheSameDatabaseExitsTwoNamingTheFirst) {
  temp_dir dir;
  const auto db = (dir / "q.db").string();
  auto held = db::daemon_lock::acquire(db);
  ASSERT_TRUE(held);
  auto r = daemon({"--db", db, "--config", "/dev/null", "--exit-when-idle"},
                  {"SCENARIO_API_KEY=k", "SCENARIO_API_SECRET=s"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "another soundtrackd (pid " + std::to_string(::getpid()) + ") is using")) << r.output;
}

TEST(Daemon, ADatabaseFromANewerVersionIsRefused) {
  temp_dir dir;
  const auto db = (dir / "q.db").string();
  ASSERT_EQ(run({"/usr/bin/sqlite3", db, "PRAGMA user_version = 99;"}).exit_code, 0);
  auto r = daemon({"--db", db, "--config", "/dev/null", "--exit-when-idle"},
                  {"SCENARIO_API_KEY=k", "SCENARIO_API_SECRET=s"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "schema version 99")) << r.output;
}

TEST(Daemon, ExitWhenIdleWaitsForRowsWhoseTimeHasNotComeOnlyIfDue) {
  daemon_setup stage;
  stage.open_db().exec("INSERT INTO jobs(prompt, run_after) VALUES('later', unixepoch('now', '+1 hour'))");
  auto r = stage.run_until_idle(30);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(stage.count("status = 'queued'"), "1");
}

TEST(Daemon, StopsOnSigtermAndResumesRemoteJobsWithoutResubmitting) {
  emulator_options eo;
  eo.job_duration = "3s";
  daemon_setup stage(eo);
  stage.insert_rows(20);
  auto daemon = stage.start();
  ASSERT_TRUE(wait_until([&] { return stage.count("status = 'running'") == "20"; }, 30))
      << read_file(stage.dir() / "daemon.log");
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10), 0) << read_file(stage.dir() / "daemon.log");
  EXPECT_EQ(stage.count("status = 'running' AND remote_job_id IS NOT NULL"), "20");

  auto r = stage.run_until_idle(60);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(stage.count("status = 'succeeded' AND attempts = 1"), "20");
  auto stats = stage.emulator().stats();
  EXPECT_EQ(stats.at("submits").as_int64(), 20);
  EXPECT_EQ(stats.at("duplicate_submits").as_int64(), 0);
}

TEST(Daemon, RowCancelledBySqlWhileRunningIsLeftCancelledWithAReason) {
  emulator_options eo;
  eo.job_duration = "2s";
  daemon_setup stage(eo);
  stage.insert_rows(3);
  auto daemon = stage.start();
  ASSERT_TRUE(wait_until([&] { return stage.count("status = 'running'") == "3"; }, 30));
  stage.open_db().exec("UPDATE jobs SET status = 'cancelled' WHERE id = 2");
  ASSERT_TRUE(wait_until([&] { return stage.count("status = 'succeeded'") == "2"; }, 30))
      << read_file(stage.dir() / "daemon.log");
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10), 0);
  EXPECT_EQ(stage.count("id = 2 AND status = 'cancelled' AND last_error LIKE 'cancelled outside soundtrackd while "
                        "running remote job job_%'"),
            "1");
  EXPECT_EQ(stage.count("id = 2 AND (SELECT count(*) FROM assets WHERE job_id = 2) = 0"), "1");
}

TEST(Daemon, AnUnreadableCaFileExitsTwoNamingIt) {
  temp_dir dir;
  write_file(dir / "c.toml", "[api]\nca_file = \"/nonexistent/extra-ca.pem\"\n");
  auto r = daemon({"--config", (dir / "c.toml").string(), "--db", (dir / "q.db").string(), "--exit-when-idle"},
                  {"SCENARIO_API_KEY=k", "SCENARIO_API_SECRET=s"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "/nonexistent/extra-ca.pem")) << r.output;
}

TEST(Daemon, RetryOfATimedOutRowResumesItsRemoteJobWhileRunning) {
  emulator_options eo;
  eo.job_duration = "2s";
  daemon_setup stage(eo, daemon_setup::default_queue_toml + "job_timeout = \"1500ms\"\n");
  stage.insert_rows(1);
  auto daemon = stage.start();
  ASSERT_TRUE(wait_until([&] { return stage.count("status = 'failed'") == "1"; }, 30))
      << read_file(stage.dir() / "daemon.log");
  EXPECT_EQ(stage.count("last_error LIKE '%did not finish within 1.5s (job_timeout)%'"), "1");

  auto retry = run({SOUNDTRACKCTL_BIN, "--config", "/dev/null", "--db", stage.db_path(), "retry", "1"});
  ASSERT_EQ(retry.exit_code, 0) << retry.output;
  // The remote job finishes 2 s after submit, within the fresh job_timeout the retry gives it;
  // the resumed row downloads it without a new submit.
  ASSERT_TRUE(wait_until([&] { return stage.count("status = 'succeeded'") == "1"; }, 30))
      << read_file(stage.dir() / "daemon.log");
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10), 0);
  EXPECT_EQ(stage.emulator().stats().at("submits").as_int64(), 1);
}

TEST(Daemon, AWriterHoldingTheLockForTenSecondsDelaysButLosesNothing) {
  emulator_options eo;
  eo.job_duration = "1s";
  daemon_setup stage(eo);
  stage.listen_on_any_port();
  stage.insert_rows(20);
  auto daemon = stage.start();
  ASSERT_TRUE(wait_until([&] { return stage.count("status = 'running'") != "0"; }, 20));
  const auto health = stage.status_url(20) + "/healthz";
  {
    auto holder = stage.open_db();
    holder.busy_timeout(std::chrono::seconds(5));  // the daemon writes often, briefly
    holder.exec("BEGIN IMMEDIATE");
    // The status server answers from memory: the lock does not stop it.
    for (int i = 0; i < 10; ++i) {
      auto r = run({"/usr/bin/curl", "-sS", "--max-time", "2", health});
      EXPECT_EQ(r.output, "ok\n") << "second " << i;
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    holder.exec("COMMIT");
  }
  ASSERT_TRUE(wait_until([&] { return stage.count("status = 'succeeded'") == "20"; }, 30))
      << read_file(stage.dir() / "daemon.log");
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10), 0);
  auto log = read_file(stage.dir() / "daemon.log");
  EXPECT_NE(log.find("locked by another program"), std::string::npos) << log;
  EXPECT_EQ(log.find(" error "), std::string::npos) << log;
  EXPECT_EQ(stage.emulator().stats().at("submits").as_int64(), 20);
}

TEST(Daemon, TenKillsAtRandomMomentsLoseNothing) {
  emulator_options eo;
  eo.job_duration = "500ms";
  daemon_setup stage(eo);
  stage.insert_rows(200);
  std::mt19937 random(std::random_device{}());
  int kills = 0;
  for (int i = 0; i < 10 && stage.count("status = 'succeeded'") != "200"; ++i) {
    auto daemon = stage.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(200, 1500)(random)));
    daemon->signal(SIGKILL);
    if (daemon->wait(10) == 128 + SIGKILL) ++kills;
  }
  auto r = stage.run_until_idle(120);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(stage.count("status = 'succeeded'"), "200");
  auto db = stage.open_db();
  auto integrity = db.prepare("PRAGMA integrity_check");
  ASSERT_TRUE(integrity.step());
  EXPECT_EQ(integrity.column_text(0), "ok");
  auto assets = db.prepare("SELECT count(*), count(DISTINCT job_id) FROM assets");
  ASSERT_TRUE(assets.step());
  EXPECT_EQ(assets.column_int64(0), 200);
  EXPECT_EQ(assets.column_int64(1), 200);
  // Paying twice is possible only for a row killed between its POST and storing the answer;
  // each such kill leaves one `requeued` event (a row caught submitting by two kills has two,
  // and may have been paid for three times).
  auto duplicates = stage.emulator().stats().at("duplicate_submits").as_int64();
  auto requeues = db.prepare("SELECT count(*), count(DISTINCT job_id) FROM job_events WHERE kind = 'requeued'");
  ASSERT_TRUE(requeues.step());
  std::cout << "[ kills ] " << kills << " kills, " << requeues.column_int64(1) << " rows caught submitting "
            << requeues.column_int64(0) << " times, " << duplicates << " duplicate submits\n";
  EXPECT_LE(duplicates, requeues.column_int64(0));
}

TEST(Daemon, ACancelIsNoticedWithinAScanIntervalEvenBetweenPolls) {
  // Polls 30 s apart: the cancellation must not wait for the next one.
  daemon_setup stage({}, "poll_interval = \"30s\"\npoll_interval_max = \"30s\"\nscan_interval = \"100ms\"\n");
  stage.insert_rows(1);
  auto daemon = stage.start();
  ASSERT_TRUE(wait_until([&] { return stage.count("status = 'running'") == "1"; }, 20));
  stage.open_db().exec("UPDATE jobs SET status = 'cancelled'");
  EXPECT_TRUE(wait_until(
      [&] { return stage.count("last_error LIKE 'cancelled outside soundtrackd while running %'") == "1"; }, 3))
      << read_file(stage.dir() / "daemon.log");
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10), 0);
  EXPECT_EQ(stage.count("status = 'cancelled'"), "1");
}

// Rows another program inserts wake an idle daemon through the WAL file (inotify, confirmed
// with data_version), not through the timed scan: with scan_interval at an hour, each of
// several sqlite3 inserts, spaced so each finds the daemon idle, is still submitted.
TEST(Daemon, RowsInsertedByAnotherProgramWakeAnIdleDaemonWithoutWaitingForTheScan) {
  daemon_setup stage({}, "scan_interval = \"1h\"\n");
  auto daemon = stage.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // started, scanned once, idle
  for (int i = 1; i <= 5; ++i) {
    auto inserted = run({"sqlite3", "-cmd", ".timeout 5000", stage.db_path(),
                         "INSERT INTO jobs(prompt) VALUES('woken " + std::to_string(i) + "')"});
    ASSERT_EQ(inserted.exit_code, 0) << inserted.output;
    EXPECT_TRUE(wait_until([&] { return stage.count("submitted_at IS NOT NULL") == std::to_string(i); }, 10))
        << "insert " << i << " was not noticed\n"
        << read_file(stage.dir() / "daemon.log");
  }
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10), 0);
}

TEST(Daemon, StatusServerAnswersHealthAndMetricsAndLogsItsAddress) {
  daemon_setup stage;
  stage.listen_on_any_port();
  stage.insert_rows(3);
  auto daemon = stage.start();
  const auto base = stage.status_url(20);
  ASSERT_TRUE(wait_until([&] { return stage.count("status = 'succeeded'") == "3"; }, 30));
  EXPECT_EQ(run({"/usr/bin/curl", "-sS", base + "/healthz"}).output, "ok\n");
  auto metrics = run({"/usr/bin/curl", "-sS", base + "/metrics"}).output;
  EXPECT_NE(metrics.find("soundtrackd_jobs_succeeded_total 3\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("soundtrackd_ambiguous_resubmits_total 0\n"), std::string::npos) << metrics;
  EXPECT_EQ(run({"/usr/bin/curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", base + "/nope"}).output, "404");
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10), 0);
}
