// Checks scenario-emulator over HTTPS the way the daemon meets it: auth, validation, the job
// lifecycle, signed CDN URLs, duplicate detection and injected faults.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "emulator_process.hpp"
#include "test_support.hpp"

namespace soundtrackd::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class EmulatorTest : public ::testing::Test {
 protected:
  // One CA for the suite: making it runs openssl three times.
  static void SetUpTestSuite() {
    ca_dir_ = std::make_unique<temp_dir>();
    ca_ = make_test_ca(ca_dir_->path());
  }
  static void TearDownTestSuite() { ca_dir_.reset(); }

  static emulator_options https_options() {
    emulator_options options;
    options.tls = true;
    options.cert_file = ca_.cert_file;
    options.key_file = ca_.key_file;
    options.ca_file = ca_.ca_file;
    options.extra_args = {"--quiet"};
    return options;
  }

  static http_reply submit(const emulator_process& emulator, const std::string& body) {
    return emulator.post(emulator.base_url() + "/generate/custom/model_minimax-music-2-6", body, credentials::api_key);
  }

  static http_reply api_get(const emulator_process& emulator, const std::string& path) {
    return emulator.get(emulator.base_url() + path, credentials::api_key);
  }

  static json::value parse(const http_reply& reply) { return json::parse(reply.body); }
  static std::string text(const json::value& value) { return json::value_to<std::string>(value); }
  static std::int64_t number(const json::value& value) { return value.to_number<std::int64_t>(); }

  // Submits `prompt` and returns the job id.
  static std::string submit_job(const emulator_process& emulator, const std::string& prompt) {
    auto reply = submit(emulator, json::serialize(json::object{{"prompt", prompt}}));
    EXPECT_EQ(reply.status, 200) << reply.body;
    return text(parse(reply).at("job").at("jobId"));
  }

  // Polls the job until it succeeds and returns its first asset id.
  static std::string wait_for_asset(const emulator_process& emulator, const std::string& job_id) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto job = parse(api_get(emulator, "/jobs/" + job_id)).at("job");
      if (text(job.at("status")) == "success") return text(job.at("metadata").at("assetIds").at(0));
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "job " << job_id << " did not succeed within 5 s";
    return {};
  }

  static std::string asset_url(const emulator_process& emulator, const std::string& asset_id) {
    auto reply = api_get(emulator, "/assets/" + asset_id);
    EXPECT_EQ(reply.status, 200) << reply.body;
    return text(parse(reply).at("asset").at("url"));
  }

  static inline std::unique_ptr<temp_dir> ca_dir_;
  static inline test_ca ca_;
};

TEST_F(EmulatorTest, RefusesMissingOrWrongCredentials) {
  emulator_process emulator(https_options());
  auto anonymous = emulator.get(emulator.base_url() + "/jobs/job_x");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(text(parse(anonymous).at("reason")), "Unauthorized: invalid API key or secret");

  auto wrong = emulator.get(emulator.base_url() + "/jobs/job_x", credentials::none, {"-u", "test-key:nope"});
  EXPECT_EQ(wrong.status, 401);

  EXPECT_EQ(api_get(emulator, "/jobs/job_x").status, 404);  // right credentials, unknown job
}

TEST_F(EmulatorTest, ValidatesGenerateRequestsLikeTheApi) {
  emulator_process emulator(https_options());
  struct invalid_case {
    std::string body;
    std::string reason;
  };
  const invalid_case cases[] = {
      {"not json", "body must be a JSON object"},
      {R"({"lyrics": "la"})", "prompt is required"},
      {R"({"prompt": ""})", "prompt is required"},
      {json::serialize(json::object{{"prompt", std::string(2001, 'a')}}), "prompt must be at most 2000 characters"},
      {R"({"prompt": "x", "sampleRate": 22050})", "sampleRate must be one of 16000, 24000, 32000, 44100"},
      {R"({"prompt": "x", "bitrate": 100})", "bitrate must be one of 32000, 64000, 128000, 256000"},
      {R"({"prompt": "x", "isInstrumental": "yes"})", "isInstrumental must be a boolean"},
      {R"({"prompt": "REJECT_ME"})", "prompt rejected by content policy"},
  };
  for (const auto& c : cases) {
    auto reply = submit(emulator, c.body);
    EXPECT_EQ(reply.status, 400) << c.body;
    EXPECT_EQ(text(parse(reply).at("reason")), c.reason) << c.body;
  }

  // 2000 code points is the limit, not 2000 bytes: "é" is two bytes in UTF-8.
  std::string long_prompt;
  for (int i = 0; i < 2000; ++i) long_prompt += "\xC3\xA9";
  EXPECT_EQ(submit(emulator, json::serialize(json::object{{"prompt", long_prompt}})).status, 200);

  auto dry_run = emulator.post(emulator.base_url() + "/generate/custom/model_minimax-music-2-6?dryRun=true",
                               R"({"prompt": "x"})", credentials::api_key);
  EXPECT_EQ(dry_run.status, 200);
  EXPECT_EQ(number(parse(dry_run).at("creativeUnitsCost")), 5);
  EXPECT_FALSE(parse(dry_run).as_object().contains("job"));

  auto stats = emulator.stats();
  EXPECT_EQ(number(stats.at("submits")), 1);  // only the valid long prompt
  EXPECT_EQ(number(stats.at("requests").at("dry_run")), 1);
}

TEST_F(EmulatorTest, JobSucceedsAfterItsDurationAndDownloadMatchesReportedDigest) {
  auto options = https_options();
  options.job_duration = "1s";
  emulator_process emulator(options);

  auto started = std::chrono::steady_clock::now();
  auto submitted = submit(emulator, R"({"prompt": "calm piano", "lyrics": "[Verse]\nla la"})");
  ASSERT_EQ(submitted.status, 200) << submitted.body;
  auto job = parse(submitted).at("job");
  EXPECT_EQ(text(job.at("status")), "pending");
  EXPECT_EQ(number(job.at("billing").at("cuCost")), 5);
  auto job_id = text(job.at("jobId"));

  auto asset_id = wait_for_asset(emulator, job_id);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 1s);
  auto finished = parse(api_get(emulator, "/jobs/" + job_id)).at("job");
  EXPECT_EQ(finished.at("progress").to_number<double>(), 1.0);
  EXPECT_EQ(finished.at("statusHistory").as_array().size(), 4u);  // pending, queued, in-progress, success

  auto url = asset_url(emulator, asset_id);
  // The CDN is another origin than the API (another port), as in production.
  EXPECT_TRUE(url.starts_with("https://127.0.0.1:")) << url;
  EXPECT_FALSE(url.starts_with(emulator.origin())) << url;
  EXPECT_NE(url.find("/cdn/" + asset_id + ".mp3?Expires="), std::string::npos) << url;
  auto download = emulator.get(url);  // no credentials: they must never reach the CDN
  ASSERT_EQ(download.status, 200) << download.curl_error;
  EXPECT_EQ(download.header("Content-Type"), "audio/mpeg");
  ASSERT_EQ(download.body.size(), 20000u);
  EXPECT_EQ(download.body.substr(0, 2), "\xFF\xFB");

  auto stats = emulator.stats();
  const auto& reported = stats.at("jobs").at(0);
  EXPECT_EQ(text(reported.at("lyrics")), "[Verse]\nla la");
  EXPECT_EQ(text(reported.at("assets").at(0).at("sha256")), sha256_hex(download.body));
  EXPECT_EQ(number(stats.at("cdn_requests_with_credentials")), 0);

  auto bulk = emulator.post(emulator.base_url() + "/assets/get-bulk",
                            json::serialize(json::object{{"assetIds", json::array{asset_id, "asset_unknown"}}}),
                            credentials::api_key);
  ASSERT_EQ(bulk.status, 200) << bulk.body;
  ASSERT_EQ(parse(bulk).at("assets").as_array().size(), 1u);
  EXPECT_EQ(text(parse(bulk).at("assets").at(0).at("id")), asset_id);
}

TEST_F(EmulatorTest, ExpiredOrTamperedUrlIsRefusedAndAFreshOneWorks) {
  auto options = https_options();
  options.job_duration = "0s";
  options.url_ttl = "1s";
  emulator_process emulator(options);
  auto asset_id = wait_for_asset(emulator, submit_job(emulator, "drums"));
  auto url = asset_url(emulator, asset_id);

  auto tampered = url;
  tampered.replace(tampered.find("Signature=") + 10, 1, "x");
  EXPECT_EQ(emulator.get(tampered).status, 403);

  std::this_thread::sleep_for(2100ms);  // the URL lives at least 1 s and at most 2 s
  auto expired = emulator.get(url);
  EXPECT_EQ(expired.status, 403);
  EXPECT_NE(expired.body.find("<Error>"), std::string::npos) << expired.body;

  EXPECT_EQ(emulator.get(asset_url(emulator, asset_id)).status, 200);
}

TEST_F(EmulatorTest, CountsDuplicateSubmits) {
  emulator_process emulator(https_options());
  ASSERT_EQ(submit(emulator, R"({"prompt": "a"})").status, 200);
  ASSERT_EQ(submit(emulator, R"({"prompt": "b"})").status, 200);
  // The same request once the API's defaults are applied.
  ASSERT_EQ(submit(emulator, R"({"prompt": "a", "sampleRate": 44100, "isInstrumental": false})").status, 200);

  auto stats = emulator.stats();
  EXPECT_EQ(number(stats.at("submits")), 3);
  EXPECT_EQ(number(stats.at("duplicate_submits")), 1);
  EXPECT_EQ(stats.at("jobs").as_array().size(), 3u);
}

TEST_F(EmulatorTest, FaultRulesApplyToTheNextRequestsOnly) {
  auto options = https_options();
  options.job_duration = "0s";
  emulator_process emulator(options);
  auto asset_id = wait_for_asset(emulator, submit_job(emulator, "strings"));
  auto url = asset_url(emulator, asset_id);

  emulator.set_faults(R"([
    {"endpoint": "generate", "count": 1, "status": 503, "retry_after": "2"},
    {"endpoint": "get_job", "action": "drop"},
    {"endpoint": "cdn", "action": "truncate"}
  ])");

  auto unavailable = submit(emulator, R"({"prompt": "x"})");
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(unavailable.header("Retry-After"), "2");
  EXPECT_EQ(text(parse(unavailable).at("reason")), "injected fault");
  EXPECT_EQ(submit(emulator, R"({"prompt": "x"})").status, 200);

  auto dropped = api_get(emulator, "/jobs/job_x");
  EXPECT_EQ(dropped.status, 0);
  EXPECT_NE(dropped.curl_exit_code, 0);
  EXPECT_EQ(api_get(emulator, "/jobs/job_x").status, 404);

  auto truncated = emulator.get(url);
  EXPECT_EQ(truncated.curl_exit_code, 18) << truncated.curl_error;  // CURLE_PARTIAL_FILE
  EXPECT_EQ(truncated.body.size(), 10000u);
  EXPECT_EQ(emulator.get(url).body.size(), 20000u);

  auto stats = emulator.stats();
  EXPECT_EQ(number(stats.at("requests").at("generate")), 3);  // faulted requests count too
  EXPECT_EQ(number(stats.at("submits")), 2);
}

TEST_F(EmulatorTest, ProbabilisticFaultsHitAboutTheirShareAndMalformedAnswersAreNotJson) {
  emulator_process emulator(https_options());
  emulator.set_faults(R"([{"endpoint": "get_job", "probability": 0.5, "status": 503}])");
  int faulted = 0, answered = 0;
  for (int i = 0; i < 200; ++i) {
    auto reply = api_get(emulator, "/jobs/job_unknown");
    if (reply.status == 503) ++faulted;
    if (reply.status == 404) ++answered;
  }
  EXPECT_EQ(faulted + answered, 200);
  EXPECT_GE(faulted, 60);
  EXPECT_LE(faulted, 140);

  emulator.set_faults(R"([{"endpoint": "get_job", "action": "malformed"}])");
  auto malformed = api_get(emulator, "/jobs/job_unknown");
  EXPECT_EQ(malformed.status, 200);
  EXPECT_EQ(malformed.header("Content-Type").rfind("application/json", 0), 0u) << malformed.header("Content-Type");
  boost::system::error_code ec;
  json::parse(malformed.body, ec);
  EXPECT_TRUE(ec) << malformed.body;

  // Rules stay strictly validated.
  for (const auto* bad :
       {R"([{"endpoint": "get_job", "probability": 0}])", R"([{"endpoint": "get_job", "probability": 1.5}])",
        R"([{"endpoint": "cdn", "action": "malformed"}])", R"([{"endpoint": "generate", "action": "remote_failure"}])",
        R"([{"endpoint": "get_job", "probability": 0.5, "chance": 1}])"}) {
    auto reply = emulator.post(emulator.origin() + "/_emulator/faults", bad);
    EXPECT_EQ(reply.status, 400) << bad << " -> " << reply.body;
  }
}

TEST_F(EmulatorTest, RemoteFailureIsSticky) {
  emulator_process emulator(https_options());
  auto job_id = submit_job(emulator, "doomed");
  emulator.set_faults(R"([{"endpoint": "get_job", "action": "remote_failure"}])");
  for (int i = 0; i < 2; ++i) {
    auto job = parse(api_get(emulator, "/jobs/" + job_id)).at("job");
    EXPECT_EQ(text(job.at("status")), "failure");
    EXPECT_EQ(text(job.at("metadata").at("error")), "emulated generation failure");
    EXPECT_EQ(text(job.at("metadata").at("hint")), "try again");
  }
}

}  // namespace
}  // namespace soundtrackd::test
