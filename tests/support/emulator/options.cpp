// Hand-parsed command line of scenario-emulator (it needs no more than a dozen flags).
#include "options.hpp"

#include <charconv>
#include <stdexcept>
#include <string_view>

namespace soundtrackd::emulator {

const char* const usage_text =
    "usage: scenario-emulator [options]\n"
    "  --listen HOST:PORT      loopback address to listen on (default 127.0.0.1:0, port 0 = any)\n"
    "  --port-file FILE        also write the chosen port to FILE\n"
    "  --tls-cert FILE         serve HTTPS with this certificate chain (PEM)...\n"
    "  --tls-key FILE          ...and this private key (PEM)\n"
    "  --key K --secret S      expected Basic credentials (default test-key / test-secret)\n"
    "  --job-duration D        submit-to-success time of a job (default 2s; units ms, s, m)\n"
    "  --url-ttl D             lifetime of signed CDN URLs (default 60s)\n"
    "  --asset-size BYTES      size of each generated asset (default 20000)\n"
    "  --assets-per-job N      assets per successful job (default 1)\n"
    "  --cost N                creative units per generation (default 5)\n"
    "  --quiet                 no per-request log lines on stderr\n";

namespace {

template <class Int>
Int parse_integer(std::string_view text, std::string_view option) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    throw std::invalid_argument(std::string(option) + ": '" + std::string(text) + "' is not a valid number");
  return value;
}

// "127.0.0.1:8080" or "[::1]:8080". Only loopback: the emulator speaks with test credentials and
// must never be reachable from another machine.
void parse_listen(std::string_view text, emulator_options& options) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    throw std::invalid_argument("--listen: expected HOST:PORT, got '" + std::string(text) + "'");
  auto host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) throw std::invalid_argument("--listen: '" + std::string(host) + "' is not an IP address");
  if (!address.is_loopback())
    throw std::invalid_argument("--listen: " + address.to_string() + " is not a loopback address (127.0.0.0/8 or ::1)");
  options.listen_address = address;
  options.listen_port = parse_integer<unsigned short>(text.substr(colon + 1), "--listen port");
}

}  // namespace

std::chrono::milliseconds parse_duration(const std::string& text) {
  std::string_view view = text;
  auto unit_start = view.find_first_not_of("0123456789");
  if (unit_start == 0 || unit_start == std::string_view::npos)
    throw std::invalid_argument("duration '" + text + "' needs a number and a unit (ms, s or m)");
  auto amount = parse_integer<std::int64_t>(view.substr(0, unit_start), "duration");
  auto unit = view.substr(unit_start);
  if (unit == "ms") return std::chrono::milliseconds(amount);
  if (unit == "s") return std::chrono::seconds(amount);
  if (unit == "m") return std::chrono::minutes(amount);
  throw std::invalid_argument("duration '" + text + "': unknown unit '" + std::string(unit) + "' (use ms, s or m)");
}

emulator_options parse_command_line(int argc, char** argv) {
  emulator_options options;
  std::optional<std::filesystem::path> cert_file, key_file;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (flag == "--listen")
      parse_listen(value(), options);
    else if (flag == "--port-file")
      options.port_file = value();
    else if (flag == "--tls-cert")
      cert_file = value();
    else if (flag == "--tls-key")
      key_file = value();
    else if (flag == "--key")
      options.api.api_key = value();
    else if (flag == "--secret")
      options.api.api_secret = value();
    else if (flag == "--job-duration")
      options.api.job_duration = parse_duration(value());
    else if (flag == "--url-ttl")
      options.api.url_ttl = parse_duration(value());
    else if (flag == "--asset-size")
      options.api.asset_size = parse_integer<std::uint64_t>(value(), flag);
    else if (flag == "--assets-per-job")
      options.api.assets_per_job = parse_integer<int>(value(), flag);
    else if (flag == "--cost")
      options.api.cost = parse_integer<std::int64_t>(value(), flag);
    else if (flag == "--quiet")
      options.quiet = true;
    else
      throw std::invalid_argument("unknown option '" + std::string(flag) + "'");
  }
  if (cert_file.has_value() != key_file.has_value())
    throw std::invalid_argument("--tls-cert and --tls-key go together");
  if (cert_file) options.tls = tls_files{*cert_file, *key_file};
  if (options.api.assets_per_job < 1) throw std::invalid_argument("--assets-per-job must be at least 1");
  return options;
}

}  // namespace soundtrackd::emulator
