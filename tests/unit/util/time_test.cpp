// Tests of UTC time text: format_utc and parse_utc_iso8601.
#include "soundtrackd/util/time.hpp"

#include <gtest/gtest.h>

namespace soundtrackd {
namespace {

TEST(UtcTime, FormatsWholeSecondsRoundedDown) {
  EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(1893553445.999), "2030-01-02T03:04:05Z");
}

TEST(UtcTime, ParsesIsoTextOnlyWhenItSaysUtc) {
  EXPECT_EQ(parse_utc_iso8601("2030-01-02T03:04:05Z"), 1893553445.0);
  EXPECT_EQ(parse_utc_iso8601("2030-01-02t03:04:05z"), 1893553445.0);
  EXPECT_EQ(parse_utc_iso8601("2030-01-02 03:04:05.25+00:00"), 1893553445.25);
  EXPECT_EQ(parse_utc_iso8601("2030-01-02T03:04Z"), 1893553440.0);
  EXPECT_EQ(parse_utc_iso8601("2030-01-02T03:04:05+0000"), 1893553445.0);
  EXPECT_EQ(parse_utc_iso8601("2024-02-29T00:00:00Z"), 1709164800.0);
  for (const char* bad : {"2030-01-02T03:04:05", "2030-01-02T03:04:05+01:00", "2030-01-02", "2030-02-30T00:00:00Z",
                          "2030-01-02T24:00:00Z", "2030-01-02T03:60:00Z", "1893553445", "", "soon"})
    EXPECT_FALSE(parse_utc_iso8601(bad)) << bad;
  EXPECT_EQ(format_utc(*parse_utc_iso8601("2026-11-28T21:00:00Z")), "2026-11-28T21:00:00Z");
}

TEST(UtcTime, ReadsEachPartWithItsOwnDigitsAndNothingAfterTheZone) {
  EXPECT_EQ(parse_utc_iso8601("2030-01-02T03:04:05.123456789Z"), 1893553445.0 + 0.123456789);
  const char* bad_texts[] = {"2030-1-02T03:04:05Z",        "2030-01-02T3:04:05Z",      "2030-01-02T03:04:5Z",
                             "20300-01-02T03:04Z",         "+2030-01-02T03:04Z",       "2030-01-02X03:04:05Z",
                             "2030-01-02T03:04.5Z",        "2030-01-02T03:04:05.Z",    "2030-01-02T03:04:05.2e1Z",
                             "2030-01-02T03:04:05Zjunk",   "2030-01-02T03:04:05+00:0", "2030-01-02T03:04:05+0",
                             "2030-01-02T03:04:05+00:001", "2030-01-02T03:04:05-00:00"};
  for (const char* bad : bad_texts) EXPECT_FALSE(parse_utc_iso8601(bad)) << bad;
}

}  // namespace
}  // namespace soundtrackd
