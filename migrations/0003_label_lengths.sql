-- 0003_label_lengths: batch and name are at most 200 characters.
--
-- 0001 checks every other user-written column; these two labels had no bound, so a program
-- could store megabytes in them and every listing, export file name and API answer would carry
-- it. SQLite cannot add a CHECK to an existing table without rebuilding it, so triggers reject
-- the row with a message in the same style as 0001's CHECK names (the message names the column).
-- An existing longer label is left alone until the row is updated.

CREATE TRIGGER jobs_batch_length_on_insert BEFORE INSERT ON jobs
  WHEN NEW.batch IS NOT NULL AND length(NEW.batch) > 200
BEGIN
  SELECT RAISE(ABORT, 'batch_must_be_null_or_at_most_200_characters');
END;

CREATE TRIGGER jobs_batch_length_on_update BEFORE UPDATE OF batch ON jobs
  WHEN NEW.batch IS NOT NULL AND length(NEW.batch) > 200
BEGIN
  SELECT RAISE(ABORT, 'batch_must_be_null_or_at_most_200_characters');
END;

CREATE TRIGGER jobs_name_length_on_insert BEFORE INSERT ON jobs
  WHEN NEW.name IS NOT NULL AND length(NEW.name) > 200
BEGIN
  SELECT RAISE(ABORT, 'name_must_be_null_or_at_most_200_characters');
END;

CREATE TRIGGER jobs_name_length_on_update BEFORE UPDATE OF name ON jobs
  WHEN NEW.name IS NOT NULL AND length(NEW.name) > 200
BEGIN
  SELECT RAISE(ABORT, 'name_must_be_null_or_at_most_200_characters');
END;
