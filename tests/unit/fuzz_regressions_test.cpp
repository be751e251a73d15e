// Inputs the fuzz targets (tests/fuzz/) found problems with, as unit tests: each stays fixed
// even where the corpus replay runs without sanitizers.
#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "soundtrackd/http/status_server.hpp"
#include "soundtrackd/scenario/errors.hpp"
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

// fuzz_api_answers: a 429's details.actionLimit of 1e114 was converted to int (undefined
// behaviour, UBSan); an integer beyond int wrapped. Neither is a ceiling: the 429 is a plain one.
TEST(FuzzRegressions, AnActionLimitBeyondIntIsNoCeiling) {
  auto classify = [](const std::string& limit) {
    const std::string body = R"({"reason":"Too many jobs","details":{"actionLimit":)" + limit + "}}";
    return scenario::classify_http_error(scenario::call::generate, "POST /v1/generate/custom/m", 429, body, {}, 0.0);
  };
  const std::vector<std::string> beyond_int = {"1e114", "9" + std::string(100, '9'), "4294967297", "2147483648",
                                               "2147483648.0"};
  for (const auto& limit : beyond_int) {
    const auto e = classify(limit);
    EXPECT_EQ(e.kind, scenario::error_kind::rate_limited) << limit;
    EXPECT_FALSE(e.action_limit) << limit << " became " << e.action_limit.value_or(0);
  }
  EXPECT_EQ(classify("2147483647").action_limit, 2147483647);
  EXPECT_EQ(classify("3.0").action_limit, 3);
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

// fuzz_http_response: a chunked answer arriving one byte at a time, whose final chunk ("0\r\n")
// is followed by a trailer Beast 1.81 misreads, tripped a wrong assertion in Beast's chunk
// parser (n >= 5; boostorg/beast#2861) and aborted debug builds. src/util/boost_net.cpp lets
// that one assertion pass: the answer is then just malformed.
TEST(FuzzRegressions, AChunkedAnswerCutAfterTheFinalChunkIsAnErrorNotAnAbort) {
  namespace bhttp = boost::beast::http;
  const std::string input =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nhello\r\n6 x\r" + std::string(14, '\0') + "\n\r\n";
  bhttp::response_parser<bhttp::string_body> parser;
  parser.eager(true);
  std::string buffer;
  boost::system::error_code ec;
  for (char c : input) {
    buffer += c;
    ec = {};
    buffer.erase(0, parser.put(boost::asio::buffer(buffer), ec));
    if (ec != bhttp::error::need_more && ec) break;
  }
  if (!ec || ec == bhttp::error::need_more) parser.put_eof(ec);
  // Never a complete 200 answer: the end of the stream leaves the message partial.
  EXPECT_EQ(ec, bhttp::error::partial_message) << ec.message();
  EXPECT_FALSE(parser.is_done());
}
