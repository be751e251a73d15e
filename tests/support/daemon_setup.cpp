// The stage the daemon's integration tests share.
#include "daemon_setup.hpp"

#include "soundtrackd/db/queue_database.hpp"

namespace soundtrackd::test {

daemon_setup::daemon_setup(emulator_options emulator, std::string queue_toml)
    : ca_(make_test_ca(dir_.path())), db_path_((dir_ / "queue.db").string()) {
  emulator.tls = true;
  if (emulator.cert_file.empty()) {  // a test may bring its own (bad) certificate
    emulator.cert_file = ca_.cert_file;
    emulator.key_file = ca_.key_file;
  }
  emulator.ca_file = ca_.ca_file;
  emulator.extra_args.push_back("--quiet");
  emulator_ = std::make_unique<emulator_process>(std::move(emulator));
  std::filesystem::create_directory(output_dir());
  db::open_queue_database(db_path_);
  write_file(config_path(), "[database]\npath = \"" + db_path_ +
                                "\"\n"
                                "[api]\nbase_url = \"" +
                                emulator_->base_url() + "\"\nca_file = \"" + ca_.ca_file.string() +
                                "\"\n"
                                "max_requests_per_second = 1000\nmax_connections = 8\nrequest_timeout = \"10s\"\n"
                                "[queue]\n" +
                                queue_toml + "[storage]\noutput_dir = \"" + output_dir().string() +
                                "\"\n"
                                "[server]\nlisten = \"\"\n");
}

std::vector<std::string> daemon_setup::credentials_env() const {
  return {"SCENARIO_API_KEY=" + emulator_->options().api_key, "SCENARIO_API_SECRET=" + emulator_->options().api_secret};
}

db::database daemon_setup::open_db() const { return db::database(db_path_); }

void daemon_setup::insert_rows(int count, const std::string& prompt_prefix) {
  auto db = open_db();
  db.exec("BEGIN");
  auto insert = db.prepare("INSERT INTO jobs(prompt, name) VALUES(?, ?)");
  for (int i = 0; i < count; ++i) {
    insert.bind_all(prompt_prefix + " " + std::to_string(i), "Track " + std::to_string(i));
    insert.step();
    insert.reset();
  }
  db.exec("COMMIT");
}

command_result daemon_setup::run_until_idle(int timeout_seconds) const {
  return run({"/usr/bin/timeout", std::to_string(timeout_seconds), SOUNDTRACKD_BIN, "--config", config_path(),
              "--exit-when-idle"},
             credentials_env());
}

std::unique_ptr<background_process> daemon_setup::start(const std::vector<std::string>& extra_env) const {
  auto env = credentials_env();
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  return std::make_unique<background_process>(std::vector<std::string>{SOUNDTRACKD_BIN, "--config", config_path()}, env,
                                              dir_ / "daemon.log");
}

std::string daemon_setup::count(const std::string& where_sql) const {
  auto db = open_db();
  auto q = db.prepare("SELECT count(*) FROM jobs WHERE " + where_sql);
  q.step();
  return std::to_string(q.column_int64(0));
}

}  // namespace soundtrackd::test

namespace soundtrackd::test {

void daemon_setup::listen_on_any_port() {
  auto config = read_file(config_path());
  config.replace(config.find("listen = \"\""), 11, "listen = \"127.0.0.1:0\"");
  write_file(config_path(), config);
}

std::string daemon_setup::status_url(double timeout_seconds) const {
  const std::string marker = "status server listening on ";
  std::string url;
  wait_until(
      [&] {
        auto log = read_file(dir_ / "daemon.log");
        auto at = log.find(marker);
        if (at == std::string::npos) return false;
        url = log.substr(at + marker.size(), log.find('\n', at) - at - marker.size());
        return true;
      },
      timeout_seconds);
  if (url.empty()) throw std::runtime_error("the daemon did not log its status server address");
  return url;
}

}  // namespace soundtrackd::test
