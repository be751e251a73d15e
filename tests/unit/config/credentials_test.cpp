// Tests for find_credentials and missing_credentials_message: order, partial setups, secrecy.
#include "soundtrackd/config/credentials.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace soundtrackd::config {
namespace {

constexpr const char* secret_value = "s3cr3t-VALUE-never-shown";

// Gives each test a clean credential environment and puts the runner's back afterwards.
class Credentials : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : variables_) {
      const char* value = std::getenv(name);
      saved_.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
      unsetenv(name);
    }
  }

  void TearDown() override {
    for (const auto& [name, value] : saved_) {
      if (value)
        setenv(name, value->c_str(), 1);
      else
        unsetenv(name);
    }
  }

  // Points $CREDENTIALS_DIRECTORY at dir_ and writes the given files into it.
  void use_credential_files(std::optional<std::string> key, std::optional<std::string> secret) {
    setenv("CREDENTIALS_DIRECTORY", dir_.path().c_str(), 1);
    if (key) test::write_file(dir_ / "scenario_api_key", *key);
    if (secret) test::write_file(dir_ / "scenario_api_secret", *secret);
  }

  void use_environment(const char* key, const char* secret) {
    if (key) setenv("SCENARIO_API_KEY", key, 1);
    if (secret) setenv("SCENARIO_API_SECRET", secret, 1);
  }

  test::temp_dir dir_;

 private:
  static constexpr const char* variables_[] = {"CREDENTIALS_DIRECTORY", "SCENARIO_API_KEY", "SCENARIO_API_SECRET"};
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

TEST_F(Credentials, NoneFound) {
  EXPECT_FALSE(find_credentials());
  EXPECT_EQ(missing_credentials_message(),
            "no Scenario API credentials: put them in files scenario_api_key and "
            "scenario_api_secret in $CREDENTIALS_DIRECTORY (systemd LoadCredential=), or set "
            "SCENARIO_API_KEY and SCENARIO_API_SECRET");
}

TEST_F(Credentials, FilesWithTrailingNewlinesStripped) {
  use_credential_files("key-1\n", std::string(secret_value) + " \r\n");
  auto found = find_credentials();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->api_key, "key-1");
  EXPECT_EQ(found->api_secret, secret_value);
  EXPECT_EQ(found->source, "credential files in $CREDENTIALS_DIRECTORY (" + dir_.path().string() + ")");
}

TEST_F(Credentials, FilesOthersCanReadGiveAWarningWithoutTheValue) {
  use_credential_files("key-1", secret_value);
  ASSERT_EQ(chmod((dir_ / "scenario_api_key").c_str(), 0600), 0);
  ASSERT_EQ(chmod((dir_ / "scenario_api_secret").c_str(), 0600), 0);
  auto found = find_credentials();
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->warnings.empty());

  ASSERT_EQ(chmod((dir_ / "scenario_api_secret").c_str(), 0644), 0);
  found = find_credentials();
  ASSERT_TRUE(found);
  ASSERT_EQ(found->warnings.size(), 1u);
  EXPECT_EQ(found->warnings[0], "credential file " + (dir_ / "scenario_api_secret").string() +
                                    " is readable or writable by other users (mode 0644): chmod 600 it");
  EXPECT_EQ(found->api_secret, secret_value);  // still used: a warning, not an error

  ASSERT_EQ(chmod((dir_ / "scenario_api_key").c_str(), 0602), 0);  // writable by others
  found = find_credentials();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->warnings.size(), 2u);
  for (const auto& warning : found->warnings) EXPECT_EQ(warning.find(secret_value), std::string::npos);
}

TEST_F(Credentials, FilesBeatEnvironment) {
  use_credential_files("file-key", "file-secret");
  use_environment("env-key", "env-secret");
  auto found = find_credentials();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->api_key, "file-key");
  EXPECT_EQ(found->api_secret, "file-secret");
}

TEST_F(Credentials, EnvironmentFallback) {
  use_environment("env-key", secret_value);
  auto found = find_credentials();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->api_key, "env-key");
  EXPECT_EQ(found->api_secret, secret_value);
  EXPECT_EQ(found->source, "environment (SCENARIO_API_KEY, SCENARIO_API_SECRET)");
}

TEST_F(Credentials, IncompleteFilesFallBackToEnvironment) {
  use_credential_files("file-key", std::nullopt);
  use_environment("env-key", "env-secret");
  auto found = find_credentials();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->api_key, "env-key");
  EXPECT_EQ(found->source, "environment (SCENARIO_API_KEY, SCENARIO_API_SECRET)");
}

TEST_F(Credentials, MessageNamesTheMissingFile) {
  use_credential_files(secret_value, std::nullopt);
  EXPECT_FALSE(find_credentials());
  const std::string message = missing_credentials_message();
  EXPECT_TRUE(
      message.ends_with("; in $CREDENTIALS_DIRECTORY (" + dir_.path().string() + ") scenario_api_secret is missing"))
      << message;
}

TEST_F(Credentials, MessageNamesEmptyAndMissingFiles) {
  use_credential_files("\n", std::nullopt);
  EXPECT_FALSE(find_credentials());
  const std::string message = missing_credentials_message();
  EXPECT_TRUE(message.ends_with("scenario_api_key is empty and scenario_api_secret is missing")) << message;
}

TEST_F(Credentials, MessageNamesAnUnreadableFile) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  use_credential_files("key", "secret");
  chmod((dir_ / "scenario_api_key").c_str(), 0);
  EXPECT_FALSE(find_credentials());
  const std::string message = missing_credentials_message();
  EXPECT_TRUE(message.ends_with(") scenario_api_key cannot be read")) << message;
}

TEST_F(Credentials, MessageNamesTheMissingVariable) {
  use_environment(nullptr, secret_value);
  EXPECT_FALSE(find_credentials());
  const std::string message = missing_credentials_message();
  EXPECT_TRUE(message.ends_with("; SCENARIO_API_SECRET is set but SCENARIO_API_KEY is not")) << message;
}

TEST_F(Credentials, SecretNeverInMessages) {
  use_credential_files(std::nullopt, secret_value);
  use_environment(secret_value, nullptr);
  EXPECT_FALSE(find_credentials());
  EXPECT_EQ(missing_credentials_message().find(secret_value), std::string::npos);

  use_environment(nullptr, secret_value);
  auto found = find_credentials();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->source.find(secret_value), std::string::npos);
}

}  // namespace
}  // namespace soundtrackd::config
