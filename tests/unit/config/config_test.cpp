// Tests for parse_config, load_config and the duration and size syntax.
#include "soundtrackd/config/config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include "test_support.hpp"

namespace soundtrackd::config {
namespace {

using namespace std::chrono_literals;

// The error of parsing `text` as "t.toml"; fails the test if it parses.
std::string error_of(std::string_view text) {
  auto parsed = parse_config(text, "t.toml");
  EXPECT_FALSE(parsed.ok()) << "parsed without error:\n" << text;
  return parsed.ok() ? std::string() : parsed.error_message();
}

TEST(ConfigParse, EmptyTextGivesDefaults) {
  auto parsed = parse_config("", "t.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error_message();
  EXPECT_EQ(*parsed, config{});
}

TEST(ConfigParse, DefaultsAreTheContractValues) {
  const config c;
  EXPECT_EQ(c.database.path, "/var/lib/soundtrackd/queue.db");
  EXPECT_EQ(c.api.base_url, "https://api.cloud.scenario.com/v1");
  EXPECT_EQ(c.api.connect_timeout, 10s);
  EXPECT_EQ(c.api.download_timeout, 5min);
  EXPECT_EQ(c.queue.max_running, 16);
  EXPECT_EQ(c.queue.job_timeout, 30min);
  EXPECT_EQ(c.queue.retry_backoff_max, 10min);
  EXPECT_EQ(c.storage.min_free_space, 1024u * 1024 * 1024);
  EXPECT_EQ(c.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.log.level, "info");
}

TEST(ConfigParse, EveryKeyIsRead) {
  auto parsed = parse_config(R"(
[database]
path = "/tmp/q.db"

[api]
base_url = "http://127.0.0.1:9000/v1"
model = "model_other"
project_id = "proj_1"
ca_file = "/etc/ca.pem"
connect_timeout = "2s"
request_timeout = "45s"
download_timeout = "1h"
max_requests_per_second = 2.5
max_connections = 3

[queue]
max_running = 4
poll_interval = "250ms"
poll_interval_max = "2m"
job_timeout = "2h"
max_attempts = 7
retry_backoff = "1s"
retry_backoff_max = "1m30s"
scan_interval = "500ms"
shutdown_grace = "5s"
spend_limit_cu = 1000

[storage]
output_dir = "/srv/music"
min_free_space = "512MiB"

[server]
listen = "0.0.0.0:0"
token_file = "/etc/soundtrackd/token"
read_timeout = "2s"
idle_timeout = "1m"
max_connections = 64

[log]
level = "debug"
format = "json"
)",
                             "t.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error_message();
  const config& c = *parsed;
  EXPECT_EQ(c.database.path, "/tmp/q.db");
  EXPECT_EQ(c.api.base_url, "http://127.0.0.1:9000/v1");
  EXPECT_EQ(c.api.model, "model_other");
  EXPECT_EQ(c.api.project_id, "proj_1");
  EXPECT_EQ(c.api.ca_file, "/etc/ca.pem");
  EXPECT_EQ(c.api.connect_timeout, 2s);
  EXPECT_EQ(c.api.request_timeout, 45s);
  EXPECT_EQ(c.api.download_timeout, 1h);
  EXPECT_EQ(c.api.max_requests_per_second, 2.5);
  EXPECT_EQ(c.api.max_connections, 3);
  EXPECT_EQ(c.queue.max_running, 4);
  EXPECT_EQ(c.queue.poll_interval, 250ms);
  EXPECT_EQ(c.queue.poll_interval_max, 2min);
  EXPECT_EQ(c.queue.job_timeout, 2h);
  EXPECT_EQ(c.queue.max_attempts, 7);
  EXPECT_EQ(c.queue.retry_backoff, 1s);
  EXPECT_EQ(c.queue.retry_backoff_max, 90s);
  EXPECT_EQ(c.queue.scan_interval, 500ms);
  EXPECT_EQ(c.queue.shutdown_grace, 5s);
  EXPECT_EQ(c.queue.spend_limit_cu, 1000);
  EXPECT_EQ(c.storage.output_dir, "/srv/music");
  EXPECT_EQ(c.storage.min_free_space, 512u * 1024 * 1024);
  EXPECT_EQ(c.server.listen, "0.0.0.0:0");
  EXPECT_EQ(c.server.token_file, "/etc/soundtrackd/token");
  EXPECT_EQ(c.server.read_timeout, 2s);
  EXPECT_EQ(c.server.idle_timeout, 1min);
  EXPECT_EQ(c.server.max_connections, 64);
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.format, "json");
}

TEST(ConfigParse, SyntaxErrorNamesLineAndColumn) {
  const std::string message = error_of("[api]\nmodel = \n");
  EXPECT_TRUE(message.starts_with("t.toml:2:9: ")) << message;
}

TEST(ConfigParse, UnknownKeyNamesKeyAndLine) {
  EXPECT_EQ(error_of("# comment\n[queue]\nmax_running = 2\n\nbogus_setting = 1\n"),
            "t.toml:5: unknown key 'queue.bogus_setting'");
}

TEST(ConfigParse, TypoGetsSuggestion) {
  EXPECT_EQ(error_of("[queue]\nmax_runing = 3\n"),
            "t.toml:2: unknown key 'queue.max_runing' (did you mean 'queue.max_running'?)");
  EXPECT_EQ(error_of("[log]\nfromat = \"json\"\n"), "t.toml:2: unknown key 'log.fromat' (did you mean 'log.format'?)");
}

TEST(ConfigParse, UnknownSectionGetsSuggestion) {
  EXPECT_EQ(error_of("\n[queu]\nmax_running = 3\n"), "t.toml:2: unknown section 'queu' (did you mean 'queue'?)");
}

TEST(ConfigParse, KeyInWrongPlaceGetsSuggestion) {
  EXPECT_EQ(error_of("max_running = 3\n"), "t.toml:1: unknown key 'max_running' (did you mean 'queue.max_running'?)");
  EXPECT_EQ(error_of("[api]\nmax_running = 3\n"),
            "t.toml:2: unknown key 'api.max_running' (did you mean 'queue.max_running'?)");
}

TEST(ConfigParse, AllProblemsAreReportedInLineOrder) {
  EXPECT_EQ(error_of("[queue]\nmax_attempts = \"5\"\n[api]\nmodle = \"x\"\n"
                     "max_connections = \"8\"\n"),
            "t.toml:2: queue.max_attempts must be an integer, got string\n"
            "t.toml:4: unknown key 'api.modle' (did you mean 'api.model'?)\n"
            "t.toml:5: api.max_connections must be an integer, got string");
}

TEST(ConfigParse, WrongTypes) {
  EXPECT_EQ(error_of("[api]\nmax_connections = \"8\"\n"),
            "t.toml:2: api.max_connections must be an integer, got string");
  EXPECT_EQ(error_of("[api]\nmodel = 3\n"), "t.toml:2: api.model must be a string, got integer");
  EXPECT_EQ(error_of("[api]\nmax_requests_per_second = true\n"),
            "t.toml:2: api.max_requests_per_second must be a number, got boolean");
  EXPECT_EQ(error_of("[queue]\nmax_running = 2.5\n"), "t.toml:2: queue.max_running must be an integer, got float");
  EXPECT_EQ(error_of("[queue]\njob_timeout = [\"1h\"]\n"),
            "t.toml:2: queue.job_timeout must be a string with a unit such as \"30s\", got array");
  EXPECT_EQ(error_of("[storage]\nmin_free_space = 1.5\n"),
            "t.toml:2: storage.min_free_space must be a size such as \"1GiB\" or a number of "
            "bytes, got float");
  EXPECT_EQ(error_of("log = \"debug\"\n"), "t.toml:1: log must be a table ([log]), got string");
  EXPECT_EQ(error_of("[queue]\nmax_running = 9999999999\n"), "t.toml:2: queue.max_running is out of range: 9999999999");
  EXPECT_EQ(error_of("[api]\nmax_requests_per_second = inf\n"),
            "t.toml:2: api.max_requests_per_second must be a finite number, got inf");
}

TEST(ConfigParse, IntegerRateIsAccepted) {
  auto parsed = parse_config("[api]\nmax_requests_per_second = 10\n", "t.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error_message();
  EXPECT_EQ(parsed->api.max_requests_per_second, 10.0);
}

TEST(ConfigParse, DurationWithoutUnitShowsTheFix) {
  EXPECT_EQ(error_of("[api]\nrequest_timeout = \"30\"\n"),
            "t.toml:2: api.request_timeout: \"30\" needs a unit: ms, s, m, h or d (e.g. \"30s\")");
  EXPECT_EQ(error_of("[api]\nrequest_timeout = 30\n"),
            "t.toml:2: api.request_timeout: 30 needs a unit: ms, s, m, h or d (e.g. \"30s\")");
  EXPECT_EQ(error_of("[api]\nrequest_timeout = 2.5\n"),
            "t.toml:2: api.request_timeout: 2.5 needs a unit: ms, s, m, h or d (e.g. \"2.5s\")");
}

TEST(ConfigParse, SizeAsIntegerBytes) {
  auto parsed = parse_config("[storage]\nmin_free_space = 4096\n", "t.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error_message();
  EXPECT_EQ(parsed->storage.min_free_space, 4096u);
  EXPECT_EQ(error_of("[storage]\nmin_free_space = -1\n"),
            "t.toml:2: storage.min_free_space must not be negative, got -1");
  EXPECT_EQ(error_of("[storage]\nmin_free_space = \"1 GiB\"\n"),
            "t.toml:2: storage.min_free_space: \"1 GiB\": unknown unit \" GiB\": use B, KiB, MiB, "
            "GiB, TiB, kB, MB, GB or TB");
}

TEST(ConfigValidate, Counts) {
  EXPECT_EQ(error_of("[queue]\nmax_running = 0\n"), "t.toml:2: queue.max_running must be at least 1, got 0");
  EXPECT_EQ(error_of("[api]\nmax_connections = -2\n"), "t.toml:2: api.max_connections must be at least 1, got -2");
  EXPECT_EQ(error_of("[queue]\nmax_attempts = 0\n"), "t.toml:2: queue.max_attempts must be at least 1, got 0");
  EXPECT_EQ(error_of("[api]\nmax_requests_per_second = 0\n"),
            "t.toml:2: api.max_requests_per_second must be greater than 0, got 0");
  EXPECT_EQ(error_of("[api]\nmax_requests_per_second = nan\n"),
            "t.toml:2: api.max_requests_per_second must be a finite number, got nan");
  EXPECT_EQ(error_of("[queue]\nspend_limit_cu = -1\n"),
            "t.toml:2: queue.spend_limit_cu must be 0 (no limit) or more, got -1");
}

TEST(ConfigValidate, DurationsMustBePositive) {
  EXPECT_EQ(error_of("[queue]\nscan_interval = \"0s\"\n"), "t.toml:2: queue.scan_interval must be longer than 0");
  EXPECT_EQ(error_of("[api]\nconnect_timeout = \"0ms\"\n"), "t.toml:2: api.connect_timeout must be longer than 0");
}

TEST(ConfigValidate, IntervalsMustBeOrdered) {
  EXPECT_EQ(error_of("[queue]\npoll_interval = \"1m\"\n"),
            "t.toml:2: queue.poll_interval (1m) must not be longer than queue.poll_interval_max "
            "(30s)");
  // Blamed on the line the file sets, whichever of the two it is.
  EXPECT_EQ(error_of("[queue]\n\nretry_backoff_max = \"1s\"\n"),
            "t.toml:3: queue.retry_backoff (10s) must not be longer than queue.retry_backoff_max "
            "(1s)");
}

TEST(ConfigValidate, LogLevelAndFormat) {
  EXPECT_EQ(error_of("[log]\nlevel = \"verbose\"\n"),
            "t.toml:2: log.level \"verbose\" must be one of trace, debug, info, warn, error, "
            "critical, off");
  EXPECT_EQ(error_of("[log]\nformat = \"xml\"\n"), "t.toml:2: log.format \"xml\" must be \"text\" or \"json\"");
  for (std::string_view level : log_level_names) {
    auto parsed = parse_config("[log]\nlevel = \"" + std::string(level) + "\"\n", "t.toml");
    EXPECT_TRUE(parsed.ok()) << level;
  }
}

TEST(ConfigValidate, BaseUrl) {
  EXPECT_EQ(error_of("[api]\nbase_url = \"ftp://example.com/v1\"\n"),
            "t.toml:2: api.base_url \"ftp://example.com/v1\" must be an http:// or https:// URL");
  const std::string no_scheme = error_of("[api]\nbase_url = \"api.cloud.scenario.com/v1\"\n");
  EXPECT_TRUE(no_scheme.starts_with("t.toml:2: api.base_url \"api.cloud.scenario.com/v1\" is not a URL: "))
      << no_scheme;
  EXPECT_EQ(error_of("[api]\nbase_url = \"https://key:secret@example.com/v1\"\n"),
            "t.toml:2: api.base_url \"https://key:secret@example.com/v1\" must not carry user "
            "info, a query or a fragment");
  EXPECT_TRUE(parse_config("[api]\nbase_url = \"HTTPS://example.com:8443\"\n", "t.toml").ok());
}

TEST(ConfigValidate, Listen) {
  for (std::string_view ok : {"", "127.0.0.1:8080", "localhost:0", "[::1]:8080", "127.1.2.3:1"}) {
    auto parsed = parse_config("[server]\nlisten = \"" + std::string(ok) + "\"\n", "t.toml");
    EXPECT_TRUE(parsed.ok()) << ok << ": " << parsed.error_message();
  }
  const std::string format_error =
      " must be host:port (e.g. \"127.0.0.1:8080\" or \"[::1]:8080\"), or \"\" to disable the "
      "server";
  for (std::string_view bad :
       {"8080", "127.0.0.1", "127.0.0.1:99999", ":8080", "::1:8080", "user@127.0.0.1:80", "127.0.0.1:http"}) {
    EXPECT_EQ(error_of("[server]\nlisten = \"" + std::string(bad) + "\"\n"),
              "t.toml:2: server.listen \"" + std::string(bad) + "\"" + format_error);
  }
}

TEST(ConfigValidate, ListenBeyondLoopbackNeedsToken) {
  EXPECT_EQ(error_of("[server]\nlisten = \"0.0.0.0:8080\"\n"),
            "t.toml:2: server.listen 0.0.0.0:8080 is not loopback: set server.token_file to a "
            "file holding the bearer token clients must send");
  for (std::string_view listen : {"[::]:8080", "example.com:8080", "192.168.1.5:80"}) {
    const std::string message = error_of("[server]\nlisten = \"" + std::string(listen) + "\"\n");
    EXPECT_TRUE(message.starts_with("t.toml:2: server.listen " + std::string(listen) +
                                    " is not loopback: set server.token_file"))
        << message;
  }
  EXPECT_TRUE(parse_config("[server]\nlisten = \"[::]:8080\"\ntoken_file = \"/t\"\n", "t.toml").ok());
}

TEST(ConfigDuration, Forms) {
  EXPECT_EQ(*parse_duration("250ms"), 250ms);
  EXPECT_EQ(*parse_duration("5s"), 5s);
  EXPECT_EQ(*parse_duration("10m"), 10min);
  EXPECT_EQ(*parse_duration("1h"), 1h);
  EXPECT_EQ(*parse_duration("30d"), 30 * 24h);
  EXPECT_EQ(*parse_duration("1h30m"), 90min);
  EXPECT_EQ(*parse_duration("1m30s500ms"), 90500ms);
  EXPECT_EQ(*parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(*parse_duration("0s"), 0ms);
}

TEST(ConfigDuration, RoundTripsFormatDuration) {
  for (duration d : {duration{250}, duration{1500}, duration{90'000}, duration{5'400'000}})
    EXPECT_EQ(*parse_duration(format_duration(d)), d) << format_duration(d);
}

TEST(ConfigDuration, Errors) {
  EXPECT_EQ(parse_duration("30").error_message(), "\"30\" needs a unit: ms, s, m, h or d (e.g. \"30s\")");
  EXPECT_EQ(parse_duration("1h30").error_message(), "\"1h30\" needs a unit: ms, s, m, h or d (e.g. \"1h30s\")");
  EXPECT_EQ(parse_duration("5x").error_message(), "\"5x\": unknown unit \"x\": use ms, s, m, h or d");
  EXPECT_EQ(parse_duration("5S").error_message(), "\"5S\": unknown unit \"S\": use ms, s, m, h or d");
  const std::string not_a_duration = " is not a duration: write a number and a unit, e.g. \"30s\" or \"1h30m\"";
  for (std::string_view bad : {"", "s", "-5s", "5 s", " 5s", "inf", "1..2s"})
    EXPECT_EQ(parse_duration(bad).error_message(), "\"" + std::string(bad) + "\"" + not_a_duration);
  EXPECT_EQ(parse_duration("366d").error_message(), "\"366d\" is too long: the limit is 365d");
}

TEST(ConfigSize, Forms) {
  EXPECT_EQ(*parse_size("1024"), 1024u);
  EXPECT_EQ(*parse_size("100B"), 100u);
  EXPECT_EQ(*parse_size("4KiB"), 4096u);
  EXPECT_EQ(*parse_size("512MiB"), 512ull << 20);
  EXPECT_EQ(*parse_size("2GiB"), 2ull << 30);
  EXPECT_EQ(*parse_size("3TiB"), 3ull << 40);
  EXPECT_EQ(*parse_size("5kB"), 5'000u);
  EXPECT_EQ(*parse_size("5MB"), 5'000'000u);
  EXPECT_EQ(*parse_size("5GB"), 5'000'000'000u);
  EXPECT_EQ(*parse_size("5TB"), 5'000'000'000'000u);
  EXPECT_EQ(*parse_size("1.5GiB"), 1536ull << 20);
}

TEST(ConfigSize, Errors) {
  const std::string units = ": use B, KiB, MiB, GiB, TiB, kB, MB, GB or TB";
  EXPECT_EQ(parse_size("5KB").error_message(), "\"5KB\": unknown unit \"KB\"" + units);
  EXPECT_EQ(parse_size("1gib").error_message(), "\"1gib\": unknown unit \"gib\"" + units);
  const std::string not_a_size = " is not a size: write a number and a unit, e.g. \"512MiB\"";
  for (std::string_view bad : {"", "GiB", "-1GiB"})
    EXPECT_EQ(parse_size(bad).error_message(), "\"" + std::string(bad) + "\"" + not_a_size);
  EXPECT_EQ(parse_size("20000000TiB").error_message(), "\"20000000TiB\" is too large");
}

TEST(ConfigSample, ShippedFileIsTheDefaults) {
  const std::string text = test::read_file(SOURCE_DIR "/config/soundtrackd.toml");
  auto as_shipped = parse_config(text, "soundtrackd.toml");
  ASSERT_TRUE(as_shipped.ok()) << as_shipped.error_message();
  EXPECT_EQ(*as_shipped, config{});

  // The commented-out "#key = value" lines document the defaults: enabled, they must
  // still be exactly the defaults, and together they must name every key.
  const std::regex setting_line(R"(^#([a-z_]+ = ))", std::regex::multiline);
  const std::string enabled = std::regex_replace(text, setting_line, "$1");
  auto as_enabled = parse_config(enabled, "soundtrackd.toml");
  ASSERT_TRUE(as_enabled.ok()) << as_enabled.error_message();
  EXPECT_EQ(*as_enabled, config{});
  std::ptrdiff_t settings =
      std::distance(std::sregex_iterator(text.begin(), text.end(), setting_line), std::sregex_iterator());
  EXPECT_EQ(settings, 29);
}

TEST(ConfigLoad, ReadsTheNamedFile) {
  test::temp_dir dir;
  test::write_file(dir / "s.toml", "[queue]\nmax_running = 2\n");
  auto loaded = load_config((dir / "s.toml").string());
  ASSERT_TRUE(loaded.ok()) << loaded.error_message();
  EXPECT_EQ(loaded->values.queue.max_running, 2);
  EXPECT_EQ(loaded->source, (dir / "s.toml").string());
}

TEST(ConfigLoad, ErrorsNameTheFile) {
  test::temp_dir dir;
  const std::string path = (dir / "s.toml").string();
  test::write_file(path, "[queue]\nmax_running = 0\n");
  EXPECT_EQ(load_config(path).error_message(), path + ":2: queue.max_running must be at least 1, got 0");
}

TEST(ConfigLoad, MissingExplicitFileIsAnError) {
  test::temp_dir dir;
  const std::string path = (dir / "x.toml").string();
  EXPECT_EQ(load_config(path).error_message(), "config file " + path + " not found");
}

TEST(ConfigLoad, UnreadableFileGivesTheReason) {
  test::temp_dir dir;
  EXPECT_EQ(load_config(dir.path().string()).error_message(),
            "cannot read config file " + dir.path().string() + ": Is a directory");
  if (geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  const std::string path = (dir / "s.toml").string();
  test::write_file(path, "");
  chmod(path.c_str(), 0);
  EXPECT_EQ(load_config(path).error_message(), "cannot read config file " + path + ": Permission denied");
}

TEST(ConfigLoad, MissingDefaultFileMeansDefaults) {
  if (std::filesystem::exists(default_config_path)) GTEST_SKIP() << default_config_path << " exists on this machine";
  auto loaded = load_config("");
  ASSERT_TRUE(loaded.ok()) << loaded.error_message();
  EXPECT_EQ(loaded->values, config{});
  EXPECT_EQ(loaded->source, "defaults (no /etc/soundtrackd/soundtrackd.toml)");
}

}  // namespace
}  // namespace soundtrackd::config
