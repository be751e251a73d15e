// RAII SQLite layer: a connection, prepared statements, transactions and incremental BLOB I/O.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

// Only the handle types: sqlite3.h stays out of every file that includes this one.
struct sqlite3;
struct sqlite3_stmt;
struct sqlite3_blob;

namespace soundtrackd::db {

// A failed SQLite call. what() reads "<SQLite's message> (<extended code name>) in: <SQL>",
// e.g. "CHECK constraint failed: prompt_must_be_1_to_2000_characters
// (SQLITE_CONSTRAINT_CHECK) in: INSERT INTO jobs ...".
class db_error : public std::runtime_error {
 public:
  db_error(int extended_code, const std::string& message);

  int code() const noexcept { return code_; }  // extended result code
  int primary_code() const noexcept { return code_ & 0xff; }
  // Another connection holds a lock: the operation may succeed if tried again later.
  bool is_busy() const noexcept;
  bool is_constraint() const noexcept;

 private:
  int code_;
};

// "SQLITE_CONSTRAINT_CHECK" for SQLITE_CONSTRAINT_CHECK; SQLite has no API for the names.
std::string_view error_code_name(int extended_code);

using blob_view = std::span<const std::byte>;

// A prepared statement. Bind by 1-based index, step, read columns by 0-based index.
class statement {
 public:
  statement(sqlite3* db, std::string_view sql);  // prepares; throws db_error
  statement(statement&&) noexcept = default;
  statement& operator=(statement&&) noexcept = default;
  ~statement() = default;

  void bind(int index, std::nullopt_t);
  void bind(int index, std::int64_t value);
  void bind(int index, double value);
  void bind(int index, std::string_view value);  // copied by SQLite
  void bind(int index, blob_view value);         // copied by SQLite
  void bind_zeroblob(int index, std::uint64_t size);
  // Every other integer type (int, bool, ...) binds as int64; without this, int would be
  // ambiguous between the int64 and double overloads.
  template <std::integral T>
  void bind(int index, T value) {
    bind(index, static_cast<std::int64_t>(value));
  }
  template <class T>
  void bind(int index, const std::optional<T>& value) {
    if (value)
      bind(index, *value);
    else
      bind(index, std::nullopt);
  }
  // Binds the arguments to ?1, ?2, ... in order.
  template <class... Args>
  statement& bind_all(const Args&... args) {
    int index = 0;
    (bind(++index, args), ...);
    return *this;
  }

  // True when a row is ready, false when done; throws db_error on failure.
  bool step();
  // Runs a statement that returns no rows (or whose rows are not wanted) to completion and
  // resets it; returns the rows changed.
  std::int64_t execute();
  // Steps to the first row, hands it to `read` and resets the statement, so the read
  // transaction ends at once even when `read` throws. nullopt when there is no row.
  template <class F>
  auto first_row(F&& read) -> std::optional<std::invoke_result_t<F, statement&>>;
  // Hands every row to `read`, then resets (also on exceptions).
  template <class F>
  void for_each_row(F&& read);

  void reset() noexcept;  // ready to step again, bindings kept
  void clear_bindings() noexcept;

  bool is_null(int column) const;
  std::int64_t column_int64(int column) const;
  double column_double(int column) const;
  std::string column_text(int column) const;  // "" for NULL
  // Valid until the next step, reset or column call on this statement.
  blob_view column_blob(int column) const;
  std::optional<std::int64_t> column_optional_int64(int column) const;
  std::optional<double> column_optional_double(int column) const;
  std::optional<std::string> column_optional_text(int column) const;
  int column_count() const;

  std::string_view sql() const;
  sqlite3_stmt* handle() const noexcept { return stmt_.get(); }

 private:
  [[noreturn]] void fail(int code) const;

  struct finalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept;
  };
  std::unique_ptr<sqlite3_stmt, finalizer> stmt_;
};

enum class open_mode { read_write_create, read_write, read_only };

// A connection, owned. One thread uses it at a time (opened with SQLITE_OPEN_NOMUTEX).
class database {
 public:
  explicit database(std::string path, open_mode mode = open_mode::read_write_create);
  database(database&&) noexcept = default;
  database& operator=(database&&) noexcept = default;
  ~database() = default;

  // Runs one or more statements, each to completion; an error names the failing statement.
  void exec(std::string_view sql);
  statement prepare(std::string_view sql);
  // The statement for `sql`, prepared on first use and kept, reset and with bindings cleared.
  // For the fixed SQL in the code only: the cache is never evicted (so references stay valid).
  statement& cached(std::string_view sql);

  std::int64_t last_insert_rowid() const;
  std::int64_t changes() const;  // rows changed by the last completed INSERT/UPDATE/DELETE
  void busy_timeout(std::chrono::milliseconds timeout);
  // Like busy_timeout, but tries again every millisecond: SQLite's own handler sleeps up to
  // 100 ms between tries, and so keeps losing the lock to a connection that commits often.
  // For a connection on its own thread whose writes should not starve (the HTTP API's).
  void busy_poll(std::chrono::milliseconds timeout);
  bool in_transaction() const;
  bool read_only() const;

  const std::string& path() const noexcept { return path_; }
  sqlite3* handle() const noexcept { return db_.get(); }

 private:
  struct closer {
    void operator()(sqlite3* db) const noexcept;
  };
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };

  std::string path_;
  std::unique_ptr<sqlite3, closer> db_;
  std::unordered_map<std::string, statement, string_hash, std::equal_to<>> cache_;
};

// Throws db_error for a failed call on `db`, with its message and the SQL it came from.
[[noreturn]] void throw_db_error(sqlite3* db, int code, std::string_view sql);

enum class transaction_mode {
  deferred,   // a consistent read of several statements
  immediate,  // takes the write lock now, so the first write cannot meet SQLITE_BUSY
};

// BEGIN in the constructor; ROLLBACK in the destructor unless commit() succeeded.
class transaction {
 public:
  explicit transaction(database& db, transaction_mode mode = transaction_mode::immediate);
  ~transaction();
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

  void commit();

 private:
  database& db_;
  bool done_ = false;
};

// Incremental access to one BLOB value (sqlite3_blob_*): audio is copied in chunks, never
// loaded whole. The handle expires (SQLITE_ABORT) if the row changes meanwhile.
enum class blob_access { read, write };

class blob_handle {
 public:
  blob_handle(database& db, const std::string& table, const std::string& column, std::int64_t rowid,
              blob_access access);
  blob_handle(const blob_handle&) = delete;
  blob_handle& operator=(const blob_handle&) = delete;
  ~blob_handle();

  std::size_t size() const;
  void read(std::span<std::byte> out, std::size_t offset);
  void write(blob_view bytes, std::size_t offset);

 private:
  database& db_;
  sqlite3_blob* blob_ = nullptr;
  std::string what_;  // "assets.data rowid 7", for errors
};

inline constexpr std::size_t blob_chunk_size = 256 * 1024;

// Copies the file into the BLOB at table.column (rowid), which must already hold exactly the
// file's size (INSERT ... zeroblob(N)); throws if the sizes differ. Returns the bytes written.
std::uint64_t write_blob_from_file(database& db, const std::string& table, const std::string& column,
                                   std::int64_t rowid, const std::filesystem::path& file);
// Streams the BLOB into `out`. Returns the bytes written. Run it inside a deferred
// transaction when the row may change meanwhile.
std::uint64_t read_blob_to_stream(database& db, const std::string& table, const std::string& column, std::int64_t rowid,
                                  std::ostream& out);

// --- template definitions --------------------------------------------------------------

template <class F>
auto statement::first_row(F&& read) -> std::optional<std::invoke_result_t<F, statement&>> {
  struct reset_on_exit {
    statement& st;
    ~reset_on_exit() { st.reset(); }
  } guard{*this};
  if (!step()) return std::nullopt;
  return std::forward<F>(read)(*this);
}

template <class F>
void statement::for_each_row(F&& read) {
  struct reset_on_exit {
    statement& st;
    ~reset_on_exit() { st.reset(); }
  } guard{*this};
  while (step()) read(*this);
}

}  // namespace soundtrackd::db
