// Tests for the log line formats: text, journald priority prefixes, JSON.
#include "soundtrackd/util/log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <boost/json/parse.hpp>
#include <regex>
#include <sstream>

namespace soundtrackd {
namespace {

// Everything `log` writes through a logger built from `cfg`.
template <class Log>
std::string capture(const config::log_config& cfg, bool journald, Log log) {
  std::ostringstream out;
  auto logger = make_logger(cfg, "soundtrackd", std::make_shared<spdlog::sinks::ostream_sink_mt>(out), journald);
  log(*logger);
  return out.str();
}

config::log_config text_config(std::string level = "info") { return {std::move(level), "text"}; }
config::log_config json_config() { return {"info", "json"}; }

TEST(LogText, TimestampLevelMessage) {
  const std::string out = capture(text_config(), false, [](spdlog::logger& log) {
    log.info("started {}", 1);
    log.warn("slow");
    log.error("broken");
    log.critical("gone");
  });
  const std::regex expected(
      "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z info  started 1\n"
      "\\S+ warn  slow\n"
      "\\S+ error broken\n"
      "\\S+ critical gone\n");
  EXPECT_TRUE(std::regex_match(out, expected)) << out;
}

TEST(LogText, LevelFilters) {
  const std::string out = capture(text_config("warn"), false, [](spdlog::logger& log) {
    log.debug("no");
    log.info("no");
    log.warn("yes");
  });
  EXPECT_EQ(out.find("no"), std::string::npos) << out;
  EXPECT_NE(out.find(" warn  yes\n"), std::string::npos) << out;
}

TEST(LogText, UnknownLevelMeansInfo) {
  const std::string out = capture(text_config("loud"), false, [](spdlog::logger& log) {
    log.debug("hidden");
    log.info("shown");
  });
  EXPECT_EQ(out.find("hidden"), std::string::npos) << out;
  EXPECT_NE(out.find("shown"), std::string::npos) << out;
}

TEST(LogJournald, PriorityPrefixNoTimestamp) {
  const std::string out = capture(text_config("trace"), true, [](spdlog::logger& log) {
    log.trace("t");
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    log.critical("c");
  });
  EXPECT_EQ(out, "<7>t\n<7>d\n<6>i\n<4>w\n<3>e\n<2>c\n");
}

TEST(LogJournald, EveryLineOfAMessageCarriesThePriority) {
  const std::string out = capture(text_config(), true, [](spdlog::logger& log) { log.error("first\nsecond"); });
  EXPECT_EQ(out, "<3>first\n<3>second\n");
}

TEST(LogJson, OneObjectPerLine) {
  const std::string out = capture(json_config(), false, [](spdlog::logger& log) { log.warn("queue paused"); });
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.find('\n'), out.size() - 1) << out;
  const auto line = boost::json::parse(out).as_object();
  EXPECT_TRUE(std::regex_match(std::string(line.at("ts").as_string()),
                               std::regex("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z")));
  EXPECT_EQ(line.at("level").as_string(), "warn");
  EXPECT_EQ(line.at("logger").as_string(), "soundtrackd");
  EXPECT_EQ(line.at("msg").as_string(), "queue paused");
  EXPECT_TRUE(out.starts_with("{\"ts\":")) << out;
}

TEST(LogJson, MessageIsEscaped) {
  const std::string message = "prompt \"lofi\"\nline two\\ \t end";
  const std::string out = capture(json_config(), false, [&](spdlog::logger& log) { log.info("{}", message); });
  EXPECT_EQ(out.find('\n'), out.size() - 1) << out;
  EXPECT_NE(out.find(R"("msg":"prompt \"lofi\"\nline two\\ \t end")"), std::string::npos) << out;
  EXPECT_EQ(boost::json::parse(out).at("msg").as_string(), message);
}

TEST(LogJson, JournaldPrefixesTheObject) {
  const std::string out = capture(json_config(), true, [](spdlog::logger& log) { log.error("failed"); });
  ASSERT_TRUE(out.starts_with("<3>{")) << out;
  EXPECT_EQ(boost::json::parse(out.substr(3)).at("level").as_string(), "error");
}

TEST(LogNull, HasNoSinksAndLogsNothing) {
  auto logger = null_logger();
  EXPECT_TRUE(logger->sinks().empty());
  EXPECT_FALSE(logger->should_log(spdlog::level::critical));
}

TEST(LogStderr, BuildsAtTheConfiguredLevel) {
  auto logger = make_logger(text_config("debug"), "soundtrackd");
  EXPECT_EQ(logger->name(), "soundtrackd");
  EXPECT_EQ(logger->level(), spdlog::level::debug);
  EXPECT_EQ(logger->sinks().size(), 1u);
}

}  // namespace
}  // namespace soundtrackd
