// The status server's pure parts: route matching and Range headers.
#include <gtest/gtest.h>

#include "soundtrackd/http/status_server.hpp"

namespace soundtrackd::http {
namespace {

route_handler named(std::string name) {
  return
      [name](const server_request&) -> boost::asio::awaitable<server_reply> { co_return server_reply{.body = name}; };
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    routes_.add("GET", "/", named("root"), route_access::open);
    routes_.add("GET", "/v1/jobs", named("list"));
    routes_.add("POST", "/v1/jobs", named("create"));
    routes_.add("GET", "/v1/jobs/{id}", named("get"));
    routes_.add("GET", "/v1/jobs/{id}/audio/{asset_id}", named("audio"));
    routes_.add("GET", "/ui/*", named("ui"), route_access::open);
  }
  router routes_;
};

TEST_F(RouterTest, MatchesLiteralsParametersAndTails) {
  auto root = routes_.find("GET", "/");
  ASSERT_NE(root.handler, nullptr);
  EXPECT_EQ(root.access, route_access::open);

  auto list = routes_.find("GET", "/v1/jobs");
  ASSERT_NE(list.handler, nullptr);
  EXPECT_EQ(list.access, route_access::token);
  EXPECT_TRUE(list.params.empty());

  auto audio = routes_.find("GET", "/v1/jobs/12/audio/7");
  ASSERT_NE(audio.handler, nullptr);
  EXPECT_EQ(audio.params.at("id"), "12");
  EXPECT_EQ(audio.params.at("asset_id"), "7");

  auto decoded = routes_.find("GET", "/v1/jobs/a%20b");
  ASSERT_NE(decoded.handler, nullptr);
  EXPECT_EQ(decoded.params.at("id"), "a b");

  auto ui = routes_.find("GET", "/ui/css/app.css");
  ASSERT_NE(ui.handler, nullptr);
  EXPECT_EQ(ui.params.at("*"), "css/app.css");
  EXPECT_EQ(routes_.find("GET", "/ui/").params.at("*"), "");
}

TEST_F(RouterTest, TellsAWrongMethodFromAnUnknownPath) {
  auto wrong_method = routes_.find("DELETE", "/v1/jobs/3");
  EXPECT_EQ(wrong_method.handler, nullptr);
  EXPECT_TRUE(wrong_method.path_known);

  for (auto path : {"/v1", "/v1/jobs/3/audio", "/v1/jobs/3/audio/4/5", "/nothing", "/v1/jobs/3/cancel"}) {
    auto unknown = routes_.find("GET", path);
    EXPECT_EQ(unknown.handler, nullptr) << path;
    EXPECT_FALSE(unknown.path_known) << path;
  }
}

TEST_F(RouterTest, TheFirstMatchingRouteWins) {
  routes_.add("GET", "/v1/jobs/special", named("special"));  // after {id}: never reached
  auto match = routes_.find("GET", "/v1/jobs/special");
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ(match.params.at("id"), "special");
}

TEST(RangeTest, ResolvesSingleRanges) {
  byte_range r;
  ASSERT_EQ(parse_range("bytes=0-99", 1000, r), range_kind::satisfiable);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 99u);
  ASSERT_EQ(parse_range("bytes=900-", 1000, r), range_kind::satisfiable);
  EXPECT_EQ(r.first, 900u);
  EXPECT_EQ(r.last, 999u);
  ASSERT_EQ(parse_range("bytes=990-5000", 1000, r), range_kind::satisfiable);  // clipped to the end
  EXPECT_EQ(r.last, 999u);
  ASSERT_EQ(parse_range("bytes=-10", 1000, r), range_kind::satisfiable);
  EXPECT_EQ(r.first, 990u);
  EXPECT_EQ(r.last, 999u);
  ASSERT_EQ(parse_range("bytes=-5000", 1000, r), range_kind::satisfiable);  // more than there is: all
  EXPECT_EQ(r.first, 0u);
  ASSERT_EQ(parse_range("bytes=999-999", 1000, r), range_kind::satisfiable);
  EXPECT_EQ(r.first, 999u);
}

TEST(RangeTest, RefusesRangesBeyondTheEnd) {
  byte_range r;
  EXPECT_EQ(parse_range("bytes=1000-", 1000, r), range_kind::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=5000-6000", 1000, r), range_kind::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 1000, r), range_kind::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-", 0, r), range_kind::unsatisfiable);
}

TEST(RangeTest, IgnoresWhatItDoesNotServe) {
  byte_range r;
  for (auto header : {"", "bytes=", "bytes=-", "bytes=a-b", "bytes=5-2", "bytes=0-1,5-6", "items=0-1", "bytes=+1-2",
                      "bytes= 1-2", "bytes=-1-2", "Bytes=0-1"})
    EXPECT_EQ(parse_range(header, 1000, r), range_kind::none) << header;
}

}  // namespace
}  // namespace soundtrackd::http
