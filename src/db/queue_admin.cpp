// Queue administration for soundtrackctl and the HTTP API: listing, counting, cancelling,
// retrying, prioritising, pruning and exporting rows, and the dashboard's overview.
#include "soundtrackd/db/queue_admin.hpp"

#include <algorithm>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <utility>

#include "soundtrackd/db/database.hpp"

namespace soundtrackd::db {

namespace {

// What a person may change from outside (cancel); the other states are final.
constexpr std::string_view cancellable_statuses = "('queued', 'submitting', 'running', 'downloading')";

constexpr std::string_view select_row_state_sql = "SELECT status, remote_job_id, last_error FROM jobs WHERE id = ?1";

constexpr std::string_view insert_event_sql = R"(
  INSERT INTO job_events (job_id, at, kind, detail) VALUES (?1, ?2, ?3, ?4))";

// Two statements rather than "?1 IS NULL OR batch = ?1": SQLite only uses the partial
// jobs_by_batch index when the WHERE clause itself implies batch IS NOT NULL.
constexpr std::string_view counts_all_sql = R"(
  SELECT status, count(*), count(CASE WHEN finished_at >= ?1 THEN 1 END), min(submitted_at)
  FROM jobs GROUP BY status)";

constexpr std::string_view counts_batch_sql = R"(
  SELECT status, count(*), count(CASE WHEN finished_at >= ?1 THEN 1 END), min(submitted_at)
  FROM jobs WHERE batch = ?2 GROUP BY status)";

// Walks the primary key from the newest row and stops at LIMIT, so the filters cost only the
// rows they skip. The statuses arrive as a JSON array, so one prepared statement serves any
// number of them. The text filter is lowercased by the caller (lower() is ASCII-only).
constexpr std::string_view list_where = R"(
  WHERE (?1 IS NULL OR status IN (SELECT value FROM json_each(?1)))
    AND (?2 IS NULL OR batch = ?2)
    AND (?3 IS NULL OR instr(lower(prompt), ?3) > 0 OR instr(lower(name), ?3) > 0))";

const std::string list_sql =
    "SELECT id, status, batch, name, attempts, remote_job_id, prompt, last_error, priority, progress,"
    " created_at, updated_at, submitted_at, finished_at FROM jobs" +
    std::string(list_where) + " ORDER BY id DESC LIMIT ?4 OFFSET ?5";

const std::string count_list_sql = "SELECT count(*) FROM jobs" + std::string(list_where);

constexpr std::string_view set_priority_sql = R"(
  UPDATE jobs SET priority = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'queued')";

// The overview's statements. Batch counts read the covering jobs_by_batch index; the recent
// ones read jobs_by_finished_at (migration 0002) over the window only; the oldest due row walks
// jobs_queued_by_created_at from the oldest queued row and stops at the first one due.
constexpr std::string_view batch_counts_sql = R"(
  SELECT batch, status, count(*) FROM jobs WHERE batch IS NOT NULL GROUP BY batch, status ORDER BY batch, status)";

constexpr std::string_view batch_finished_since_sql = R"(
  SELECT batch, count(*) FROM jobs
  WHERE finished_at >= ?1 AND batch IS NOT NULL AND status IN ('succeeded', 'failed', 'cancelled')
  GROUP BY batch)";

constexpr std::string_view throughput_sql = R"(
  SELECT CAST(finished_at / 60 AS INTEGER) * 60 AS minute, count(*) FROM jobs
  WHERE finished_at >= ?1 AND status = 'succeeded'
  GROUP BY minute ORDER BY minute)";

constexpr std::string_view oldest_due_sql = R"(
  SELECT max(created_at, coalesce(run_after, 0), coalesce(next_attempt_at, 0)) FROM jobs
  WHERE status = 'queued' AND (run_after IS NULL OR run_after <= ?1)
    AND (next_attempt_at IS NULL OR next_attempt_at <= ?1)
  ORDER BY created_at LIMIT 1)";

constexpr std::string_view select_asset_of_job_sql = R"(
  SELECT id, job_id, remote_asset_id, mime_type, size_bytes, sha256, created_at FROM assets
  WHERE job_id = ?1 AND (?2 IS NULL OR id = ?2) ORDER BY id LIMIT 1)";

const std::string cancel_sql =
    "UPDATE jobs SET status = 'cancelled', last_error = ?3, finished_at = ?2, next_attempt_at = NULL, updated_at = ?2 "
    "WHERE id = ?1 AND status IN " +
    std::string(cancellable_statuses);

const std::string select_cancellable_in_batch_sql =
    "SELECT id FROM jobs WHERE batch = ?1 AND status IN " + std::string(cancellable_statuses) + " ORDER BY id";

// Keeps remote_job_id (and progress): soundtrackd's start-up recovery polls running rows by it.
constexpr std::string_view retry_resume_sql = R"(
  UPDATE jobs SET status = 'running', last_error = NULL, finished_at = NULL, next_attempt_at = NULL,
                  updated_at = ?2
  WHERE id = ?1 AND status IN ('failed', 'cancelled'))";

constexpr std::string_view retry_resubmit_sql = R"(
  UPDATE jobs SET status = 'queued', remote_job_id = NULL, progress = NULL, last_error = NULL,
                  finished_at = NULL, next_attempt_at = NULL, updated_at = ?2
  WHERE id = ?1 AND status IN ('failed', 'cancelled'))";

constexpr std::string_view select_queued_sql = R"(
  SELECT id FROM jobs WHERE status = 'queued' AND (?1 IS NULL OR batch = ?1) ORDER BY id)";

constexpr std::string_view select_failed_sql = R"(
  SELECT id FROM jobs WHERE status = 'failed' AND (?1 IS NULL OR batch = ?1) ORDER BY id)";

// Keyset paging on assets.id. CROSS JOIN keeps assets as the outer loop (SQLite does not
// reorder it): each page walks the primary key from the last id and stops at LIMIT, where
// starting from the jobs_by_status_priority index would sort every succeeded row's assets
// for every page. The position of an asset within its job (for the -<n> of the file name) is
// counted on the UNIQUE (job_id, ...) index: one short seek per asset.
constexpr std::string_view exportable_assets_page_sql = R"(
  SELECT a.id, a.job_id, a.remote_asset_id, a.mime_type, a.size_bytes, a.sha256, a.created_at, j.name,
         (SELECT count(*) FROM assets b WHERE b.job_id = a.job_id AND b.id < a.id)
  FROM assets a CROSS JOIN jobs j ON j.id = a.job_id
  WHERE j.status = 'succeeded' AND (?1 IS NULL OR j.batch = ?1) AND a.id > ?2
  ORDER BY a.id
  LIMIT ?3)";

constexpr std::int64_t export_page_size = 100;

// Rows cancelled with a bare UPDATE may lack finished_at; their last change stands in.
constexpr std::string_view prunable_where = R"(
  coalesce(finished_at, updated_at, created_at) < ?1 AND (?2 IS NULL OR batch = ?2))";

const std::string prunable_finished =
    "status IN ('succeeded', 'failed', 'cancelled') AND" + std::string(prunable_where);
const std::string prunable_unsuccessful = "status IN ('failed', 'cancelled') AND" + std::string(prunable_where);
const std::string prunable_succeeded = "status = 'succeeded' AND" + std::string(prunable_where);

std::int64_t count_of(database& db, const std::string& sql, epoch_seconds cutoff,
                      const std::optional<std::string>& batch) {
  return db.prepare(sql)
      .bind_all(cutoff, batch)
      .first_row([](statement& row) { return row.column_int64(0); })
      .value_or(0);
}

job_status read_status(const statement& row, int column) {
  auto text = row.column_text(column);
  auto status = parse_job_status(text);
  // The CHECK on jobs.status makes this unreachable unless the schema was altered by hand.
  if (!status) throw std::runtime_error("jobs.status holds an unknown value '" + text + "'");
  return *status;
}

struct row_state {
  job_status status;
  std::optional<std::string> remote_job_id;
  std::optional<std::string> last_error;
};

std::optional<row_state> read_row_state(database& db, std::int64_t id) {
  return db.cached(select_row_state_sql).bind_all(id).first_row([](statement& row) {
    return row_state{read_status(row, 0), row.column_optional_text(1), row.column_optional_text(2)};
  });
}

void insert_event(database& db, std::int64_t id, epoch_seconds at, std::string_view kind, const std::string& detail) {
  db.cached(insert_event_sql).bind_all(id, at, kind, detail).execute();
}

std::vector<std::int64_t> select_ids(statement& st) {
  std::vector<std::int64_t> ids;
  st.for_each_row([&](statement& row) { ids.push_back(row.column_int64(0)); });
  return ids;
}

// Status names are fixed lowercase words, so they need no JSON escaping.
std::string to_json_array(const std::vector<job_status>& statuses) {
  std::string json = "[";
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    if (i > 0) json += ',';
    json += '"';
    json += to_string(statuses[i]);
    json += '"';
  }
  json += ']';
  return json;
}

}  // namespace

bool remote_job_may_have_audio(const std::string& remote_job_id, const std::optional<std::string>& last_error) {
  if (!last_error) return true;
  const std::string subject = "remote job " + remote_job_id + " ";
  return !last_error->starts_with(subject + "failed") && !last_error->starts_with(subject + "was canceled by the API");
}

queue_admin::queue_admin(database& db) : db_(db), store_(db) {}

std::int64_t queue_admin::enqueue(const job_request& request) {
  validate(request);
  return store_.insert(request);
}

std::vector<queue_admin::group_outcome> queue_admin::enqueue_group(const std::vector<job_request>& requests) {
  std::vector<group_outcome> outcomes(requests.size());
  std::vector<std::int64_t> ids(requests.size(), 0);
  transaction tx(db_);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    try {
      ids[i] = store_.insert_in_transaction(requests[i]);
    } catch (const db_error& e) {
      // A failed statement undoes only itself; the transaction and the other rows go on.
      // validate() holds every CHECK, so this is a trigger or a schema changed by hand.
      if (!e.is_constraint()) throw;
      outcomes[i].error = e.what();
    }
  }
  tx.commit();
  // Read back, with what the schema filled in (created_at, status, ...).
  for (std::size_t i = 0; i < requests.size(); ++i)
    if (ids[i] != 0) outcomes[i].row = store_.find(ids[i]);
  return outcomes;
}

import_summary queue_admin::import_requests(std::istream& in, import_format format,
                                            const std::optional<std::string>& batch) {
  import_summary summary;
  transaction tx(db_);
  read_requests(in, format, [&](std::size_t line, job_request&& request) {
    if (batch) request.batch = batch;
    std::int64_t id = 0;
    try {
      id = store_.insert_in_transaction(request);
    } catch (const db_error& e) {
      // validate() holds every CHECK, so this is a trigger or a schema changed by hand.
      throw db_error(e.code(), "line " + std::to_string(line) + ": " + e.what());
    }
    if (!summary.first_id) summary.first_id = id;
    summary.last_id = id;
    ++summary.count;
  });
  tx.commit();
  return summary;
}

queue_counts queue_admin::counts(const std::optional<std::string>& batch, epoch_seconds since) {
  queue_counts result;
  for (auto s : {job_status::queued, job_status::submitting, job_status::running, job_status::downloading,
                 job_status::succeeded, job_status::failed, job_status::cancelled})
    result.counts.by_status[s] = 0;

  auto& st = batch ? db_.cached(counts_batch_sql).bind_all(since, *batch) : db_.cached(counts_all_sql).bind_all(since);
  st.for_each_row([&](statement& row) {
    auto status = read_status(row, 0);
    result.counts.by_status[status] = row.column_int64(1);
    if (status == job_status::succeeded) result.succeeded_since = row.column_int64(2);
    if (auto submitted = row.column_optional_double(3))
      if (!result.first_submitted_at || *submitted < *result.first_submitted_at) result.first_submitted_at = submitted;
  });
  return result;
}

std::vector<std::int64_t> queue_admin::queued_ids(const std::optional<std::string>& batch) {
  return select_ids(db_.cached(select_queued_sql).bind_all(batch));
}

namespace {

std::optional<std::string> statuses_json(const list_filter& filter) {
  if (filter.statuses.empty()) return std::nullopt;
  return to_json_array(filter.statuses);
}

std::optional<std::string> lowercase_text(const list_filter& filter) {
  if (!filter.text) return std::nullopt;
  std::string text = *filter.text;
  for (auto& c : text)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return text;
}

}  // namespace

std::vector<job_summary> queue_admin::list(const list_filter& filter) {
  std::vector<job_summary> rows;
  db_.cached(list_sql)
      .bind_all(statuses_json(filter), filter.batch, lowercase_text(filter), filter.limit, filter.offset)
      .for_each_row([&](statement& row) {
        rows.push_back(job_summary{
            .id = row.column_int64(0),
            .status = read_status(row, 1),
            .batch = row.column_optional_text(2),
            .name = row.column_optional_text(3),
            .attempts = static_cast<int>(row.column_int64(4)),
            .remote_job_id = row.column_optional_text(5),
            .prompt = row.column_text(6),
            .last_error = row.column_optional_text(7),
            .priority = row.column_int64(8),
            .progress = row.column_optional_double(9),
            .created_at = row.column_double(10),
            .updated_at = row.column_optional_double(11),
            .submitted_at = row.column_optional_double(12),
            .finished_at = row.column_optional_double(13),
        });
      });
  return rows;
}

std::int64_t queue_admin::count(const list_filter& filter) {
  return db_.cached(count_list_sql)
      .bind_all(statuses_json(filter), filter.batch, lowercase_text(filter))
      .first_row([](statement& row) { return row.column_int64(0); })
      .value_or(0);
}

std::optional<job_details> queue_admin::get(std::int64_t id) {
  // One read transaction: the row, its assets and its events from the same moment.
  transaction tx(db_, transaction_mode::deferred);
  auto job = store_.find(id);
  if (!job) return std::nullopt;
  job_details details{std::move(*job), store_.assets_of(id), store_.events_of(id)};
  tx.commit();
  return details;
}

cancel_outcome queue_admin::cancel_one(std::int64_t id, const std::string& note, epoch_seconds now) {
  cancel_outcome outcome;
  outcome.id = id;
  auto state = read_row_state(db_, id);
  if (!state) return outcome;
  outcome.previous_status = state->status;
  outcome.remote_job_id = state->remote_job_id;
  if (db_.cached(cancel_sql).bind_all(id, now, note).execute() == 0) return outcome;

  // The API cannot cancel a generation (DESIGN.md): only our tracking stops.
  std::string detail = note;
  if (state->remote_job_id)
    detail += "; remote job " + *state->remote_job_id + " was not stopped and may still finish and be billed";
  insert_event(db_, id, now, "cancelled", detail);
  outcome.cancelled = true;
  return outcome;
}

std::vector<cancel_outcome> queue_admin::cancel(const std::vector<std::int64_t>& ids, const std::string& note,
                                                epoch_seconds now) {
  std::vector<cancel_outcome> outcomes;
  outcomes.reserve(ids.size());
  transaction tx(db_);
  for (auto id : ids) outcomes.push_back(cancel_one(id, note, now));
  tx.commit();
  return outcomes;
}

std::vector<cancel_outcome> queue_admin::cancel_batch(const std::string& batch, const std::string& note,
                                                      epoch_seconds now) {
  std::vector<cancel_outcome> outcomes;
  transaction tx(db_);
  for (auto id : select_ids(db_.cached(select_cancellable_in_batch_sql).bind_all(batch)))
    outcomes.push_back(cancel_one(id, note, now));
  tx.commit();
  return outcomes;
}

retry_outcome queue_admin::retry_one(std::int64_t id, const std::string& note, epoch_seconds now) {
  retry_outcome outcome;
  outcome.id = id;
  auto state = read_row_state(db_, id);
  if (!state) return outcome;
  outcome.previous_status = state->status;
  if (state->status != job_status::failed && state->status != job_status::cancelled) return outcome;

  std::string detail = note;
  if (state->remote_job_id && remote_job_may_have_audio(*state->remote_job_id, state->last_error)) {
    db_.cached(retry_resume_sql).bind_all(id, now).execute();
    outcome.action = retry_action::resume_remote_job;
    outcome.remote_job_id = state->remote_job_id;
    detail += ": resumes remote job " + *state->remote_job_id;
  } else {
    db_.cached(retry_resubmit_sql).bind_all(id, now).execute();
    outcome.action = retry_action::resubmit;
    detail += ": queued for a new submit";
  }
  // last_error is cleared; the timeline keeps it.
  if (state->last_error) detail += " (was: " + *state->last_error + ")";
  insert_event(db_, id, now, "retried", detail);
  return outcome;
}

std::vector<retry_outcome> queue_admin::retry(const std::vector<std::int64_t>& ids, const std::string& note,
                                              epoch_seconds now) {
  std::vector<retry_outcome> outcomes;
  outcomes.reserve(ids.size());
  transaction tx(db_);
  for (auto id : ids) outcomes.push_back(retry_one(id, note, now));
  tx.commit();
  return outcomes;
}

std::vector<retry_outcome> queue_admin::retry_failed(const std::optional<std::string>& batch, const std::string& note,
                                                     epoch_seconds now) {
  std::vector<retry_outcome> outcomes;
  transaction tx(db_);
  for (auto id : select_ids(db_.cached(select_failed_sql).bind_all(batch)))
    outcomes.push_back(retry_one(id, note, now));
  tx.commit();
  return outcomes;
}

prune_outcome queue_admin::prune(epoch_seconds cutoff, bool keep_audio, const std::optional<std::string>& batch) {
  const auto& deleted = keep_audio ? prunable_unsuccessful : prunable_finished;
  prune_outcome outcome;
  transaction tx(db_);
  // Counted first: rows removed by ON DELETE CASCADE do not show in changes().
  outcome.assets_deleted = count_of(
      db_, "SELECT count(*) FROM assets WHERE job_id IN (SELECT id FROM jobs WHERE " + deleted + ")", cutoff, batch);
  outcome.events_deleted =
      count_of(db_, "SELECT count(*) FROM job_events WHERE job_id IN (SELECT id FROM jobs WHERE " + deleted + ")",
               cutoff, batch);
  if (keep_audio)
    outcome.events_deleted +=
        db_.prepare("DELETE FROM job_events WHERE job_id IN (SELECT id FROM jobs WHERE " + prunable_succeeded + ")")
            .bind_all(cutoff, batch)
            .execute();
  outcome.jobs_deleted = db_.prepare("DELETE FROM jobs WHERE " + deleted).bind_all(cutoff, batch).execute();
  tx.commit();
  return outcome;
}

std::int64_t queue_admin::size_bytes() {
  auto pragma = [&](std::string_view sql) {
    return db_.prepare(sql).first_row([](statement& row) { return row.column_int64(0); }).value_or(0);
  };
  return pragma("PRAGMA page_count") * pragma("PRAGMA page_size");
}

void queue_admin::reclaim_space() {
  db_.exec("VACUUM");
  db_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

std::uint64_t queue_admin::backup_to(const std::string& path, bool replace) {
  namespace fs = std::filesystem;
  if (!replace && fs::exists(path)) throw std::runtime_error(path + " already exists; pass --force to replace it");
  const std::string partial = path + ".partial";
  fs::remove(partial);  // left by an interrupted backup; VACUUM INTO refuses a non-empty file
  try {
    db_.prepare("VACUUM INTO ?1").bind_all(partial).execute();
    database copy(partial, open_mode::read_write);
    auto verdict = copy.prepare("PRAGMA integrity_check").first_row([](statement& row) { return row.column_text(0); });
    if (verdict != "ok")
      throw std::runtime_error("the copy failed PRAGMA integrity_check: " + verdict.value_or("no answer"));
  } catch (...) {
    std::error_code ignored;
    fs::remove(partial, ignored);
    throw;
  }
  fs::rename(partial, path);
  return fs::file_size(path);
}

std::optional<job_status> queue_admin::set_priority(std::int64_t id, std::int64_t priority, const std::string& note,
                                                    epoch_seconds now) {
  transaction tx(db_);
  auto state = read_row_state(db_, id);
  if (!state) return std::nullopt;
  if (db_.cached(set_priority_sql).bind_all(id, priority, now).execute() > 0) {
    insert_event(db_, id, now, "priority", note + ": priority " + std::to_string(priority));
    tx.commit();
  }
  return state->status;
}

queue_overview queue_admin::overview(epoch_seconds now, epoch_seconds recent_since, epoch_seconds throughput_since) {
  // One read transaction: every figure from the same moment.
  transaction tx(db_, transaction_mode::deferred);
  queue_overview result;
  result.counts = counts(std::nullopt, recent_since);
  db_.cached(batch_counts_sql).for_each_row([&](statement& row) {
    auto batch = row.column_text(0);
    if (result.batches.empty() || result.batches.back().batch != batch)
      result.batches.push_back(batch_overview{.batch = batch});
    result.batches.back().counts[read_status(row, 1)] = row.column_int64(2);
  });
  db_.cached(batch_finished_since_sql).bind_all(recent_since).for_each_row([&](statement& row) {
    auto batch = row.column_text(0);
    auto it = std::lower_bound(result.batches.begin(), result.batches.end(), batch,
                               [](const batch_overview& b, const std::string& name) { return b.batch < name; });
    if (it != result.batches.end() && it->batch == batch) it->finished_recently = row.column_int64(1);
  });
  db_.cached(throughput_sql).bind_all(throughput_since).for_each_row([&](statement& row) {
    result.throughput.emplace_back(row.column_int64(0), row.column_int64(1));
  });
  result.oldest_due_since = oldest_due_since(now);
  tx.commit();
  return result;
}

std::optional<epoch_seconds> queue_admin::oldest_due_since(epoch_seconds now) {
  return db_.cached(oldest_due_sql).bind_all(now).first_row([](statement& row) { return row.column_double(0); });
}

std::optional<asset_row> queue_admin::find_asset(std::int64_t job_id, std::optional<std::int64_t> asset_id) {
  return db_.cached(select_asset_of_job_sql).bind_all(job_id, asset_id).first_row([](statement& row) {
    return read_asset_row(row);
  });
}

std::string queue_admin::read_asset_data(std::int64_t asset_id, std::uint64_t offset, std::size_t max_bytes) {
  blob_handle blob(db_, "assets", "data", asset_id, blob_access::read);
  if (offset >= blob.size()) return {};
  std::string bytes(std::min<std::uint64_t>(max_bytes, blob.size() - offset), '\0');
  blob.read(std::as_writable_bytes(std::span(bytes.data(), bytes.size())), offset);
  return bytes;
}

void queue_admin::for_each_exportable_asset(const std::optional<std::string>& batch,
                                            const std::function<void(const exportable_asset&)>& visit) {
  std::int64_t after_id = 0;
  std::vector<exportable_asset> page;
  do {
    page.clear();
    db_.cached(exportable_assets_page_sql)
        .bind_all(batch, after_id, export_page_size)
        .for_each_row([&](statement& row) {
          page.push_back(exportable_asset{
              .asset = read_asset_row(row),
              .job_name = row.column_optional_text(7),
              .index = static_cast<std::size_t>(row.column_int64(8)),
          });
        });
    for (const auto& asset : page) visit(asset);
    if (!page.empty()) after_id = page.back().asset.id;
  } while (page.size() == static_cast<std::size_t>(export_page_size));
}

std::uint64_t queue_admin::copy_asset_data(std::int64_t asset_id, std::ostream& out) {
  // One read transaction: every chunk comes from the same snapshot of the row.
  transaction tx(db_, transaction_mode::deferred);
  auto bytes = read_blob_to_stream(db_, "assets", "data", asset_id, out);
  tx.commit();
  return bytes;
}

}  // namespace soundtrackd::db
