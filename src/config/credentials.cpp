// Finds the Scenario API key and secret: systemd credential files first, then the environment.
// No message built here ever contains a credential value.
#include "soundtrackd/config/credentials.hpp"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace soundtrackd::config {
namespace {

constexpr const char* key_file_name = "scenario_api_key";
constexpr const char* secret_file_name = "scenario_api_secret";
constexpr const char* key_variable = "SCENARIO_API_KEY";
constexpr const char* secret_variable = "SCENARIO_API_SECRET";

// `echo key > file` and editors leave a trailing newline; a credential never ends in
// whitespace, and one left in would corrupt the Authorization header.
std::string without_trailing_whitespace(std::string text) {
  const auto end = text.find_last_not_of(" \t\r\n");
  text.erase(end == std::string::npos ? 0 : end + 1);
  return text;
}

// A credential file's value, or what is wrong with it.
struct credential_file {
  std::string value;
  std::string problem;  // "" when the value is usable, else e.g. "is missing"
  std::string warning;  // "" unless other users may read or change the file
};

// A secret that every local user can read is as good as leaked; the daemon still works, so this
// is a warning, not an error (LoadCredential= copies the files with mode 0400 anyway).
std::string permission_warning(const std::filesystem::path& path) {
  std::error_code ec;
  const auto permissions = std::filesystem::status(path, ec).permissions();
  if (ec) return {};
  using std::filesystem::perms;
  if ((permissions & (perms::others_read | perms::others_write)) == perms::none) return {};
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(permissions & perms::mask));
  return "credential file " + path.string() + " is readable or writable by other users (mode " + mode +
         "): chmod 600 it";
}

credential_file read_credential_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    return {{}, std::filesystem::exists(path, ec) ? "cannot be read" : "is missing", {}};
  }
  std::string value =
      without_trailing_whitespace({std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()});
  if (value.empty()) return {{}, "is empty", {}};
  return {std::move(value), {}, permission_warning(path)};
}

std::string environment_value(const char* name) {
  const char* value = std::getenv(name);
  return value ? without_trailing_whitespace(value) : std::string();
}

// $CREDENTIALS_DIRECTORY, or "" when the service has no credentials configured.
std::string credentials_directory() {
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  return dir ? dir : "";
}

}  // namespace

std::optional<credentials> find_credentials() {
  if (const std::string dir = credentials_directory(); !dir.empty()) {
    credential_file key = read_credential_file(std::filesystem::path(dir) / key_file_name);
    credential_file secret = read_credential_file(std::filesystem::path(dir) / secret_file_name);
    if (key.problem.empty() && secret.problem.empty()) {
      credentials found{std::move(key.value),
                        std::move(secret.value),
                        "credential files in $CREDENTIALS_DIRECTORY (" + dir + ")",
                        {}};
      for (auto* warning : {&key.warning, &secret.warning})
        if (!warning->empty()) found.warnings.push_back(std::move(*warning));
      return found;
    }
  }
  std::string key = environment_value(key_variable);
  std::string secret = environment_value(secret_variable);
  if (!key.empty() && !secret.empty())
    return credentials{std::move(key), std::move(secret), "environment (SCENARIO_API_KEY, SCENARIO_API_SECRET)", {}};
  return std::nullopt;
}

std::string missing_credentials_message() {
  std::string message =
      "no Scenario API credentials: put them in files scenario_api_key and scenario_api_secret "
      "in $CREDENTIALS_DIRECTORY (systemd LoadCredential=), or set SCENARIO_API_KEY and "
      "SCENARIO_API_SECRET";

  // A half-done setup is the usual cause: say which half is missing.
  if (const std::string dir = credentials_directory(); !dir.empty()) {
    std::vector<std::string> problems;
    for (const char* name : {key_file_name, secret_file_name}) {
      const credential_file file = read_credential_file(std::filesystem::path(dir) / name);
      if (!file.problem.empty()) problems.push_back(std::string(name) + " " + file.problem);
    }
    for (std::size_t i = 0; i < problems.size(); ++i)
      message += (i == 0 ? "; in $CREDENTIALS_DIRECTORY (" + dir + ") " : " and ") + problems[i];
  }
  const bool has_key = !environment_value(key_variable).empty();
  const bool has_secret = !environment_value(secret_variable).empty();
  if (has_key != has_secret)
    message += std::string("; ") + (has_key ? key_variable : secret_variable) + " is set but " +
               (has_key ? secret_variable : key_variable) + " is not";
  return message;
}

std::string basic_authorization(const credentials& c) {
  const std::string plain = c.api_key + ":" + c.api_secret;
  std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                          reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  encoded.resize(static_cast<std::size_t>(n));
  return "Basic " + encoded;
}

}  // namespace soundtrackd::config
