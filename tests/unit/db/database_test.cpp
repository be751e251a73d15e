// Tests of the RAII SQLite layer: binding, errors with their SQL, the statement cache,
// transactions, busy detection and incremental BLOB I/O, on real files.
#include "soundtrackd/db/database.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace soundtrackd::db {
namespace {

using namespace std::chrono_literals;

class DbDatabaseTest : public ::testing::Test {
 protected:
  test::temp_dir dir_;
  database db_{(dir_ / "test.db").string()};
};

TEST_F(DbDatabaseTest, BindsAndReadsEveryType) {
  db_.exec("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)");
  const std::vector<std::byte> bytes{std::byte{0}, std::byte{1}, std::byte{255}};
  auto insert = db_.prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)");
  insert.bind_all(std::int64_t{1} << 40, 2.5, std::string("héllo"), blob_view(bytes), std::optional<std::string>());
  EXPECT_EQ(insert.execute(), 1);

  auto select = db_.prepare("SELECT i, r, s, b, n FROM t");
  ASSERT_TRUE(select.step());
  EXPECT_EQ(select.column_int64(0), std::int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(select.column_double(1), 2.5);
  EXPECT_EQ(select.column_text(2), "héllo");
  auto blob = select.column_blob(3);
  EXPECT_EQ(std::vector<std::byte>(blob.begin(), blob.end()), bytes);
  EXPECT_TRUE(select.is_null(4));
  EXPECT_EQ(select.column_optional_text(4), std::nullopt);
  EXPECT_EQ(select.column_optional_int64(0), std::int64_t{1} << 40);
  EXPECT_EQ(select.column_count(), 5);
  EXPECT_FALSE(select.step());
}

TEST_F(DbDatabaseTest, BindsSmallIntegersAndOptionals) {
  auto st = db_.prepare("SELECT ?1, ?2, ?3, typeof(?4)");
  st.bind_all(7, true, std::optional<int>(3), std::optional<double>());
  auto row = st.first_row([](statement& r) {
    return std::tuple(r.column_int64(0), r.column_int64(1), r.column_int64(2), r.column_text(3));
  });
  ASSERT_TRUE(row);
  EXPECT_EQ(*row, std::tuple(std::int64_t{7}, std::int64_t{1}, std::int64_t{3}, std::string("null")));
}

TEST_F(DbDatabaseTest, ConstraintErrorNamesConstraintCodeAndSql) {
  db_.exec("CREATE TABLE t (x INTEGER CONSTRAINT x_must_be_positive CHECK (x > 0))");
  try {
    db_.prepare("INSERT INTO t (x) VALUES (0)").execute();
    FAIL() << "expected a db_error";
  } catch (const db_error& e) {
    EXPECT_STREQ(
        e.what(),
        "CHECK constraint failed: x_must_be_positive (SQLITE_CONSTRAINT_CHECK) in: INSERT INTO t (x) VALUES (0)");
    EXPECT_TRUE(e.is_constraint());
    EXPECT_FALSE(e.is_busy());
    EXPECT_EQ(e.primary_code(), 19);  // SQLITE_CONSTRAINT
  }
}

TEST_F(DbDatabaseTest, SyntaxErrorCarriesTheSql) {
  try {
    db_.prepare("SELEC 1");
    FAIL() << "expected a db_error";
  } catch (const db_error& e) {
    EXPECT_NE(std::string(e.what()).find("syntax error"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(SQLITE_ERROR) in: SELEC 1"), std::string::npos) << e.what();
  }
}

TEST_F(DbDatabaseTest, PrepareRejectsSeveralStatements) {
  EXPECT_THROW(db_.prepare("SELECT 1; SELECT 2"), db_error);
  EXPECT_NO_THROW(db_.prepare("SELECT 1; -- a trailing comment\n"));
}

TEST_F(DbDatabaseTest, ExecRunsEveryStatementAndNamesTheFailingOne) {
  db_.exec("-- leading comment\nCREATE TABLE a (x);\nINSERT INTO a VALUES (1);\n\n");
  EXPECT_EQ(db_.prepare("SELECT count(*) FROM a").first_row([](statement& r) { return r.column_int64(0); }), 1);
  try {
    db_.exec("INSERT INTO a VALUES (2);\n-- why\nINSERT INTO nope VALUES (3);");
    FAIL() << "expected a db_error";
  } catch (const db_error& e) {
    EXPECT_NE(std::string(e.what()).find("no such table: nope"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("in: INSERT INTO nope VALUES (3)"), std::string::npos) << e.what();
  }
}

TEST_F(DbDatabaseTest, CachedStatementIsPreparedOnceAndComesBackReset) {
  auto& first = db_.cached("SELECT ?1");
  first.bind(1, std::int64_t{42});
  ASSERT_TRUE(first.step());  // left mid-result on purpose
  auto& second = db_.cached("SELECT ?1");
  EXPECT_EQ(&first, &second);
  ASSERT_TRUE(second.step());
  EXPECT_TRUE(second.is_null(0)) << "bindings must be cleared";
}

TEST_F(DbDatabaseTest, FirstRowEndsTheReadEvenWhenTheReaderThrows) {
  db_.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)");
  auto& st = db_.cached("SELECT x FROM t");
  EXPECT_THROW(st.first_row([](statement&) -> int { throw std::runtime_error("boom"); }), std::runtime_error);
  // A statement left stepping would keep a read transaction (and its WAL snapshot) open.
  EXPECT_FALSE(db_.in_transaction());
  EXPECT_EQ(st.first_row([](statement& r) { return r.column_int64(0); }), 1);
}

TEST_F(DbDatabaseTest, TransactionRollsBackUnlessCommitted) {
  db_.exec("CREATE TABLE t (x)");
  {
    transaction tx(db_);
    db_.exec("INSERT INTO t VALUES (1)");
    EXPECT_TRUE(db_.in_transaction());
  }
  EXPECT_FALSE(db_.in_transaction());
  {
    transaction tx(db_);
    db_.exec("INSERT INTO t VALUES (2)");
    tx.commit();
  }
  auto values = std::vector<std::int64_t>{};
  db_.prepare("SELECT x FROM t").for_each_row([&](statement& r) { values.push_back(r.column_int64(0)); });
  EXPECT_EQ(values, std::vector<std::int64_t>{2});
  EXPECT_EQ(db_.changes(), 1);
}

TEST_F(DbDatabaseTest, SecondWriterIsBusyWithoutWaiting) {
  db_.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x)");
  database other((dir_ / "test.db").string());
  other.busy_timeout(0ms);
  transaction held(db_);
  try {
    transaction tx(other);
    FAIL() << "expected SQLITE_BUSY";
  } catch (const db_error& e) {
    EXPECT_TRUE(e.is_busy()) << e.what();
    EXPECT_NE(std::string(e.what()).find("SQLITE_BUSY"), std::string::npos) << e.what();
  }
  // Readers are never blocked in WAL mode.
  EXPECT_EQ(other.prepare("SELECT count(*) FROM t").first_row([](statement& r) { return r.column_int64(0); }), 0);
}

TEST_F(DbDatabaseTest, OpenFailureNamesThePath) {
  auto missing = (dir_ / "no" / "such" / "dir" / "x.db").string();
  try {
    database db(missing);
    FAIL() << "expected a db_error";
  } catch (const db_error& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("SQLITE_CANTOPEN"), std::string::npos) << e.what();
  }
}

TEST_F(DbDatabaseTest, BlobStreamsInChunksBothWays) {
  db_.exec("CREATE TABLE files (id INTEGER PRIMARY KEY, data BLOB)");
  std::string content;
  for (std::size_t i = 0; i < 3 * blob_chunk_size + 12345; ++i) content += static_cast<char>((i * 131) % 251);
  auto source = dir_ / "source.bin";
  test::write_file(source, content);

  auto& insert = db_.cached("INSERT INTO files (data) VALUES (zeroblob(?1))");
  insert.bind(1, content.size());
  insert.execute();
  auto rowid = db_.last_insert_rowid();
  EXPECT_EQ(write_blob_from_file(db_, "files", "data", rowid, source), content.size());

  std::ostringstream out;
  EXPECT_EQ(read_blob_to_stream(db_, "files", "data", rowid, out), content.size());
  EXPECT_EQ(out.str(), content);
}

TEST_F(DbDatabaseTest, BlobWriteRefusesAFileOfAnotherSize) {
  db_.exec("CREATE TABLE files (id INTEGER PRIMARY KEY, data BLOB); INSERT INTO files (data) VALUES (zeroblob(10))");
  auto source = dir_ / "source.bin";
  test::write_file(source, "12345");
  try {
    write_blob_from_file(db_, "files", "data", 1, source);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("is 5 bytes but files.data rowid 1 was allocated 10"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(write_blob_from_file(db_, "files", "data", 1, dir_ / "missing.bin"), std::runtime_error);
  EXPECT_THROW(write_blob_from_file(db_, "files", "data", 99, source), std::runtime_error);
}

// SQLite's temporary files are unlinked as soon as they are opened; an open descriptor is
// all that is left of them.
int open_sqlite_temp_files() {
  int count = 0;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(fd.path(), ec);
    if (!ec && target.filename().string().starts_with("etilqs_")) ++count;
  }
  return count;
}

// Runs one write as the group commit does, in a savepoint inside the batch's transaction, in
// WAL mode as the queue database runs (with a rollback journal, a page's first change goes
// there and the savepoint needs no journal of its own). The update rewrites every page of
// `rows` rows of 2 KB, two to a page: ~4 KiB for each two rows in the savepoint's journal.
// Returns how many temporary files SQLite had open meanwhile.
int temp_files_during_savepoint_write(database& db, int rows) {
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE t (x TEXT)");
  {
    transaction fill(db);
    auto insert = db.prepare("INSERT INTO t (x) VALUES (?1)");
    for (int i = 0; i < rows; ++i) insert.bind_all(std::string(2000, 'a')).execute();
    fill.commit();
  }
  transaction batch(db);
  db.exec("SAVEPOINT write");
  db.exec("UPDATE t SET x = x || 'b'");
  const int open = open_sqlite_temp_files();
  db.exec("RELEASE write");
  batch.commit();
  return open;
}

TEST_F(DbDatabaseTest, SavepointJournalOfTwentyPagesStaysInMemory) {
  // ~90 KiB: past SQLite's default of 64 KiB in memory, within ours.
  EXPECT_EQ(temp_files_during_savepoint_write(db_, 44), 0);
}

TEST_F(DbDatabaseTest, BigSavepointJournalMovesToAFile) {
  // ~4 MiB (a big track placed in reused free pages): memory stays bounded, and the move to
  // the file succeeds (it fails with SQLITE_FULL when the chunks are 128 KiB or more).
  EXPECT_EQ(temp_files_during_savepoint_write(db_, 2000), 1);
}

TEST(DbErrorCodeName, NamesExtendedCodes) {
  EXPECT_EQ(error_code_name(275), "SQLITE_CONSTRAINT_CHECK");
  EXPECT_EQ(error_code_name(5), "SQLITE_BUSY");
  EXPECT_EQ(error_code_name(517), "SQLITE_BUSY_SNAPSHOT");
}

}  // namespace
}  // namespace soundtrackd::db
