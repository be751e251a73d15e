// A ready stage for running the real soundtrackd: a temp dir, a test CA, the emulator over
// HTTPS, a migrated queue database and a config file pointing at them.
#pragma once

#include <string>
#include <vector>

#include "emulator_process.hpp"
#include "soundtrackd/db/database.hpp"
#include "test_support.hpp"

namespace soundtrackd::test {

class daemon_setup {
 public:
  // `queue_toml` replaces the [queue] section's body (fast polls by default).
  explicit daemon_setup(emulator_options emulator = {}, std::string queue_toml = default_queue_toml);

  static inline const std::string default_queue_toml =
      "max_running = 50\npoll_interval = \"200ms\"\npoll_interval_max = \"1s\"\n"
      "retry_backoff = \"100ms\"\nretry_backoff_max = \"1s\"\nscan_interval = \"100ms\"\n"
      "shutdown_grace = \"5s\"\n";

  const temp_dir& dir() const { return dir_; }
  const std::string& db_path() const { return db_path_; }
  std::string config_path() const { return (dir_ / "soundtrackd.toml").string(); }
  std::filesystem::path output_dir() const { return dir_ / "out"; }
  emulator_process& emulator() { return *emulator_; }
  // SCENARIO_API_KEY/SECRET matching the emulator.
  std::vector<std::string> credentials_env() const;

  db::database open_db() const;
  void insert_rows(int count, const std::string& prompt_prefix = "track");
  // soundtrackd --config ... --exit-when-idle, bounded by `timeout_seconds`.
  command_result run_until_idle(int timeout_seconds = 120) const;
  // soundtrackd in the background (no --exit-when-idle); output in dir/daemon.log.
  // `extra_env` entries ("NAME=value") are added to (or replace) the credentials' ones.
  std::unique_ptr<background_process> start(const std::vector<std::string>& extra_env = {}) const;
  std::string count(const std::string& where_sql) const;  // SELECT count(*) FROM jobs WHERE ...
  // Turns the status server on (127.0.0.1, any port); status_url() then reads the address
  // the started daemon logs, waiting up to `timeout_seconds`.
  void listen_on_any_port();
  std::string status_url(double timeout_seconds) const;

 private:
  temp_dir dir_;
  test_ca ca_;
  std::unique_ptr<emulator_process> emulator_;
  std::string db_path_;
};

}  // namespace soundtrackd::test
