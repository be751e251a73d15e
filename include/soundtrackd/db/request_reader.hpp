// Reading what a user writes into the queue: one request from JSON (HTTP API, dashboard), many
// from JSON Lines or CSV (soundtrackctl import), all checked by the rules of the jobs CHECKs.
// Pure: bytes in, requests or an invalid_request out; no database, no I/O beyond the stream.
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "soundtrackd/db/job_row.hpp"

namespace soundtrackd::db {

// The limits of the CHECKs on jobs.prompt and jobs.lyrics (migrations/0001_init.sql).
inline constexpr std::size_t max_prompt_characters = 2000;
inline constexpr std::size_t max_lyrics_characters = 3500;
// The triggers on jobs.batch and jobs.name (migrations/0003_label_lengths.sql).
inline constexpr std::size_t max_label_characters = 200;
// The CHECKs' upper bound on times: 10000-01-01T00:00:00Z in epoch seconds.
inline constexpr double max_epoch_seconds = 253402300800.0;

// Unicode code points in UTF-8 text, counted as SQLite's length() counts them.
std::size_t code_points(std::string_view utf8);

// A request the schema refuses. what() says what is wrong and what to do, e.g.
// "prompt must be 1 to 2000 characters (got 2113)"; field() names the column ("prompt"), or is
// empty when the request as a whole is wrong ("not a JSON object").
class invalid_request : public std::runtime_error {
 public:
  invalid_request(std::string field, const std::string& message);
  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

// A refused request of an import file: what() starts with "line N: ".
class invalid_import_line : public invalid_request {
 public:
  invalid_import_line(std::size_t line, const invalid_request& cause);
  std::size_t line() const noexcept { return line_; }

 private:
  std::size_t line_;
};

// Throws invalid_request when the jobs CHECKs would refuse `request`; checked in C++ so the
// message can say what was found (SQLite's cannot). Text must also be valid UTF-8 without NUL.
void validate(const job_request& request);

// Keys are the columns a user writes (prompt, lyrics, is_instrumental, lyrics_optimizer,
// sample_rate, bitrate, priority, batch, name, run_after, max_attempts); only prompt is
// required; null or absent means the column default. Flags take true/false or 0/1; numbers
// must be integers where the column is one (44100.0 is accepted, 44100.5 is not); run_after
// is epoch seconds or UTC ISO-8601 text ("2026-01-01T08:00:00Z"; the Z or +00:00 is required). Unknown keys and the
// columns soundtrackd writes (status, attempts, ...) are refused. The result is validated.
job_request job_request_from_json(const boost::json::object& fields);
// The same from JSON text, which must be one object.
job_request job_request_from_json(std::string_view text);

enum class import_format { json_lines, csv };

// "jsonl" / "csv" (the --format values), nullopt otherwise.
std::optional<import_format> parse_import_format(std::string_view name);
// From a file name: .jsonl, .ndjson and .json are JSON Lines, .csv is CSV.
std::optional<import_format> import_format_of_path(std::string_view path);

// Called once per request, in file order, with the line it starts on (1-based). It may throw;
// the exception ends the reading and propagates unchanged.
using request_visitor = std::function<void(std::size_t line, job_request&& request)>;

// JSON Lines: one object per line (keys as job_request_from_json), blank lines skipped, a
// UTF-8 byte order mark skipped. Reads the stream line by line: memory stays flat.
// Throws invalid_import_line at the first bad line.
void read_json_lines(std::istream& in, const request_visitor& visit);

// CSV (RFC 4180): a header row of column names, then one request per record; quoted fields may
// hold commas, "" and line breaks; CRLF or LF; an empty cell means the column default. Flags
// take true/false/0/1 (any case); run_after as in JSON. Reads record by record: memory stays flat. Throws
// invalid_import_line at the first bad record (the header is line 1).
void read_csv(std::istream& in, const request_visitor& visit);

void read_requests(std::istream& in, import_format format, const request_visitor& visit);

}  // namespace soundtrackd::db
