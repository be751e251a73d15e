// The daemon's and CLI's configuration: a plain struct with the contract's defaults.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "soundtrackd/util/result.hpp"
#include "soundtrackd/util/time.hpp"

namespace soundtrackd::config {

using namespace std::chrono_literals;

struct database_config {
  std::string path = "/var/lib/soundtrackd/queue.db";

  friend bool operator==(const database_config&, const database_config&) = default;
};

struct api_config {
  std::string base_url = "https://api.cloud.scenario.com/v1";
  std::string model = "model_minimax-music-2-6";
  std::string project_id;  // sent as ?projectId= when set
  std::string ca_file;     // extra trusted CA bundle (PEM)
  duration connect_timeout = 10s;
  duration request_timeout = 30s;
  duration download_timeout = 5min;
  double max_requests_per_second = 5;
  int max_connections = 8;

  friend bool operator==(const api_config&, const api_config&) = default;
};

struct queue_config {
  int max_running = 16;
  duration poll_interval = 5s;
  duration poll_interval_max = 30s;
  duration job_timeout = 30min;
  int max_attempts = 5;
  duration retry_backoff = 10s;
  duration retry_backoff_max = 10min;
  duration scan_interval = 1s;
  duration shutdown_grace = 20s;
  double spend_limit_cu = 0;  // creative units per rolling 24 h; 0 = no limit

  friend bool operator==(const queue_config&, const queue_config&) = default;
};

struct storage_config {
  std::string output_dir;                     // "" = database only
  std::uint64_t min_free_space = 1ull << 30;  // bytes

  friend bool operator==(const storage_config&, const storage_config&) = default;
};

struct server_config {
  std::string listen = "127.0.0.1:8080";  // "" disables
  std::string token_file;
  duration read_timeout = 10s;  // a request's first byte to its last (slow clients are cut off)
  duration idle_timeout = 30s;  // a keep-alive connection waiting for its next request
  int max_connections = 512;    // beyond it, the longest idle connection is closed

  friend bool operator==(const server_config&, const server_config&) = default;
};

// The values log.level accepts, from most to least verbose (the order of spdlog's levels).
inline constexpr std::array<std::string_view, 7> log_level_names = {"trace", "debug",    "info", "warn",
                                                                    "error", "critical", "off"};

struct log_config {
  std::string level = "info";   // trace, debug, info, warn, error, critical, off
  std::string format = "text";  // text or json

  friend bool operator==(const log_config&, const log_config&) = default;
};

struct config {
  database_config database;
  api_config api;
  queue_config queue;
  storage_config storage;
  server_config server;
  log_config log;

  friend bool operator==(const config&, const config&) = default;
};

inline constexpr const char* default_config_path = "/etc/soundtrackd/soundtrackd.toml";

// Where the configuration came from, for the one start-up log line.
struct loaded_config {
  config values;
  std::string source;  // the file read, or "defaults (no /etc/soundtrackd/soundtrackd.toml)"
};

// Parses and validates TOML text. Errors name the file, the line and the key, one problem per
// line, e.g. "soundtrackd.toml:12: unknown key 'queue.max_runing' (did you mean
// 'queue.max_running'?)" or
// "soundtrackd.toml:3: api.request_timeout: \"30\" needs a unit: ms, s, m, h or d (e.g. \"30s\")".
result<config> parse_config(std::string_view toml_text, std::string_view source_name);

// Loads `path`; when `path` is empty the default path is used and a missing default file
// means all defaults. A missing file named explicitly is an error.
result<loaded_config> load_config(const std::string& path);

// "250ms", "5s", "10m", "1h", "30d" (also combined: "1h30m", and decimal: "1.5s"). No unit is
// an error.
result<duration> parse_duration(std::string_view text);
// "512MiB", "2GiB", "1024" (bytes), also KiB/MiB/GiB/TiB and kB/MB/GB/TB.
result<std::uint64_t> parse_size(std::string_view text);

}  // namespace soundtrackd::config
