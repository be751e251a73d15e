// Logger construction: text or JSON lines, journald-aware (priority prefixes, no timestamps).
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string>

#include "soundtrackd/config/config.hpp"

namespace soundtrackd {

using logger_ptr = std::shared_ptr<spdlog::logger>;

// Builds the process logger writing to stderr. Under journald (stderr is the stream that
// $JOURNAL_STREAM names) lines carry "<N>" syslog priority prefixes and no timestamp
// (journald adds its own). format "json": one JSON object per line
// {"ts","level","logger","msg"}. An unknown cfg.level (parse_config rejects them) means info.
logger_ptr make_logger(const config::log_config& cfg, const std::string& name);

// The same on any sink, with the journald choice made by the caller: tests read the lines
// back through an ostream sink.
logger_ptr make_logger(const config::log_config& cfg, const std::string& name, spdlog::sink_ptr sink, bool journald);

// A logger that drops everything (tests).
logger_ptr null_logger();

}  // namespace soundtrackd
