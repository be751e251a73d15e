// Group commit for the scheduler's row writes: writes that arrive while a batch is being
// committed wait for the next batch, so rows reaching the same step together (a wave of 500
// submits, 500 jobs finishing at once) cost one transaction and one fsync, not 500.
// A busy daemon also commits at most once per `min_interval`: the writes of those few
// milliseconds join one batch. A lone write after a quiet spell, or one that must not wait, is
// committed at once: a claim (a new row is submitted at once) and the remote job id (until it
// is committed, a crash leaves the row ambiguous, maybe paid for).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <utility>
#include <vector>

#include "soundtrackd/db/store_thread.hpp"

namespace soundtrackd::queue {

// Nothing is traded for the batching: a caller resumes only after the transaction holding
// its write committed. Each write stays all-or-nothing on its own (the store runs it in a
// savepoint inside the batch's transaction); one that throws fails alone, with its exception
// rethrown to its caller, and the others commit.
class group_commit {
 public:
  using write_fn = std::function<void(db::job_store&)>;

  // 25 ms: in scenario 1 of the benchmark (2,000 jobs, 500 in flight) a commit every few
  // milliseconds cost a third of the daemon's CPU (fsyncs, WAL writes of the same pages,
  // waking the store thread); at most 40 a second it is a tenth, and a job is never more than
  // a tenth of a second later for its four status writes.
  static constexpr std::chrono::milliseconds default_min_interval{25};

  group_commit(boost::asio::any_io_executor executor, db::store_thread& db,
               std::chrono::steady_clock::duration min_interval = default_min_interval)
      : executor_(std::move(executor)), db_(db), min_interval_(min_interval), gather_(executor_) {}

  enum class urgency { batched, at_once };

  // `write` runs on the store thread; it reports its result through what it captured (which
  // lives in the caller's frame until this returns).
  boost::asio::awaitable<void> write(write_fn write, urgency when = urgency::batched) {
    waiter w{std::move(write), boost::asio::steady_timer(executor_), nullptr, false};
    w.timer.expires_at(boost::asio::steady_timer::time_point::max());
    pending_.push_back(&w);
    if (when == urgency::at_once) {
      at_once_ = true;
      gather_.cancel();  // a batch waiting for the interval goes now, with this write
    }
    if (!committing_) {
      committing_ = true;
      boost::asio::co_spawn(executor_, commit_pending(), [](std::exception_ptr) {});  // it catches everything
    }
    // commit_pending() cancels the timer once the write is committed; only the flag says so.
    while (!w.done) {
      boost::system::error_code ec;
      co_await w.timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
    if (w.error) std::rethrow_exception(w.error);
  }

 private:
  struct waiter {
    write_fn write;
    boost::asio::steady_timer timer;
    std::exception_ptr error;
    bool done = false;
  };

  boost::asio::awaitable<void> commit_pending() {
    while (!pending_.empty()) {
      if (auto since = std::chrono::steady_clock::now() - last_commit_; since < min_interval_ && !at_once_) {
        gather_.expires_after(min_interval_ - since);
        boost::system::error_code ec;
        co_await gather_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      }
      last_commit_ = std::chrono::steady_clock::now();
      at_once_ = false;
      auto batch = std::exchange(pending_, {});
      std::exception_ptr batch_error;
      try {
        auto write_all = [&batch](db::job_store& s) {
          for (auto* w : batch) w->error = nullptr;  // the store thread may run this again after a busy lock
          s.in_one_transaction([&batch](db::job_store& store) {
            for (auto* w : batch) {
              try {
                w->write(store);
              } catch (...) {
                w->error = std::current_exception();
              }
            }
          });
        };
        co_await db_.run(std::move(write_all));
      } catch (...) {
        batch_error = std::current_exception();  // BEGIN or COMMIT itself failed: nothing was written
      }
      for (auto* w : batch) {
        if (batch_error) w->error = batch_error;
        w->done = true;
        w->timer.cancel();
      }
    }
    committing_ = false;
  }

  boost::asio::any_io_executor executor_;
  db::store_thread& db_;
  std::chrono::steady_clock::duration min_interval_;
  boost::asio::steady_timer gather_;                   // the rest of min_interval, while busy
  std::chrono::steady_clock::time_point last_commit_;  // when the last batch was taken
  bool at_once_ = false;                               // a pending write must not wait for the interval
  std::vector<waiter*> pending_;                       // each lives in its caller's coroutine frame until done
  bool committing_ = false;
};

}  // namespace soundtrackd::queue
