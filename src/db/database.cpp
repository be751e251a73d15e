// RAII SQLite layer: connection, statements, transactions, BLOB streaming, errors with their SQL.
#include "soundtrackd/db/database.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <fstream>
#include <mutex>
#include <ostream>
#include <thread>
#include <vector>

namespace soundtrackd::db {

namespace {

// SQLite reports problems it recovers from (a WAL replayed after a crash, an automatic index
// built for a slow query) only through its global log; routing it to our log makes them
// visible. The hook is process-wide and must be installed before SQLite initialises, so it
// goes to the default logger rather than an injected one.
void log_sqlite_message(void*, int code, const char* message) {
  auto* log = spdlog::default_logger_raw();
  switch (code & 0xff) {
    case SQLITE_NOTICE:
      log->info("sqlite: {} ({})", message, error_code_name(code));
      break;
    // The caller gets these as a db_error and decides; logging them loudly would say it twice.
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CONSTRAINT:
    case SQLITE_SCHEMA:
      log->debug("sqlite: {} ({})", message, error_code_name(code));
      break;
    default:
      log->warn("sqlite: {} ({})", message, error_code_name(code));
  }
}

// Each scheduler write runs in a savepoint, whose journal SQLite keeps in memory only up to
// 64 KiB by default; past that it moves to a temporary file for the rest of the transaction.
// A batch of writes crossed that line often enough that scenario 1 of the benchmark wrote
// temporary files 16 times a job (strace: 32,630 of 76,062 pwrites). 120 KiB keeps every one
// of them in memory there, and a bigger journal (a large track placed in reused free pages)
// still spills, so memory stays bounded. It must stay below 128 KiB: SQLite keeps the journal
// in chunks of this size and moves them to the file one write each, and its unix VFS writes at
// most 128 KiB - 1 at once (a larger chunk fails the write with SQLITE_FULL).
constexpr int statement_journal_spill_bytes = 120 * 1024;

// Both settings are process-wide and must come before SQLite initialises.
void configure_sqlite_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    // SQLITE_MISUSE here means SQLite was already initialised by someone else: keep going
    // with its defaults.
    sqlite3_config(SQLITE_CONFIG_LOG, &log_sqlite_message, nullptr);
    sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, statement_journal_spill_bytes);
  });
}

// SQL for an error message: leading comments dropped, whitespace collapsed, long text cut.
std::string summarize_sql(std::string_view sql) {
  constexpr std::size_t max_length = 240;
  for (;;) {
    auto start = sql.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) return {};
    sql.remove_prefix(start);
    if (!sql.starts_with("--")) break;
    auto end = sql.find('\n');
    sql.remove_prefix(end == std::string_view::npos ? sql.size() : end);
  }
  std::string out;
  bool in_space = false;
  for (char c : sql) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out += ' ';
    in_space = false;
    out += c;
    if (out.size() >= max_length) {
      out += " ...";
      break;
    }
  }
  return out;
}

}  // namespace

// --- errors ------------------------------------------------------------------------------

db_error::db_error(int extended_code, const std::string& message) : std::runtime_error(message), code_(extended_code) {}

bool db_error::is_busy() const noexcept {
  // SQLITE_LOCKED is the same situation within one process (shared cache, or a table a
  // pending statement reads): retrying later is the answer to both.
  return primary_code() == SQLITE_BUSY || primary_code() == SQLITE_LOCKED;
}

bool db_error::is_constraint() const noexcept { return primary_code() == SQLITE_CONSTRAINT; }

std::string_view error_code_name(int extended_code) {
#define SOUNDTRACKD_SQLITE_CODE(name) \
  case name:                          \
    return #name;
  switch (extended_code) {
    SOUNDTRACKD_SQLITE_CODE(SQLITE_OK)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_ERROR)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_INTERNAL)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_PERM)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_ABORT)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_BUSY)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_LOCKED)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_NOMEM)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_READONLY)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_INTERRUPT)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CORRUPT)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_NOTFOUND)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_FULL)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CANTOPEN)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_PROTOCOL)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_EMPTY)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_SCHEMA)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_TOOBIG)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CONSTRAINT)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_MISMATCH)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_MISUSE)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_NOLFS)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_AUTH)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_FORMAT)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_RANGE)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_NOTADB)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_NOTICE)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_WARNING)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_ROW)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_DONE)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_ERROR_MISSING_COLLSEQ)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_ERROR_RETRY)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_ERROR_SNAPSHOT)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_READ)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_SHORT_READ)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_WRITE)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_FSYNC)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_DIR_FSYNC)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_TRUNCATE)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_FSTAT)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_UNLOCK)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_RDLOCK)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_DELETE)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_BLOCKED)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_NOMEM)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_ACCESS)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_CHECKRESERVEDLOCK)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_LOCK)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_CLOSE)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_DIR_CLOSE)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_SHMOPEN)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_SHMSIZE)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_SHMLOCK)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_SHMMAP)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_SEEK)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_DELETE_NOENT)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_MMAP)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_GETTEMPPATH)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_CONVPATH)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_VNODE)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_AUTH)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_BEGIN_ATOMIC)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_COMMIT_ATOMIC)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_ROLLBACK_ATOMIC)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_DATA)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_IOERR_CORRUPTFS)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_LOCKED_SHAREDCACHE)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_LOCKED_VTAB)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_BUSY_RECOVERY)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_BUSY_SNAPSHOT)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_BUSY_TIMEOUT)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CANTOPEN_NOTEMPDIR)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CANTOPEN_ISDIR)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CANTOPEN_FULLPATH)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CANTOPEN_CONVPATH)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CANTOPEN_SYMLINK)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CORRUPT_VTAB)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CORRUPT_SEQUENCE)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CORRUPT_INDEX)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_READONLY_RECOVERY)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_READONLY_CANTLOCK)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_READONLY_ROLLBACK)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_READONLY_DBMOVED)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_READONLY_CANTINIT)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_READONLY_DIRECTORY)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_ABORT_ROLLBACK)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CONSTRAINT_CHECK)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CONSTRAINT_COMMITHOOK)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CONSTRAINT_FOREIGNKEY)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CONSTRAINT_FUNCTION)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CONSTRAINT_NOTNULL)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CONSTRAINT_PRIMARYKEY)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CONSTRAINT_TRIGGER)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CONSTRAINT_UNIQUE)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CONSTRAINT_VTAB)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CONSTRAINT_ROWID)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CONSTRAINT_PINNED)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_CONSTRAINT_DATATYPE)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_NOTICE_RECOVER_WAL)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_NOTICE_RECOVER_ROLLBACK)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_WARNING_AUTOINDEX)
    SOUNDTRACKD_SQLITE_CODE(SQLITE_AUTH_USER)
    default:
      return "SQLITE_UNKNOWN_CODE";
  }
#undef SOUNDTRACKD_SQLITE_CODE
}

void throw_db_error(sqlite3* db, int code, std::string_view sql) {
  // sqlite3_errmsg describes the most recent failure on this connection; without a
  // connection (open failed to allocate one) only the generic text is known.
  std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  message += " (";
  message += error_code_name(code);
  message += ")";
  if (auto text = summarize_sql(sql); !text.empty()) {
    message += " in: ";
    message += text;
  }
  throw db_error(code, message);
}

// --- statement ---------------------------------------------------------------------------

void statement::finalizer::operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }

statement::statement(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
  stmt_.reset(raw);
  if (rc != SQLITE_OK) throw_db_error(db, rc, sql);
  if (!raw) throw db_error(SQLITE_MISUSE, "no SQL statement in: \"" + std::string(sql) + "\"");
  // One statement per object: anything after the first would be silently ignored.
  if (!summarize_sql(std::string_view(tail, sql.data() + sql.size() - tail)).empty())
    throw db_error(SQLITE_MISUSE, "more than one SQL statement (use database::exec) in: " + summarize_sql(sql));
}

void statement::fail(int code) const { throw_db_error(sqlite3_db_handle(stmt_.get()), code, sql()); }

void statement::bind(int index, std::nullopt_t) {
  if (int rc = sqlite3_bind_null(stmt_.get(), index); rc != SQLITE_OK) fail(rc);
}

void statement::bind(int index, std::int64_t value) {
  if (int rc = sqlite3_bind_int64(stmt_.get(), index, value); rc != SQLITE_OK) fail(rc);
}

void statement::bind(int index, double value) {
  if (int rc = sqlite3_bind_double(stmt_.get(), index, value); rc != SQLITE_OK) fail(rc);
}

void statement::bind(int index, std::string_view value) {
  int rc = sqlite3_bind_text64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) fail(rc);
}

void statement::bind(int index, blob_view value) {
  int rc = sqlite3_bind_blob64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(rc);
}

void statement::bind_zeroblob(int index, std::uint64_t size) {
  if (int rc = sqlite3_bind_zeroblob64(stmt_.get(), index, size); rc != SQLITE_OK) fail(rc);
}

bool statement::step() {
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(rc);
}

std::int64_t statement::execute() {
  struct reset_on_exit {
    statement& st;
    ~reset_on_exit() { st.reset(); }
  } guard{*this};
  while (step()) {
  }
  return sqlite3_changes64(sqlite3_db_handle(stmt_.get()));
}

void statement::reset() noexcept {
  // The return value repeats the last step's error, which step() has already thrown.
  sqlite3_reset(stmt_.get());
}

void statement::clear_bindings() noexcept { sqlite3_clear_bindings(stmt_.get()); }

bool statement::is_null(int column) const { return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL; }

std::int64_t statement::column_int64(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

double statement::column_double(int column) const { return sqlite3_column_double(stmt_.get(), column); }

std::string statement::column_text(int column) const {
  auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), column));
  if (!text) return {};
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column)));
}

blob_view statement::column_blob(int column) const {
  // sqlite3_column_blob before sqlite3_column_bytes: the documented safe order.
  auto* data = static_cast<const std::byte*>(sqlite3_column_blob(stmt_.get(), column));
  auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column));
  return data ? blob_view(data, size) : blob_view();
}

std::optional<std::int64_t> statement::column_optional_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return column_int64(column);
}

std::optional<double> statement::column_optional_double(int column) const {
  if (is_null(column)) return std::nullopt;
  return column_double(column);
}

std::optional<std::string> statement::column_optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return column_text(column);
}

int statement::column_count() const { return sqlite3_column_count(stmt_.get()); }

std::string_view statement::sql() const {
  const char* text = sqlite3_sql(stmt_.get());
  return text ? std::string_view(text) : std::string_view();
}

// --- database ----------------------------------------------------------------------------

void database::closer::operator()(sqlite3* db) const noexcept {
  // close_v2: statements still alive elsewhere keep the connection until they are finalized.
  sqlite3_close_v2(db);
}

database::database(std::string path, open_mode mode) : path_(std::move(path)) {
  configure_sqlite_once();
  // NOMUTEX: each connection is used by one thread at a time, so SQLite's own per-connection
  // mutex would only cost; EXRESCODE: errors carry extended codes (SQLITE_CONSTRAINT_CHECK).
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  switch (mode) {
    case open_mode::read_write_create:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
    case open_mode::read_write:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case open_mode::read_only:
      flags |= SQLITE_OPEN_READONLY;
      break;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path_.c_str(), &raw, flags, nullptr);
  db_.reset(raw);  // the handle must be closed even when opening failed
  if (rc != SQLITE_OK) {
    std::string message = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    throw db_error(rc,
                   "cannot open database " + path_ + ": " + message + " (" + std::string(error_code_name(rc)) + ")");
  }
}

void database::exec(std::string_view sql) {
  // Statement by statement rather than sqlite3_exec, so an error names the failing one.
  while (!summarize_sql(sql).empty()) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, &tail);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, &sqlite3_finalize);
    // A statement that fails to compile is quoted from its start: the tail SQLite reports
    // then points only to where parsing stopped.
    if (rc != SQLITE_OK) throw_db_error(db_.get(), rc, sql);
    auto consumed = static_cast<std::size_t>(tail - sql.data());
    if (stmt) {
      while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      }
      if (rc != SQLITE_DONE) throw_db_error(db_.get(), rc, sql.substr(0, consumed));
    }
    sql.remove_prefix(consumed);
  }
}

statement database::prepare(std::string_view sql) { return statement(db_.get(), sql); }

statement& database::cached(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    it = cache_.emplace(std::string(sql), prepare(sql)).first;
  } else {
    it->second.reset();
    it->second.clear_bindings();
  }
  return it->second;
}

std::int64_t database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }

std::int64_t database::changes() const { return sqlite3_changes64(db_.get()); }

void database::busy_timeout(std::chrono::milliseconds timeout) {
  auto ms = std::clamp<std::chrono::milliseconds::rep>(timeout.count(), 0, INT_MAX);
  if (int rc = sqlite3_busy_timeout(db_.get(), static_cast<int>(ms)); rc != SQLITE_OK)
    throw_db_error(db_.get(), rc, "");
}

void database::busy_poll(std::chrono::milliseconds timeout) {
  auto tries = std::clamp<std::chrono::milliseconds::rep>(timeout.count(), 0, INT_MAX);
  auto handler = [](void* limit, int attempts) -> int {
    if (attempts >= static_cast<int>(reinterpret_cast<std::intptr_t>(limit))) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return 1;
  };
  // The handler's void* context carries the count itself: a pointer to a member would dangle
  // once the database is moved.
  // NOLINTNEXTLINE(performance-no-int-to-ptr)
  void* limit = reinterpret_cast<void*>(static_cast<std::intptr_t>(tries));
  if (int rc = sqlite3_busy_handler(db_.get(), handler, limit); rc != SQLITE_OK) throw_db_error(db_.get(), rc, "");
}

bool database::in_transaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

bool database::read_only() const { return sqlite3_db_readonly(db_.get(), "main") == 1; }

// --- transaction -------------------------------------------------------------------------

transaction::transaction(database& db, transaction_mode mode) : db_(db) {
  db_.cached(mode == transaction_mode::immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED").execute();
}

transaction::~transaction() {
  if (done_) return;
  // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) have already rolled the transaction back;
  // a second ROLLBACK would only fail.
  if (!db_.in_transaction()) return;
  try {
    db_.cached("ROLLBACK").execute();
  } catch (const db_error& e) {
    spdlog::default_logger_raw()->error("rollback failed on {}: {}", db_.path(), e.what());
  }
}

void transaction::commit() {
  db_.cached("COMMIT").execute();
  done_ = true;
}

// --- incremental BLOB I/O ----------------------------------------------------------------

blob_handle::blob_handle(database& db, const std::string& table, const std::string& column, std::int64_t rowid,
                         blob_access access)
    : db_(db), what_(table + "." + column + " rowid " + std::to_string(rowid)) {
  int rc = sqlite3_blob_open(db.handle(), "main", table.c_str(), column.c_str(), rowid,
                             access == blob_access::write ? 1 : 0, &blob_);
  if (rc != SQLITE_OK) {
    // A failed open may still allocate a handle; it must be closed (no-op on nullptr).
    sqlite3_blob_close(blob_);
    blob_ = nullptr;
    throw_db_error(db.handle(), rc, "blob " + what_);
  }
}

blob_handle::~blob_handle() { sqlite3_blob_close(blob_); }

std::size_t blob_handle::size() const { return static_cast<std::size_t>(sqlite3_blob_bytes(blob_)); }

void blob_handle::read(std::span<std::byte> out, std::size_t offset) {
  int rc = sqlite3_blob_read(blob_, out.data(), static_cast<int>(out.size()), static_cast<int>(offset));
  if (rc != SQLITE_OK) throw_db_error(db_.handle(), rc, "read blob " + what_);
}

void blob_handle::write(blob_view bytes, std::size_t offset) {
  int rc = sqlite3_blob_write(blob_, bytes.data(), static_cast<int>(bytes.size()), static_cast<int>(offset));
  if (rc != SQLITE_OK) throw_db_error(db_.handle(), rc, "write blob " + what_);
}

std::uint64_t write_blob_from_file(database& db, const std::string& table, const std::string& column,
                                   std::int64_t rowid, const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::error_code ec;
  auto file_size = std::filesystem::file_size(file, ec);
  if (ec) throw std::runtime_error("cannot read " + file.string() + ": " + ec.message());

  blob_handle blob(db, table, column, rowid, blob_access::write);
  // Incremental writes cannot resize a BLOB: the row must have been made with zeroblob(size).
  if (blob.size() != file_size)
    throw std::runtime_error(file.string() + " is " + std::to_string(file_size) + " bytes but " + table + "." + column +
                             " rowid " + std::to_string(rowid) + " was allocated " + std::to_string(blob.size()));

  // No bigger than the file: a 20 KB track should not cost a 256 KiB allocation and memset.
  std::vector<std::byte> buffer(std::min<std::size_t>(blob_chunk_size, file_size));
  std::size_t offset = 0;
  while (offset < file_size) {
    auto want = std::min(buffer.size(), file_size - offset);
    in.read(reinterpret_cast<char*>(buffer.data()), static_cast<std::streamsize>(want));
    auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) throw std::runtime_error(file.string() + " ended after " + std::to_string(offset) + " bytes");
    blob.write(blob_view(buffer.data(), got), offset);
    offset += got;
  }
  return offset;
}

std::uint64_t read_blob_to_stream(database& db, const std::string& table, const std::string& column, std::int64_t rowid,
                                  std::ostream& out) {
  blob_handle blob(db, table, column, rowid, blob_access::read);
  std::vector<std::byte> buffer(blob_chunk_size);
  std::size_t offset = 0;
  const std::size_t size = blob.size();
  while (offset < size) {
    auto chunk = std::span(buffer).first(std::min(buffer.size(), size - offset));
    blob.read(chunk, offset);
    out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(chunk.size()));
    if (!out)
      throw std::runtime_error("cannot write blob " + table + "." + column + " rowid " + std::to_string(rowid) +
                               ": output stream failed");
    offset += chunk.size();
  }
  return offset;
}

}  // namespace soundtrackd::db
