// How soundtrackctl prints: aligned text tables, shortened one-line text, and the --json shapes.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "soundtrackd/db/queue_admin.hpp"

namespace soundtrackd::ctl {

// `text` on one line: line breaks and tabs become spaces, so a cell cannot break a table.
std::string one_line(std::string_view text);

// one_line(text) cut to `max_characters` code points, with "..." at the end when it was longer.
std::string shorten(std::string_view text, std::size_t max_characters);

// "-" for a missing value.
std::string or_dash(const std::optional<std::string>& text);

// Columns padded to their widest cell (in code points); the last column is not padded.
class text_table {
 public:
  explicit text_table(std::vector<std::string> headers);
  void add_row(std::vector<std::string> cells);
  void print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // the headers first
};

// The --json shapes: keys are the column names, times are epoch seconds, missing values null.
boost::json::object to_json(const db::job_summary& job);
boost::json::object to_json(const db::job_details& details);

// One JSON document followed by a newline.
void print_json(std::ostream& out, const boost::json::value& value);

}  // namespace soundtrackd::ctl
