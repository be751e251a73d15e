// Runs job-store calls on one dedicated thread, so the event loop never waits on SQLite
// (a person holding the write lock in sqlite3, an fsync): the calling coroutine suspends
// and resumes on its own executor with the result, or the exception the call threw.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>

#include "soundtrackd/db/job_store.hpp"

namespace soundtrackd::db {

class store_thread {
 public:
  explicit store_thread(job_store& store) : store_(store) {}
  ~store_thread() { pool_.join(); }
  store_thread(const store_thread&) = delete;
  store_thread& operator=(const store_thread&) = delete;

  // co_await run([](job_store& s) { return s.counts(); });
  // `f` is taken by reference and moved into the spawned task: GCC 12 destroys by-value
  // class arguments of a call inside co_await twice (a known coroutine bug).
  template <class F>
  auto run(F&& f) -> boost::asio::awaitable<std::invoke_result_t<F&, job_store&>> {
    using R = std::invoke_result_t<F&, job_store&>;
    return boost::asio::co_spawn(
        pool_,
        [this, task = std::decay_t<F>(std::forward<F>(f))]() mutable -> boost::asio::awaitable<R> {
          co_return task(store_);
        },
        boost::asio::use_awaitable);
  }

  boost::asio::thread_pool::executor_type executor() { return pool_.get_executor(); }

 private:
  job_store& store_;
  boost::asio::thread_pool pool_{1};
};

}  // namespace soundtrackd::db
