// dashboard_stage: runs the real soundtrackd (status server on a free port, with a token) and the
// emulator over HTTPS on a migrated queue database, for the browser test to drive. Prints one
// JSON line saying where everything is, then obeys stdin: "configure <json>" and "faults <json>"
// reconfigure the emulator (answers "ok" or "error: ..."); EOF or "quit" stops everything and
// removes the files.
#include <csignal>
#include <iostream>
#include <string>

#include "daemon_setup.hpp"

int main(int argc, char** argv) {
  using namespace soundtrackd::test;
  if (argc != 3) {
    std::cerr << "usage: dashboard_stage JOB_DURATION TOKEN   (e.g. 1s secret)\n";
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  try {
    emulator_options emulator;
    emulator.job_duration = argv[1];
    daemon_setup stage(emulator);
    stage.listen_on_any_port();
    auto token_file = stage.dir() / "token";
    write_file(token_file, std::string(argv[2]) + "\n");
    auto config = read_file(stage.config_path());
    config.replace(config.find("[server]\n"), 9, "[server]\ntoken_file = \"" + token_file.string() + "\"\n");
    write_file(stage.config_path(), config);

    auto daemon = stage.start();
    auto url = stage.status_url(30);
    std::cout << R"({"url":")" << url << R"(","db":")" << stage.db_path() << R"(","dir":")"
              << stage.dir().path().string() << R"(","daemon_pid":)" << daemon->pid() << "}" << std::endl;

    std::string line;
    while (std::getline(std::cin, line) && line != "quit") {
      if (line.empty()) continue;
      // "configure <json>": POST /_emulator/config; "faults <json array>": POST /_emulator/faults.
      auto space = line.find(' ');
      auto command = line.substr(0, space);
      auto argument = space == std::string::npos ? std::string() : line.substr(space + 1);
      try {
        if (command == "configure")
          stage.emulator().configure(argument);
        else if (command == "faults")
          stage.emulator().set_faults(argument);
        else
          throw std::runtime_error("unknown command '" + command + "' (configure, faults, quit)");
        std::cout << "ok" << std::endl;
      } catch (const std::exception& e) {
        std::cout << "error: " << e.what() << std::endl;
      }
    }
    daemon->signal(SIGTERM);
    daemon->wait(10);
  } catch (const std::exception& e) {
    std::cerr << "dashboard_stage: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
