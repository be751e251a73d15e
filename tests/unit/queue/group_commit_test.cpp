// Tests of group_commit on a real queue database and store thread: writes that arrive
// together share one transaction, a busy daemon commits at most once per min_interval, a
// lone write waits for nothing, and one failing write fails alone.
#include "soundtrackd/queue/group_commit.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "soundtrackd/db/queue_database.hpp"
#include "soundtrackd/db/sqlite_job_store.hpp"
#include "soundtrackd/db/store_thread.hpp"
#include "soundtrackd/util/log.hpp"
#include "test_support.hpp"

namespace soundtrackd::queue {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

class GroupCommitTest : public ::testing::Test {
 protected:
  GroupCommitTest() { sqlite3_commit_hook(db_.handle(), count_commit, &commits_); }

  static int count_commit(void* counter) {
    ++*static_cast<int*>(counter);
    return 0;  // let it commit
  }

  std::int64_t add() {
    db::job_request r;
    r.prompt = "calm piano " + std::to_string(++added_);
    return store_.insert(r);
  }

  db::job_status status(std::int64_t id) { return store_.find(id).value().status; }

  // Claims row `id` through `writes`, recording when the claim was committed.
  asio::awaitable<void> claim(group_commit& writes, std::int64_t id, clock_type::time_point& committed,
                              group_commit::urgency when = group_commit::urgency::batched) {
    group_commit::write_fn write = [id](db::job_store& s) {
      if (!s.claim_for_submit(id, 1'700'000'000.0))
        throw std::runtime_error("row " + std::to_string(id) + " not claimed");
    };
    co_await writes.write(std::move(write), when);
    committed = clock_type::now();
  }

  test::temp_dir dir_;
  db::database db_ = db::open_queue_database(dir_ / "queue.db");
  db::sqlite_job_store store_{db_};
  db::store_thread thread_{store_, null_logger()};
  asio::io_context io_;
  int commits_ = 0;
  int added_ = 0;
};

TEST_F(GroupCommitTest, WritesArrivingTogetherShareATransaction) {
  group_commit writes(io_.get_executor(), thread_, 0ms);
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(add());
  const int commits_before = commits_;
  std::vector<clock_type::time_point> committed(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) asio::co_spawn(io_, claim(writes, ids[i], committed[i]), asio::detached);
  io_.run();
  for (auto id : ids) EXPECT_EQ(status(id), db::job_status::submitting) << "row " << id;
  // The first write may be committed on its own before the others are queued; the other 49
  // wait for that commit and share the next one.
  EXPECT_LE(commits_ - commits_before, 2);
}

TEST_F(GroupCommitTest, ALoneWriteIsCommittedAtOnceAndABusyOneWaitsForTheInterval) {
  const auto interval = 1s;
  group_commit writes(io_.get_executor(), thread_, interval);
  const auto first = add(), second = add();
  clock_type::time_point first_done, second_done;
  const auto started = clock_type::now();
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        co_await claim(writes, first, first_done);
        co_await claim(writes, second, second_done);
      },
      asio::detached);
  io_.run();
  EXPECT_EQ(status(first), db::job_status::submitting);
  EXPECT_EQ(status(second), db::job_status::submitting);
  EXPECT_LT(first_done - started, interval) << "a write after a quiet spell does not wait";
  EXPECT_GE(second_done - started, interval) << "the next commit comes min_interval after the last one";
}

TEST_F(GroupCommitTest, AnUrgentWriteDoesNotWaitForTheIntervalAndTakesTheWaitingOnesAlong) {
  const auto interval = 5s;
  group_commit writes(io_.get_executor(), thread_, interval);
  const auto first = add(), waiting = add(), urgent = add();
  clock_type::time_point first_done, waiting_done, urgent_done;
  const auto started = clock_type::now();
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        co_await claim(writes, first, first_done);
        // Right after a commit: this one waits for the interval...
        asio::co_spawn(io_, claim(writes, waiting, waiting_done), asio::detached);
        asio::steady_timer pause(io_, 50ms);
        co_await pause.async_wait(asio::use_awaitable);
        // ...until a write that must not wait comes, and both go at once.
        co_await claim(writes, urgent, urgent_done, group_commit::urgency::at_once);
      },
      asio::detached);
  io_.run();
  EXPECT_EQ(status(waiting), db::job_status::submitting);
  EXPECT_EQ(status(urgent), db::job_status::submitting);
  EXPECT_LT(urgent_done - started, interval) << "the urgent write went at once";
  EXPECT_LT(waiting_done - started, interval) << "the waiting write went with it";
  EXPECT_GE(waiting_done - started, 50ms) << "and not before it came";
}

TEST_F(GroupCommitTest, AFailingWriteFailsAloneAndTheRestOfItsBatchCommits) {
  group_commit writes(io_.get_executor(), thread_, 0ms);
  std::vector<std::int64_t> ids{add(), add(), add()};
  for (auto id : ids) ASSERT_TRUE(store_.claim_for_submit(id, 1'700'000'000.0));
  // The middle one's cost is one the schema's CHECK refuses: its store call throws.
  const std::vector<double> costs{1.0, -5.0, 2.0};
  std::vector<std::string> outcome(ids.size());
  auto mark_running = [&](std::size_t i) -> asio::awaitable<void> {
    group_commit::write_fn write = [id = ids[i], cost = costs[i]](db::job_store& s) {
      s.mark_running(id, "job_remote_" + std::to_string(id), cost, 1'700'000'001.0);
    };
    try {
      co_await writes.write(std::move(write));
      outcome[i] = "committed";
    } catch (const db::db_error&) {
      outcome[i] = "failed";
    }
  };
  for (std::size_t i = 0; i < ids.size(); ++i) asio::co_spawn(io_, mark_running(i), asio::detached);
  io_.run();
  EXPECT_EQ(outcome, (std::vector<std::string>{"committed", "failed", "committed"}));
  EXPECT_EQ(status(ids[0]), db::job_status::running);
  EXPECT_EQ(status(ids[1]), db::job_status::submitting) << "the refused write changed nothing";
  EXPECT_EQ(status(ids[2]), db::job_status::running);
}

}  // namespace
}  // namespace soundtrackd::queue
