// Text tables, shortened cells and JSON shapes for soundtrackctl's output.
#include "output.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <ostream>

namespace soundtrackd::ctl {

namespace json = boost::json;

namespace {

template <class T>
json::value json_or_null(const std::optional<T>& value) {
  if (!value) return nullptr;
  return json::value_from(*value);
}

json::object to_json(const db::asset_row& asset) {
  return {
      {"id", asset.id},
      {"job_id", asset.job_id},
      {"remote_asset_id", asset.remote_asset_id},
      {"mime_type", asset.mime_type},
      {"size_bytes", asset.size_bytes},
      {"sha256", asset.sha256},
      {"created_at", asset.created_at},
  };
}

json::object to_json(const db::job_event& event) {
  return {{"id", event.id}, {"at", event.at}, {"kind", event.kind}, {"detail", event.detail}};
}

}  // namespace

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

json::object to_json(const db::job_summary& job) {
  return {
      {"id", job.id},
      {"status", db::to_string(job.status)},
      {"batch", json_or_null(job.batch)},
      {"name", json_or_null(job.name)},
      {"attempts", job.attempts},
      {"remote_job_id", json_or_null(job.remote_job_id)},
      {"prompt", job.prompt},
      {"last_error", json_or_null(job.last_error)},
  };
}

json::object to_json(const db::job_details& details) {
  const auto& job = details.job;
  const auto& request = job.request;
  json::array assets;
  for (const auto& asset : details.assets) assets.push_back(to_json(asset));
  json::array events;
  for (const auto& event : details.events) events.push_back(to_json(event));
  return {
      {"id", job.id},
      {"prompt", request.prompt},
      {"lyrics", request.lyrics},
      {"is_instrumental", request.is_instrumental},
      {"lyrics_optimizer", request.lyrics_optimizer},
      {"sample_rate", request.sample_rate},
      {"bitrate", request.bitrate},
      {"priority", request.priority},
      {"batch", json_or_null(request.batch)},
      {"name", json_or_null(request.name)},
      {"run_after", json_or_null(request.run_after)},
      {"max_attempts", json_or_null(request.max_attempts)},
      {"created_at", job.created_at},
      {"status", db::to_string(job.status)},
      {"attempts", job.attempts},
      {"remote_job_id", json_or_null(job.remote_job_id)},
      {"last_error", json_or_null(job.last_error)},
      {"updated_at", json_or_null(job.updated_at)},
      {"submitted_at", json_or_null(job.submitted_at)},
      {"finished_at", json_or_null(job.finished_at)},
      {"next_attempt_at", json_or_null(job.next_attempt_at)},
      {"progress", json_or_null(job.progress)},
      {"cost_cu", json_or_null(job.cost_cu)},
      {"assets", std::move(assets)},
      {"events", std::move(events)},
  };
}

void print_json(std::ostream& out, const json::value& value) { out << json::serialize(value) << '\n'; }

}  // namespace soundtrackd::ctl
