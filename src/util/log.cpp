// Builds spdlog loggers: text or JSON lines on stderr, syslog priority prefixes under journald.
#include "soundtrackd/util/log.hpp"

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string_view>

namespace soundtrackd {
namespace {

// log_level_names is indexed by spdlog's level numbers.
static_assert(spdlog::level::trace == 0 && spdlog::level::off == 6 &&
              config::log_level_names.size() == spdlog::level::n_levels);

spdlog::level::level_enum level_from_name(std::string_view name) {
  const auto& names = config::log_level_names;
  const auto it = std::find(names.begin(), names.end(), name);
  // A typo must not silence the daemon.
  if (it == names.end()) return spdlog::level::info;
  return static_cast<spdlog::level::level_enum>(it - names.begin());
}

// The config's spelling ("warn", "error"), not spdlog's ("warning"), so that the level a
// line shows is the one log.level takes.
std::string_view level_name(spdlog::level::level_enum level) {
  return config::log_level_names[static_cast<std::size_t>(level)];
}

// The syslog priority journald reads from a "<N>" line prefix (sd-daemon.h).
int syslog_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return 7;
    case spdlog::level::info:
      return 6;
    case spdlog::level::warn:
      return 4;
    case spdlog::level::err:
      return 3;
    case spdlog::level::critical:
      return 2;
    case spdlog::level::off:
    case spdlog::level::n_levels:
      break;
  }
  return 6;
}

// "2026-11-28T18:20:51.123Z"
std::string utc_timestamp(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto whole_seconds = floor<seconds>(time);
  const auto millis = duration_cast<milliseconds>(time - whole_seconds).count();
  const std::time_t t = system_clock::to_time_t(whole_seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  std::array<char, 48> buffer{};
  const std::size_t n = std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buffer.data() + n, buffer.size() - n, ".%03dZ", static_cast<int>(millis));
  return buffer.data();
}

// $JOURNAL_STREAM ("device:inode") is inherited by every child, including shells whose
// stderr is a terminal, so it counts only while it still describes our stderr (as
// systemd.exec(5) recommends).
bool stderr_is_journal() {
  const char* variable = std::getenv("JOURNAL_STREAM");
  if (!variable) return false;
  const std::string_view text(variable);
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  unsigned long long device = 0;
  unsigned long long inode = 0;
  const auto device_end = text.data() + colon;
  const auto inode_end = text.data() + text.size();
  if (std::from_chars(text.data(), device_end, device).ptr != device_end ||
      std::from_chars(device_end + 1, inode_end, inode).ptr != inode_end)
    return false;
  struct stat st {};
  return fstat(STDERR_FILENO, &st) == 0 && st.st_dev == device && st.st_ino == inode;
}

enum class line_format { text, json };

void append(spdlog::memory_buf_t& dest, std::string_view text) { dest.append(text.data(), text.data() + text.size()); }

// One record per line, in the chosen format; under journald each line starts with its
// priority and carries no timestamp, since journald stamps entries itself.
class line_formatter final : public spdlog::formatter {
 public:
  line_formatter(line_format format, bool journald) : format_(format), journald_(journald) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const std::string prefix = journald_ ? "<" + std::to_string(syslog_priority(msg.level)) + ">" : std::string();
    append(dest, prefix);
    if (format_ == line_format::json) {
      boost::json::object line;
      line["ts"] = utc_timestamp(msg.time);
      line["level"] = level_name(msg.level);
      line["logger"] = std::string_view(msg.logger_name.data(), msg.logger_name.size());
      line["msg"] = payload;
      append(dest, boost::json::serialize(line));
    } else if (journald_) {
      // journald makes every line of the stream its own entry: each needs the priority, or
      // the rest of a multi-line message would be filed as info.
      for (char c : payload) {
        dest.push_back(c);
        if (c == '\n') append(dest, prefix);
      }
    } else {
      append(dest, utc_timestamp(msg.time));
      dest.push_back(' ');
      const std::string_view level = level_name(msg.level);
      append(dest, level);
      // Pads to the longest common level ("error") so messages line up.
      for (std::size_t i = level.size(); i < 5; ++i) dest.push_back(' ');
      dest.push_back(' ');
      append(dest, payload);
    }
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<line_formatter>(*this); }

 private:
  line_format format_;
  bool journald_;
};

}  // namespace

logger_ptr make_logger(const config::log_config& cfg, const std::string& name) {
  // stderr_sink writes each record with one fwrite and flushes it, so no line waits in a
  // buffer when the process dies.
  return make_logger(cfg, name, std::make_shared<spdlog::sinks::stderr_sink_mt>(), stderr_is_journal());
}

logger_ptr make_logger(const config::log_config& cfg, const std::string& name, spdlog::sink_ptr sink, bool journald) {
  auto logger = std::make_shared<spdlog::logger>(name, std::move(sink));
  logger->set_formatter(
      std::make_unique<line_formatter>(cfg.format == "json" ? line_format::json : line_format::text, journald));
  logger->set_level(level_from_name(cfg.level));
  return logger;
}

logger_ptr null_logger() {
  auto logger = std::make_shared<spdlog::logger>("null");
  // Nothing would see the text, so skip formatting it.
  logger->set_level(spdlog::level::off);
  return logger;
}

}  // namespace soundtrackd
