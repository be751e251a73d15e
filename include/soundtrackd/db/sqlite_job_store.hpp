// The job store on SQLite: every statement the daemon runs on the queue database.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "soundtrackd/db/job_store.hpp"

namespace soundtrackd::db {

class database;

// One entry of a row's timeline (job_events).
struct job_event {
  std::int64_t id = 0;
  std::int64_t job_id = 0;
  epoch_seconds at = 0;
  std::string kind;
  std::string detail;
};

// Works on a connection it does not own (opened by open_queue_database, used by one thread).
// Each write is one short BEGIN IMMEDIATE transaction holding the row change and its
// job_events entry; each statement is prepared once (database::cached). A write that finds
// another connection holding the lock throws db_error with is_busy() after the connection's
// busy_timeout; nothing is written then, and the call can simply be repeated.
//
// Where the interface leaves room, this store:
// - clears remote_job_id and progress in claim_for_submit: a claimed row is about to get a
//   new remote job, so "submitting without remote_job_id" stays the one ambiguous state
//   (earlier remote job ids stay in the `submitted` events);
// - counts queued rows waiting for a retry (next_attempt_at in the future) as pending work
//   in has_pending_work: the daemon is still working on them; only a future run_after, a
//   user's schedule, makes a queued row not count;
// - appends one `downloaded` event per asset before `succeeded` in store_assets;
// - copies all of a job's audio and sets `succeeded` in one transaction (see copy_assets),
//   with finished_at (and the `succeeded` event) at `now` plus the time the copy took;
// - sets finished_at (when NULL) on a row found cancelled by note_taken_away.
// Reads the columns `id, job_id, remote_asset_id, mime_type, size_bytes, sha256, created_at`
// (in that order, from column 0) of an assets query.
class statement;
asset_row read_asset_row(const statement& row);

class sqlite_job_store final : public job_store {
 public:
  explicit sqlite_job_store(database& db) : db_(db) {}

  std::vector<job_row> unfinished() override;
  std::vector<std::int64_t> due_ids(int limit, epoch_seconds now, const std::vector<std::int64_t>& skip) override;
  std::optional<job_row> claim_for_submit(std::int64_t id, epoch_seconds now) override;
  bool mark_running(std::int64_t id, const std::string& remote_job_id, std::optional<double> cost_cu,
                    epoch_seconds now) override;
  void record_progress(const std::vector<progress_update>& updates, epoch_seconds now) override;
  bool mark_downloading(std::int64_t id, epoch_seconds now) override;
  bool record_retry(std::int64_t id, const std::string& message, epoch_seconds next_attempt_at, bool requeue,
                    epoch_seconds now) override;
  bool requeue(std::int64_t id, const std::string& detail, epoch_seconds now) override;
  bool requeue_ambiguous(std::int64_t id, const std::string& detail, epoch_seconds now) override;
  bool store_assets(std::int64_t id, const std::vector<staged_asset>& assets, epoch_seconds now) override;
  bool mark_failed(std::int64_t id, const std::string& message, epoch_seconds now) override;
  std::optional<job_status> note_taken_away(std::int64_t id, const std::string& detail, epoch_seconds now) override;
  // Does nothing when the row no longer exists (deleted meanwhile): an event for a gone row
  // has nowhere to go, and the caller is about to find out anyway.
  void append_event(std::int64_t id, const std::string& kind, const std::string& detail, epoch_seconds now) override;
  // A store_assets inside it copies its audio in the group's transaction (a savepoint), so
  // the whole group waits for the copy: only small ones belong there (group_store_max_bytes).
  void in_one_transaction(const std::function<void(job_store&)>& writes) override;
  std::int64_t data_version() override;
  status_counts counts() override;
  // A lower bound: it may wake the caller early (a row with both times set), never late.
  std::optional<epoch_seconds> next_due_time(epoch_seconds now) override;
  bool has_pending_work(epoch_seconds now) override;
  double spent_cu_since(epoch_seconds since) override;
  std::vector<std::int64_t> no_longer_active(const std::vector<std::int64_t>& ids) override;

  // --- beyond the interface: the CLI, the API and tests ------------------------------
  // Inserts a queued row as a user would (created_at from the column default); returns its id.
  std::int64_t insert(const job_request& request);
  // The same inside the caller's transaction (an import inserts many rows in one).
  std::int64_t insert_in_transaction(const job_request& request);
  std::optional<job_row> find(std::int64_t id);
  std::vector<asset_row> assets_of(std::int64_t job_id);  // without the audio itself
  std::vector<job_event> events_of(std::int64_t job_id);  // oldest first

  // The statements behind due_ids and next_due_time, so tests can check their query plans
  // (they must seek an index, never scan jobs).
  static std::string_view due_ids_sql();
  static std::string_view next_due_time_sql();

 private:
  void insert_event(std::int64_t id, const std::string& kind, const std::string& detail, epoch_seconds now);
  std::optional<job_status> status_of(std::int64_t id);
  std::int64_t insert_asset(std::int64_t id, const staged_asset& asset, epoch_seconds now);
  bool copy_assets(std::int64_t id, const std::vector<staged_asset>& assets, std::uint64_t total_bytes,
                   epoch_seconds now);

  database& db_;
};

}  // namespace soundtrackd::db
