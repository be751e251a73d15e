// Runs job-store calls on one dedicated thread, so the event loop never waits on SQLite
// (a person holding the write lock in sqlite3, an fsync): the calling coroutine suspends
// and resumes on its own executor with the result, or the exception the call threw.
// The daemon's job store runs on one (store_thread); the HTTP API's queries run on threads
// of their own, each with its own connection (basic_store_thread<queue_admin>).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <thread>
#include <type_traits>

#include "soundtrackd/db/database.hpp"
#include "soundtrackd/db/job_store.hpp"
#include "soundtrackd/util/log.hpp"

namespace soundtrackd::db {

template <class Store>
class basic_store_thread {
 public:
  basic_store_thread(Store& store, logger_ptr log) : store_(store), log_(std::move(log)) {}
  ~basic_store_thread() { pool_.join(); }
  basic_store_thread(const basic_store_thread&) = delete;
  basic_store_thread& operator=(const basic_store_thread&) = delete;

  // co_await run([](job_store& s) { return s.counts(); });
  // `f` is taken by reference and moved into the spawned task: GCC 12 destroys by-value
  // class arguments of a call inside co_await twice (a known coroutine bug), so callers
  // also pass a named lambda.
  template <class F>
  auto run(F&& f) -> boost::asio::awaitable<std::invoke_result_t<F&, Store&>> {
    using R = std::invoke_result_t<F&, Store&>;
    return boost::asio::co_spawn(
        pool_,
        [this, task = std::decay_t<F>(std::forward<F>(f))]() mutable -> boost::asio::awaitable<R> {
          co_return call_until_unlocked(task);
        },
        boost::asio::use_awaitable);
  }

 private:
  // Another program may hold the write lock for longer than busy_timeout. A busy call
  // changed nothing (its transaction rolled back), so it is simply tried again; only this
  // thread waits, never the event loop.
  template <class F>
  auto call_until_unlocked(F& task) {
    using namespace std::chrono_literals;
    const auto waiting_since = std::chrono::steady_clock::now();
    auto last_warning = waiting_since - 10s;  // the first busy answer is worth a line
    for (;;) {
      try {
        return task(store_);
      } catch (const db_error& e) {
        if (!e.is_busy()) throw;
        auto now = std::chrono::steady_clock::now();
        if (now - last_warning >= 10s) {
          log_->warn("the queue database is locked by another program (waited {}s so far); waiting",
                     std::chrono::duration_cast<std::chrono::seconds>(now - waiting_since).count());
          last_warning = now;
        }
        std::this_thread::sleep_for(50ms);
      }
    }
  }

  Store& store_;
  logger_ptr log_;
  boost::asio::thread_pool pool_{1};
};

using store_thread = basic_store_thread<job_store>;

}  // namespace soundtrackd::db
