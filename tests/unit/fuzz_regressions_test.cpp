// Inputs the fuzz targets (tests/fuzz/) found problems with, as unit tests: each stays fixed
// even where the corpus replay runs without sanitizers.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "soundtrackd/http/status_server.hpp"
#include "soundtrackd/scenario/messages.hpp"
#include "valid_utf8.hpp"

using namespace soundtrackd;

// fuzz_api_answers: converting 1e300 to uint64 was undefined behaviour (UBSan).
TEST(FuzzRegressions, AnAssetSizeBeyondAnyByteCountIsMalformed) {
  auto huge = scenario::parse_asset_answer(R"({"asset":{"url":"https://x/y","size":1e300}})", "GET /assets/a");
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error_message(), "malformed answer from GET /assets/a: asset.size is not a byte count");
  auto fine = scenario::parse_asset_answer(R"({"asset":{"url":"https://x/y","size":20000}})", "GET /assets/a");
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->size, 20000u);
}

// fuzz_server_request: a request path with bytes that are not UTF-8 made the 404 reply
// ("no such resource: <path>") invalid JSON.
TEST(FuzzRegressions, AnErrorReplyNamingARawPathIsValidJson) {
  const std::string path = "/T/jobs/%2e%2e%\xFF\xFF\xFF\xFF\xFF\xFF\xFF'audio/%FF";
  const auto reply = http::json_error(404, "no such resource: " + path);
  EXPECT_TRUE(test::valid_utf8(reply.body)) << reply.body;
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(reply.body, ec);
  ASSERT_FALSE(ec) << reply.body;
  EXPECT_EQ(parsed.at("error").as_string(),
            "no such resource: /T/jobs/%2e%2e%\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
            "\xEF\xBF\xBD\xEF\xBF\xBD'audio/%FF");
}
