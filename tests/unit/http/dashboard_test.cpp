// The dashboard's replies: the embedded files with a CSP that allows only this origin, an ETag
// that turns a repeated request into a 304, and a 404 for anything else.
#include "soundtrackd/http/dashboard.hpp"

#include <gtest/gtest.h>

#include "soundtrackd/http/dashboard_files.hpp"

namespace soundtrackd::http {
namespace {

std::string header(const server_reply& reply, std::string_view name) {
  for (const auto& [key, value] : reply.headers)
    if (key == name) return value;
  return {};
}

TEST(Dashboard, PageIsServedWithAStrictPolicyAndAnEtag) {
  auto reply = dashboard_reply("/", "");
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(reply.body, find_dashboard_file("/")->bytes);
  EXPECT_TRUE(header(reply, "Content-Security-Policy").starts_with("default-src 'self';"));
  EXPECT_NE(header(reply, "Content-Security-Policy").find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(header(reply, "Cache-Control"), "no-cache");
  EXPECT_EQ(header(reply, "ETag"), find_dashboard_file("/")->etag);
}

TEST(Dashboard, MatchingEtagGivesNotModifiedWithoutBody) {
  auto etag = std::string(find_dashboard_file("/ui/app.js")->etag);
  for (auto if_none_match : {etag, "\"other\", " + etag, "W/" + etag, std::string("*")}) {
    auto reply = dashboard_reply("/ui/app.js", if_none_match);
    EXPECT_EQ(reply.status, 304u) << if_none_match;
    EXPECT_TRUE(reply.body.empty()) << if_none_match;
    EXPECT_EQ(header(reply, "ETag"), etag);
  }
  auto stale = dashboard_reply("/ui/app.js", "\"0000000000000000\"");
  EXPECT_EQ(stale.status, 200u);
  EXPECT_EQ(stale.body, find_dashboard_file("/ui/app.js")->bytes);
}

TEST(Dashboard, UnknownFileIsNotFoundAndNamed) {
  auto reply = dashboard_reply("/ui/missing.js", "");
  EXPECT_EQ(reply.status, 404u);
  EXPECT_NE(reply.body.find("/ui/missing.js"), std::string::npos);
}

}  // namespace
}  // namespace soundtrackd::http
