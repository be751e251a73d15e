// The soundtrackctl commands: parsed options in, text or JSON on stdout, an exit code out.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "soundtrackd/util/time.hpp"

#include "soundtrackd/config/config.hpp"
#include "soundtrackd/db/queue_admin.hpp"

namespace soundtrackd::ctl {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;  // the command failed: an id not found, a refused change, a DB error
inline constexpr int exit_usage = 2;    // bad options or values, bad config, a schema newer than this binary

struct enqueue_options {
  db::job_request request;                 // bound to the options directly
  std::optional<std::string> lyrics_file;  // read into request.lyrics when the command runs
};

struct import_options {
  std::string path;                   // "-": standard input
  std::optional<std::string> format;  // "jsonl" or "csv"; validated by the parser
  std::optional<std::string> batch;   // replaces every request's batch
  bool json = false;
};

struct status_options {
  std::optional<std::string> batch;
  bool json = false;
};

struct list_options {
  std::vector<std::string> statuses;  // validated names
  std::optional<std::string> batch;
  std::int64_t limit = 50;
  std::int64_t offset = 0;
  bool json = false;
};

struct show_options {
  std::int64_t id = 0;
  bool json = false;
};

struct cancel_options {
  std::vector<std::int64_t> ids;
  std::optional<std::string> batch;
};

struct retry_options {
  std::vector<std::int64_t> ids;
  bool all_failed = false;
  std::optional<std::string> batch;  // with all_failed only
};

struct export_options {
  std::string dir;
  std::optional<std::string> batch;
  bool json = false;
};

struct watch_options {
  std::optional<std::string> batch;
  duration interval = std::chrono::seconds(1);
};

struct prune_options {
  duration older_than{};
  bool keep_audio = false;
  std::optional<std::string> batch;
  bool no_vacuum = false;
  bool json = false;
};

struct backup_options {
  std::string path;
  bool force = false;
  bool json = false;
};

struct estimate_options {
  std::optional<std::string> batch;
  int concurrency = 4;
  bool json = false;
};

// Opens the database without migrating, applies what is pending and reports the version.
int run_migrate(const std::string& db_path);
int run_enqueue(db::queue_admin& admin, const enqueue_options& options);
int run_import(db::queue_admin& admin, const import_options& options);
int run_status(db::queue_admin& admin, const status_options& options);
int run_list(db::queue_admin& admin, const list_options& options);
int run_show(db::queue_admin& admin, const show_options& options);
int run_cancel(db::queue_admin& admin, const cancel_options& options);
int run_retry(db::queue_admin& admin, const retry_options& options);
int run_export(db::queue_admin& admin, const export_options& options);
int run_watch(db::queue_admin& admin, const watch_options& options);
int run_prune(db::queue_admin& admin, const prune_options& options);
int run_backup(db::queue_admin& admin, const backup_options& options);
// Needs the [api] settings and the credentials, found as soundtrackd finds them.
int run_estimate(db::queue_admin& admin, const estimate_options& options, const config::config& cfg);

}  // namespace soundtrackd::ctl
