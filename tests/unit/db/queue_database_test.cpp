// Tests of open_queue_database: the connection settings, and errors that name the file.
#include "soundtrackd/db/queue_database.hpp"

#include <gtest/gtest.h>

#include <string>

#include "soundtrackd/db/migrations.hpp"
#include "test_support.hpp"

namespace soundtrackd::db {
namespace {

using namespace std::chrono_literals;

std::string pragma(database& db, const std::string& name) {
  return db.prepare("PRAGMA " + name).first_row([](statement& r) { return r.column_text(0); }).value_or("");
}

TEST(DbQueueDatabase, SetsWalDurabilityForeignKeysAndTimeouts) {
  test::temp_dir dir;
  auto db = open_queue_database(dir / "queue.db");
  EXPECT_EQ(pragma(db, "journal_mode"), "wal");
  EXPECT_EQ(pragma(db, "synchronous"), "2");  // FULL
  EXPECT_EQ(pragma(db, "foreign_keys"), "1");
  EXPECT_EQ(pragma(db, "busy_timeout"), "5000");
  EXPECT_EQ(pragma(db, "journal_size_limit"), std::to_string(64 * 1024 * 1024));
  EXPECT_EQ(schema_version(db), embedded_migrations().back().number);
}

TEST(DbQueueDatabase, BusyTimeoutIsAParameter) {
  test::temp_dir dir;
  auto db = open_queue_database(dir / "queue.db", {.busy_timeout = 25ms});
  EXPECT_EQ(pragma(db, "busy_timeout"), "25");
}

TEST(DbQueueDatabase, CacheSizeIsAParameter) {
  test::temp_dir dir;
  EXPECT_EQ(pragma(*std::make_unique<database>(open_queue_database(dir / "queue.db")), "cache_size"), "-2000");
  auto db = open_queue_database(dir / "queue.db", {.cache_size_kib = 512});
  EXPECT_EQ(pragma(db, "cache_size"), "-512");
}

TEST(DbQueueDatabase, ReopeningIsHarmless) {
  test::temp_dir dir;
  {
    auto db = open_queue_database(dir / "queue.db");
    db.exec("INSERT INTO jobs (prompt) VALUES ('x')");
  }
  auto db = open_queue_database(dir / "queue.db");
  EXPECT_EQ(pragma(db, "journal_mode"), "wal");
  EXPECT_EQ(db.prepare("SELECT count(*) FROM jobs").first_row([](statement& r) { return r.column_int64(0); }), 1);
}

TEST(DbQueueDatabase, MissingDirectoryIsNamed) {
  test::temp_dir dir;
  auto path = dir / "missing" / "queue.db";
  try {
    open_queue_database(path);
    FAIL() << "expected a db_error";
  } catch (const db_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot open database " + path.string() + ": directory " +
                                         (dir / "missing").string() + " does not exist");
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "missing"));
}

TEST(DbQueueDatabase, NotADatabaseIsNamed) {
  test::temp_dir dir;
  auto path = dir / "queue.db";
  test::write_file(path, std::string(4096, 'x'));
  try {
    open_queue_database(path);
    FAIL() << "expected a db_error";
  } catch (const db_error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("SQLITE_NOTADB"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace soundtrackd::db
