// Backoff delays, the token bucket and the typical run time.
#include "soundtrackd/queue/backoff.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace soundtrackd;
using namespace soundtrackd::queue;
using namespace std::chrono_literals;

TEST(Backoff, DoublesFromBaseUpToMax) {
  EXPECT_EQ(backoff_delay(10s, 10min, 1, 1.0), 10s);
  EXPECT_EQ(backoff_delay(10s, 10min, 2, 1.0), 20s);
  EXPECT_EQ(backoff_delay(10s, 10min, 3, 1.0), 40s);
  EXPECT_EQ(backoff_delay(10s, 10min, 7, 1.0), 600s);
  EXPECT_EQ(backoff_delay(10s, 10min, 1000, 1.0), 600s);
}

TEST(Backoff, FullJitterScalesTheCeiling) {
  EXPECT_EQ(backoff_delay(10s, 10min, 3, 0.0), 0s);
  EXPECT_EQ(backoff_delay(10s, 10min, 3, 0.5), 20s);
  EXPECT_EQ(backoff_delay(10s, 10min, 0, 1.0), 10s);  // a zero count is treated as the first
}

TEST(TokenBucket, AllowsTheBurstThenSpacesRequests) {
  token_bucket bucket(5, 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bucket.reserve(100.0), 0ms) << i;
  EXPECT_EQ(bucket.reserve(100.0), 200ms);
  EXPECT_EQ(bucket.reserve(100.0), 400ms);
}

TEST(TokenBucket, RefillsOverTime) {
  token_bucket bucket(2, 1);
  EXPECT_EQ(bucket.reserve(0.0), 0ms);
  EXPECT_EQ(bucket.reserve(0.0), 500ms);
  EXPECT_EQ(bucket.reserve(10.0), 0ms);  // idle time refills
}

TEST(TokenBucket, SustainedRateIsTheConfiguredOne) {
  token_bucket bucket(10, 1);
  double now = 0;
  int granted = 0;
  for (int i = 0; i < 100; ++i) {
    auto wait = bucket.reserve(now);
    now += std::chrono::duration<double>(wait).count();
    ++granted;
  }
  EXPECT_NEAR(now, 9.9, 0.01);  // 100 requests at 10/s take 9.9 s after the first
  EXPECT_EQ(granted, 100);
}

TEST(TokenBucket, SetRateSlowsDown) {
  token_bucket bucket(10, 1);
  bucket.set_rate(1);
  EXPECT_EQ(bucket.reserve(0.0), 0ms);
  EXPECT_EQ(bucket.reserve(0.0), 1000ms);
}

TEST(RunTimeEstimate, NothingUntilEightRunTimesAreKnown) {
  run_time_estimate e;
  for (int i = 0; i < 7; ++i) {
    e.add(60);
    EXPECT_FALSE(e.typical()) << "after " << i + 1 << " run times";
  }
  e.add(60);
  EXPECT_EQ(e.typical(), 60s);
}

TEST(RunTimeEstimate, IsTheTenthPercentileSoNineJobsInTenAreStillRunning) {
  run_time_estimate e;
  for (int s : {95, 10, 80, 90, 85, 120, 88, 92, 70, 100}) e.add(s);
  EXPECT_EQ(e.typical(), 70s) << "one job in ten ran shorter (10 s); the next shortest is the estimate";
  for (int i = 0; i < 64; ++i) e.add(90);
  EXPECT_EQ(e.typical(), 90s) << "only the last 64 count: the early short ones are forgotten";
}

TEST(RunTimeEstimate, FractionsOfASecondAndNonsenseSamples) {
  run_time_estimate e;
  for (int i = 0; i < 8; ++i) e.add(5.0015);
  e.add(-3);
  e.add(std::nan(""));
  EXPECT_EQ(e.typical(), 5001ms) << "a clock that went backwards or an unreadable date is not a run time";
}
