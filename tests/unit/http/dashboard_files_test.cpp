// The embedded dashboard: every file of web/ is served byte for byte under its path, with a
// content type and an ETag that changes with the content; nothing else is found.
#include "soundtrackd/http/dashboard_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "test_support.hpp"

namespace soundtrackd::http {
namespace {

TEST(DashboardFiles, IndexIsServedAtTheRootAsHtml) {
  auto* index = find_dashboard_file("/");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index->bytes, test::read_file(SOURCE_DIR "/web/index.html"));
  EXPECT_EQ(find_dashboard_file("/ui/index.html"), nullptr);
}

TEST(DashboardFiles, EveryWebFileIsEmbeddedByteForByteUnderUi) {
  std::set<std::string_view> etags;
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SOURCE_DIR "/web")) {
    auto name = entry.path().filename().string();
    if (name == "index.html") continue;
    auto* file = find_dashboard_file("/ui/" + name);
    ASSERT_NE(file, nullptr) << name;
    EXPECT_EQ(file->bytes, test::read_file(entry.path())) << name;
    EXPECT_EQ(file->etag.size(), 18u) << name;  // 16 hex digits in quotes
    etags.insert(file->etag);
    ++count;
  }
  EXPECT_GE(count, 3);  // app.js, app.css, icon.svg at least
  EXPECT_EQ(etags.size(), static_cast<std::size_t>(count));
  EXPECT_EQ(find_dashboard_file("/ui/app.js")->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(find_dashboard_file("/ui/app.css")->content_type, "text/css; charset=utf-8");
}

TEST(DashboardFiles, UnknownAndTraversalPathsAreNotFound) {
  for (auto path : {"", "/ui/", "/ui", "/ui/nope.js", "/ui/../web/app.js", "/app.js", "/ui/app.js?x=1", "/UI/app.js"})
    EXPECT_EQ(find_dashboard_file(path), nullptr) << path;
}

}  // namespace
}  // namespace soundtrackd::http
