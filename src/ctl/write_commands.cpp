// The soundtrackctl commands that change the database: migrate, enqueue, import, cancel and retry.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "commands.hpp"
#include "output.hpp"
#include "soundtrackd/db/migrations.hpp"
#include "soundtrackd/db/queue_database.hpp"
#include "time_text.hpp"

namespace soundtrackd::ctl {

namespace {

// Lyrics as the API wants them: lines separated by "\n". Files written on Windows have "\r\n",
// and editors end the last line with a newline that is not part of the lyrics (but would count
// toward the 3500-character limit).
std::string read_lyrics_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read --lyrics-file " + path + ": " + std::strerror(errno));
  std::ostringstream content;
  content << in.rdbuf();
  std::string lyrics;
  for (char c : content.str())
    if (c != '\r') lyrics += c;
  while (!lyrics.empty() && lyrics.back() == '\n') lyrics.pop_back();
  return lyrics;
}

std::string why_not_cancelled(const db::cancel_outcome& outcome) {
  if (!outcome.previous_status) return "not found";
  return "already " + std::string(db::to_string(*outcome.previous_status));
}

}  // namespace

int run_migrate(const std::string& db_path) {
  auto database = db::open_queue_database(db_path, {.migrate = false});
  const int applied = db::migrate(database);
  std::cout << "schema at version " << db::schema_version(database) << " (applied " << applied << ")\n";
  return exit_ok;
}

int run_enqueue(db::queue_admin& admin, const enqueue_options& options) {
  auto request = options.request;
  if (options.lyrics_file) request.lyrics = read_lyrics_file(*options.lyrics_file);
  // The id alone on its line: scripts capture it with $(soundtrackctl enqueue ...).
  std::cout << admin.enqueue(request) << '\n';
  return exit_ok;
}

int run_import(db::queue_admin& admin, const import_options& options) {
  const bool from_stdin = options.path == "-";
  std::optional<db::import_format> format;
  if (options.format)
    format = db::parse_import_format(*options.format);
  else if (!from_stdin)
    format = db::import_format_of_path(options.path);
  if (!format && !from_stdin) {
    std::cerr << "soundtrackctl: cannot tell the format of " << options.path
              << " from its name; name it .jsonl or .csv, or pass --format jsonl|csv\n";
    return exit_usage;
  }

  // A large buffer: the reader takes one character at a time from it.
  std::vector<char> buffer(1 << 20);
  std::ifstream in;
  in.rdbuf()->pubsetbuf(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  in.open(from_stdin ? "/dev/stdin" : options.path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + options.path + ": " + std::strerror(errno));
  if (!format) format = in.peek() == '{' ? db::import_format::json_lines : db::import_format::csv;

  const std::string source = from_stdin ? "standard input" : options.path;
  db::import_summary summary;
  try {
    summary = admin.import_requests(in, *format, options.batch);
  } catch (const db::invalid_import_line& e) {
    std::cerr << "soundtrackctl: " << source << ": " << e.what() << "; nothing was imported\n";
    return exit_failure;
  }

  if (options.json) {
    print_json(std::cout, boost::json::object{
                              {"count", summary.count},
                              {"first_id", summary.first_id ? boost::json::value(*summary.first_id) : nullptr},
                              {"last_id", summary.last_id ? boost::json::value(*summary.last_id) : nullptr},
                          });
  } else if (summary.count == 0) {
    std::cout << "imported nothing: " << source << " holds no requests\n";
  } else {
    std::cout << "imported " << summary.count << (summary.count == 1 ? " request" : " requests") << ", ids "
              << *summary.first_id << " to " << *summary.last_id << '\n';
  }
  return exit_ok;
}

int run_cancel(db::queue_admin& admin, const cancel_options& options) {
  const auto now = now_epoch();
  const std::string note = "cancelled by soundtrackctl at " + format_utc(now);
  auto outcomes = options.batch ? admin.cancel_batch(*options.batch, note, now) : admin.cancel(options.ids, note, now);

  int exit_code = exit_ok;
  for (const auto& outcome : outcomes) {
    std::cout << "job " << outcome.id << ": ";
    if (outcome.cancelled) {
      std::cout << "cancelled (was " << db::to_string(*outcome.previous_status);
      if (outcome.remote_job_id)
        std::cout << "; remote job " << *outcome.remote_job_id << " may still finish and be billed";
      std::cout << ")\n";
    } else {
      std::cout << "not cancelled: " << why_not_cancelled(outcome) << '\n';
      // Already cancelled is the state asked for: repeating a cancel is not an error.
      if (outcome.previous_status != db::job_status::cancelled) exit_code = exit_failure;
    }
  }
  if (options.batch && outcomes.empty()) std::cout << "batch " << *options.batch << ": nothing left to cancel\n";
  return exit_code;
}

int run_retry(db::queue_admin& admin, const retry_options& options) {
  const auto now = now_epoch();
  const std::string note = "retried by soundtrackctl at " + format_utc(now);
  auto outcomes =
      options.all_failed ? admin.retry_failed(options.batch, note, now) : admin.retry(options.ids, note, now);

  int exit_code = exit_ok;
  bool resumed_any = false;
  for (const auto& outcome : outcomes) {
    std::cout << "job " << outcome.id << ": ";
    if (outcome.action == db::retry_action::resume_remote_job) {
      std::cout << "resumes remote job " << *outcome.remote_job_id << '\n';
      resumed_any = true;
    } else if (outcome.action == db::retry_action::resubmit) {
      std::cout << "queued for a new submit\n";
    } else {
      exit_code = exit_failure;
      if (!outcome.previous_status)
        std::cout << "not found\n";
      else
        std::cout << "not retried: it is " << db::to_string(*outcome.previous_status)
                  << " (only failed or cancelled rows can be retried)\n";
    }
  }
  if (options.all_failed && outcomes.empty())
    std::cout << (options.batch ? "batch " + *options.batch + ": no" : "no") << " failed rows\n";
  if (resumed_any)
    std::cout << "soundtrackd picks up resumed remote jobs when it starts; restart it to resume them now\n";
  return exit_code;
}

}  // namespace soundtrackd::ctl
