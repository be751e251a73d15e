// Reading requests from JSON, JSON Lines and CSV, and the one C++ copy of the jobs CHECKs.
#include "soundtrackd/db/request_reader.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <istream>
#include <limits>
#include <streambuf>
#include <vector>

#include "soundtrackd/util/time.hpp"

namespace soundtrackd::db {

namespace json = boost::json;

namespace {

enum class column {
  prompt,
  lyrics,
  is_instrumental,
  lyrics_optimizer,
  sample_rate,
  bitrate,
  priority,
  batch,
  name,
  run_after,
  max_attempts,
};

struct column_info {
  std::string_view name;
  column id;
  // What a value of the wrong type or out of range is told, after the column name.
  std::string_view rule;
};

constexpr std::array<column_info, 11> user_columns{{
    {"prompt", column::prompt, "must be text"},
    {"lyrics", column::lyrics, "must be text"},
    {"is_instrumental", column::is_instrumental, "must be true/false or 0/1"},
    {"lyrics_optimizer", column::lyrics_optimizer, "must be true/false or 0/1"},
    {"sample_rate", column::sample_rate, "must be a positive integer"},
    {"bitrate", column::bitrate, "must be a positive integer"},
    {"priority", column::priority, "must be an integer"},
    {"batch", column::batch, "must be text or null"},
    {"name", column::name, "must be text or null"},
    {"run_after", column::run_after,
     "must be epoch seconds (0 to 253402300800) or UTC ISO-8601 text such as 2026-01-01T08:00:00Z"},
    {"max_attempts", column::max_attempts, "must be null or a positive integer"},
}};

// Columns that exist but are not the user's to write.
constexpr std::array<std::string_view, 12> system_columns{
    "id",         "created_at",   "status",      "attempts",        "remote_job_id", "last_error",
    "updated_at", "submitted_at", "finished_at", "next_attempt_at", "progress",      "cost_cu",
};

const column_info& info(column c) { return user_columns[static_cast<std::size_t>(c)]; }

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// A name that is not a user column: a column soundtrackd writes, or a typo of one.
[[noreturn]] void refuse_name(std::string_view name, std::string_view what) {
  const std::string quoted = "\"" + std::string(name) + "\"";
  if (std::find(system_columns.begin(), system_columns.end(), name) != system_columns.end())
    throw invalid_request(
        std::string(name),
        std::string(name) + " is written by soundtrackd, not by a request; leave that " + std::string(what) + " out");
  std::string message = "unknown " + std::string(what) + " " + quoted;
  const column_info* closest = nullptr;
  std::size_t best = 3;  // suggest only near misses
  for (const auto& c : user_columns)
    if (auto d = edit_distance(name, c.name); d < best) best = d, closest = &c;
  if (closest)
    message += " (did you mean \"" + std::string(closest->name) + "\"?)";
  else
    message +=
        "; the columns are prompt, lyrics, is_instrumental, lyrics_optimizer, sample_rate, bitrate, "
        "priority, batch, name, run_after, max_attempts";
  throw invalid_request(std::string(name), message);
}

const column_info& find_column(std::string_view name, std::string_view what) {
  for (const auto& c : user_columns)
    if (c.name == name) return c;
  refuse_name(name, what);
}

// A value as the message shows it: JSON text, shortened.
std::string format_number(double v);

std::string shown(const json::value& v) {
  // Boost.JSON writes doubles as 4.41005E4; people wrote 44100.5.
  auto text = v.is_double() ? format_number(v.get_double()) : json::serialize(v);
  constexpr std::size_t max_shown = 60;
  if (text.size() > max_shown) text = text.substr(0, max_shown) + "...";
  return text;
}

[[noreturn]] void wrong_value(column c, const std::string& got) {
  const auto& i = info(c);
  throw invalid_request(std::string(i.name), std::string(i.name) + " " + std::string(i.rule) + " (got " + got + ")");
}

[[noreturn]] void wrong_value(column c, const json::value& got) { wrong_value(c, shown(got)); }

[[noreturn]] void prompt_required() { throw invalid_request("prompt", "prompt is required"); }

std::string format_number(double v) {
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, v);  // shortest form: 1893553445000, 0.5
  return std::string(text, end);
}

// Where text is not UTF-8, or holds a NUL (which SQLite's length() and C strings stop at).
void check_text(column c, std::string_view text) {
  const auto name = std::string(info(c).name);
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == 0) throw invalid_request(name, name + " contains a NUL character (at byte " + std::to_string(i) + ")");
    std::size_t length = byte < 0x80           ? 1
                         : (byte >> 5) == 0x6  ? 2
                         : (byte >> 4) == 0xE  ? 3
                         : (byte >> 3) == 0x1E ? 4
                                               : 0;
    bool ok = length > 0 && i + length <= text.size();
    std::uint32_t cp = length == 1 ? byte : length == 2 ? byte & 0x1F : length == 3 ? byte & 0x0F : byte & 0x07;
    for (std::size_t k = 1; ok && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      ok = (next & 0xC0) == 0x80;
      cp = (cp << 6) | (next & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points beyond U+10FFFF are not UTF-8 either.
    constexpr std::array<std::uint32_t, 5> smallest{0, 0, 0x80, 0x800, 0x10000};
    if (ok) ok = cp >= smallest[length] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    if (!ok)
      throw invalid_request(name,
                            name + " is not valid UTF-8 (at byte " + std::to_string(i) + "); save the text as UTF-8");
    i += length;
  }
}

// --- from JSON values ------------------------------------------------------------------------

std::int64_t json_integer(column c, const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return static_cast<std::int64_t>(v.get_uint64());
  // 44100.0, as some writers print every number; 2^63 is the first double beyond int64.
  if (v.is_double() && std::trunc(v.get_double()) == v.get_double() && std::abs(v.get_double()) < 9.2233720368547758e18)
    return static_cast<std::int64_t>(v.get_double());
  wrong_value(c, v);
}

bool json_flag(column c, const json::value& v) {
  if (v.is_bool()) return v.get_bool();
  if (v.is_number()) {
    auto n = json_integer(c, v);
    if (n == 0 || n == 1) return n == 1;
  }
  wrong_value(c, v);
}

void set_from_json(job_request& r, column c, const json::value& v) {
  if (v.is_null()) {
    if (c == column::prompt) prompt_required();
    return;  // the column default, which a fresh job_request holds
  }
  switch (c) {
    case column::prompt:
    case column::lyrics:
    case column::batch:
    case column::name: {
      if (!v.is_string()) wrong_value(c, v);
      std::string text(v.get_string());
      if (c == column::prompt)
        r.prompt = std::move(text);
      else if (c == column::lyrics)
        r.lyrics = std::move(text);
      else if (c == column::batch)
        r.batch = std::move(text);
      else
        r.name = std::move(text);
      return;
    }
    case column::is_instrumental:
      r.is_instrumental = json_flag(c, v);
      return;
    case column::lyrics_optimizer:
      r.lyrics_optimizer = json_flag(c, v);
      return;
    case column::sample_rate:
      r.sample_rate = json_integer(c, v);
      return;
    case column::bitrate:
      r.bitrate = json_integer(c, v);
      return;
    case column::priority:
      r.priority = json_integer(c, v);
      return;
    case column::run_after:
      if (v.is_string()) {
        r.run_after = parse_utc_iso8601(v.get_string());
        if (!r.run_after) wrong_value(c, v);
      } else if (v.is_number()) {
        r.run_after = v.to_number<double>();
      } else {
        wrong_value(c, v);
      }
      return;
    case column::max_attempts: {
      auto n = json_integer(c, v);
      if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max()) wrong_value(c, v);
      r.max_attempts = static_cast<int>(n);
      return;
    }
  }
}

// --- from CSV cells --------------------------------------------------------------------------

std::string quoted(std::string_view cell) { return shown(json::value(json::string_view(cell.data(), cell.size()))); }

std::string_view trimmed(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

template <typename Number>
Number cell_number(column c, std::string_view cell) {
  const auto text = trimmed(cell);
  Number n{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) wrong_value(c, quoted(cell));
  return n;
}

bool cell_flag(column c, std::string_view cell) {
  std::string text(trimmed(cell));
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  wrong_value(c, quoted(cell));
}

// An empty cell is the column default (prompt has none).
void set_from_cell(job_request& r, column c, std::string_view cell) {
  if (cell.empty()) {
    if (c == column::prompt) prompt_required();
    return;
  }
  switch (c) {
    case column::prompt:
      r.prompt = cell;
      return;
    case column::lyrics:
      r.lyrics = cell;
      return;
    case column::batch:
      r.batch = std::string(cell);
      return;
    case column::name:
      r.name = std::string(cell);
      return;
    case column::is_instrumental:
      r.is_instrumental = cell_flag(c, cell);
      return;
    case column::lyrics_optimizer:
      r.lyrics_optimizer = cell_flag(c, cell);
      return;
    case column::sample_rate:
      r.sample_rate = cell_number<std::int64_t>(c, cell);
      return;
    case column::bitrate:
      r.bitrate = cell_number<std::int64_t>(c, cell);
      return;
    case column::priority:
      r.priority = cell_number<std::int64_t>(c, cell);
      return;
    case column::run_after:
      // A time written as text (spreadsheets do) is read only when it says it is UTC.
      if (auto at = parse_utc_iso8601(trimmed(cell))) {
        r.run_after = at;
        return;
      }
      r.run_after = cell_number<double>(c, cell);
      return;
    case column::max_attempts:
      r.max_attempts = cell_number<int>(c, cell);
      return;
  }
}

// --- CSV records -----------------------------------------------------------------------------

// Splits a stream into RFC 4180 records, reading one character at a time from the stream's
// buffer (no line is held twice), counting physical lines for the messages. Never puts a
// character back, so any stream buffer (a pipe on stdin) works.
class csv_records {
 public:
  explicit csv_records(std::istream& in) : buffer_(*in.rdbuf()) {}

  // The next record's fields and the line it starts on; false at the end of the input.
  bool next(std::vector<std::string>& fields, std::size_t& start_line) {
    fields.clear();
    start_line = line_;
    if (buffer_.sgetc() == eof) return false;
    for (;;) {
      std::string& field = fields.emplace_back();
      int end = buffer_.sgetc() == '"' ? read_quoted(field) : read_plain(field);
      if (end != ',') return true;
    }
  }

 private:
  static constexpr int eof = std::char_traits<char>::eof();

  // What ended a field: ',' (taken), '\n' (the line end, taken: "\n" or "\r\n") or eof.
  int read_plain(std::string& field) {
    for (;;) {
      const int c = buffer_.sbumpc();
      if (c == eof || c == ',') return c;
      if (ends_line(c)) return '\n';
      field += static_cast<char>(c);  // a lone "\r" is text
    }
  }

  int read_quoted(std::string& field) {
    const auto opened_on = line_;
    buffer_.sbumpc();
    for (;;) {
      const int c = buffer_.sbumpc();
      if (c == eof)
        throw invalid_import_line(opened_on, invalid_request("", "a quoted field opened on this line is never closed"));
      if (c == '"') {
        if (buffer_.sgetc() != '"') break;
        buffer_.sbumpc();
      }
      if (c == '\n') ++line_;
      field += static_cast<char>(c);
    }
    const int after = buffer_.sbumpc();
    if (after == eof || after == ',') return after;
    if (ends_line(after)) return '\n';
    throw invalid_import_line(line_, invalid_request("",
                                                     "after a closing quote must come a comma or the end of the "
                                                     "line (write a quote inside a quoted field as \"\")"));
  }

  // Whether `c` (just taken) ends the line: "\n", or "\r" before "\n" (then taken too).
  bool ends_line(int c) {
    if (c == '\r' && buffer_.sgetc() == '\n') c = buffer_.sbumpc();
    if (c != '\n') return false;
    ++line_;
    return true;
  }

  std::streambuf& buffer_;
  std::size_t line_ = 1;
};

// Spreadsheets and Windows editors start UTF-8 files with a byte order mark.
void drop_byte_order_mark(std::string& first_text) {
  if (first_text.starts_with("\xEF\xBB\xBF")) first_text.erase(0, 3);
}

bool blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

template <typename Body>
void at_line(std::size_t line, Body&& body) {
  try {
    body();
  } catch (const invalid_import_line&) {
    throw;
  } catch (const invalid_request& e) {
    throw invalid_import_line(line, e);
  }
}

}  // namespace

invalid_request::invalid_request(std::string field, const std::string& message)
    : std::runtime_error(message), field_(std::move(field)) {}

invalid_import_line::invalid_import_line(std::size_t line, const invalid_request& cause)
    : invalid_request(cause.field(), "line " + std::to_string(line) + ": " + cause.what()), line_(line) {}

std::size_t code_points(std::string_view utf8) {
  std::size_t count = 0;
  // Every byte that is not a continuation byte (10xxxxxx) starts a character.
  for (unsigned char c : utf8)
    if ((c & 0xC0) != 0x80) ++count;
  return count;
}

void validate(const job_request& r) {
  check_text(column::prompt, r.prompt);
  if (auto n = code_points(r.prompt); n < 1 || n > max_prompt_characters)
    throw invalid_request("prompt", "prompt must be 1 to " + std::to_string(max_prompt_characters) +
                                        " characters (got " + std::to_string(n) + ")");
  check_text(column::lyrics, r.lyrics);
  if (auto n = code_points(r.lyrics); n > max_lyrics_characters)
    throw invalid_request("lyrics", "lyrics must be at most " + std::to_string(max_lyrics_characters) +
                                        " characters (got " + std::to_string(n) + ")");
  if (r.sample_rate <= 0) wrong_value(column::sample_rate, std::to_string(r.sample_rate));
  if (r.bitrate <= 0) wrong_value(column::bitrate, std::to_string(r.bitrate));
  for (const auto& [label, text] : {std::pair{"batch", &r.batch}, std::pair{"name", &r.name}}) {
    if (!*text) continue;
    check_text(label == std::string_view("batch") ? column::batch : column::name, **text);
    if (auto n = code_points(**text); n > max_label_characters)
      throw invalid_request(label, std::string(label) + " must be at most " + std::to_string(max_label_characters) +
                                       " characters (got " + std::to_string(n) + ")");
  }
  // Written so that NaN fails too.
  if (r.run_after && !(*r.run_after >= 0 && *r.run_after <= max_epoch_seconds))
    wrong_value(column::run_after, format_number(*r.run_after));
  if (r.max_attempts && *r.max_attempts <= 0) wrong_value(column::max_attempts, std::to_string(*r.max_attempts));
}

job_request job_request_from_json(const json::object& fields) {
  job_request r;
  bool has_prompt = false;
  for (const auto& [key, value] : fields) {
    const auto& c = find_column(key, "field");
    set_from_json(r, c.id, value);
    has_prompt = has_prompt || c.id == column::prompt;
  }
  if (!has_prompt) prompt_required();
  validate(r);
  return r;
}

job_request job_request_from_json(std::string_view text) {
  boost::system::error_code ec;
  auto value = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) throw invalid_request("", "not valid JSON (" + ec.message() + "); send one JSON object");
  if (!value.is_object()) throw invalid_request("", "must be one JSON object (got " + shown(value) + ")");
  return job_request_from_json(value.get_object());
}

std::optional<import_format> parse_import_format(std::string_view name) {
  if (name == "jsonl") return import_format::json_lines;
  if (name == "csv") return import_format::csv;
  return std::nullopt;
}

std::optional<import_format> import_format_of_path(std::string_view path) {
  auto dot = path.rfind('.');
  if (dot == std::string_view::npos || path.find('/', dot) != std::string_view::npos) return std::nullopt;
  std::string extension(path.substr(dot + 1));
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char ch) { return std::tolower(ch); });
  if (extension == "jsonl" || extension == "ndjson" || extension == "json") return import_format::json_lines;
  if (extension == "csv") return import_format::csv;
  return std::nullopt;
}

void read_json_lines(std::istream& in, const request_visitor& visit) {
  json::parser parser;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (number == 1) drop_byte_order_mark(line);
    if (blank(line)) continue;
    job_request request;
    at_line(number, [&] {
      parser.reset();
      boost::system::error_code ec;
      parser.write(line, ec);  // the whole text: trailing data is an error
      if (ec) {
        // A whole JSON array (a .json file) is the common mix-up.
        if (line.find_first_not_of(" \t") == line.find('['))
          throw invalid_request("",
                                "a JSON array; import reads JSON Lines, one object per line "
                                "(convert with: jq -c '.[]' FILE.json > FILE.jsonl)");
        throw invalid_request("", "not valid JSON (" + ec.message() + "); each line must be one JSON object");
      }
      auto value = parser.release();
      if (!value.is_object()) throw invalid_request("", "each line must be one JSON object (got " + shown(value) + ")");
      request = job_request_from_json(value.get_object());
    });
    visit(number, std::move(request));
  }
  if (in.bad()) throw std::runtime_error("reading the import failed");
}

void read_csv(std::istream& in, const request_visitor& visit) {
  csv_records records(in);
  std::vector<std::string> cells;
  std::size_t line = 0;

  std::vector<column> header;
  while (header.empty()) {
    if (!records.next(cells, line)) return;  // an empty file imports nothing
    if (line == 1) drop_byte_order_mark(cells[0]);
    if (cells.size() == 1 && blank(cells[0])) continue;
    at_line(line, [&] {
      for (const auto& cell : cells) {
        auto name = trimmed(cell);
        const auto& c = find_column(name, "column");
        if (std::find(header.begin(), header.end(), c.id) != header.end())
          throw invalid_request(std::string(name), "column \"" + std::string(name) + "\" appears twice in the header");
        header.push_back(c.id);
      }
      if (std::find(header.begin(), header.end(), column::prompt) == header.end())
        throw invalid_request("prompt",
                              "the header has no prompt column; the first line names the columns, "
                              "e.g. prompt,lyrics,batch");
    });
  }

  while (records.next(cells, line)) {
    if (cells.size() == 1 && cells[0].empty()) continue;  // an empty line
    job_request request;
    at_line(line, [&] {
      if (cells.size() != header.size())
        throw invalid_request("", std::to_string(cells.size()) + " fields, but the header names " +
                                      std::to_string(header.size()) + " columns");
      for (std::size_t i = 0; i < cells.size(); ++i) set_from_cell(request, header[i], cells[i]);
      validate(request);
    });
    visit(line, std::move(request));
  }
  if (in.bad()) throw std::runtime_error("reading the import failed");
}

void read_requests(std::istream& in, import_format format, const request_visitor& visit) {
  if (format == import_format::csv)
    read_csv(in, visit);
  else
    read_json_lines(in, visit);
}

}  // namespace soundtrackd::db
