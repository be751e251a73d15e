// Migration runner: applies migrations/NNNN_name.sql in order, tracked by PRAGMA user_version.
#include "soundtrackd/db/migrations.hpp"

#include <string>

#include "soundtrackd/db/database.hpp"

namespace soundtrackd::db {

namespace {

void check_not_too_new(const database& db, int version, int highest_known) {
  if (version > highest_known)
    throw schema_too_new("database " + db.path() + " is at schema version " + std::to_string(version) +
                         " but this soundtrackd knows only up to " + std::to_string(highest_known) +
                         "; upgrade soundtrackd");
}

void check_ordered(const std::vector<migration>& migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    const auto& m = migrations[i];
    if (m.number <= 0 || (i > 0 && m.number <= migrations[i - 1].number))
      throw std::logic_error("migration " + m.name + ": numbers must be positive and ascending");
  }
}

}  // namespace

int schema_version(database& db) {
  auto version = db.cached("PRAGMA user_version").first_row([](statement& row) { return row.column_int64(0); });
  return static_cast<int>(version.value_or(0));
}

int migrate(database& db, const std::vector<migration>& migrations) {
  check_ordered(migrations);
  const int highest_known = migrations.empty() ? 0 : migrations.back().number;
  int version = schema_version(db);
  check_not_too_new(db, version, highest_known);

  int applied = 0;
  for (const auto& m : migrations) {
    if (m.number <= version) continue;
    transaction tx(db);
    // Another process may have applied this migration between our read and our BEGIN
    // IMMEDIATE; now that we hold the write lock, the version we read is the truth.
    version = schema_version(db);
    check_not_too_new(db, version, highest_known);
    if (m.number <= version) continue;  // tx rolls back: nothing was written
    try {
      db.exec(m.sql);
    } catch (const db_error& e) {
      throw db_error(e.code(), "migration " + m.name + " failed on " + db.path() + ": " + e.what());
    }
    // PRAGMA takes no bound parameters; the number is ours, not user input.
    db.exec("PRAGMA user_version = " + std::to_string(m.number));
    tx.commit();
    version = m.number;
    ++applied;
  }
  return applied;
}

}  // namespace soundtrackd::db
