// Starting, querying and stopping scenario-emulator from tests.
#include "emulator_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <cctype>
#include <chrono>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace soundtrackd::test {

namespace {

constexpr auto startup_timeout = std::chrono::seconds(10);
constexpr auto stop_timeout = std::chrono::seconds(3);
constexpr std::string_view listening_prefix = "listening on ";

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// Reads the child's first stdout line; what came so far if the child closes stdout (it exited:
// its stderr, shared with the test, says why) or `deadline` passes.
std::string read_first_line(int fd, std::chrono::steady_clock::time_point deadline) {
  std::string line;
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd readable{fd, POLLIN, 0};
    if (poll(&readable, 1, static_cast<int>(left.count())) <= 0) continue;
    std::array<char, 256> buffer;
    auto n = read(fd, buffer.data(), buffer.size());
    if (n <= 0) break;
    line.append(buffer.data(), static_cast<std::size_t>(n));
  }
  return line.substr(0, line.find('\n'));
}

struct piped_child {
  pid_t pid = -1;
  int stdout_fd = -1;
};

// Starts `argv` with its stdout on a pipe to us; stdin and stderr are shared with the test.
piped_child spawn_with_piped_stdout(std::vector<std::string> argv) {
  // Close-on-exec, so the pipe does not leak into other programs the test starts later
  // (dup2 onto the child's stdout clears the flag there).
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  std::vector<char*> args;
  for (auto& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  piped_child child;
  int spawn_error = posix_spawn(&child.pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (spawn_error != 0) {
    close(pipe_fds[0]);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(spawn_error));
  }
  child.stdout_fd = pipe_fds[0];
  return child;
}

}  // namespace

std::string http_reply::header(const std::string& name) const {
  std::istringstream lines(headers);
  auto wanted = lowercase(name) + ':';
  for (std::string line; std::getline(lines, line);) {
    if (lowercase(line.substr(0, wanted.size())) != wanted) continue;
    auto value = line.substr(wanted.size());
    auto first = value.find_first_not_of(" \t");
    auto last = value.find_last_not_of(" \t\r");
    return first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
  }
  return {};
}

emulator_process::emulator_process(emulator_options options) : options_(std::move(options)) {
  std::vector<std::string> argv = {EMULATOR_BIN, "--listen", "127.0.0.1:0"};
  auto add = [&argv](std::initializer_list<std::string> args) { argv.insert(argv.end(), args); };
  add({"--job-duration", options_.job_duration});
  add({"--url-ttl", options_.url_ttl});
  add({"--asset-size", std::to_string(options_.asset_size)});
  add({"--assets-per-job", std::to_string(options_.assets_per_job)});
  add({"--key", options_.api_key, "--secret", options_.api_secret});
  if (options_.tls) {
    if (options_.ca_file.empty()) throw std::invalid_argument("emulator_options: tls needs ca_file for curl");
    add({"--tls-cert", options_.cert_file.string(), "--tls-key", options_.key_file.string()});
  }
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());

  auto child = spawn_with_piped_stdout(std::move(argv));
  pid_ = child.pid;
  auto line = read_first_line(child.stdout_fd, std::chrono::steady_clock::now() + startup_timeout);
  close(child.stdout_fd);
  if (!line.starts_with(listening_prefix)) {
    stop();
    throw std::runtime_error("scenario-emulator did not report its address within 10 s (first line: '" + line + "')");
  }
  origin_ = line.substr(listening_prefix.size());
  port_ = static_cast<unsigned short>(std::stoi(origin_.substr(origin_.rfind(':') + 1)));
}

emulator_process::~emulator_process() { stop(); }

void emulator_process::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + stop_timeout;
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

http_reply emulator_process::get(const std::string& url, credentials auth,
                                 const std::vector<std::string>& extra_curl_args) const {
  return curl("GET", url, {}, auth, extra_curl_args);
}

http_reply emulator_process::post(const std::string& url, const std::string& json_body, credentials auth) const {
  return curl("POST", url, json_body, auth, {});
}

http_reply emulator_process::curl(const std::string& method, const std::string& url, const std::string& body,
                                  credentials auth, const std::vector<std::string>& extra_curl_args) const {
  std::vector<std::string> args;
  if (options_.tls) args.insert(args.end(), {"--cacert", options_.ca_file.string()});
  if (auth == credentials::api_key) args.insert(args.end(), {"-u", options_.api_key + ':' + options_.api_secret});
  args.insert(args.end(), extra_curl_args.begin(), extra_curl_args.end());
  return curl_request(scratch_.path(), method, url, body, args);
}

http_reply curl_request(const std::filesystem::path& scratch, const std::string& method, const std::string& url,
                        const std::string& body, const std::vector<std::string>& extra_curl_args) {
  auto body_file = scratch / "response.body";
  auto headers_file = scratch / "response.headers";
  auto error_file = scratch / "curl.err";
  std::filesystem::remove(body_file);
  std::filesystem::remove(headers_file);
  std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "-X", method, "--max-time", "10"};
  auto add = [&argv](std::initializer_list<std::string> args) { argv.insert(argv.end(), args); };
  // A proxy from the environment must not sit between a test and its loopback emulator.
  add({"--noproxy", "*"});
  add({"-o", body_file.string(), "-D", headers_file.string(), "--stderr", error_file.string()});
  add({"-w", "%{http_code}"});  // the only thing curl prints to stdout
  if (!body.empty()) {
    auto request_file = scratch / "request.body";
    write_file(request_file, body);
    bool typed = false;
    for (const auto& arg : extra_curl_args) typed = typed || lowercase(arg).starts_with("content-type:");
    if (!typed) add({"-H", "Content-Type: application/json"});
    add({"--data-binary", "@" + request_file.string()});
  }
  argv.insert(argv.end(), extra_curl_args.begin(), extra_curl_args.end());
  argv.push_back(url);

  auto result = run(argv);
  http_reply reply;
  reply.curl_exit_code = result.exit_code;
  reply.status = std::atoi(result.output.c_str());  // "000" when no answer came
  if (std::filesystem::exists(headers_file)) reply.headers = read_file(headers_file);
  if (std::filesystem::exists(body_file)) reply.body = read_file(body_file);
  if (result.exit_code != 0) reply.curl_error = read_file(error_file);
  return reply;
}

boost::json::value emulator_process::stats() const {
  auto reply = get(origin_ + "/_emulator/stats");
  if (reply.status != 200)
    throw std::runtime_error("GET /_emulator/stats failed: " + std::to_string(reply.status) + ' ' + reply.body +
                             reply.curl_error);
  return boost::json::parse(reply.body);
}

void emulator_process::post_control(const std::string& action, const std::string& body) const {
  auto reply = post(origin_ + "/_emulator/" + action, body);
  if (reply.status != 200)
    throw std::runtime_error("POST /_emulator/" + action + " failed: " + std::to_string(reply.status) + ' ' +
                             reply.body + reply.curl_error);
}

void emulator_process::set_faults(const std::string& json_array) const { post_control("faults", json_array); }
void emulator_process::configure(const std::string& json_object) const { post_control("config", json_object); }
void emulator_process::reset() const { post_control("reset", "{}"); }

}  // namespace soundtrackd::test
