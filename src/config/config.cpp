// Turns soundtrackd.toml into the config struct: key checking, units, validation, file loading.
#include "soundtrackd/config/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <boost/url/authority_view.hpp>
#include <boost/url/grammar/ci_string.hpp>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <system_error>
#include <vector>

namespace soundtrackd::config {
namespace {

// ---- Numbers with units ----------------------------------------------------------------

struct unit {
  std::string_view name;
  double factor;  // milliseconds or bytes
};

constexpr std::array<unit, 5> duration_units{{{"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}, {"d", 86400e3}}};

constexpr std::array<unit, 9> size_units{{{"B", 1},
                                          {"KiB", 0x1p10},
                                          {"MiB", 0x1p20},
                                          {"GiB", 0x1p30},
                                          {"TiB", 0x1p40},
                                          {"kB", 1e3},
                                          {"MB", 1e6},
                                          {"GB", 1e9},
                                          {"TB", 1e12}}};

// No setting needs more, and capping here keeps "now + duration" far from overflowing the
// nanosecond clocks the timers use.
constexpr double max_duration_ms = 365 * 86400e3;

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Shortest text that reads back as the same double: "5", "1.5", "0.25".
std::string number_text(double value) {
  std::array<char, 32> buffer{};
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return std::string(buffer.data(), end);
}

struct leading_number {
  double value;
  std::size_t length;
};

// The decimal number at the start of `text` ("30", "1.5"); no sign, exponent, inf or nan.
std::optional<leading_number> read_leading_number(std::string_view text) {
  std::size_t length = 0;
  while (length < text.size() && (is_digit(text[length]) || text[length] == '.')) ++length;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + length, value, std::chars_format::fixed);
  if (length == 0 || ec != std::errc{} || end != text.data() + length) return std::nullopt;
  return leading_number{value, length};
}

std::string_view read_leading_letters(std::string_view text) {
  std::size_t length = 0;
  while (length < text.size() && is_letter(text[length])) ++length;
  return text.substr(0, length);
}

template <std::size_t N>
std::optional<double> unit_factor(const std::array<unit, N>& units, std::string_view name) {
  for (const auto& u : units)
    if (u.name == name) return u.factor;
  return std::nullopt;
}

// Shared by string and bare-number values, so `30` and `"30"` get the same advice.
std::string missing_duration_unit(std::string_view shown, std::string_view number) {
  return std::string(shown) + " needs a unit: ms, s, m, h or d (e.g. \"" + std::string(number) + "s\")";
}

// ---- The parsed document ---------------------------------------------------------------

std::string dotted(std::string_view section, std::string_view name) {
  if (section.empty()) return std::string(name);
  return std::string(section) + "." + std::string(name);
}

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// Optimal string alignment distance: Levenshtein plus adjacent transpositions, a typo
// ("fromat") that plain Levenshtein counts twice.
std::size_t typo_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// toml++ reports syntax errors by exception or by return value, depending on how it was built.
result<toml::table> parse_document(std::string_view text, std::string_view source) {
  auto syntax_error = [source](const toml::parse_error& e) {
    const auto& at = e.source().begin;
    return error{std::string(source) + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " +
                 std::string(e.description())};
  };
#if TOML_EXCEPTIONS
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return syntax_error(e);
  }
#else
  toml::parse_result parsed = toml::parse(text, source);
  if (!parsed) return syntax_error(parsed.error());
  return std::move(parsed).table();
#endif
}

// Reads the known keys out of the document into struct fields. Every key it is asked for
// becomes known, so whatever is left over in the file is an unknown key, and the list of
// keys lives in one place: the read_* functions below. Problems are collected rather than
// returned one by one, so one --check-config run shows all of them.
class document_reader {
 public:
  document_reader(const toml::table& root, std::string_view source) : root_(root), source_(source) {}

  // Subsequent reads look in [section].
  void enter(std::string_view section);

  void read(std::string_view key, std::string& field);
  void read(std::string_view key, int& field);
  void read(std::string_view key, double& field);
  void read(std::string_view key, duration& field);
  void read_size(std::string_view key, std::uint64_t& field);

  // Reports every key in the document that no read asked for.
  void report_unknown_keys();

  // Records a problem, placed at the line of the first of `keys` the file sets (none when
  // every one of them kept its default).
  void fail(std::initializer_list<std::string_view> keys, std::string text);
  void fail(std::string_view key, std::string text) { fail({key}, std::move(text)); }

  bool failed() const { return !problems_.empty(); }
  // Every problem as "source:line: text", in file order, one per line.
  std::string message() const;

 private:
  struct known_key {
    std::string section;  // "" for the sections themselves
    std::string name;
  };
  struct problem {
    std::uint32_t line;  // 0: not from a line of the file
    std::string text;
  };

  const toml::node* find(std::string_view key);
  void fail_type(std::string_view key, std::string_view expected, const toml::node& node);
  void fail_at(std::uint32_t line, std::string text) { problems_.push_back({line, std::move(text)}); }
  bool is_known(std::string_view section, std::string_view name) const;
  std::string unknown_message(std::string_view kind, std::string_view section, std::string_view name) const;

  const toml::table& root_;
  std::string source_;
  std::string section_;
  const toml::table* table_ = nullptr;  // [section_], when the file has it
  std::vector<known_key> known_;
  std::map<std::string, std::uint32_t, std::less<>> lines_;  // dotted key -> its line
  std::vector<problem> problems_;
};

void document_reader::enter(std::string_view section) {
  section_ = section;
  table_ = nullptr;
  known_.push_back({"", section_});
  auto it = root_.find(section);
  if (it == root_.end()) return;
  lines_.emplace(section_, it->first.source().begin.line);
  table_ = it->second.as_table();
  if (!table_)
    fail(section_, section_ + " must be a table ([" + section_ + "]), got " + std::string(type_name(it->second)));
}

const toml::node* document_reader::find(std::string_view key) {
  known_.push_back({section_, std::string(key)});
  if (!table_) return nullptr;
  auto it = table_->find(key);
  if (it == table_->end()) return nullptr;
  lines_.emplace(dotted(section_, key), it->first.source().begin.line);
  return &it->second;
}

void document_reader::fail_type(std::string_view key, std::string_view expected, const toml::node& node) {
  const std::string name = dotted(section_, key);
  fail(name, name + " must be " + std::string(expected) + ", got " + std::string(type_name(node)));
}

void document_reader::read(std::string_view key, std::string& field) {
  const toml::node* node = find(key);
  if (!node) return;
  if (const auto* text = node->as_string())
    field = text->get();
  else
    fail_type(key, "a string", *node);
}

void document_reader::read(std::string_view key, int& field) {
  const toml::node* node = find(key);
  if (!node) return;
  const auto* integer = node->as_integer();
  if (!integer) return fail_type(key, "an integer", *node);
  const std::int64_t value = integer->get();
  if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) {
    const std::string name = dotted(section_, key);
    return fail(name, name + " is out of range: " + std::to_string(value));
  }
  field = static_cast<int>(value);
}

void document_reader::read(std::string_view key, double& field) {
  const toml::node* node = find(key);
  if (!node) return;
  if (const auto* integer = node->as_integer()) {
    field = static_cast<double>(integer->get());
  } else if (const auto* floating = node->as_floating_point()) {
    if (!std::isfinite(floating->get())) {
      const std::string name = dotted(section_, key);
      return fail(name, name + " must be a finite number, got " + number_text(floating->get()));
    }
    field = floating->get();
  } else {
    fail_type(key, "a number", *node);
  }
}

void document_reader::read(std::string_view key, duration& field) {
  const toml::node* node = find(key);
  if (!node) return;
  const std::string name = dotted(section_, key);
  if (const auto* text = node->as_string()) {
    auto parsed = parse_duration(text->get());
    if (parsed)
      field = *parsed;
    else
      fail(name, name + ": " + parsed.error_message());
  } else if (const auto* integer = node->as_integer()) {
    const std::string number = std::to_string(integer->get());
    fail(name, name + ": " + missing_duration_unit(number, number));
  } else if (const auto* floating = node->as_floating_point()) {
    const std::string number = number_text(floating->get());
    fail(name, name + ": " + missing_duration_unit(number, number));
  } else {
    fail_type(key, "a string with a unit such as \"30s\"", *node);
  }
}

void document_reader::read_size(std::string_view key, std::uint64_t& field) {
  const toml::node* node = find(key);
  if (!node) return;
  const std::string name = dotted(section_, key);
  if (const auto* text = node->as_string()) {
    auto parsed = parse_size(text->get());
    if (parsed)
      field = *parsed;
    else
      fail(name, name + ": " + parsed.error_message());
  } else if (const auto* integer = node->as_integer()) {
    if (integer->get() < 0)
      fail(name, name + " must not be negative, got " + std::to_string(integer->get()));
    else
      field = static_cast<std::uint64_t>(integer->get());
  } else {
    fail_type(key, "a size such as \"1GiB\" or a number of bytes", *node);
  }
}

bool document_reader::is_known(std::string_view section, std::string_view name) const {
  return std::any_of(known_.begin(), known_.end(),
                     [&](const known_key& k) { return k.section == section && k.name == name; });
}

std::string document_reader::unknown_message(std::string_view kind, std::string_view section,
                                             std::string_view name) const {
  std::string text = "unknown " + std::string(kind) + " '" + dotted(section, name) + "'";
  // Catches a typo within the section and a right key in the wrong place, e.g. max_running
  // written under [api] or above every section header.
  const std::size_t acceptable = 1 + name.size() / 5;
  const known_key* best = nullptr;
  std::size_t best_score = acceptable + 1;
  for (const auto& k : known_) {
    const std::size_t score = typo_distance(name, k.name) + (k.section == section ? 0 : 1);
    if (score < best_score) {
      best = &k;
      best_score = score;
    }
  }
  if (best) text += " (did you mean '" + dotted(best->section, best->name) + "'?)";
  return text;
}

void document_reader::report_unknown_keys() {
  for (auto&& [section, node] : root_) {
    const auto* table = node.as_table();
    if (!is_known("", section.str())) {
      fail_at(section.source().begin.line, unknown_message(table ? "section" : "key", "", section.str()));
      continue;
    }
    if (!table) continue;  // enter() has reported it
    for (auto&& [key, value] : *table)
      if (!is_known(section.str(), key.str()))
        fail_at(key.source().begin.line, unknown_message("key", section.str(), key.str()));
  }
}

void document_reader::fail(std::initializer_list<std::string_view> keys, std::string text) {
  for (std::string_view key : keys) {
    if (auto it = lines_.find(key); it != lines_.end()) return fail_at(it->second, std::move(text));
  }
  fail_at(0, std::move(text));
}

std::string document_reader::message() const {
  std::vector<problem> sorted = problems_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const problem& a, const problem& b) { return a.line < b.line; });
  std::string text;
  for (const auto& p : sorted) {
    if (!text.empty()) text += '\n';
    text += source_;
    if (p.line != 0) text += ":" + std::to_string(p.line);
    text += ": " + p.text;
  }
  return text;
}

// ---- Sections --------------------------------------------------------------------------

void read_sections(document_reader& r, config& cfg) {
  r.enter("database");
  r.read("path", cfg.database.path);

  r.enter("api");
  r.read("base_url", cfg.api.base_url);
  r.read("model", cfg.api.model);
  r.read("project_id", cfg.api.project_id);
  r.read("ca_file", cfg.api.ca_file);
  r.read("connect_timeout", cfg.api.connect_timeout);
  r.read("request_timeout", cfg.api.request_timeout);
  r.read("download_timeout", cfg.api.download_timeout);
  r.read("max_requests_per_second", cfg.api.max_requests_per_second);
  r.read("max_connections", cfg.api.max_connections);

  r.enter("queue");
  r.read("max_running", cfg.queue.max_running);
  r.read("poll_interval", cfg.queue.poll_interval);
  r.read("poll_interval_max", cfg.queue.poll_interval_max);
  r.read("job_timeout", cfg.queue.job_timeout);
  r.read("max_attempts", cfg.queue.max_attempts);
  r.read("retry_backoff", cfg.queue.retry_backoff);
  r.read("retry_backoff_max", cfg.queue.retry_backoff_max);
  r.read("scan_interval", cfg.queue.scan_interval);
  r.read("shutdown_grace", cfg.queue.shutdown_grace);
  r.read("spend_limit_cu", cfg.queue.spend_limit_cu);

  r.enter("storage");
  r.read("output_dir", cfg.storage.output_dir);
  r.read_size("min_free_space", cfg.storage.min_free_space);

  r.enter("server");
  r.read("listen", cfg.server.listen);
  r.read("token_file", cfg.server.token_file);
  r.read("read_timeout", cfg.server.read_timeout);
  r.read("idle_timeout", cfg.server.idle_timeout);
  r.read("max_connections", cfg.server.max_connections);

  r.enter("log");
  r.read("level", cfg.log.level);
  r.read("format", cfg.log.format);
}

// ---- Validation ------------------------------------------------------------------------

void check_base_url(const std::string& url, document_reader& r) {
  constexpr std::string_view key = "api.base_url";
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return r.fail(key, "api.base_url " + in_quotes(url) + " is not a URL: " + parsed.error().message());
  const auto scheme = parsed->scheme_id();
  if ((scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) || parsed->encoded_host().empty())
    return r.fail(key, "api.base_url " + in_quotes(url) + " must be an http:// or https:// URL");
  // Requests append a path and ?projectId=; credentials come only from the credential files
  // or the environment, never from the config file.
  if (parsed->has_userinfo() || parsed->has_query() || parsed->has_fragment())
    r.fail(key, "api.base_url " + in_quotes(url) + " must not carry user info, a query or a fragment");
}

bool parse_port(std::string_view text) {
  unsigned port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  return !text.empty() && ec == std::errc{} && end == text.data() + text.size() && port <= 65535;
}

bool is_loopback(const boost::urls::authority_view& authority) {
  switch (authority.host_type()) {
    case boost::urls::host_type::ipv4:
      return authority.host_ipv4_address().is_loopback();
    case boost::urls::host_type::ipv6:
      return authority.host_ipv6_address().is_loopback();
    case boost::urls::host_type::name:
      return boost::urls::grammar::ci_is_equal(authority.host_name(), "localhost");
    default:
      return false;
  }
}

void check_listen(const server_config& server, document_reader& r) {
  if (server.listen.empty()) return;
  constexpr std::string_view key = "server.listen";
  auto authority = boost::urls::parse_authority(server.listen);
  const bool valid = authority && !authority->has_userinfo() && authority->has_port() &&
                     parse_port(authority->port()) && !authority->encoded_host().empty() &&
                     authority->host_type() != boost::urls::host_type::ipvfuture;
  if (!valid)
    return r.fail(key, "server.listen " + in_quotes(server.listen) +
                           " must be host:port (e.g. \"127.0.0.1:8080\" or \"[::1]:8080\"), "
                           "or \"\" to disable the server");
  // The API can enqueue work that costs money: beyond this host it must be authenticated.
  if (!is_loopback(*authority) && server.token_file.empty())
    r.fail({key, "server.token_file"}, "server.listen " + server.listen +
                                           " is not loopback: set server.token_file to a file holding the bearer token "
                                           "clients must send");
}

void validate(const config& cfg, document_reader& r) {
  if (cfg.database.path.empty()) r.fail("database.path", "database.path must not be empty");
  if (cfg.api.model.empty()) r.fail("api.model", "api.model must not be empty");
  check_base_url(cfg.api.base_url, r);

  const std::pair<std::string_view, int> counts[] = {{"api.max_connections", cfg.api.max_connections},
                                                     {"queue.max_running", cfg.queue.max_running},
                                                     {"queue.max_attempts", cfg.queue.max_attempts},
                                                     {"server.max_connections", cfg.server.max_connections}};
  for (const auto& [key, value] : counts)
    if (value < 1) r.fail(key, std::string(key) + " must be at least 1, got " + std::to_string(value));

  // Written as !(x > 0) so that nan is rejected too.
  if (!(cfg.api.max_requests_per_second > 0))
    r.fail("api.max_requests_per_second",
           "api.max_requests_per_second must be greater than 0, got " + number_text(cfg.api.max_requests_per_second));
  if (!(cfg.queue.spend_limit_cu >= 0))
    r.fail("queue.spend_limit_cu",
           "queue.spend_limit_cu must be 0 (no limit) or more, got " + number_text(cfg.queue.spend_limit_cu));

  const std::pair<std::string_view, duration> durations[] = {{"api.connect_timeout", cfg.api.connect_timeout},
                                                             {"api.request_timeout", cfg.api.request_timeout},
                                                             {"api.download_timeout", cfg.api.download_timeout},
                                                             {"queue.poll_interval", cfg.queue.poll_interval},
                                                             {"queue.poll_interval_max", cfg.queue.poll_interval_max},
                                                             {"queue.job_timeout", cfg.queue.job_timeout},
                                                             {"queue.retry_backoff", cfg.queue.retry_backoff},
                                                             {"queue.retry_backoff_max", cfg.queue.retry_backoff_max},
                                                             {"queue.scan_interval", cfg.queue.scan_interval},
                                                             {"queue.shutdown_grace", cfg.queue.shutdown_grace},
                                                             {"server.read_timeout", cfg.server.read_timeout},
                                                             {"server.idle_timeout", cfg.server.idle_timeout}};
  for (const auto& [key, value] : durations)
    if (value <= duration::zero()) r.fail(key, std::string(key) + " must be longer than 0");

  auto check_order = [&r](std::string_view low_key, duration low, std::string_view high_key, duration high) {
    if (low > high)
      r.fail({low_key, high_key}, std::string(low_key) + " (" + format_duration(low) + ") must not be longer than " +
                                      std::string(high_key) + " (" + format_duration(high) + ")");
  };
  check_order("queue.poll_interval", cfg.queue.poll_interval, "queue.poll_interval_max", cfg.queue.poll_interval_max);
  check_order("queue.retry_backoff", cfg.queue.retry_backoff, "queue.retry_backoff_max", cfg.queue.retry_backoff_max);

  check_listen(cfg.server, r);

  if (std::find(log_level_names.begin(), log_level_names.end(), cfg.log.level) == log_level_names.end()) {
    std::string names;
    for (std::string_view name : log_level_names) names += (names.empty() ? "" : ", ") + std::string(name);
    r.fail("log.level", "log.level " + in_quotes(cfg.log.level) + " must be one of " + names);
  }
  if (cfg.log.format != "text" && cfg.log.format != "json")
    r.fail("log.format", "log.format " + in_quotes(cfg.log.format) + " must be \"text\" or \"json\"");
}

// ---- Files -----------------------------------------------------------------------------

struct file_closer {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

struct file_contents {
  std::string text;
  int error = 0;  // errno of the failed open or read; 0 on success
};

// stdio rather than iostreams because the caller needs errno: "not found" and "permission
// denied" call for different messages.
file_contents read_whole_file(const std::string& path) {
  std::unique_ptr<std::FILE, file_closer> file(std::fopen(path.c_str(), "rb"));
  if (!file) return {{}, errno};
  file_contents contents;
  std::array<char, 8192> buffer;
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) contents.text.append(buffer.data(), n);
  if (std::ferror(file.get())) contents.error = errno;
  return contents;
}

}  // namespace

result<duration> parse_duration(std::string_view text) {
  const auto not_a_duration = [text] {
    return error{in_quotes(text) +
                 " is not a duration: write a number and a unit, e.g. \"30s\" or "
                 "\"1h30m\""};
  };
  if (text.empty()) return not_a_duration();
  double total_ms = 0;
  for (std::string_view rest = text; !rest.empty();) {
    const auto number = read_leading_number(rest);
    if (!number) return not_a_duration();
    rest.remove_prefix(number->length);
    const std::string_view unit_name = read_leading_letters(rest);
    if (unit_name.empty()) {
      if (rest.empty()) return error{missing_duration_unit(in_quotes(text), text)};
      return not_a_duration();
    }
    const auto factor = unit_factor(duration_units, unit_name);
    if (!factor) return error{in_quotes(text) + ": unknown unit " + in_quotes(unit_name) + ": use ms, s, m, h or d"};
    rest.remove_prefix(unit_name.size());
    total_ms += number->value * *factor;
  }
  if (total_ms > max_duration_ms) return error{in_quotes(text) + " is too long: the limit is 365d"};
  return duration{std::llround(total_ms)};
}

result<std::uint64_t> parse_size(std::string_view text) {
  const auto number = read_leading_number(text);
  if (!number) return error{in_quotes(text) + " is not a size: write a number and a unit, e.g. \"512MiB\""};
  const std::string_view unit_name = text.substr(number->length);
  double factor = 1;  // a bare number counts bytes
  if (!unit_name.empty()) {
    const auto found = unit_factor(size_units, unit_name);
    if (!found)
      return error{in_quotes(text) + ": unknown unit " + in_quotes(unit_name) +
                   ": use B, KiB, MiB, GiB, TiB, kB, MB, GB or TB"};
    factor = *found;
  }
  const double bytes = std::round(number->value * factor);
  if (bytes >= 0x1p64) return error{in_quotes(text) + " is too large"};
  return static_cast<std::uint64_t>(bytes);
}

result<config> parse_config(std::string_view toml_text, std::string_view source_name) {
  auto document = parse_document(toml_text, source_name);
  if (!document) return error{document.error_message()};
  config cfg;
  document_reader reader(*document, source_name);
  read_sections(reader, cfg);
  reader.report_unknown_keys();
  // Cross-checks on half-read values would only add noise to the real errors.
  if (!reader.failed()) validate(cfg, reader);
  if (reader.failed()) return error{reader.message()};
  return cfg;
}

result<loaded_config> load_config(const std::string& path) {
  const bool is_default = path.empty();
  const std::string file = is_default ? default_config_path : path;
  const file_contents contents = read_whole_file(file);
  if (contents.error == ENOENT) {
    // Every key is optional, so a host without a config file runs on the defaults.
    if (is_default) return loaded_config{config{}, "defaults (no " + file + ")"};
    return error{"config file " + file + " not found"};
  }
  if (contents.error != 0)
    return error{"cannot read config file " + file + ": " + std::generic_category().message(contents.error)};
  auto parsed = parse_config(contents.text, file);
  if (!parsed) return error{parsed.error_message()};
  return loaded_config{std::move(*parsed), file};
}

}  // namespace soundtrackd::config
