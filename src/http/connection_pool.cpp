// The connection pool: leases, idle reuse (LIFO), and slots handed to waiting requests.
#include "connection_pool.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

namespace soundtrackd::http {

namespace {

// Idle connections older than this are closed rather than reused. Servers, load
// balancers and NATs commonly drop idle connections after about a minute, and one that
// vanished without a FIN would only show it by eating a whole request timeout.
constexpr auto max_idle_time = std::chrono::seconds(50);

}  // namespace

connection_pool::lease::lease(connection_pool& pool, origin_pool& origin, std::unique_ptr<connection> c, bool reused)
    : pool_(&pool), origin_(&origin), connection_(std::move(c)), reused_(reused) {}

connection_pool::lease::lease(lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      origin_(other.origin_),
      connection_(std::move(other.connection_)),
      reused_(other.reused_),
      keep_(other.keep_) {}

connection_pool::lease::~lease() {
  if (pool_) pool_->release(*origin_, std::move(connection_), keep_);
}

void connection_pool::lease::attach(std::unique_ptr<connection> fresh) {
  connection_ = std::move(fresh);
  reused_ = false;
  keep_ = false;
}

void connection_pool::lease::discard() {
  connection_.reset();
  reused_ = false;
  keep_ = false;
}

connection_pool::waiter::waiter(origin_pool& o, const net::any_io_executor& executor, const deadline& limit)
    : origin(o), timer(executor, limit.at) {
  origin.waiters.push_back(this);
}

connection_pool::waiter::~waiter() { std::erase(origin.waiters, this); }

connection_pool::connection_pool(net::any_io_executor executor, int max_per_origin)
    : executor_(std::move(executor)), max_per_origin_(std::max(1, max_per_origin)) {}

connection_pool::~connection_pool() = default;

net::awaitable<result<connection_pool::lease>> connection_pool::acquire(const url_target& target, deadline limit) {
  std::string key = target.origin();
  origin_pool& origin = origins_.try_emplace(key, key).first->second;

  while (!origin.idle.empty()) {
    idle_connection candidate = std::move(origin.idle.back());
    origin.idle.pop_back();
    if (clock::now() - candidate.since < max_idle_time && candidate.open->reusable_after_idle()) {
      ++origin.in_use;
      co_return lease(*this, origin, std::move(candidate.open), true);
    }
  }
  if (origin.in_use < max_per_origin_) {
    ++origin.in_use;
    co_return lease(*this, origin, nullptr, false);
  }

  error_code ec;
  {
    waiter self(origin, executor_, limit);
    std::tie(ec) = co_await self.timer.async_wait(net::as_tuple(net::use_awaitable));
    if (self.granted) {
      const bool reused = self.handed != nullptr;
      co_return lease(*this, origin, std::move(self.handed), reused);
    }
  }
  std::string message = ec ? "cancelled while waiting for a free connection to " + target.authority()
                           : "timed out after " + format_duration(limit.limit) + " waiting for a free connection to " +
                                 target.authority();
  forget_if_unused(origin);
  co_return error{std::move(message)};
}

void connection_pool::close_idle() {
  for (auto it = origins_.begin(); it != origins_.end();) {
    it->second.idle.clear();
    const bool unused = it->second.in_use == 0 && it->second.waiters.empty();
    it = unused ? origins_.erase(it) : std::next(it);
  }
}

void connection_pool::release(origin_pool& origin, std::unique_ptr<connection> c, bool keep) {
  --origin.in_use;
  if (!keep) c.reset();  // closed; the slot is free either way
  if (!hand_to_waiter(origin, c) && c) origin.idle.push_back({std::move(c), clock::now()});
  forget_if_unused(origin);
}

bool connection_pool::hand_to_waiter(origin_pool& origin, std::unique_ptr<connection>& c) {
  while (!origin.waiters.empty()) {
    waiter* next = origin.waiters.front();
    origin.waiters.pop_front();
    // cancel() finds no pending wait when the waiter's deadline or cancellation has
    // already completed it: it is about to resume empty-handed, so pass over it.
    if (next->timer.cancel() == 0) continue;
    next->granted = true;
    next->handed = std::move(c);
    ++origin.in_use;
    return true;
  }
  return false;
}

void connection_pool::forget_if_unused(origin_pool& origin) {
  // Keeps the map as small as the set of origins in use, however many hosts redirects visit.
  if (origin.in_use == 0 && origin.idle.empty() && origin.waiters.empty()) origins_.erase(origins_.find(origin.key));
}

}  // namespace soundtrackd::http
