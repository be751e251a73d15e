// Opening the queue database: the connection settings every program needs, then migrations.
#include "soundtrackd/db/queue_database.hpp"

#include <sqlite3.h>

#include <chrono>
#include <string>
#include <thread>

#include "soundtrackd/db/migrations.hpp"

namespace soundtrackd::db {

namespace {

std::string pragma_text(database& db, const std::string& sql) {
  return db.prepare(sql).first_row([](statement& row) { return row.column_text(0); }).value_or("");
}

void configure(database& db, const queue_database_options& options) {
  // First, so that switching to WAL below waits for another process's lock instead of failing.
  db.busy_timeout(options.busy_timeout);

  // WAL: readers (sqlite3, the CLI, the API) never block the daemon's writes and vice versa.
  // The mode is persistent; asking again on an existing WAL database is a no-op. While
  // another process is creating the same new file, the switch can report SQLITE_BUSY without
  // consulting the busy handler, so it is retried here for as long as busy_timeout allows.
  std::string mode;
  const auto give_up = std::chrono::steady_clock::now() + options.busy_timeout;
  for (;;) {
    try {
      mode = pragma_text(db, "PRAGMA journal_mode = WAL");
      break;
    } catch (const db_error& e) {
      if (!e.is_busy() || std::chrono::steady_clock::now() >= give_up) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (mode != "wal" && db.path() != ":memory:")
    throw db_error(SQLITE_ERROR, "cannot put database " + db.path() + " in WAL mode (journal_mode is " + mode +
                                     "); is it on a network file system?");

  // FULL in WAL mode syncs the WAL on every commit: a committed remote_job_id survives a
  // power cut, so a job paid for is never submitted twice.
  db.exec("PRAGMA synchronous = FULL");
  // Per connection, off by default: without it ON DELETE CASCADE does nothing.
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA journal_size_limit = " + std::to_string(options.journal_size_limit));
  db.exec("PRAGMA cache_size = " + std::to_string(-options.cache_size_kib));  // negative: KiB, not pages
}

}  // namespace

database open_queue_database(const std::filesystem::path& path, const queue_database_options& options) {
  const std::string name = path.string();
  if (name != ":memory:") {
    // SQLite would only say "unable to open database file"; say which part is missing. The
    // directory is not created: a typo in --db should not leave directories behind.
    auto dir = path.parent_path();
    std::error_code ec;
    if (!dir.empty() && !std::filesystem::is_directory(dir, ec))
      throw db_error(SQLITE_CANTOPEN,
                     "cannot open database " + name + ": directory " + dir.string() + " does not exist");
  }

  database db(name);
  if (db.read_only())
    throw db_error(SQLITE_READONLY, "database " + name +
                                        " is read-only for this user; check its owner and group permissions "
                                        "(and those of its directory)");
  try {
    configure(db, options);
  } catch (const db_error& e) {
    // A file that is not a database, or a lock held too long, shows up at the first
    // statement; the path tells which file.
    if (std::string_view(e.what()).find(name) != std::string_view::npos) throw;
    throw db_error(e.code(), "database " + name + ": " + e.what());
  }
  if (options.migrate) migrate(db);
  return db;
}

}  // namespace soundtrackd::db
