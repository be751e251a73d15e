-- 0004_assets_data_last: assets.data becomes the last column of its table.
--
-- The daemon reserves a track's room with zeroblob(N) and then copies the bytes in with
-- incremental BLOB I/O. SQLite keeps a zeroblob as a mere count of zero bytes only when no
-- stored value follows it in the row; with created_at after data, every reservation built
-- the zeros in memory and then the whole record (heaptrack: 100 MB of RSS to reserve one
-- 50 MB track). Names, types, defaults and constraints are unchanged; only the order of the
-- columns is (programs name their columns; SELECT * lists data last now). Rebuilding copies
-- the existing audio once.

CREATE TABLE assets_new (
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
  created_at REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0)
    CONSTRAINT created_at_must_be_epoch_seconds_use_unixepoch
    CHECK (typeof(created_at) IN ('integer', 'real') AND created_at BETWEEN 0 AND 253402300800),
  data BLOB NOT NULL,
  -- A retried store of the same download replaces the row instead of duplicating it; also
  -- the child index ON DELETE CASCADE needs.
  UNIQUE (job_id, remote_asset_id)
);

INSERT INTO assets_new (id, job_id, remote_asset_id, mime_type, size_bytes, sha256, created_at, data)
  SELECT id, job_id, remote_asset_id, mime_type, size_bytes, sha256, created_at, data FROM assets;

DROP TABLE assets;

ALTER TABLE assets_new RENAME TO assets;
