// How much of a download may stay in memory: small tracks are stored from memory, within a
// fixed budget for all of them; anything else goes to its staging file.
#include <gtest/gtest.h>

#include "soundtrackd/db/job_store.hpp"
#include "soundtrackd/queue/scheduler.hpp"

namespace soundtrackd::queue {
namespace {

constexpr std::uint64_t small_max = db::job_store::group_store_max_bytes;

TEST(DownloadMemoryRoom, AReportedSmallTrackReservesOnlyItsSize) {
  EXPECT_EQ(download_memory_room(20'000, 0), 20'000u);
  EXPECT_EQ(download_memory_room(small_max, 0), small_max);
}

TEST(DownloadMemoryRoom, AnUnreportedSizeReservesTheMostASmallTrackMayBe) {
  EXPECT_EQ(download_memory_room(std::nullopt, 0), small_max);
  EXPECT_EQ(download_memory_room(std::nullopt, staged_in_memory_max - small_max), small_max);
  EXPECT_EQ(download_memory_room(std::nullopt, staged_in_memory_max - small_max + 1), 0u);
}

TEST(DownloadMemoryRoom, ALargeOrEmptyTrackGoesStraightToItsFile) {
  EXPECT_EQ(download_memory_room(small_max + 1, 0), 0u);
  EXPECT_EQ(download_memory_room(50'000'000, 0), 0u);
  EXPECT_EQ(download_memory_room(0, 0), 0u);
}

// A burst of 20 KB tracks finishing together: 209 fit in the 4 MiB budget, not the 16 that
// reserving 256 KiB each allowed. The next one goes to its file until memory is freed.
TEST(DownloadMemoryRoom, ABurstOfSmallTracksFillsTheBudgetThenSpills) {
  std::uint64_t held = 0;
  int in_memory = 0;
  while (auto room = download_memory_room(20'000, held)) {
    held += room;
    ++in_memory;
  }
  EXPECT_EQ(in_memory, static_cast<int>(staged_in_memory_max / 20'000));
  EXPECT_LE(held, staged_in_memory_max);
  EXPECT_EQ(download_memory_room(20'000, held - 20'000), 20'000u);
}

}  // namespace
}  // namespace soundtrackd::queue
