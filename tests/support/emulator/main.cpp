// scenario-emulator: a loopback stand-in for Scenario's API and CDN, for tests, demos and benchmarks.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string_view>

#include "api.hpp"
#include "options.hpp"
#include "server.hpp"

namespace {

// Written under a temporary name then renamed, so a script polling for the file never reads it half-written.
void write_port_file(const std::filesystem::path& path, unsigned short port) {
  auto temporary = path;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << port << '\n';
    if (!out.flush()) throw std::runtime_error("cannot write port file " + temporary.string());
  }
  std::filesystem::rename(temporary, path);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace soundtrackd::emulator;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::fputs(usage_text, stdout);
      return 0;
    }
  }
  emulator_options options;
  try {
    options = parse_command_line(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "scenario-emulator: %s\n%s", e.what(), usage_text);
    return 2;
  }

  // A test harness may close its end of our stdout after reading the "listening on" line;
  // a later write must then fail quietly rather than kill the emulator.
  std::signal(SIGPIPE, SIG_IGN);

  try {
    boost::asio::io_context io(1);  // one thread: the API state needs no locks
    emulated_api api(options.api);
    server http_server(io, api, options);
    // In production the CDN is another host than the API; here it is another port, so it is
    // another origin and a client that sends its credentials there is caught
    // (cdn_requests_with_credentials).
    auto cdn_options = options;
    cdn_options.listen_port = 0;
    server cdn_server(io, api, cdn_options);
    api.set_cdn_origin(cdn_server.origin());
    if (options.port_file) write_port_file(*options.port_file, http_server.port());

    // The emulator holds nothing worth flushing, so a signal ends it at once.
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      http_server.stop();
      cdn_server.stop();
      io.stop();
    });

    http_server.start();
    cdn_server.start();
    std::printf("listening on %s\n", http_server.origin().c_str());
    std::fflush(stdout);
    io.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scenario-emulator: %s\n", e.what());
    return 1;
  }
  return 0;
}
