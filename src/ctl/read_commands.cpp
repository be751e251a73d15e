// The soundtrackctl commands that only read: status, watch, list and show.
#include <unistd.h>
#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "commands.hpp"
#include "output.hpp"
#include "time_text.hpp"

namespace soundtrackd::ctl {

namespace json = boost::json;

namespace {

// The rate is measured over a recent window rather than since the start, so the ETA follows
// the current pace (a paused queue, a changed max_running).
constexpr double rate_window_seconds = 10 * 60;

struct progress_estimate {
  std::int64_t total = 0;
  std::int64_t done = 0;  // succeeded, failed or cancelled
  std::optional<double> succeeded_per_minute;
  std::optional<double> eta_seconds;  // for the rows not done, at that rate
};

progress_estimate estimate(const db::queue_counts& c, epoch_seconds now) {
  progress_estimate e;
  e.total = c.counts.total();
  for (auto s : {db::job_status::succeeded, db::job_status::failed, db::job_status::cancelled})
    e.done += c.counts.by_status.at(s);
  // A run that started less than a window ago is measured from its first submit, or its
  // first minutes would show a fraction of the real rate.
  const double window_start = std::max(now - rate_window_seconds, c.first_submitted_at.value_or(now));
  const double elapsed = now - window_start;
  if (c.succeeded_since > 0 && elapsed > 0) {
    e.succeeded_per_minute = static_cast<double>(c.succeeded_since) * 60 / elapsed;
    if (e.total > e.done) e.eta_seconds = static_cast<double>(e.total - e.done) * 60 / *e.succeeded_per_minute;
  }
  return e;
}

std::string format_number(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string format_time(const std::optional<epoch_seconds>& t) { return t ? format_utc(*t) : "-"; }

std::string format_optional_number(const std::optional<double>& value, int decimals) {
  return value ? format_number(*value, decimals) : "-";
}

constexpr std::array active_statuses{db::job_status::queued, db::job_status::submitting, db::job_status::running,
                                     db::job_status::downloading};

std::int64_t active_count(const db::queue_counts& c) {
  std::int64_t n = 0;
  for (auto s : active_statuses) n += c.counts.by_status.at(s);
  return n;
}

// "120/340 done (35%) | queued 200, running 16, succeeded 118, failed 2 | 4.2/min, ETA 52m"
std::string progress_line(const db::queue_counts& c, const progress_estimate& e) {
  std::ostringstream line;
  line << e.done << '/' << e.total << " done (" << (e.total ? e.done * 100 / e.total : 100) << "%) |";
  const char* separator = " ";
  for (const auto& [status, count] : c.counts.by_status) {
    if (count == 0) continue;
    line << separator << db::to_string(status) << ' ' << count;
    separator = ", ";
  }
  if (e.succeeded_per_minute) {
    line << " | " << format_number(*e.succeeded_per_minute, 1) << "/min";
    if (e.eta_seconds) line << ", ETA " << format_duration(std::chrono::seconds(std::llround(*e.eta_seconds)));
  }
  return line.str();
}

std::string progress_bar(const progress_estimate& e) {
  constexpr std::int64_t width = 24;
  const auto filled = e.total ? e.done * width / e.total : width;
  return "[" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(width - filled), '-') + "] ";
}

}  // namespace

int run_watch(db::queue_admin& admin, const watch_options& options) {
  const bool terminal = ::isatty(STDOUT_FILENO) == 1;
  std::optional<std::map<db::job_status, std::int64_t>> shown;
  db::queue_counts counts;
  for (;;) {
    const auto now = now_epoch();
    counts = admin.counts(options.batch, now - rate_window_seconds);
    const auto e = estimate(counts, now);
    if (e.total == 0) {
      std::cerr << "soundtrackctl: no rows" << (options.batch ? " in batch " + *options.batch : "") << '\n';
      return exit_failure;
    }
    if (terminal) {
      // Redrawn in place: back to the line start, clear it.
      std::cout << "\r\033[K" << progress_bar(e) << progress_line(counts, e) << std::flush;
    } else if (shown != counts.counts.by_status) {
      // One line per change, stamped, so a log of it reads as a timeline.
      std::cout << format_utc(now) << ' ' << progress_line(counts, e) << std::endl;
      shown = counts.counts.by_status;
    }
    if (active_count(counts) == 0) break;
    std::this_thread::sleep_for(options.interval);
  }
  if (terminal) std::cout << '\n';

  const auto failed = counts.counts.by_status.at(db::job_status::failed);
  if (failed > 0) {
    std::cout << failed << " failed: soundtrackctl list --status failed"
              << (options.batch ? " --batch " + *options.batch : "") << '\n';
    return exit_failure;
  }
  return exit_ok;
}

int run_status(db::queue_admin& admin, const status_options& options) {
  const auto now = now_epoch();
  const auto counts = admin.counts(options.batch, now - rate_window_seconds);
  const auto e = estimate(counts, now);

  if (options.json) {
    json::object by_status;
    for (const auto& [status, count] : counts.counts.by_status) by_status[db::to_string(status)] = count;
    json::object out{
        {"batch", options.batch ? json::value(*options.batch) : json::value(nullptr)},
        {"counts", std::move(by_status)},
        {"total", e.total},
        {"done", e.done},
        {"succeeded_per_minute", e.succeeded_per_minute ? json::value(*e.succeeded_per_minute) : nullptr},
        {"eta_seconds", e.eta_seconds ? json::value(*e.eta_seconds) : nullptr},
        {"eta_at", e.eta_seconds ? json::value(now + *e.eta_seconds) : nullptr},
    };
    print_json(std::cout, out);
    return exit_ok;
  }

  if (options.batch) std::cout << "batch " << *options.batch << '\n';
  for (const auto& [status, count] : counts.counts.by_status)
    std::cout << std::left << std::setw(12) << db::to_string(status) << std::right << std::setw(10) << count << '\n';
  std::cout << std::left << std::setw(12) << "total" << std::right << std::setw(10) << e.total << '\n';

  std::cout << "done " << e.done << '/' << e.total;
  if (e.succeeded_per_minute) {
    std::cout << ", " << format_number(*e.succeeded_per_minute, 1) << " succeeded/min over the last 10m";
    if (e.eta_seconds)
      std::cout << ", ETA " << format_duration(std::chrono::seconds(std::llround(*e.eta_seconds))) << " ("
                << format_utc(now + *e.eta_seconds) << ')';
  } else if (e.total > e.done) {
    std::cout << ", nothing succeeded in the last 10m (no ETA)";
  }
  std::cout << '\n';
  return exit_ok;
}

int run_list(db::queue_admin& admin, const list_options& options) {
  db::list_filter filter{.batch = options.batch, .limit = options.limit, .offset = options.offset};
  for (const auto& name : options.statuses) filter.statuses.push_back(*db::parse_job_status(name));
  const auto rows = admin.list(filter);

  if (options.json) {
    json::array out;
    for (const auto& row : rows) out.push_back(to_json(row));
    print_json(std::cout, out);
    return exit_ok;
  }
  if (rows.empty()) {
    std::cout << "no rows match\n";
    return exit_ok;
  }
  text_table table({"id", "status", "batch", "name", "attempts", "remote_job_id", "prompt", "last_error"});
  for (const auto& row : rows)
    table.add_row({std::to_string(row.id), std::string(db::to_string(row.status)), or_dash(row.batch),
                   shorten(or_dash(row.name), 24), std::to_string(row.attempts), or_dash(row.remote_job_id),
                   shorten(row.prompt, 40), shorten(or_dash(row.last_error), 60)});
  table.print(std::cout);
  if (static_cast<std::int64_t>(rows.size()) == options.limit)
    std::cout << "(first " << options.limit << " rows; --offset " << options.offset + options.limit
              << " for the next page)\n";
  return exit_ok;
}

int run_show(db::queue_admin& admin, const show_options& options) {
  auto details = admin.get(options.id);
  if (!details) {
    std::cerr << "soundtrackctl: job " << options.id << " not found\n";
    return exit_failure;
  }
  if (options.json) {
    print_json(std::cout, to_json(*details));
    return exit_ok;
  }

  const auto& job = details->job;
  const auto& request = job.request;
  auto yes_no = [](bool value) { return std::string(value ? "yes" : "no"); };
  text_table fields({"id", std::to_string(job.id)});
  fields.add_row({"status", std::string(db::to_string(job.status))});
  fields.add_row({"prompt", one_line(request.prompt)});
  fields.add_row({"is_instrumental", yes_no(request.is_instrumental)});
  fields.add_row({"lyrics_optimizer", yes_no(request.lyrics_optimizer)});
  fields.add_row({"sample_rate", std::to_string(request.sample_rate)});
  fields.add_row({"bitrate", std::to_string(request.bitrate)});
  fields.add_row({"priority", std::to_string(request.priority)});
  fields.add_row({"batch", or_dash(request.batch)});
  fields.add_row({"name", or_dash(request.name)});
  fields.add_row({"run_after", format_time(request.run_after)});
  fields.add_row({"max_attempts", request.max_attempts ? std::to_string(*request.max_attempts) : "- (config default)"});
  fields.add_row({"created_at", format_utc(job.created_at)});
  fields.add_row({"attempts", std::to_string(job.attempts)});
  fields.add_row({"remote_job_id", or_dash(job.remote_job_id)});
  fields.add_row({"last_error", or_dash(job.last_error)});
  fields.add_row({"updated_at", format_time(job.updated_at)});
  fields.add_row({"submitted_at", format_time(job.submitted_at)});
  fields.add_row({"finished_at", format_time(job.finished_at)});
  fields.add_row({"next_attempt_at", format_time(job.next_attempt_at)});
  fields.add_row({"progress", format_optional_number(job.progress, 2)});
  fields.add_row({"cost_cu", format_optional_number(job.cost_cu, 2)});
  fields.print(std::cout);

  // Lyrics keep their lines; every other value fits on one.
  std::cout << "\nlyrics" << (request.lyrics.empty() ? ": -\n" : ":\n");
  if (!request.lyrics.empty()) {
    std::istringstream lines(request.lyrics);
    for (std::string line; std::getline(lines, line);) std::cout << "  " << line << '\n';
  }

  std::cout << "\nassets" << (details->assets.empty() ? ": none\n" : ":\n");
  if (!details->assets.empty()) {
    text_table assets({"  id", "remote_asset_id", "mime_type", "size_bytes", "sha256"});
    for (const auto& asset : details->assets)
      assets.add_row({"  " + std::to_string(asset.id), asset.remote_asset_id, asset.mime_type,
                      std::to_string(asset.size_bytes), asset.sha256});
    assets.print(std::cout);
  }

  std::cout << "\nevents" << (details->events.empty() ? ": none\n" : ":\n");
  if (!details->events.empty()) {
    text_table events({"  at", "kind", "detail"});
    for (const auto& event : details->events)
      events.add_row({"  " + format_utc(event.at), event.kind, one_line(event.detail)});
    events.print(std::cout);
  }
  return exit_ok;
}

}  // namespace soundtrackd::ctl
