// Helpers shared by the tests: a temporary directory, running a program, a throw-away CA.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace soundtrackd::test {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct command_result {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `argv` (no shell), with `env` entries ("NAME=value") added to the environment,
// and waits for it. Output is captured.
command_result run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

// A program running in the background (its output goes to a file); killed on destruction.
class background_process {
 public:
  background_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     const std::filesystem::path& output_file);
  ~background_process();
  background_process(const background_process&) = delete;
  background_process& operator=(const background_process&) = delete;

  int pid() const { return pid_; }
  void signal(int sig) const;
  // Waits up to `timeout_seconds`; the exit code (128 + signal when killed), or -1 on timeout.
  int wait(double timeout_seconds);

 private:
  int pid_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
};

// Polls `condition` every 20 ms for up to `timeout_seconds`.
bool wait_until(const std::function<bool()>& condition, double timeout_seconds);

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& content);
std::string sha256_hex(const std::string& bytes);

// A CA and a server certificate for 127.0.0.1 and localhost, made with the openssl CLI.
struct test_ca {
  std::filesystem::path ca_file;      // PEM: trust this
  std::filesystem::path cert_file;    // PEM: the server's certificate chain
  std::filesystem::path key_file;     // PEM: the server's key
  std::filesystem::path ca_key_file;  // PEM: the CA's key, to issue more certificates
};
test_ca make_test_ca(const std::filesystem::path& dir);

// Server certificates a TLS client must refuse: self-signed (for 127.0.0.1), issued by `ca`
// for another host name (api.example.com), or issued by `ca` for 127.0.0.1 but expired.
enum class bad_certificate { self_signed, wrong_host, expired };
struct server_certificate {
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
};
server_certificate make_bad_server_certificate(const test_ca& ca, const std::filesystem::path& dir,
                                               bad_certificate kind);

}  // namespace soundtrackd::test
