// Schema migrations: migrations/NNNN_name.sql, embedded at build time, tracked by PRAGMA user_version.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace soundtrackd::db {

class database;

struct migration {
  int number;
  std::string name;
  std::string sql;
};

// All migrations this binary knows, in order (generated from migrations/*.sql).
const std::vector<migration>& embedded_migrations();

// Thrown when the database's user_version is newer than this binary knows (exit 2). The
// message names the database file, both versions and what to do.
struct schema_too_new : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Applies every pending migration, each in its own BEGIN IMMEDIATE transaction that
// re-reads user_version inside the transaction, so two processes migrating at once are
// safe (the second finds the work done). Returns the number applied.
// `migrations` must be in ascending order of number (embedded_migrations() is).
int migrate(database& db, const std::vector<migration>& migrations = embedded_migrations());

// PRAGMA user_version: the number of the last migration applied (0 for a new database).
int schema_version(database& db);

}  // namespace soundtrackd::db
