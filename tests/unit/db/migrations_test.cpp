// Tests of the migration runner: fresh and migrated databases, a too-new schema, a failing
// migration, and two connections migrating at once.
#include "soundtrackd/db/migrations.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "soundtrackd/db/database.hpp"
#include "soundtrackd/db/queue_database.hpp"
#include "test_support.hpp"

namespace soundtrackd::db {
namespace {

// The version a fully migrated database has: the number of the last embedded migration.
int latest_version() { return embedded_migrations().back().number; }

using namespace std::chrono_literals;

std::set<std::string> table_names(database& db) {
  std::set<std::string> names;
  db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").for_each_row([&](statement& r) {
    names.insert(r.column_text(0));
  });
  return names;
}

class MigrationTest : public ::testing::Test {
 protected:
  test::temp_dir dir_;
  std::string path_ = (dir_ / "queue.db").string();
};

TEST_F(MigrationTest, FreshDatabaseGetsEveryMigration) {
  database db(path_);
  EXPECT_EQ(schema_version(db), 0);
  EXPECT_EQ(migrate(db), static_cast<int>(embedded_migrations().size()));
  EXPECT_EQ(schema_version(db), latest_version());
  auto tables = table_names(db);
  EXPECT_TRUE(tables.contains("jobs"));
  EXPECT_TRUE(tables.contains("job_events"));
  EXPECT_TRUE(tables.contains("assets"));
}

TEST_F(MigrationTest, EmbeddedMigrationsAreNumberedFromOne) {
  const auto& all = embedded_migrations();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front().number, 1);
  EXPECT_EQ(all.front().name, "0001_init");
  EXPECT_EQ(all.front().sql.find("user_version"), std::string::npos) << "the runner sets user_version";
}

TEST_F(MigrationTest, MigratedDatabaseIsLeftAlone) {
  database db(path_);
  migrate(db);
  db.exec("INSERT INTO jobs (prompt) VALUES ('kept')");
  EXPECT_EQ(migrate(db), 0);
  database again(path_);
  EXPECT_EQ(migrate(again), 0);
  EXPECT_EQ(schema_version(again), latest_version());
  EXPECT_EQ(again.prepare("SELECT prompt FROM jobs").first_row([](statement& r) { return r.column_text(0); }), "kept");
}

// 0004 rebuilds assets with data as the last column (so zeroblob reservations stay out of
// memory): audio stored before it keeps its id, bytes, metadata and its job's cascade.
TEST_F(MigrationTest, AssetsKeepTheirAudioWhenDataMovesLast) {
  database db(path_);
  const auto& all = embedded_migrations();
  const std::vector<migration> before_0004(all.begin(), all.begin() + 3);
  ASSERT_EQ(before_0004.back().number, 3);
  migrate(db, before_0004);
  db.exec("INSERT INTO jobs (id, prompt) VALUES (7, 'kept')");
  db.exec(
      "INSERT INTO assets (id, job_id, remote_asset_id, mime_type, size_bytes, sha256, data, created_at) VALUES "
      "(42, 7, 'asset_a', 'audio/mpeg', 3, '" +
      std::string(64, 'a') + "', x'010203', 1700000000.5)");

  EXPECT_EQ(migrate(db), static_cast<int>(all.size()) - 3);
  std::vector<std::string> columns;
  db.prepare("SELECT name FROM pragma_table_info('assets') ORDER BY cid").for_each_row([&](statement& r) {
    columns.push_back(r.column_text(0));
  });
  EXPECT_EQ(columns, (std::vector<std::string>{"id", "job_id", "remote_asset_id", "mime_type", "size_bytes", "sha256",
                                               "created_at", "data"}));
  auto kept = db.prepare("SELECT id, remote_asset_id, hex(data), created_at FROM assets WHERE job_id = 7")
                  .first_row([](statement& r) {
                    return std::to_string(r.column_int64(0)) + " " + r.column_text(1) + " " + r.column_text(2) + " " +
                           std::to_string(r.column_double(3));
                  });
  EXPECT_EQ(kept, "42 asset_a 010203 1700000000.500000");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("DELETE FROM jobs WHERE id = 7");
  EXPECT_EQ(db.prepare("SELECT count(*) FROM assets").first_row([](statement& r) { return r.column_int64(0); }), 0)
      << "ON DELETE CASCADE still holds";
}

TEST_F(MigrationTest, NewerSchemaIsRefusedWithAClearMessage) {
  {
    database db(path_);
    migrate(db);
    db.exec("PRAGMA user_version = 99");
  }
  database db(path_);
  try {
    migrate(db);
    FAIL() << "expected schema_too_new";
  } catch (const schema_too_new& e) {
    EXPECT_EQ(std::string(e.what()), "database " + path_ +
                                         " is at schema version 99 but this soundtrackd knows only up to " +
                                         std::to_string(latest_version()) + "; upgrade soundtrackd");
  }
  EXPECT_THROW(open_queue_database(path_), schema_too_new);
}

TEST_F(MigrationTest, FailingMigrationLeavesNothingBehind) {
  const std::vector<migration> migrations{
      {1, "0001_a", "CREATE TABLE a (x);"},
      {2, "0002_bad", "CREATE TABLE b (x);\nINSERT INTO missing VALUES (1);"},
  };
  database db(path_);
  try {
    migrate(db, migrations);
    FAIL() << "expected a db_error";
  } catch (const db_error& e) {
    EXPECT_NE(std::string(e.what()).find("migration 0002_bad failed on " + path_), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no such table: missing"), std::string::npos) << e.what();
  }
  EXPECT_EQ(schema_version(db), 1);
  EXPECT_FALSE(db.in_transaction());
  auto tables = table_names(db);
  EXPECT_TRUE(tables.contains("a"));
  EXPECT_FALSE(tables.contains("b")) << "the failed migration must roll back whole";
}

TEST_F(MigrationTest, RejectsUnorderedMigrations) {
  database db(path_);
  const std::vector<migration> migrations{{2, "0002_b", "SELECT 1"}, {1, "0001_a", "SELECT 1"}};
  EXPECT_THROW(migrate(db, migrations), std::logic_error);
}

// Each migration creates a table without IF NOT EXISTS, so applying one twice would fail:
// the threads only all succeed if the re-read of user_version inside the transaction works.
TEST_F(MigrationTest, ConcurrentMigrationsBothSucceed) {
  std::vector<migration> migrations;
  for (int n = 1; n <= 8; ++n)
    migrations.push_back({n, "000" + std::to_string(n) + "_t", "CREATE TABLE t" + std::to_string(n) + " (x);"});

  constexpr int rounds = 5;
  constexpr int threads = 4;
  for (int round = 0; round < rounds; ++round) {
    auto path = (dir_ / ("race" + std::to_string(round) + ".db")).string();
    std::latch start(threads);
    std::atomic<int> applied{0};
    std::vector<std::string> errors(threads);
    std::vector<std::thread> workers;
    for (int i = 0; i < threads; ++i) {
      workers.emplace_back([&, i] {
        try {
          database db(path);
          db.busy_timeout(10s);
          start.arrive_and_wait();
          applied += migrate(db, migrations);
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      });
    }
    for (auto& w : workers) w.join();
    for (const auto& e : errors) EXPECT_EQ(e, "");
    EXPECT_EQ(applied.load(), 8) << "every migration applied exactly once";
    database db(path);
    EXPECT_EQ(schema_version(db), 8);
  }
}

// The real thing: two programs opening a new queue database at the same moment.
TEST_F(MigrationTest, ConcurrentOpenOfTheQueueDatabase) {
  std::latch start(2);
  std::vector<std::string> errors(2);
  std::vector<std::thread> workers;
  for (int i = 0; i < 2; ++i) {
    workers.emplace_back([&, i] {
      try {
        start.arrive_and_wait();
        auto db = open_queue_database(path_, {.busy_timeout = 10s});
        EXPECT_EQ(schema_version(db), latest_version());
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
}

}  // namespace
}  // namespace soundtrackd::db
