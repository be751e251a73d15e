// Text tables, shortened cells and JSON shapes for soundtrackctl's output.
#include "output.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <ostream>

#include "soundtrackd/db/job_json.hpp"

namespace soundtrackd::ctl {

namespace json = boost::json;

std::string one_line(std::string_view text) {
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  return out;
}

std::string shorten(std::string_view text, std::size_t max_characters) {
  if (db::code_points(text) <= max_characters) return one_line(text);
  const std::size_t keep = max_characters - std::min<std::size_t>(max_characters, 3);
  std::size_t end = 0;
  // Cut at the start of character number keep + 1, never inside a multi-byte character.
  for (std::size_t characters = 0; end < text.size(); ++end) {
    const bool starts_character = (static_cast<unsigned char>(text[end]) & 0xC0) != 0x80;
    if (starts_character && ++characters > keep) break;
  }
  return one_line(text.substr(0, end)) + "...";
}

std::string or_dash(const std::optional<std::string>& text) { return text ? *text : "-"; }

text_table::text_table(std::vector<std::string> headers) { rows_.push_back(std::move(headers)); }

void text_table::add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

void text_table::print(std::ostream& out) const {
  std::vector<std::size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], db::code_points(row[i]));
  }
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      out << row[i];
      if (i + 1 < row.size()) out << std::string(widths[i] - db::code_points(row[i]) + 2, ' ');
    }
    out << '\n';
  }
}

json::object to_json(const db::job_summary& job) { return db::summary_json(job); }

json::object to_json(const db::job_details& details) {
  json::array assets;
  for (const auto& asset : details.assets) assets.push_back(db::asset_json(asset));
  json::array events;
  for (const auto& event : details.events) events.push_back(db::event_json(event));
  auto job = db::row_json(details.job);
  job["assets"] = std::move(assets);
  job["events"] = std::move(events);
  return job;
}

void print_json(std::ostream& out, const json::value& value) { out << json::serialize(value) << '\n'; }

}  // namespace soundtrackd::ctl
