// soundtrackd: the daemon. Parses the command line, loads config and credentials, opens the
// queue, then runs the scheduler on one io_context until a signal or (optionally) idle.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "soundtrackd/config/config.hpp"
#include "soundtrackd/config/credentials.hpp"
#include "soundtrackd/db/daemon_lock.hpp"
#include "soundtrackd/db/migrations.hpp"
#include "soundtrackd/db/queue_database.hpp"
#include "soundtrackd/db/sqlite_job_store.hpp"
#include "soundtrackd/db/store_thread.hpp"
#include "soundtrackd/http/client.hpp"
#include "soundtrackd/http/dashboard.hpp"
#include "soundtrackd/http/status_server.hpp"
#include "soundtrackd/http/url.hpp"
#include "soundtrackd/queue/job_api.hpp"
#include "soundtrackd/queue/scheduler.hpp"
#include "soundtrackd/scenario/api_client.hpp"
#include "soundtrackd/util/log.hpp"
#include "soundtrackd/util/systemd_notify.hpp"

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace soundtrackd;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;  // bad usage, config, schema or lock: restarting will not help

struct options {
  std::string config_path;
  std::string db_path;
  std::string log_level;
  bool exit_when_idle = false;
  bool check_config = false;
};

// The status server's bearer token: the file's first line. Never logged.
std::string read_token(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token)) throw std::runtime_error("cannot read server.token_file " + path);
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) throw std::runtime_error("server.token_file " + path + " is empty");
  return token;
}

// Staging files live beside the database, on the same file system, group-writable.
std::string staging_dir_for(const std::string& db_path) {
  fs::path p(db_path);
  return (p.parent_path() / (p.filename().string() + ".staging")).string();
}

// STATUS= as `systemctl status` shows it: "running 12, queued 340, succeeded 1021, failed 3",
// with the reason first while the queue is paused. "running" counts every row in flight
// (submitting, running, downloading).
std::string service_status_line(const db::status_counts& counts, const std::string& paused_reason) {
  auto of = [&](db::job_status s) {
    auto it = counts.by_status.find(s);
    return it == counts.by_status.end() ? std::int64_t{0} : it->second;
  };
  const auto in_flight = of(db::job_status::submitting) + of(db::job_status::running) + of(db::job_status::downloading);
  std::string line = "running " + std::to_string(in_flight) + ", queued " + std::to_string(of(db::job_status::queued)) +
                     ", succeeded " + std::to_string(of(db::job_status::succeeded)) + ", failed " +
                     std::to_string(of(db::job_status::failed));
  if (!paused_reason.empty()) line = "paused: " + paused_reason + "; " + line;
  return line;
}

// Counts the rows on the store thread (never on the loop) and sends STATUS=.
asio::awaitable<void> notify_status(db::store_thread& store, const queue::scheduler& s) {
  auto count_rows = [](db::job_store& st) { return st.counts(); };
  auto counts = co_await store.run(count_rows);
  auto line = service_status_line(counts, s.stats().paused_reason);
  notify_systemd("STATUS=" + line);
}

int run_daemon(const options& opt) {
  auto loaded = config::load_config(opt.config_path);
  if (!loaded) {
    std::cerr << "soundtrackd: " << loaded.error_message() << "\n";
    return exit_usage;
  }
  auto cfg = loaded->values;
  if (!opt.db_path.empty()) cfg.database.path = opt.db_path;
  if (!opt.log_level.empty()) cfg.log.level = opt.log_level;
  auto log = make_logger(cfg.log, "soundtrackd");

  auto creds = config::find_credentials();
  if (opt.check_config) {
    std::cout << "config OK (" << loaded->source << ")\n"
              << (creds ? "credentials: " + creds->source : config::missing_credentials_message()) << "\n";
    if (creds)
      for (const auto& warning : creds->warnings) std::cout << "warning: " << warning << "\n";
    return exit_ok;
  }
  if (!creds) {
    log->critical("{}", config::missing_credentials_message());
    return exit_usage;
  }
  log->info("soundtrackd {} starting; config from {}; credentials from {}", SOUNDTRACKD_VERSION, loaded->source,
            creds->source);
  for (const auto& warning : creds->warnings) log->warn("{}", warning);

  ::umask(0007);  // operators in the service's group share the database files
  auto lock = db::daemon_lock::acquire(cfg.database.path);
  if (!lock) {
    log->critical("{}", lock.error_message());
    return exit_usage;
  }
  std::unique_ptr<db::database> database;
  try {
    database = std::make_unique<db::database>(db::open_queue_database(cfg.database.path, {.cache_size_kib = 512}));
  } catch (const db::schema_too_new& e) {
    log->critical("{}", e.what());
    return exit_usage;
  } catch (const std::exception& e) {
    log->critical("cannot open the queue database {}: {}", cfg.database.path, e.what());
    return exit_usage;
  }
  // Declared before the store thread, so the thread is joined (and its last answer posted)
  // while the io_context still exists. Concurrency hint 1: only this thread runs it, so Asio
  // queues handlers posted from handlers thread-locally (other threads may still post; the
  // store thread does). Scenario 1, six paired runs: 0.91 -> 0.88 ms CPU per job.
  asio::io_context io{1};
  db::sqlite_job_store store(*database);
  db::store_thread store_thread(store, log);

  http::client_options http_options;
  http_options.user_agent = std::string("soundtrackd/") + SOUNDTRACKD_VERSION;
  http_options.ca_file = cfg.api.ca_file;
  http_options.connect_timeout = cfg.api.connect_timeout;
  http_options.max_connections_per_host = cfg.api.max_connections;
  http_options.authorization = config::basic_authorization(*creds);
  // The only origin that ever sees the credentials.
  auto api_origin = http::parse_url(cfg.api.base_url);
  if (!api_origin) {
    log->critical("api.base_url: {}", api_origin.error_message());
    return exit_usage;
  }
  http_options.authorization_origin = api_origin->origin();
  std::unique_ptr<http::client> http_client;
  try {
    http_client = std::make_unique<http::client>(io.get_executor(), http_options);
  } catch (const std::exception& e) {
    log->critical("{}", e.what());  // an unreadable api.ca_file or a bad HTTPS_PROXY
    return exit_usage;
  }
  auto& http = *http_client;
  scenario::api_client api(
      http, {cfg.api.base_url, cfg.api.model, cfg.api.project_id, cfg.api.request_timeout, cfg.api.download_timeout});
  queue::scheduler scheduler(
      io.get_executor(), store_thread, api,
      {cfg.queue, cfg.storage, cfg.api.max_requests_per_second, staging_dir_for(cfg.database.path), opt.exit_when_idle,
       cfg.database.path, 2 * cfg.api.max_connections},
      log, [&] {
        // Under LoadCredential= the files are copied at start: a changed
        // credential there needs a restart (README).
        if (auto fresh = config::find_credentials()) http.set_authorization(config::basic_authorization(*fresh));
      });

  // The HTTP API reads and writes on connections and threads of its own (queue/job_api.hpp).
  std::unique_ptr<queue::api_connection> api_reads_db, api_writes_db;
  std::unique_ptr<queue::api_thread> api_reads, api_writes;
  std::unique_ptr<queue::job_api> api_routes;
  std::unique_ptr<http::status_server> server;
  if (!cfg.server.listen.empty()) {
    try {
      const db::queue_database_options api_db_options{.migrate = false};
      api_reads_db =
          std::make_unique<queue::api_connection>(db::open_queue_database(cfg.database.path, api_db_options));
      api_writes_db =
          std::make_unique<queue::api_connection>(db::open_queue_database(cfg.database.path, api_db_options));
      api_writes_db->db.busy_poll(std::chrono::seconds(10));  // inserts must not starve beside the scheduler's commits
      api_reads = std::make_unique<queue::api_thread>(*api_reads_db, log);
      api_writes = std::make_unique<queue::api_thread>(*api_writes_db, log);
      api_routes = std::make_unique<queue::job_api>(
          io.get_executor(), *api_reads, *api_writes, [&scheduler] { return scheduler.stats(); }, log);
      auto routes = std::make_shared<http::router>();
      api_routes->add_routes(*routes);
      http::add_dashboard_routes(*routes);
      const http::server_limits limits{.read_timeout = cfg.server.read_timeout,
                                       .idle_timeout = cfg.server.idle_timeout,
                                       .max_connections = static_cast<std::size_t>(cfg.server.max_connections)};
      server = std::make_unique<http::status_server>(io.get_executor(), cfg.server.listen,
                                                     read_token(cfg.server.token_file), routes, limits, log);
    } catch (const std::exception& e) {
      log->critical("{}", e.what());
      return exit_usage;
    }
    server->start();
    log->info("status server listening on {}", server->address());
  }

  asio::signal_set stop_signals(io, SIGTERM, SIGINT);
  asio::steady_timer grace(io);
  std::function<void()> on_stop_signal = [&] {
    stop_signals.async_wait([&](auto ec, int signal) {
      if (ec) return;
      log->info("signal {}: stopping; running remote jobs resume on the next start", signal);
      notify_systemd("STOPPING=1");
      scheduler.stop();
      http.close_idle();
      grace.expires_after(cfg.queue.shutdown_grace);
      grace.async_wait([&](auto ec2) {
        if (ec2) return;
        log->warn("shutdown_grace ({}) is over: exiting with steps still running; they resume on the next start",
                  format_duration(cfg.queue.shutdown_grace));
        io.stop();
      });
      on_stop_signal();  // a second signal is harmless
    });
  };
  on_stop_signal();

  asio::signal_set reload_signal(io, SIGHUP);
  std::function<void()> on_reload = [&] {
    reload_signal.async_wait([&](auto ec, int) {
      if (ec) return;
      notify_systemd("RELOADING=1");
      auto fresh = config::load_config(opt.config_path);
      if (!fresh)
        log->error("reload: {}; keeping the running configuration", fresh.error_message());
      else
        log->info("reload: configuration from {} is valid; settings other than log.level apply after a restart",
                  fresh->source);
      if (fresh && opt.log_level.empty()) log->set_level(spdlog::level::from_str(fresh->values.log.level));
      notify_systemd("READY=1");
      on_reload();
    });
  };
  on_reload();

  // Watchdog and STATUS= from the event loop itself: a stuck loop stops the pings.
  asio::steady_timer heartbeat(io);
  const auto watchdog = systemd_watchdog_interval();
  bool status_in_progress = false;
  const auto beat = watchdog ? *watchdog / 3 : std::chrono::microseconds(5'000'000);
  std::function<void()> on_beat = [&] {
    heartbeat.expires_after(std::min<std::chrono::microseconds>(beat, std::chrono::seconds(5)));
    heartbeat.async_wait([&](auto ec) {
      if (ec) return;
      if (watchdog) notify_systemd("WATCHDOG=1");
      if (!status_in_progress) {  // a database locked by another program must not pile up queries
        status_in_progress = true;
        asio::co_spawn(io, notify_status(store_thread, scheduler), [&](std::exception_ptr e) {
          status_in_progress = false;
          if (e) log->debug("STATUS= not updated: the row counts could not be read");
        });
      }
      on_beat();
    });
  };
  on_beat();

  int exit_code = exit_ok;
  asio::co_spawn(io, scheduler.run(), [&](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log->critical("scheduler stopped: {}", ex.what());
        exit_code = exit_failure;
      }
    }
    if (server) server->stop();
    stop_signals.cancel();
    reload_signal.cancel();
    heartbeat.cancel();
    grace.cancel();
    http.close_idle();
    io.stop();  // everything is persisted; idle keep-alive clients of the status server need not be waited for
  });
  notify_systemd("READY=1");
  log->info("processing queue {} (max_running {}, {} requests/s)", cfg.database.path, cfg.queue.max_running,
            cfg.api.max_requests_per_second);

  io.run();
  auto st = scheduler.stats();
  log->info("stopped: {} submitted, {} succeeded, {} failed this run", st.submitted, st.succeeded, st.failed);
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"soundtrackd: turns queued music requests in SQLite into stored audio via Scenario's API"};
  options opt;
  app.add_option("--config", opt.config_path, "config file (default /etc/soundtrackd/soundtrackd.toml)");
  app.add_option("--db", opt.db_path, "queue database (overrides database.path)");
  app.add_option("--log-level", opt.log_level, "trace, debug, info, warn, error, critical or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_flag("--exit-when-idle", opt.exit_when_idle, "exit 0 once nothing is queued, due or in flight");
  app.add_flag("--check-config", opt.check_config, "validate the config, report credentials, and exit");
  app.set_version_flag("--version", std::string("soundtrackd ") + SOUNDTRACKD_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? exit_ok : exit_usage;
  }
  try {
    return run_daemon(opt);
  } catch (const std::exception& e) {
    std::cerr << "soundtrackd: " << e.what() << "\n";
    return exit_failure;
  }
}
