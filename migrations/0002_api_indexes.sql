-- 0002_api_indexes: what the HTTP API's overview and /metrics read every few seconds, all night,
-- kept to index-only reads of the rows that matter.

-- Rows finished in a recent window (throughput per minute, each batch's rate): only finished
-- rows are in it, and status and batch ride along so the counts never read the table.
CREATE INDEX jobs_by_finished_at ON jobs (finished_at, status, batch) WHERE finished_at IS NOT NULL;

-- The queue lag (age of the oldest due row) walks queued rows from the oldest; rows leave the
-- index when they leave `queued`.
CREATE INDEX jobs_queued_by_created_at ON jobs (created_at) WHERE status = 'queued';
