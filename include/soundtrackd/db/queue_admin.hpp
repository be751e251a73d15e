// Queue administration for soundtrackctl and the HTTP API: every statement they run on the
// queue database.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "soundtrackd/db/job_row.hpp"
#include "soundtrackd/db/job_store.hpp"
#include "soundtrackd/db/request_reader.hpp"
#include "soundtrackd/db/sqlite_job_store.hpp"

namespace soundtrackd::db {

class database;

// What `status` shows, and what its rate and ETA are computed from.
struct queue_counts {
  status_counts counts;                             // every status, zero included
  std::int64_t succeeded_since = 0;                 // succeeded rows with finished_at >= `since`
  std::optional<epoch_seconds> first_submitted_at;  // the earliest submitted_at
};

struct import_summary {
  std::int64_t count = 0;
  std::optional<std::int64_t> first_id;  // the ids of one import are consecutive
  std::optional<std::int64_t> last_id;
};

// What prune removed.
struct prune_outcome {
  std::int64_t jobs_deleted = 0;    // with their events and assets
  std::int64_t assets_deleted = 0;  // stored audio files among them
  std::int64_t events_deleted = 0;  // job_events, of the deleted rows and (keep_audio) of the kept ones
};

// Every member has an initializer, so a designated initializer may name only some of them.
struct list_filter {
  std::vector<job_status> statuses{};  // empty: any status
  std::optional<std::string> batch{};
  std::optional<std::string> text{};  // a substring of prompt or name, ASCII case-insensitive
  std::int64_t limit = 50;
  std::int64_t offset = 0;
};

// A row as `list` shows it.
struct job_summary {
  std::int64_t id = 0;
  job_status status = job_status::queued;
  std::optional<std::string> batch;
  std::optional<std::string> name;
  int attempts = 0;
  std::optional<std::string> remote_job_id;
  std::string prompt;
  std::optional<std::string> last_error;
  std::int64_t priority = 0;
  std::optional<double> progress;
  epoch_seconds created_at = 0;
  std::optional<epoch_seconds> updated_at;
  std::optional<epoch_seconds> submitted_at;
  std::optional<epoch_seconds> finished_at;
};

// A row as `show` shows it: every column, its assets (without the audio) and its timeline.
struct job_details {
  job_row job;
  std::vector<asset_row> assets;
  std::vector<job_event> events;  // oldest first
};

struct cancel_outcome {
  std::int64_t id = 0;
  std::optional<job_status> previous_status;  // nullopt: no such row
  std::optional<std::string> remote_job_id;
  bool cancelled = false;  // false: not found, or already finished (previous_status says which)
};

enum class retry_action {
  resume_remote_job,  // back to running with its remote_job_id; soundtrackd polls it on its next start
  resubmit,           // back to queued without a remote job: a new generate call
};

struct retry_outcome {
  std::int64_t id = 0;
  std::optional<job_status> previous_status;  // nullopt: no such row
  std::optional<std::string> remote_job_id;   // the remote job resumed
  std::optional<retry_action> action;         // nullopt: not retried (not found, not failed/cancelled)
};

// True when the remote job of a failed or cancelled row may still have produced audio: it
// timed out, its download failed, or someone cancelled our tracking of it. False when the API
// said the remote job itself failed or was canceled; those messages come from queue/job_fsm.cpp
// ("remote job <id> failed...", "remote job <id> was canceled by the API...").
bool remote_job_may_have_audio(const std::string& remote_job_id, const std::optional<std::string>& last_error);

// One batch as the dashboard shows it.
struct batch_overview {
  std::string batch;
  std::map<job_status, std::int64_t> counts{};  // the statuses present
  std::int64_t finished_recently = 0;           // succeeded, failed or cancelled since `recent_since`
};

// The dashboard's overview, read in one transaction from indexes only (it is polled all night).
struct queue_overview {
  queue_counts counts;
  std::vector<batch_overview> batches;  // by name
  // Rows succeeded per minute since `throughput_since`: (minute start in epoch seconds, count),
  // oldest first; minutes without any are left out.
  std::vector<std::pair<std::int64_t, std::int64_t>> throughput;
  // When the oldest due queued row became due (created, run_after or next_attempt_at):
  // now minus this is the queue lag. nullopt when nothing is queued and due.
  std::optional<epoch_seconds> oldest_due_since;
};

// One stored audio file of a succeeded row, for export.
struct exportable_asset {
  asset_row asset;
  std::optional<std::string> job_name;
  std::size_t index = 0;  // position among its job's assets (0-based), for export_file_name
};

// Works on a connection it does not own (open_queue_database). Each write is one BEGIN
// IMMEDIATE transaction holding the row changes and their job_events entries, so a running
// soundtrackd sees either all of a command or none of it.
class queue_admin {
 public:
  explicit queue_admin(database& db);

  // Inserts a queued row; returns its id. Throws invalid_request (validate()) when the schema
  // would refuse a value.
  std::int64_t enqueue(const job_request& request);

  // Inserts validated requests in one BEGIN IMMEDIATE transaction: one commit (one fsync)
  // for all, the HTTP API's group commit. One outcome per request, in order: the row as
  // stored, or why the database refused it (the others are inserted regardless).
  struct group_outcome {
    std::optional<job_row> row;
    std::string error;  // when refused
  };
  std::vector<group_outcome> enqueue_group(const std::vector<job_request>& requests);

  // Reads every request of `in` (read_requests) and inserts them in one BEGIN IMMEDIATE
  // transaction with one prepared insert: all or none. A bad line throws invalid_import_line
  // and leaves the database unchanged. `batch`, when given, replaces each request's batch.
  // Holds the write lock while it reads, so a slow stdin delays the daemon's writes.
  import_summary import_requests(std::istream& in, import_format format, const std::optional<std::string>& batch);

  // Counts by status of all rows, or of one batch. `since` bounds succeeded_since.
  queue_counts counts(const std::optional<std::string>& batch, epoch_seconds since);

  // The ids of the queued rows (of one batch when given), oldest first.
  std::vector<std::int64_t> queued_ids(const std::optional<std::string>& batch);

  // Newest first (id DESC).
  std::vector<job_summary> list(const list_filter& filter);
  // How many rows `list` would return without limit and offset.
  std::int64_t count(const list_filter& filter);

  std::optional<job_details> get(std::int64_t id);

  // Cancels the rows still in soundtrackd's hands (queued, submitting, running, downloading):
  // status cancelled, last_error = `note` ("cancelled by soundtrackctl at ..."), finished_at,
  // event `cancelled`. One outcome per id, in the order given.
  std::vector<cancel_outcome> cancel(const std::vector<std::int64_t>& ids, const std::string& note, epoch_seconds now);
  // The same for every such row of a batch; outcomes only for the rows cancelled.
  std::vector<cancel_outcome> cancel_batch(const std::string& batch, const std::string& note, epoch_seconds now);

  // Retries failed or cancelled rows: when remote_job_may_have_audio(), back to running with
  // the same remote_job_id (soundtrackd resumes running rows at start); otherwise back to queued
  // without a remote job and with next_attempt_at cleared. Both clear last_error and
  // finished_at and append event `retry` with `note` and what happens. One outcome per id.
  std::vector<retry_outcome> retry(const std::vector<std::int64_t>& ids, const std::string& note, epoch_seconds now);
  // The same for every failed row, or every failed row of a batch.
  std::vector<retry_outcome> retry_failed(const std::optional<std::string>& batch, const std::string& note,
                                          epoch_seconds now);

  // Finished rows (succeeded, failed, cancelled) whose finished_at (else updated_at, else
  // created_at) is before `cutoff`, of one batch when given. Without keep_audio they are
  // deleted with their events and assets. With keep_audio the succeeded ones stay with their
  // audio and lose only their timeline (job_events); the failed and cancelled ones are
  // deleted. One transaction.
  prune_outcome prune(epoch_seconds cutoff, bool keep_audio, const std::optional<std::string>& batch);

  // The database's size in bytes (page_count * page_size, the WAL's pages included).
  std::int64_t size_bytes();
  // VACUUM, then a TRUNCATE checkpoint so the file itself shrinks. VACUUM rewrites the whole
  // file and holds the write lock meanwhile (the daemon's writes wait), and needs free disk
  // space as large as the database.
  void reclaim_space();

  // A consistent copy of the database at `path` (VACUUM INTO: one read transaction, so in WAL
  // mode writers are never blocked; the copy is compacted). Writes `path`.partial and renames
  // it, so `path` is never half written; replaces an existing `path` only with `replace`
  // (else throws). Checks the copy with PRAGMA integrity_check and returns its size.
  std::uint64_t backup_to(const std::string& path, bool replace);
  // Sets the priority of a queued row (the only status it affects) and appends event
  // `priority` with `note`. Returns the row's status (the row changed only when it is
  // queued), nullopt when there is no such row.
  std::optional<job_status> set_priority(std::int64_t id, std::int64_t priority, const std::string& note,
                                         epoch_seconds now);

  // `recent_since` bounds batch_overview::finished_recently, `throughput_since` the throughput.
  queue_overview overview(epoch_seconds now, epoch_seconds recent_since, epoch_seconds throughput_since);
  // The oldest due queued row's due time (queue_overview::oldest_due_since) alone, for /metrics.
  std::optional<epoch_seconds> oldest_due_since(epoch_seconds now);

  // An asset of job `job_id` (without the audio): `asset_id`, or its first one when nullopt.
  std::optional<asset_row> find_asset(std::int64_t job_id, std::optional<std::int64_t> asset_id);
  // Up to `max_bytes` of assets.data of `asset_id` from `offset` (incremental BLOB I/O: only
  // those bytes are read). Throws db_error when the asset is gone.
  std::string read_asset_data(std::int64_t asset_id, std::uint64_t offset, std::size_t max_bytes);

  // Visits every asset of the succeeded rows (of one batch when given), in asset id order. The
  // rows are read a page at a time, so memory stays flat, and no statement is active while
  // `visit` runs, so it may call copy_asset_data.
  void for_each_exportable_asset(const std::optional<std::string>& batch,
                                 const std::function<void(const exportable_asset&)>& visit);
  // Streams assets.data of `asset_id` into `out` in chunks (incremental BLOB I/O), never
  // holding the whole file in memory. Returns the bytes written.
  std::uint64_t copy_asset_data(std::int64_t asset_id, std::ostream& out);

 private:
  cancel_outcome cancel_one(std::int64_t id, const std::string& note, epoch_seconds now);
  retry_outcome retry_one(std::int64_t id, const std::string& note, epoch_seconds now);

  database& db_;
  sqlite_job_store store_;  // the row reads and the insert it already has
};

}  // namespace soundtrackd::db
