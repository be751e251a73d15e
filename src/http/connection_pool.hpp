// Keep-alive connections per origin, with a cap on how many are open at once and a
// queue of requests waiting for one.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "connection.hpp"

namespace soundtrackd::http {

class connection_pool {
  struct origin_pool;

 public:
  // A slot of an origin's cap, with the connection that fills it (none yet for a new
  // slot: the caller opens one and attaches it). Destroying the lease gives the slot back
  // and closes the connection, unless keep() said it may serve another request.
  class lease {
   public:
    lease(lease&& other) noexcept;
    lease& operator=(lease&&) = delete;
    ~lease();

    connection* get() const { return connection_.get(); }
    // The connection was idle in the pool: the server may have closed it meanwhile.
    bool reused() const { return reused_; }
    void attach(std::unique_ptr<connection> fresh);
    // Closes the connection but keeps the slot, for a retry on a fresh connection.
    void discard();
    // The exchange ended cleanly (whole response read, keep-alive): pool the connection.
    void keep() { keep_ = true; }

   private:
    friend class connection_pool;
    lease(connection_pool& pool, origin_pool& origin, std::unique_ptr<connection> c, bool reused);

    connection_pool* pool_;
    origin_pool* origin_;
    std::unique_ptr<connection> connection_;
    bool reused_;
    bool keep_ = false;
  };

  connection_pool(net::any_io_executor executor, int max_per_origin);
  ~connection_pool();
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;

  // A slot for `target`'s origin: the most recently used idle connection if one is still
  // open, else an empty slot if the origin is under its cap, else the first connection or
  // slot given back, waiting for it until `limit` (or until the caller is cancelled).
  net::awaitable<result<lease>> acquire(const url_target& target, deadline limit);

  // Closes every idle connection (shutdown); connections in use are not touched.
  void close_idle();

 private:
  using clock = std::chrono::steady_clock;

  struct idle_connection {
    std::unique_ptr<connection> open;
    clock::time_point since;
  };

  // A request waiting for a slot, listed in its origin while it lives. release() hands
  // it a slot by cancelling its timer: the timer is both its deadline and its wake-up.
  struct waiter {
    waiter(origin_pool& origin, const net::any_io_executor& executor, const deadline& limit);
    ~waiter();
    waiter(const waiter&) = delete;
    waiter& operator=(const waiter&) = delete;

    origin_pool& origin;
    net::steady_timer timer;
    bool granted = false;
    std::unique_ptr<connection> handed;  // a kept-alive connection, or none: a bare slot
  };

  struct origin_pool {
    explicit origin_pool(std::string k) : key(std::move(k)) {}
    std::string key;
    int in_use = 0;                     // leased slots, connected or not
    std::vector<idle_connection> idle;  // LIFO: the back was used most recently
    std::deque<waiter*> waiters;        // FIFO: first come, first served
  };

  void release(origin_pool& origin, std::unique_ptr<connection> c, bool keep);
  bool hand_to_waiter(origin_pool& origin, std::unique_ptr<connection>& c);
  void forget_if_unused(origin_pool& origin);

  net::any_io_executor executor_;
  int max_per_origin_;
  std::map<std::string, origin_pool, std::less<>> origins_;  // node-based: leases point into it
};

}  // namespace soundtrackd::http
