// soundtrackctl: the command line (CLI11), config and database opening, dispatch and exit codes.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>

#include "commands.hpp"
#include "soundtrackd/config/config.hpp"
#include "soundtrackd/db/migrations.hpp"
#include "soundtrackd/db/queue_database.hpp"
#include "soundtrackd/util/log.hpp"
#include "time_text.hpp"

using namespace soundtrackd;
using namespace soundtrackd::ctl;

namespace {

struct global_options {
  std::string config_path;  // empty: the default path, where a missing file means defaults
  std::string db_path;      // empty: database.path from the config
};

// A subcommand and what runs when it was given. migrate is not one of these: it opens the
// database without migrating first.
struct command {
  CLI::App* app;
  std::function<int(db::queue_admin&)> run;
};

std::vector<std::string> status_names() {
  std::vector<std::string> names;
  for (auto s :
       {db::job_status::queued, db::job_status::submitting, db::job_status::running, db::job_status::downloading,
        db::job_status::succeeded, db::job_status::failed, db::job_status::cancelled})
    names.emplace_back(db::to_string(s));
  return names;
}

CLI::App* add_enqueue(CLI::App& app, enqueue_options& o) {
  auto* cmd = app.add_subcommand("enqueue", "Add a request to the queue and print its id");
  auto& r = o.request;
  cmd->add_option("--prompt", r.prompt, "Style prompt, 1 to 2000 characters")->required();
  auto* lyrics = cmd->add_option("--lyrics", r.lyrics,
                                 "Lyrics, at most 3500 characters (line breaks: --lyrics-file or $'...' quoting)");
  cmd->add_option("--lyrics-file", o.lyrics_file, "Read the lyrics from this file")
      ->check(CLI::ExistingFile)
      ->excludes(lyrics);
  cmd->add_flag("--instrumental", r.is_instrumental, "Generate without vocals");
  cmd->add_flag("--lyrics-optimizer", r.lyrics_optimizer, "Let the model rework the lyrics");
  cmd->add_option("--sample-rate", r.sample_rate, "Sample rate in Hz")->capture_default_str();
  cmd->add_option("--bitrate", r.bitrate, "Bitrate in bit/s")->capture_default_str();
  cmd->add_option("--priority", r.priority, "Higher runs first")->capture_default_str();
  cmd->add_option("--batch", r.batch, "Label grouping a bulk run");
  cmd->add_option("--name", r.name, "Title, used for exported file names");
  // Parsed while the command line is, so a bad time is a usage error caught before the
  // database is opened.
  cmd->add_option_function<std::string>(
      "--run-after",
      [&r](const std::string& text) {
        auto at = parse_time_argument(text, now_epoch());
        if (!at) throw CLI::ValidationError("--run-after", at.error_message());
        r.run_after = *at;
      },
      "Not before this time: epoch seconds, +10m (from now) or 2026-01-01T08:00:00Z");
  cmd->add_option("--max-attempts", r.max_attempts, "Failures of one step before the row fails (default: config)");
  return cmd;
}

CLI::App* add_import(CLI::App& app, import_options& o) {
  auto* cmd = app.add_subcommand("import", "Add many requests from a JSON Lines or CSV file, all or none");
  cmd->footer(
      "JSON Lines: one object per line, keys are the column names (prompt, lyrics, is_instrumental, "
      "lyrics_optimizer, sample_rate, bitrate, priority, batch, name, run_after, max_attempts); only "
      "prompt is required. CSV: a header row of those names, then one row per request; an empty cell "
      "is the column default. The format comes from the extension (.jsonl, .ndjson, .json, .csv) or "
      "--format; standard input without --format is JSON Lines when it starts with '{', else CSV. "
      "One transaction: a bad line (named with its number and field) leaves the queue unchanged. "
      "The import holds the write lock while it reads, so the daemon waits for it.");
  cmd->add_option("file", o.path, "The file, or - for standard input")->required();
  cmd->add_option("--format", o.format, "jsonl or csv (default: from the file name)")
      ->check(CLI::IsMember({"jsonl", "csv"}));
  cmd->add_option("--batch", o.batch, "Put every request into this batch (replaces the file's batch)");
  cmd->add_flag("--json", o.json, "JSON output: count, first_id, last_id");
  return cmd;
}

CLI::App* add_status(CLI::App& app, status_options& o) {
  auto* cmd = app.add_subcommand("status", "Rows by status, progress, rate and ETA");
  cmd->add_option("--batch", o.batch, "Only this batch");
  cmd->add_flag("--json", o.json, "JSON output");
  return cmd;
}

CLI::App* add_list(CLI::App& app, list_options& o) {
  auto* cmd = app.add_subcommand("list", "Rows, newest first");
  cmd->add_option("--status", o.statuses, "Only rows in this status (repeatable)")
      ->check(CLI::IsMember(status_names()));
  cmd->add_option("--batch", o.batch, "Only this batch");
  cmd->add_option("--limit", o.limit, "At most this many rows")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--offset", o.offset, "Skip this many rows")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", o.json, "JSON output: an array of objects keyed by column name");
  return cmd;
}

CLI::App* add_show(CLI::App& app, show_options& o) {
  auto* cmd = app.add_subcommand("show", "Every column of one row, its assets and its events");
  cmd->add_option("id", o.id, "Job id")->required();
  cmd->add_flag("--json", o.json, "JSON output");
  return cmd;
}

CLI::App* add_cancel(CLI::App& app, cancel_options& o) {
  auto* cmd = app.add_subcommand("cancel", "Cancel queued or in-flight rows");
  cmd->footer(
      "The API cannot stop a generation: a remote job already submitted may still finish and be "
      "billed. Exits 1 when an id is not found or its row already succeeded or failed.");
  auto* target = cmd->add_option_group("target", "The rows to cancel");
  target->add_option("ids", o.ids, "Job ids");
  target->add_option("--batch", o.batch, "Every cancellable row of this batch");
  target->require_option(1);
  return cmd;
}

CLI::App* add_retry(CLI::App& app, retry_options& o) {
  auto* cmd = app.add_subcommand("retry", "Retry failed or cancelled rows");
  cmd->footer(
      "A row whose remote job may still have produced audio (a timeout, a failed download, a "
      "cancel) is set back to running with its remote job id; soundtrackd resumes running rows "
      "when it starts, so restart it to resume them now. Any other row (its remote job failed, or "
      "it never got one) is queued for a new submit: a new generate call, billed again.");
  auto* target = cmd->add_option_group("target", "The rows to retry");
  target->add_option("ids", o.ids, "Job ids");
  auto* failed = target->add_flag("--failed", o.all_failed, "Every failed row");
  target->require_option(1);
  cmd->add_option("--batch", o.batch, "With --failed: only this batch")->needs(failed);
  return cmd;
}

CLI::App* add_export(CLI::App& app, export_options& o) {
  auto* cmd = app.add_subcommand("export", "Write the audio of succeeded rows into a directory");
  cmd->footer(
      "Files are named <name or \"job\">-<id>[-<n>].<ext>; a file already there with the same "
      "content is skipped.");
  cmd->add_option("--dir", o.dir, "Directory (created if missing)")->required();
  cmd->add_option("--batch", o.batch, "Only this batch");
  cmd->add_flag("--json", o.json, "JSON output");
  return cmd;
}

// A duration option ("1s", "30d") parsed while the command line is, so a bad one is a usage error.
CLI::Option* add_duration_option(CLI::App* cmd, const std::string& name, duration& target, const std::string& help) {
  return cmd->add_option_function<std::string>(
      name,
      [name, &target](const std::string& text) {
        auto d = config::parse_duration(text);
        if (!d) throw CLI::ValidationError(name, d.error_message());
        if (d->count() <= 0) throw CLI::ValidationError(name, "must be more than 0");
        target = *d;
      },
      help);
}

CLI::App* add_watch(CLI::App& app, watch_options& o) {
  auto* cmd = app.add_subcommand("watch", "Show progress (counts, rate, ETA) until nothing is left to do");
  cmd->footer(
      "On a terminal one progress bar is redrawn in place; otherwise one line is printed whenever the "
      "counts change. Returns when no row (of the batch) is queued, submitting, running or "
      "downloading: exit 0 when none failed, 1 when some failed (list them with list --status "
      "failed) or when there are no rows at all (a mistyped batch).");
  cmd->add_option("--batch", o.batch, "Only this batch");
  add_duration_option(cmd, "--interval", o.interval, "How often to look (default 1s)");
  return cmd;
}

CLI::App* add_prune(CLI::App& app, prune_options& o) {
  auto* cmd = app.add_subcommand("prune", "Delete old finished rows and reclaim their space");
  cmd->footer(
      "Finished rows (succeeded, failed, cancelled) that finished longer ago than --older-than are "
      "deleted with their events and stored audio: export the audio first. With --keep-audio, "
      "succeeded rows and their audio stay and only their event timeline goes; failed and cancelled "
      "rows are deleted. Then VACUUM rewrites the file to give the space back to the file system: it "
      "holds the write lock meanwhile (soundtrackd's writes wait and are retried) and needs free disk "
      "space as large as the database. With --no-vacuum the freed pages are only reused by later rows.");
  add_duration_option(cmd, "--older-than", o.older_than, "Age, e.g. 30d, 12h")->required();
  cmd->add_flag("--keep-audio", o.keep_audio, "Keep succeeded rows and their audio; drop only their events");
  cmd->add_option("--batch", o.batch, "Only this batch");
  cmd->add_flag("--no-vacuum", o.no_vacuum, "Do not VACUUM afterwards");
  cmd->add_flag("--json", o.json, "JSON output");
  return cmd;
}

CLI::App* add_backup(CLI::App& app, backup_options& o) {
  auto* cmd = app.add_subcommand("backup", "Write a consistent copy of the database, while soundtrackd runs");
  cmd->footer(
      "VACUUM INTO: the copy is one snapshot, read in one read transaction, so soundtrackd keeps "
      "writing meanwhile (WAL mode). It is written beside FILE as FILE.partial, checked with PRAGMA "
      "integrity_check, then renamed to FILE.");
  cmd->add_option("file", o.path, "Where to write the copy")->required();
  cmd->add_flag("--force", o.force, "Replace FILE when it exists");
  cmd->add_flag("--json", o.json, "JSON output");
  return cmd;
}

CLI::App* add_estimate(CLI::App& app, estimate_options& o) {
  auto* cmd = app.add_subcommand("estimate", "Ask the API what the queued rows would cost (dry run), summed");
  cmd->footer(
      "One POST ...?dryRun=true per queued row, spaced to api.max_requests_per_second (so 1000 rows "
      "take 200 s at the default 5/s); nothing is generated or billed. Needs the credentials "
      "soundtrackd uses ($CREDENTIALS_DIRECTORY/scenario_api_key and scenario_api_secret, or "
      "SCENARIO_API_KEY and SCENARIO_API_SECRET) and the config's [api] base_url and ca_file. "
      "Exit 1 when credentials are missing, the API refuses them, or a row could not be priced.");
  cmd->add_option("--batch", o.batch, "Only this batch");
  cmd->add_option("--concurrency", o.concurrency, "Requests in flight at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_flag("--json", o.json, "JSON output");
  return cmd;
}

}  // namespace

int main(int argc, char** argv) {
  // Operators in the service's group share the database, its WAL and SHM files.
  ::umask(0007);

  CLI::App app{"Works on the soundtrackd queue database, whether or not the daemon runs.", "soundtrackctl"};
  // Global options are accepted after the subcommand too (fallthrough, inherited by every
  // subcommand added below).
  app.fallthrough();
  app.require_subcommand(1);
  global_options global;
  app.add_option("--config", global.config_path,
                 std::string("Config file (default ") + config::default_config_path + ")");
  app.add_option("--db", global.db_path, "Queue database (overrides database.path)");

  auto* migrate = app.add_subcommand("migrate", "Apply pending schema migrations and print the version");
  enqueue_options enqueue;
  import_options import_file;
  status_options status;
  list_options list;
  show_options show;
  cancel_options cancel;
  retry_options retry;
  export_options export_files;
  watch_options watch;
  prune_options prune;
  backup_options backup;
  estimate_options estimate;
  config::config cfg;  // loaded after parsing; estimate reads its [api] section
  const std::vector<command> commands{
      {add_enqueue(app, enqueue), [&](db::queue_admin& admin) { return run_enqueue(admin, enqueue); }},
      {add_import(app, import_file), [&](db::queue_admin& admin) { return run_import(admin, import_file); }},
      {add_status(app, status), [&](db::queue_admin& admin) { return run_status(admin, status); }},
      {add_list(app, list), [&](db::queue_admin& admin) { return run_list(admin, list); }},
      {add_show(app, show), [&](db::queue_admin& admin) { return run_show(admin, show); }},
      {add_cancel(app, cancel), [&](db::queue_admin& admin) { return run_cancel(admin, cancel); }},
      {add_retry(app, retry), [&](db::queue_admin& admin) { return run_retry(admin, retry); }},
      {add_export(app, export_files), [&](db::queue_admin& admin) { return run_export(admin, export_files); }},
      {add_watch(app, watch), [&](db::queue_admin& admin) { return run_watch(admin, watch); }},
      {add_prune(app, prune), [&](db::queue_admin& admin) { return run_prune(admin, prune); }},
      {add_backup(app, backup), [&](db::queue_admin& admin) { return run_backup(admin, backup); }},
      {add_estimate(app, estimate), [&](db::queue_admin& admin) { return run_estimate(admin, estimate, cfg); }},
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints and succeeds; every other parse error is a usage error.
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  }

  auto loaded = config::load_config(global.config_path);
  if (!loaded) {
    std::cerr << "soundtrackctl: " << loaded.error_message() << '\n';
    return exit_usage;
  }
  cfg = loaded->values;
  if (!global.db_path.empty()) cfg.database.path = global.db_path;
  // SQLite's own diagnostics go through the default logger: to stderr, never into the output.
  spdlog::set_default_logger(make_logger(cfg.log, "soundtrackctl"));

  try {
    if (migrate->parsed()) return run_migrate(cfg.database.path);
    auto database = db::open_queue_database(cfg.database.path);
    db::queue_admin admin(database);
    for (const auto& c : commands)
      if (c.app->parsed()) return c.run(admin);
    return exit_usage;  // unreachable: require_subcommand(1)
  } catch (const db::schema_too_new& e) {
    std::cerr << "soundtrackctl: " << e.what() << '\n';
    return exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "soundtrackctl: " << e.what() << '\n';
    return exit_failure;
  }
}
