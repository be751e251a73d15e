// The emulator's command line: what it listens on and how the emulated API behaves.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace soundtrackd::emulator {

// How emulated jobs and assets behave; also changeable at run time (POST /_emulator/config).
struct api_settings {
  std::string api_key = "test-key";
  std::string api_secret = "test-secret";
  std::chrono::milliseconds job_duration{2000};
  std::chrono::milliseconds url_ttl{60000};
  std::uint64_t asset_size = 20000;
  int assets_per_job = 1;
  std::int64_t cost = 5;  // creative units per generation
};

struct tls_files {
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
};

struct emulator_options {
  boost::asio::ip::address listen_address = boost::asio::ip::address_v4::loopback();  // always loopback
  unsigned short listen_port = 0;                                                     // 0: any free port
  std::optional<std::filesystem::path> port_file;
  std::optional<tls_files> tls;
  bool quiet = false;
  api_settings api;
};

// Parses argv; throws std::invalid_argument with a message naming the bad option.
emulator_options parse_command_line(int argc, char** argv);

// "250ms", "2s", "1m". Throws std::invalid_argument.
std::chrono::milliseconds parse_duration(const std::string& text);

extern const char* const usage_text;

}  // namespace soundtrackd::emulator
