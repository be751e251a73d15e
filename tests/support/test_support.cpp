// Implementation of the shared test helpers.
#include "test_support.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace soundtrackd::test {

temp_dir::temp_dir() {
  auto base = std::filesystem::temp_directory_path();
  std::random_device rd;
  for (int i = 0; i < 100; ++i) {
    auto candidate = base / ("soundtrackd-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory under " + base.string());
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// This process's environment with `overrides` ("NAME=value") replacing same-named entries:
// a child sees the test's value even when the test runner's environment has one too.
std::vector<std::string> environment_with(const std::vector<std::string>& overrides) {
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  std::vector<std::string> result;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    bool overridden = std::any_of(overrides.begin(), overrides.end(),
                                  [&](const std::string& o) { return name_of(o) == name_of(entry); });
    if (!overridden) result.push_back(std::move(entry));
  }
  result.insert(result.end(), overrides.begin(), overrides.end());
  return result;
}

}  // namespace

command_result run(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  int pipefd[2];
  if (pipe(pipefd) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);
  posix_spawn_file_actions_addclose(&actions, pipefd[0]);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  auto env_strings = environment_with(env);
  auto envp = c_strings(env_strings);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(pipefd[1]);
  if (rc != 0) {
    close(pipefd[0]);
    throw std::runtime_error("cannot start " + argv[0]);
  }
  command_result result;
  std::array<char, 4096> buf;
  ssize_t n;
  while ((n = read(pipefd[0], buf.data(), buf.size())) > 0) result.output.append(buf.data(), n);
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

background_process::background_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                       const std::filesystem::path& output_file) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<std::string> args = argv;
  auto env_strings = environment_with(env);
  auto argv_c = c_strings(args);
  auto envp = c_strings(env_strings);
  int rc = posix_spawn(&pid_, argv_c[0], &actions, nullptr, argv_c.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv.at(0));
}

background_process::~background_process() {
  if (reaped_) return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

void background_process::signal(int sig) const { ::kill(pid_, sig); }

int background_process::wait(double timeout_seconds) {
  if (reaped_) return exit_code_;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

bool wait_until(const std::function<bool()>& condition, double timeout_seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << content;
}

std::string sha256_hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

namespace {

void check_openssl(const command_result& r, const std::string& what) {
  if (r.exit_code != 0) throw std::runtime_error("openssl " + what + ": " + r.output);
}

// A new EC key `<stem>.key` and its certificate `<stem>.pem` with `extensions`, valid for
// `days` (negative: it expired that many days ago), signed by `ca` or, without one, by itself.
server_certificate issue(const test_ca* ca, const std::filesystem::path& dir, const std::string& stem,
                         const std::string& extensions, int days) {
  server_certificate out{dir / (stem + ".pem"), dir / (stem + ".key")};
  const auto csr = (dir / (stem + ".csr")).string();
  const auto ext = dir / (stem + ".ext");
  write_file(ext, extensions);
  check_openssl(run({"/usr/bin/openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", out.key_file.string(), "-out", csr, "-subj", "/CN=" + stem}),
                stem + " key");
  std::vector<std::string> sign{
      "/usr/bin/openssl",   "x509",     "-req",      "-in", csr, "-out", out.cert_file.string(), "-days",
      std::to_string(days), "-extfile", ext.string()};
  if (ca) {
    for (const auto& arg : {"-CA", ca->ca_file.c_str(), "-CAkey", ca->ca_key_file.c_str(), "-CAcreateserial"})
      sign.emplace_back(arg);
  } else {
    sign.insert(sign.end(), {"-signkey", out.key_file.string()});
  }
  check_openssl(run(sign), stem + " certificate");
  return out;
}

const std::string server_extensions =
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n";

}  // namespace

test_ca make_test_ca(const std::filesystem::path& dir) {
  test_ca ca{dir / "ca.pem", dir / "server.pem", dir / "server.key", dir / "ca.key"};
  check_openssl(run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                     "-nodes", "-keyout", ca.ca_key_file.string(), "-out", ca.ca_file.string(), "-days", "2", "-subj",
                     "/CN=soundtrackd test CA"}),
                "CA");
  issue(&ca, dir, "server", "subjectAltName=IP:127.0.0.1,DNS:localhost\n" + server_extensions, 2);
  return ca;
}

server_certificate make_bad_server_certificate(const test_ca& ca, const std::filesystem::path& dir,
                                               bad_certificate kind) {
  switch (kind) {
    case bad_certificate::self_signed:
      return issue(nullptr, dir, "self-signed", "subjectAltName=IP:127.0.0.1\n" + server_extensions, 2);
    case bad_certificate::wrong_host:
      return issue(&ca, dir, "wrong-host", "subjectAltName=DNS:api.example.com\n" + server_extensions, 2);
    case bad_certificate::expired:
      return issue(&ca, dir, "expired", "subjectAltName=IP:127.0.0.1\n" + server_extensions, -1);
  }
  throw std::logic_error("unknown bad_certificate");
}

}  // namespace soundtrackd::test
