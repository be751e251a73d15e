// Opening the queue database for a program (daemon, CLI): pragmas, checks and migrations.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>

#include "soundtrackd/db/database.hpp"

namespace soundtrackd::db {

struct queue_database_options {
  // How long a statement waits for another connection's write lock before SQLITE_BUSY. The
  // queue connection lives on a dedicated DB thread or in the CLI, where waiting is fine; a
  // connection used on the io_context thread must pass tens of milliseconds instead.
  std::chrono::milliseconds busy_timeout{5000};
  // The WAL file is truncated back to this size after checkpoints, so one large burst
  // (a batch of stored audio) does not keep its disk space forever.
  std::int64_t journal_size_limit = 64 * 1024 * 1024;
  // The connection's page cache (PRAGMA cache_size, in KiB; SQLite's default is 2000). Pages
  // it drops are read again from the OS's cache, so a small one costs little; the daemon's
  // store connection uses 512 KiB: in scenario 1 its cache held 2 MB of audio pages on their
  // way to disk, a twelfth of the daemon's peak RSS.
  std::int64_t cache_size_kib = 2000;
  // Apply pending migrations (the daemon and every CLI command do).
  bool migrate = true;
};

// Opens (creating if missing) the queue database at `path`: WAL, synchronous=FULL,
// foreign_keys=ON, busy_timeout, journal_size_limit, cache_size, then pending migrations. The parent
// directory must exist. Throws db_error naming the path, or schema_too_new.
database open_queue_database(const std::filesystem::path& path, const queue_database_options& options = {});

}  // namespace soundtrackd::db
