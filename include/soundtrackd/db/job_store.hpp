// The job store: every read and write the daemon makes on the queue. All SQL lives behind
// this interface (db/), so the scheduler and the state machine never see SQLite, and a
// PostgreSQL store can be added later. Calls are synchronous; the daemon runs them on its
// database thread (db/store_thread.hpp).
//
// Every write that moves a row along is conditional on the row still being in the status
// the daemon believes it is in; it returns false when someone else changed the row (for
// example a person cancelled it with sqlite3), and the daemon then stops tracking it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "soundtrackd/db/job_row.hpp"

namespace soundtrackd::db {

// One row's progress from the API (0..1), for job_store::record_progress.
struct progress_update {
  std::int64_t id = 0;
  double progress = 0;
};

struct status_counts {
  std::map<job_status, std::int64_t> by_status;  // every status present, zero included
  std::int64_t total() const;
};

class job_store {
 public:
  virtual ~job_store() = default;

  // --- start-up -----------------------------------------------------------------------
  // Rows the daemon was working on when it stopped: submitting, running, downloading.
  virtual std::vector<job_row> unfinished() = 0;

  // --- admission ----------------------------------------------------------------------
  // Ids of queued rows that are due (run_after and next_attempt_at NULL or <= now), in scan
  // order (priority DESC, id ASC), at most `limit`, with id not in `skip`. Uses the index.
  virtual std::vector<std::int64_t> due_ids(int limit, epoch_seconds now, const std::vector<std::int64_t>& skip) = 0;
  // queued -> submitting, attempts + 1, next_attempt_at NULL, in one conditional UPDATE,
  // committed before the generate call. nullopt when the row is no longer queued.
  virtual std::optional<job_row> claim_for_submit(std::int64_t id, epoch_seconds now) = 0;

  // --- progress -----------------------------------------------------------------------
  // submitting -> running with the remote job id; submitted_at set on the first success;
  // cost_cu when known; event `submitted`. The first statement after the API's answer.
  virtual bool mark_running(std::int64_t id, const std::string& remote_job_id, std::optional<double> cost_cu,
                            epoch_seconds now) = 0;
  // While running: progress from the API (0..1) for many rows in one transaction (with 10k
  // jobs in flight, a transaction per poll would be thousands of fsyncs a second). Rows no
  // longer running are left as they are.
  virtual void record_progress(const std::vector<progress_update>& updates, epoch_seconds now) = 0;
  // running -> downloading (remote job succeeded).
  virtual bool mark_downloading(std::int64_t id, epoch_seconds now) = 0;
  // A step failed and will be retried: last_error, next_attempt_at, event `retry`. With
  // `requeue` (a submit that will be tried again) the row also goes back to queued.
  virtual bool record_retry(std::int64_t id, const std::string& message, epoch_seconds next_attempt_at, bool requeue,
                            epoch_seconds now) = 0;
  // Back to queued without a failure (the queue is paused: credentials, credits), event `paused`.
  virtual bool requeue(std::int64_t id, const std::string& detail, epoch_seconds now) = 0;
  // A `submitting` row found at start-up without a remote job id: back to queued, with the
  // warning that a duplicate generation may be billed recorded as an event.
  virtual bool requeue_ambiguous(std::int64_t id, const std::string& detail, epoch_seconds now) = 0;

  // --- endings ------------------------------------------------------------------------
  // One short transaction: every staged file copied into assets.data with incremental BLOB
  // I/O (never loaded whole), status succeeded, progress 1, finished_at, last_error NULL,
  // event `succeeded`. Rolls back and returns false when the row is no longer downloading.
  virtual bool store_assets(std::int64_t id, const std::vector<staged_asset>& assets, epoch_seconds now) = 0;
  // store_assets of at most this many bytes in all is one short transaction, so it may be part of a
  // group commit (in_one_transaction): the rows finishing in the same tick share one fsync. A
  // larger one holds the write lock for its whole copy and is called alone.
  static constexpr std::uint64_t group_store_max_bytes = 256 * 1024;
  // -> failed with last_error, finished_at, event `failed`.
  virtual bool mark_failed(std::int64_t id, const std::string& message, epoch_seconds now) = 0;
  // The row left the daemon's hands (a person set cancelled, or deleted it): its status now,
  // nullopt when deleted. Fills last_error with `detail` when it is NULL and the row is cancelled.
  virtual std::optional<job_status> note_taken_away(std::int64_t id, const std::string& detail, epoch_seconds now) = 0;

  // Of `ids`, those no longer submitting/running/downloading (a person cancelled or deleted
  // them), so the daemon stops tracking them without waiting for their next step.
  virtual std::vector<std::int64_t> no_longer_active(const std::vector<std::int64_t>& ids) = 0;

  // --- group commit -----------------------------------------------------------------
  // Runs `writes` (calls of the row writes above: claim_for_submit, mark_running, ...) in one
  // transaction, so many rows cost one commit. Each call stays all-or-nothing on its own: one
  // that throws leaves nothing of itself, and the others still commit.
  virtual void in_one_transaction(const std::function<void(job_store&)>& writes) = 0;

  // --- observation --------------------------------------------------------------------
  virtual void append_event(std::int64_t id, const std::string& kind, const std::string& detail, epoch_seconds now) = 0;
  // PRAGMA data_version: changes when another connection commits. Cheap.
  virtual std::int64_t data_version() = 0;
  virtual status_counts counts() = 0;
  // The earliest run_after/next_attempt_at of a queued row in the future, for a timer.
  virtual std::optional<epoch_seconds> next_due_time(epoch_seconds now) = 0;
  // Creative units billed (cost_cu) for rows first submitted at or after `since`.
  virtual double spent_cu_since(epoch_seconds since) = 0;
  // Anything queued-and-due, submitting, running or downloading (for --exit-when-idle).
  virtual bool has_pending_work(epoch_seconds now) = 0;
};

}  // namespace soundtrackd::db
