// The job store on SQLite: each interface call is one or two cached statements in a short transaction.
#include "soundtrackd/db/sqlite_job_store.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string_view>

#include "soundtrackd/db/database.hpp"

namespace soundtrackd::db {

namespace {

// The columns read_job() expects, in this order.
const std::string job_columns =
    "id, prompt, lyrics, is_instrumental, lyrics_optimizer, sample_rate, bitrate, priority, batch, name, "
    "run_after, max_attempts, created_at, status, attempts, remote_job_id, last_error, updated_at, "
    "submitted_at, finished_at, next_attempt_at, progress, cost_cu";

const std::string select_job_sql = "SELECT " + job_columns + " FROM jobs WHERE id = ?1";

// The states in which the daemon holds a row; served by the (status, ...) index.
const std::string select_unfinished_sql =
    "SELECT " + job_columns +
    ", (SELECT max(at) FROM job_events e WHERE e.job_id = jobs.id AND e.kind = 'retried') "
    "FROM jobs WHERE status IN ('submitting', 'running', 'downloading') ORDER BY id";

// remote_job_id and progress are cleared: the row is about to get a new remote job (see the
// class comment).
const std::string claim_sql =
    "UPDATE jobs SET status = 'submitting', attempts = attempts + 1, next_attempt_at = NULL, "
    "remote_job_id = NULL, progress = NULL, updated_at = ?2 "
    "WHERE id = ?1 AND status = 'queued' RETURNING " +
    job_columns;

// The skip list arrives as a JSON array so that one prepared statement serves any length.
// status = 'queued' plus ORDER BY priority DESC, id is exactly the jobs_by_status_priority
// index: SQLite walks it in order and stops at LIMIT, never sorting or scanning the table.
constexpr std::string_view select_due_ids_sql = R"(
  SELECT id FROM jobs
  WHERE status = 'queued'
    AND (run_after IS NULL OR run_after <= ?1)
    AND (next_attempt_at IS NULL OR next_attempt_at <= ?1)
    AND id NOT IN (SELECT value FROM json_each(?2))
  ORDER BY priority DESC, id
  LIMIT ?3)";

// Statements that move a row along bind ?1 = id and ?2 = now, then their own values.
constexpr std::string_view mark_running_sql = R"(
  UPDATE jobs SET status = 'running', remote_job_id = ?3, cost_cu = coalesce(?4, cost_cu),
                  submitted_at = coalesce(submitted_at, ?2), next_attempt_at = NULL, updated_at = ?2
  WHERE id = ?1 AND status = 'submitting')";

constexpr std::string_view record_progress_sql = R"(
  UPDATE jobs SET progress = ?3, updated_at = ?2 WHERE id = ?1 AND status = 'running')";

constexpr std::string_view mark_downloading_sql = R"(
  UPDATE jobs SET status = 'downloading', updated_at = ?2 WHERE id = ?1 AND status = 'running')";

constexpr std::string_view record_retry_sql = R"(
  UPDATE jobs SET last_error = ?3, next_attempt_at = ?4,
                  status = CASE WHEN ?5 THEN 'queued' ELSE status END, updated_at = ?2
  WHERE id = ?1 AND status IN ('submitting', 'running', 'downloading'))";

constexpr std::string_view requeue_sql = R"(
  UPDATE jobs SET status = 'queued', updated_at = ?2
  WHERE id = ?1 AND status IN ('submitting', 'running', 'downloading'))";

constexpr std::string_view requeue_ambiguous_sql = R"(
  UPDATE jobs SET status = 'queued', updated_at = ?2
  WHERE id = ?1 AND status = 'submitting' AND remote_job_id IS NULL)";

// queued too: the daemon fails a row it cannot submit at all (data the API rejects).
constexpr std::string_view mark_failed_sql = R"(
  UPDATE jobs SET status = 'failed', last_error = ?3, finished_at = ?2, next_attempt_at = NULL,
                  updated_at = ?2
  WHERE id = ?1 AND status IN ('queued', 'submitting', 'running', 'downloading'))";

constexpr std::string_view mark_succeeded_sql = R"(
  UPDATE jobs SET status = 'succeeded', progress = 1, finished_at = ?2, last_error = NULL,
                  next_attempt_at = NULL, updated_at = ?2
  WHERE id = ?1 AND status = 'downloading')";

// A person's cancel is kept as it is; we only add what they left out.
constexpr std::string_view note_cancelled_sql = R"(
  UPDATE jobs SET last_error = coalesce(last_error, ?3), finished_at = coalesce(finished_at, ?2),
                  updated_at = ?2
  WHERE id = ?1 AND status = 'cancelled')";

constexpr std::string_view select_status_sql = "SELECT status FROM jobs WHERE id = ?1";

// ON CONFLICT DO UPDATE rather than INSERT OR REPLACE: a repeated store keeps the asset's id.
// ?7 is the track held in memory, or a zeroblob that reserves the space write_blob_from_file
// then fills from the staging file; data is the row's last column (migration 0004), so the
// zeros are never built in memory.
constexpr std::string_view upsert_asset_sql = R"(
  INSERT INTO assets (job_id, remote_asset_id, mime_type, size_bytes, sha256, data, created_at)
  VALUES (?1, ?2, ?3, ?4, ?5, ?7, ?6)
  ON CONFLICT (job_id, remote_asset_id) DO UPDATE SET
    mime_type = excluded.mime_type, size_bytes = excluded.size_bytes, sha256 = excluded.sha256,
    data = excluded.data, created_at = excluded.created_at
  RETURNING id)";

constexpr std::string_view insert_event_sql = R"(
  INSERT INTO job_events (job_id, at, kind, detail) VALUES (?1, ?2, ?3, ?4))";

// INSERT ... SELECT ... WHERE EXISTS: for a deleted row this inserts nothing instead of
// failing the foreign key.
constexpr std::string_view append_event_sql = R"(
  INSERT INTO job_events (job_id, at, kind, detail)
  SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM jobs WHERE id = ?1))";

constexpr std::string_view counts_sql = "SELECT status, count(*) FROM jobs GROUP BY status";

// Each branch is one seek on a partial (status, time) index; see next_due_time's comment in
// the header for why the smaller of the two is enough.
constexpr std::string_view select_next_due_time_sql = R"(
  SELECT min(t) FROM (
    SELECT * FROM (SELECT run_after AS t FROM jobs
                   WHERE status = 'queued' AND run_after > ?1 ORDER BY run_after LIMIT 1)
    UNION ALL
    SELECT * FROM (SELECT next_attempt_at AS t FROM jobs
                   WHERE status = 'queued' AND next_attempt_at > ?1 ORDER BY next_attempt_at LIMIT 1)))";

constexpr std::string_view has_pending_work_sql = R"(
  SELECT EXISTS (SELECT 1 FROM jobs WHERE status IN ('submitting', 'running', 'downloading'))
      OR EXISTS (SELECT 1 FROM jobs WHERE status = 'queued' AND (run_after IS NULL OR run_after <= ?1)))";

// Ids from the list that are deleted or no longer in a status the daemon works on.
constexpr std::string_view no_longer_active_sql = R"(
  SELECT ids.value FROM json_each(?1) AS ids
  WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.id = ids.value
                    AND jobs.status IN ('submitting', 'running', 'downloading')))";

constexpr std::string_view spent_since_sql = R"(
  SELECT coalesce(sum(cost_cu), 0) FROM jobs WHERE submitted_at >= ?1)";

constexpr std::string_view insert_job_sql = R"(
  INSERT INTO jobs (prompt, lyrics, is_instrumental, lyrics_optimizer, sample_rate, bitrate, priority,
                    batch, name, run_after, max_attempts)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11))";

constexpr std::string_view select_assets_sql = R"(
  SELECT id, job_id, remote_asset_id, mime_type, size_bytes, sha256, created_at
  FROM assets WHERE job_id = ?1 ORDER BY id)";

constexpr std::string_view select_events_sql = R"(
  SELECT id, job_id, at, kind, detail FROM job_events WHERE job_id = ?1 ORDER BY id)";

job_status read_status(const statement& row, int column) {
  auto text = row.column_text(column);
  auto status = parse_job_status(text);
  // The CHECK on jobs.status makes this unreachable unless the schema was altered by hand.
  if (!status) throw std::runtime_error("jobs.status holds an unknown value '" + text + "'");
  return *status;
}

job_row read_job(const statement& row) {
  job_row job;
  job.id = row.column_int64(0);
  job.request.prompt = row.column_text(1);
  job.request.lyrics = row.column_text(2);
  job.request.is_instrumental = row.column_int64(3) != 0;
  job.request.lyrics_optimizer = row.column_int64(4) != 0;
  job.request.sample_rate = row.column_int64(5);
  job.request.bitrate = row.column_int64(6);
  job.request.priority = row.column_int64(7);
  job.request.batch = row.column_optional_text(8);
  job.request.name = row.column_optional_text(9);
  job.request.run_after = row.column_optional_double(10);
  if (auto max_attempts = row.column_optional_int64(11))
    job.request.max_attempts = static_cast<int>(std::min<std::int64_t>(*max_attempts, INT_MAX));
  job.created_at = row.column_double(12);
  job.status = read_status(row, 13);
  job.attempts = static_cast<int>(row.column_int64(14));
  job.remote_job_id = row.column_optional_text(15);
  job.last_error = row.column_optional_text(16);
  job.updated_at = row.column_optional_double(17);
  job.submitted_at = row.column_optional_double(18);
  job.finished_at = row.column_optional_double(19);
  job.next_attempt_at = row.column_optional_double(20);
  job.progress = row.column_optional_double(21);
  job.cost_cu = row.column_optional_double(22);
  return job;
}

std::string to_json_array(const std::vector<std::int64_t>& ids) {
  std::string json = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) json += ',';
    json += std::to_string(ids[i]);
  }
  json += ']';
  return json;
}

std::string plural(std::size_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

// One row's change, all or nothing: its own BEGIN IMMEDIATE transaction, or, inside a
// group commit (in_one_transaction), a savepoint of the group's transaction, so a change that
// fails leaves the others of the group in place.
class row_transaction {
 public:
  explicit row_transaction(database& db) : db_(db), nested_(db.in_transaction()) {
    if (nested_)
      db_.cached("SAVEPOINT row_change").execute();
    else
      outer_.emplace(db_);
  }
  ~row_transaction() {
    if (!nested_ || done_ || !db_.in_transaction()) return;  // outer_ rolls itself back
    try {
      db_.cached("ROLLBACK TO row_change").execute();
      db_.cached("RELEASE row_change").execute();
    } catch (const db_error&) {
      // The group's transaction is gone (SQLITE_FULL, IOERR...): its COMMIT will say so.
    }
  }
  row_transaction(const row_transaction&) = delete;
  row_transaction& operator=(const row_transaction&) = delete;

  void commit() {
    if (nested_)
      db_.cached("RELEASE row_change").execute();
    else
      outer_->commit();
    done_ = true;
  }

 private:
  database& db_;
  bool nested_;
  bool done_ = false;
  std::optional<transaction> outer_;
};

struct event_entry {
  const char* kind;
  const std::string& detail;
};

// One conditional UPDATE (?1 = id, ?2 = now, then `values`) and, when it changed the row, its
// event, in one BEGIN IMMEDIATE transaction. False, with nothing written, when the row is not
// in the expected status (or is gone).
template <class... Values>
bool advance(database& db, std::string_view update_sql, std::int64_t id, epoch_seconds now,
             std::optional<event_entry> event, const Values&... values) {
  row_transaction tx(db);
  if (db.cached(update_sql).bind_all(id, now, values...).execute() == 0) return false;
  if (event) db.cached(insert_event_sql).bind_all(id, now, std::string_view(event->kind), event->detail).execute();
  tx.commit();
  return true;
}

}  // namespace

// --- start-up ------------------------------------------------------------------------------

std::vector<job_row> sqlite_job_store::unfinished() {
  std::vector<job_row> rows;
  db_.cached(select_unfinished_sql).for_each_row([&](statement& row) {
    rows.push_back(read_job(row));
    rows.back().retried_at = row.column_optional_double(23);
  });
  return rows;
}

// --- admission -----------------------------------------------------------------------------

std::vector<std::int64_t> sqlite_job_store::due_ids(int limit, epoch_seconds now,
                                                    const std::vector<std::int64_t>& skip) {
  std::vector<std::int64_t> ids;
  if (limit <= 0) return ids;
  auto& st = db_.cached(select_due_ids_sql);
  st.bind_all(now, to_json_array(skip), limit);
  st.for_each_row([&](statement& row) { ids.push_back(row.column_int64(0)); });
  return ids;
}

std::optional<job_row> sqlite_job_store::claim_for_submit(std::int64_t id, epoch_seconds now) {
  row_transaction tx(db_);
  std::optional<job_row> claimed;
  // Stepped to the end (not first_row): RETURNING rows are only final once the statement is done.
  db_.cached(claim_sql).bind_all(id, now).for_each_row([&](statement& row) { claimed = read_job(row); });
  if (!claimed) return std::nullopt;
  tx.commit();
  return claimed;
}

// --- progress ------------------------------------------------------------------------------

bool sqlite_job_store::mark_running(std::int64_t id, const std::string& remote_job_id, std::optional<double> cost_cu,
                                    epoch_seconds now) {
  return advance(db_, mark_running_sql, id, now, event_entry{"submitted", remote_job_id}, remote_job_id, cost_cu);
}

void sqlite_job_store::record_progress(const std::vector<progress_update>& updates, epoch_seconds now) {
  if (updates.empty()) return;
  row_transaction tx(db_);
  for (const auto& u : updates) {
    // The API's number goes into a CHECKed column: keep a slightly-off value (1.0000001) from
    // failing the write, and store an unusable one (NaN) as unknown.
    std::optional<double> value;
    if (std::isfinite(u.progress)) value = std::clamp(u.progress, 0.0, 1.0);
    db_.cached(record_progress_sql).bind_all(u.id, now, value).execute();
  }
  tx.commit();
}

bool sqlite_job_store::mark_downloading(std::int64_t id, epoch_seconds now) {
  return advance(db_, mark_downloading_sql, id, now, std::nullopt);
}

bool sqlite_job_store::record_retry(std::int64_t id, const std::string& message, epoch_seconds next_attempt_at,
                                    bool requeue, epoch_seconds now) {
  return advance(db_, record_retry_sql, id, now, event_entry{"retry", message}, message, next_attempt_at, requeue);
}

bool sqlite_job_store::requeue(std::int64_t id, const std::string& detail, epoch_seconds now) {
  return advance(db_, requeue_sql, id, now, event_entry{"paused", detail});
}

bool sqlite_job_store::requeue_ambiguous(std::int64_t id, const std::string& detail, epoch_seconds now) {
  return advance(db_, requeue_ambiguous_sql, id, now, event_entry{"requeued", detail});
}

// --- endings -------------------------------------------------------------------------------

bool sqlite_job_store::store_assets(std::int64_t id, const std::vector<staged_asset>& assets, epoch_seconds now) {
  std::uint64_t total_bytes = 0;
  for (const auto& asset : assets) {
    // Incremental BLOB I/O addresses bytes with an int offset.
    if (asset.size_bytes > static_cast<std::uint64_t>(INT_MAX))
      throw std::runtime_error("asset " + asset.remote_asset_id + " of job " + std::to_string(id) + " is " +
                               std::to_string(asset.size_bytes) + " bytes; SQLite stores at most " +
                               std::to_string(INT_MAX) + " bytes in one value");
    // Checked before anything is written, so a wrong staging file leaves the database as it was.
    std::error_code ec;
    const auto size = asset.bytes ? asset.bytes->size() : std::filesystem::file_size(asset.path, ec);
    if (ec) throw std::runtime_error("cannot read " + asset.path + ": " + ec.message());
    if (size != asset.size_bytes)
      throw std::runtime_error((asset.bytes ? std::string("the downloaded track") : asset.path) + " is " +
                               std::to_string(size) + " bytes but asset " + asset.remote_asset_id + " of job " +
                               std::to_string(id) + " was verified at " + std::to_string(asset.size_bytes));
    total_bytes += asset.size_bytes;
  }
  return copy_assets(id, assets, total_bytes, now);
}

// One transaction copies every asset of the job and sets `succeeded`, so a track is never
// visible half stored and nothing needs undoing after a crash. A 50 MB track holds the write
// lock for about as long as the sqlite3 CLI inserting the same bytes does
// (docs/performance.md): zeroblob(N) must write the room for all N bytes in one transaction anyway,
// and copying the bytes in the same transaction writes them to the WAL once. Copying in
// several transactions (as before) still held the lock that long for the zeroblob alone,
// and wrote every page twice (zeros, then audio), at a third of the sqlite3 CLI's speed.
// Memory stays flat: SQLite spills dirty pages to the WAL (cache_size), the file is read
// blob_chunk_size at a time, and zeroblob(N) is never built in memory (migration 0004).
bool sqlite_job_store::copy_assets(std::int64_t id, const std::vector<staged_asset>& assets, std::uint64_t total_bytes,
                                   epoch_seconds now) {
  const auto copy_started = std::chrono::steady_clock::now();
  row_transaction tx(db_);
  // Checked first so no audio is copied for a row someone cancelled or deleted meanwhile.
  if (status_of(id) != job_status::downloading) return false;
  for (const auto& asset : assets) {
    const auto rowid = insert_asset(id, asset, now);
    if (!asset.bytes) write_blob_from_file(db_, "assets", "data", rowid, asset.path);
  }
  // The row's times say when it really finished: after the copy, not when it was handed over.
  const auto finished = now + std::chrono::duration<double>(std::chrono::steady_clock::now() - copy_started).count();
  if (db_.cached(mark_succeeded_sql).bind_all(id, finished).execute() == 0) return false;
  insert_event(id, "succeeded", plural(assets.size(), "asset") + ", " + plural(total_bytes, "byte"), finished);
  tx.commit();
  return true;
}

std::optional<job_status> sqlite_job_store::status_of(std::int64_t id) {
  return db_.cached(select_status_sql).bind_all(id).first_row([](statement& row) { return read_status(row, 0); });
}

// The asset's row with its final size, digest and type, and its bytes when they are in
// memory or room for them (zeroblob) when they are in a staging file; plus its `downloaded`
// event. Returns the row id.
std::int64_t sqlite_job_store::insert_asset(std::int64_t id, const staged_asset& asset, epoch_seconds now) {
  std::optional<std::int64_t> rowid;
  auto& insert = db_.cached(upsert_asset_sql);
  insert.bind_all(id, asset.remote_asset_id, asset.mime_type, asset.size_bytes, asset.sha256, now);
  if (asset.bytes)
    insert.bind(7, blob_view(reinterpret_cast<const std::byte*>(asset.bytes->data()), asset.bytes->size()));
  else
    insert.bind_zeroblob(7, asset.size_bytes);
  insert.for_each_row([&](statement& row) { rowid = row.column_int64(0); });
  if (!rowid) throw std::logic_error("INSERT ... RETURNING id returned no row");
  insert_event(id, "downloaded",
               "remote asset " + asset.remote_asset_id + ": " + asset.mime_type + ", " +
                   plural(asset.size_bytes, "byte") + ", sha256 " + asset.sha256,
               now);
  return *rowid;
}

bool sqlite_job_store::mark_failed(std::int64_t id, const std::string& message, epoch_seconds now) {
  return advance(db_, mark_failed_sql, id, now, event_entry{"failed", message}, message);
}

std::optional<job_status> sqlite_job_store::note_taken_away(std::int64_t id, const std::string& detail,
                                                            epoch_seconds now) {
  row_transaction tx(db_);
  auto status = status_of(id);
  if (status == job_status::cancelled) {
    db_.cached(note_cancelled_sql).bind_all(id, now, detail).execute();
    insert_event(id, "cancelled", detail, now);
    tx.commit();
  }
  return status;
}

// --- group commit -------------------------------------------------------------------------

void sqlite_job_store::in_one_transaction(const std::function<void(job_store&)>& writes) {
  transaction tx(db_);
  writes(*this);
  tx.commit();
}

// --- observation ---------------------------------------------------------------------------

void sqlite_job_store::append_event(std::int64_t id, const std::string& kind, const std::string& detail,
                                    epoch_seconds now) {
  row_transaction tx(db_);
  db_.cached(append_event_sql).bind_all(id, now, kind, detail).execute();
  tx.commit();
}

std::int64_t sqlite_job_store::data_version() {
  return db_.cached("PRAGMA data_version").first_row([](statement& row) { return row.column_int64(0); }).value_or(0);
}

status_counts sqlite_job_store::counts() {
  status_counts counts;
  for (auto s : {job_status::queued, job_status::submitting, job_status::running, job_status::downloading,
                 job_status::succeeded, job_status::failed, job_status::cancelled})
    counts.by_status[s] = 0;
  db_.cached(counts_sql).for_each_row([&](statement& row) {
    counts.by_status[read_status(row, 0)] = row.column_int64(1);
  });
  return counts;
}

std::optional<epoch_seconds> sqlite_job_store::next_due_time(epoch_seconds now) {
  auto t = db_.cached(select_next_due_time_sql).bind_all(now).first_row([](statement& row) {
    return row.column_optional_double(0);
  });
  return t.value_or(std::nullopt);
}

bool sqlite_job_store::has_pending_work(epoch_seconds now) {
  return db_.cached(has_pending_work_sql)
      .bind_all(now)
      .first_row([](statement& row) { return row.column_int64(0) != 0; })
      .value_or(false);
}

std::vector<std::int64_t> sqlite_job_store::no_longer_active(const std::vector<std::int64_t>& ids) {
  std::vector<std::int64_t> gone;
  if (ids.empty()) return gone;
  db_.cached(no_longer_active_sql).bind_all(to_json_array(ids)).for_each_row([&](statement& row) {
    gone.push_back(row.column_int64(0));
  });
  return gone;
}

double sqlite_job_store::spent_cu_since(epoch_seconds since) {
  return db_.cached(spent_since_sql)
      .bind_all(since)
      .first_row([](statement& row) { return row.column_double(0); })
      .value_or(0.0);
}

// --- beyond the interface ------------------------------------------------------------------

std::string_view sqlite_job_store::due_ids_sql() { return select_due_ids_sql; }

std::string_view sqlite_job_store::next_due_time_sql() { return select_next_due_time_sql; }

std::int64_t sqlite_job_store::insert(const job_request& r) {
  transaction tx(db_);
  auto id = insert_in_transaction(r);
  tx.commit();
  return id;
}

std::int64_t sqlite_job_store::insert_in_transaction(const job_request& r) {
  db_.cached(insert_job_sql)
      .bind_all(r.prompt, r.lyrics, r.is_instrumental, r.lyrics_optimizer, r.sample_rate, r.bitrate, r.priority,
                r.batch, r.name, r.run_after, r.max_attempts)
      .execute();
  return db_.last_insert_rowid();
}

std::optional<job_row> sqlite_job_store::find(std::int64_t id) {
  return db_.cached(select_job_sql).bind_all(id).first_row([](statement& row) { return read_job(row); });
}

asset_row read_asset_row(const statement& row) {
  return asset_row{
      .id = row.column_int64(0),
      .job_id = row.column_int64(1),
      .remote_asset_id = row.column_text(2),
      .mime_type = row.column_text(3),
      .size_bytes = static_cast<std::uint64_t>(row.column_int64(4)),
      .sha256 = row.column_text(5),
      .created_at = row.column_double(6),
  };
}

std::vector<asset_row> sqlite_job_store::assets_of(std::int64_t job_id) {
  std::vector<asset_row> assets;
  db_.cached(select_assets_sql).bind_all(job_id).for_each_row([&](statement& row) {
    assets.push_back(read_asset_row(row));
  });
  return assets;
}

std::vector<job_event> sqlite_job_store::events_of(std::int64_t job_id) {
  std::vector<job_event> events;
  db_.cached(select_events_sql).bind_all(job_id).for_each_row([&](statement& row) {
    events.push_back(job_event{
        .id = row.column_int64(0),
        .job_id = row.column_int64(1),
        .at = row.column_double(2),
        .kind = row.column_text(3),
        .detail = row.column_text(4),
    });
  });
  return events;
}

void sqlite_job_store::insert_event(std::int64_t id, const std::string& kind, const std::string& detail,
                                    epoch_seconds now) {
  db_.cached(insert_event_sql).bind_all(id, now, kind, detail).execute();
}

}  // namespace soundtrackd::db
