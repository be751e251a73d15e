-- 0001_init: the queue (jobs), each row's timeline (job_events) and the generated audio (assets).
--
-- Rows are written by people and other programs (sqlite3, scripts), so every rule SQLite can
-- check at insert is a named CHECK: SQLite reports the name ("CHECK constraint failed:
-- prompt_must_be_1_to_2000_characters"), so each name says what is wrong and how to fix it.
-- typeof() checks stop values the column affinity cannot convert ('abc' in sample_rate,
-- datetime('now') text in a time column) from being stored and misread later.
--
-- Times are Unix epoch seconds, INTEGER or REAL (the daemon writes REAL with millisecond
-- precision). The range check on times (0 .. year 10000) also catches milliseconds
-- (unixepoch() * 1000), a common slip.

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,

  -- What a user writes (only prompt is required).
  prompt TEXT NOT NULL
    CONSTRAINT prompt_must_be_1_to_2000_characters
    CHECK (typeof(prompt) = 'text' AND length(prompt) BETWEEN 1 AND 2000),
  lyrics TEXT NOT NULL DEFAULT ''
    CONSTRAINT lyrics_must_be_at_most_3500_characters
    CHECK (typeof(lyrics) = 'text' AND length(lyrics) <= 3500),
  is_instrumental INTEGER NOT NULL DEFAULT 0
    CONSTRAINT is_instrumental_must_be_0_or_1
    CHECK (typeof(is_instrumental) = 'integer' AND is_instrumental IN (0, 1)),
  lyrics_optimizer INTEGER NOT NULL DEFAULT 0
    CONSTRAINT lyrics_optimizer_must_be_0_or_1
    CHECK (typeof(lyrics_optimizer) = 'integer' AND lyrics_optimizer IN (0, 1)),
  sample_rate INTEGER NOT NULL DEFAULT 44100
    CONSTRAINT sample_rate_must_be_a_positive_integer
    CHECK (typeof(sample_rate) = 'integer' AND sample_rate > 0),
  bitrate INTEGER NOT NULL DEFAULT 256000
    CONSTRAINT bitrate_must_be_a_positive_integer
    CHECK (typeof(bitrate) = 'integer' AND bitrate > 0),
  priority INTEGER NOT NULL DEFAULT 0
    CONSTRAINT priority_must_be_an_integer
    CHECK (typeof(priority) = 'integer'),
  batch TEXT
    CONSTRAINT batch_must_be_null_or_text
    CHECK (batch IS NULL OR typeof(batch) = 'text'),
  name TEXT
    CONSTRAINT name_must_be_null_or_text
    CHECK (name IS NULL OR typeof(name) = 'text'),
  run_after REAL
    CONSTRAINT run_after_must_be_epoch_seconds_use_unixepoch
    CHECK (run_after IS NULL
           OR (typeof(run_after) IN ('integer', 'real') AND run_after BETWEEN 0 AND 253402300800)),
  max_attempts INTEGER
    CONSTRAINT max_attempts_must_be_null_or_a_positive_integer
    CHECK (max_attempts IS NULL OR (typeof(max_attempts) = 'integer' AND max_attempts > 0)),
  created_at REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0)
    CONSTRAINT created_at_must_be_epoch_seconds_use_unixepoch
    CHECK (typeof(created_at) IN ('integer', 'real') AND created_at BETWEEN 0 AND 253402300800),

  -- What the daemon writes (users read).
  status TEXT NOT NULL DEFAULT 'queued'
    CONSTRAINT status_must_be_queued_submitting_running_downloading_succeeded_failed_or_cancelled
    CHECK (status IN ('queued', 'submitting', 'running', 'downloading',
                      'succeeded', 'failed', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0
    CONSTRAINT attempts_must_be_a_non_negative_integer
    CHECK (typeof(attempts) = 'integer' AND attempts >= 0),
  remote_job_id TEXT,
  last_error TEXT,
  updated_at REAL
    CONSTRAINT updated_at_must_be_epoch_seconds_use_unixepoch
    CHECK (updated_at IS NULL
           OR (typeof(updated_at) IN ('integer', 'real') AND updated_at BETWEEN 0 AND 253402300800)),
  submitted_at REAL
    CONSTRAINT submitted_at_must_be_epoch_seconds_use_unixepoch
    CHECK (submitted_at IS NULL
           OR (typeof(submitted_at) IN ('integer', 'real') AND submitted_at BETWEEN 0 AND 253402300800)),
  finished_at REAL
    CONSTRAINT finished_at_must_be_epoch_seconds_use_unixepoch
    CHECK (finished_at IS NULL
           OR (typeof(finished_at) IN ('integer', 'real') AND finished_at BETWEEN 0 AND 253402300800)),
  next_attempt_at REAL
    CONSTRAINT next_attempt_at_must_be_epoch_seconds_use_unixepoch
    CHECK (next_attempt_at IS NULL
           OR (typeof(next_attempt_at) IN ('integer', 'real')
               AND next_attempt_at BETWEEN 0 AND 253402300800)),
  progress REAL
    CONSTRAINT progress_must_be_null_or_between_0_and_1
    CHECK (progress IS NULL OR (typeof(progress) IN ('integer', 'real') AND progress BETWEEN 0 AND 1)),
  cost_cu REAL
    CONSTRAINT cost_cu_must_be_null_or_a_non_negative_number
    CHECK (cost_cu IS NULL OR (typeof(cost_cu) IN ('integer', 'real') AND cost_cu >= 0))
);

-- The scan order: queued rows by priority DESC, then id. due_ids and unfinished() seek on
-- status, so they never read rows in other states, and counts() groups on it.
CREATE INDEX jobs_by_status_priority ON jobs (status, priority DESC, id);

-- The wake-up timer (next_due_time): the earliest future run_after / next_attempt_at of a
-- queued row is one index seek each. Partial, because most rows have neither set.
CREATE INDEX jobs_by_run_after ON jobs (status, run_after) WHERE run_after IS NOT NULL;
CREATE INDEX jobs_by_next_attempt_at ON jobs (status, next_attempt_at)
  WHERE next_attempt_at IS NOT NULL;

-- Per-batch status counts and listings (soundtrackctl status/watch/estimate --batch).
CREATE INDEX jobs_by_batch ON jobs (batch, status) WHERE batch IS NOT NULL;
-- The rolling 24 h spend (spend_limit_cu) sums cost_cu of the rows submitted since then.
CREATE INDEX jobs_by_submitted_at ON jobs (submitted_at) WHERE submitted_at IS NOT NULL;

CREATE TABLE job_events (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  at REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0)
    CONSTRAINT at_must_be_epoch_seconds_use_unixepoch
    CHECK (typeof(at) IN ('integer', 'real') AND at BETWEEN 0 AND 253402300800),
  kind TEXT NOT NULL
    CONSTRAINT kind_must_be_non_empty_text
    CHECK (typeof(kind) = 'text' AND length(kind) > 0),
  detail TEXT NOT NULL DEFAULT ''
);

-- A row's timeline in order; also the child index ON DELETE CASCADE needs.
CREATE INDEX job_events_by_job ON job_events (job_id, id);

CREATE TABLE assets (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  remote_asset_id TEXT NOT NULL,
  mime_type TEXT NOT NULL,
  size_bytes INTEGER NOT NULL
    CONSTRAINT size_bytes_must_be_a_non_negative_integer
    CHECK (typeof(size_bytes) = 'integer' AND size_bytes >= 0),
  sha256 TEXT NOT NULL
    CONSTRAINT sha256_must_be_64_lowercase_hex_digits
    CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
  data BLOB NOT NULL,
  created_at REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0)
    CONSTRAINT created_at_must_be_epoch_seconds_use_unixepoch
    CHECK (typeof(created_at) IN ('integer', 'real') AND created_at BETWEEN 0 AND 253402300800),
  -- A retried store of the same download replaces the row instead of duplicating it; also
  -- the child index ON DELETE CASCADE needs.
  UNIQUE (job_id, remote_asset_id)
);
