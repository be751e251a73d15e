// End to end: soundtrackctl estimate against the API emulator over HTTPS, with the config and
// credentials the daemon would use; dry runs only, nothing generated.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "daemon_setup.hpp"

using namespace soundtrackd;
using namespace soundtrackd::test;
namespace json = boost::json;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class CtlEstimateTest : public ::testing::Test {
 protected:
  command_result estimate(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    std::vector<std::string> argv{SOUNDTRACKCTL_BIN, "--config", stage_.config_path(), "estimate"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, env);
  }

  std::int64_t requests(const std::string& endpoint) {
    return stage_.emulator().stats().at("requests").at(endpoint).as_int64();
  }

  daemon_setup stage_;
};

TEST_F(CtlEstimateTest, SumsTheDryRunPriceOfTheQueuedRows) {
  stage_.insert_rows(5);
  stage_.open_db().exec(
      "UPDATE jobs SET status = 'succeeded', finished_at = unixepoch() WHERE id = 1;"
      "UPDATE jobs SET batch = 'night' WHERE id IN (2, 3)");

  auto result = estimate({}, stage_.credentials_env());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  // The emulator prices every generation at 5 creative units.
  EXPECT_TRUE(contains(result.output,
                       "4 queued rows of the queue would cost 20 creative units (dry run: nothing was "
                       "generated)"))
      << result.output;
  EXPECT_EQ(requests("dry_run"), 4);
  EXPECT_EQ(requests("generate"), 0);
  EXPECT_EQ(stage_.count("status = 'queued'"), "4");

  result = estimate({"--batch", "night", "--json", "--concurrency", "2"}, stage_.credentials_env());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto out = json::parse(result.output).as_object();
  EXPECT_EQ(out.at("batch").as_string(), "night");
  EXPECT_EQ(out.at("queued").as_int64(), 2);
  EXPECT_EQ(out.at("priced").as_int64(), 2);
  EXPECT_EQ(out.at("total_cu").to_number<double>(), 10.0);
  EXPECT_TRUE(out.at("failures").as_array().empty());
  EXPECT_EQ(requests("dry_run"), 6);
}

TEST_F(CtlEstimateTest, RetriesTransientErrorsAndNamesRowsThatCannotBePriced) {
  stage_.insert_rows(3);
  stage_.emulator().set_faults(R"([{"endpoint": "generate", "count": 2, "status": 503}])");
  // A rule on generate hits dry runs too (same URL).
  auto result = estimate({}, stage_.credentials_env());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(contains(result.output, "3 queued rows of the queue would cost 15 creative units")) << result.output;
  EXPECT_EQ(requests("dry_run"), 5);

  stage_.emulator().set_faults(
      R"([{"endpoint": "generate", "count": 1, "status": 400, "body": "{\"reason\": \"bad prompt\"}"}])");
  result = estimate({}, stage_.credentials_env());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(contains(result.output, "not priced: HTTP 400 from POST")) << result.output;
  EXPECT_TRUE(contains(result.output, "2 queued rows of the queue would cost 10 creative units")) << result.output;
  EXPECT_TRUE(contains(result.output, "1 of 3 rows not priced")) << result.output;
}

TEST_F(CtlEstimateTest, MissingOrRefusedCredentialsExit1) {
  stage_.insert_rows(2);
  auto result = estimate({}, {});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(contains(result.output, "estimate asks the API and needs credentials")) << result.output;
  EXPECT_TRUE(contains(result.output, "SCENARIO_API_KEY")) << result.output;
  EXPECT_EQ(requests("dry_run"), 0);

  result = estimate({}, {"SCENARIO_API_KEY=test-key", "SCENARIO_API_SECRET=wrong"});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(contains(result.output, "stopped: HTTP 401")) << result.output;
  EXPECT_FALSE(contains(result.output, "wrong")) << "the secret leaked: " << result.output;
}

}  // namespace
