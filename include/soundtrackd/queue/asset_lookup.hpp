// Asset lookups of jobs that finish together share one request: POST /assets/get-bulk
// resolves up to 200 asset ids at once. Lookups that arrive while a request is out go
// together in the next one, so a lone job waits for nothing, and a wave of 500 jobs finishing
// within a second costs a handful of requests instead of 500 (each of which would also take a
// token of max_requests_per_second).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "soundtrackd/scenario/types.hpp"

namespace soundtrackd::queue {

class asset_lookup {
 public:
  // One request for `ids` (at most max_ids): the assets the API found among them, in any
  // order, or why the request failed.
  using fetch_fn = std::function<boost::asio::awaitable<scenario::api_result<std::vector<scenario::asset_info>>>(
      std::vector<std::string> ids)>;
  // Per id asked for, its asset, or nullopt when the answer did not have it.
  using found_assets = std::vector<std::optional<scenario::asset_info>>;

  static constexpr std::size_t max_ids = 200;  // the API's limit for one get-bulk request

  asset_lookup(boost::asio::any_io_executor executor, fetch_fn fetch)
      : executor_(std::move(executor)), fetch_(std::move(fetch)) {}

  // The caller resumes once the request carrying its ids was answered. A caller's ids are
  // never split between requests; beyond max_ids of them, the rest come back as nullopt.
  boost::asio::awaitable<scenario::api_result<found_assets>> resolve(const std::vector<std::string>& ids) {
    if (ids.empty()) co_return found_assets{};
    waiter w{ids, boost::asio::steady_timer(executor_), std::nullopt};
    w.timer.expires_at(boost::asio::steady_timer::time_point::max());
    pending_.push_back(&w);
    if (!fetching_) {
      fetching_ = true;
      boost::asio::co_spawn(executor_, fetch_pending(), [](std::exception_ptr) {});  // it catches everything
    }
    // fetch_pending() cancels the timer once the answer is in; only the answer says so.
    while (!w.answer) {
      boost::system::error_code ec;
      co_await w.timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
    co_return std::move(*w.answer);
  }

 private:
  struct waiter {
    const std::vector<std::string>& ids;
    boost::asio::steady_timer timer;
    std::optional<scenario::api_result<found_assets>> answer;
  };

  boost::asio::awaitable<void> fetch_pending() {
    while (!pending_.empty()) {
      std::vector<waiter*> batch;
      std::vector<std::string> ids;
      while (!pending_.empty() && (batch.empty() || ids.size() + pending_.front()->ids.size() <= max_ids)) {
        auto* w = pending_.front();
        pending_.pop_front();
        batch.push_back(w);
        for (const auto& id : w->ids)
          if (ids.size() < max_ids) ids.push_back(id);
      }
      scenario::api_result<std::vector<scenario::asset_info>> answer = std::vector<scenario::asset_info>{};
      try {
        auto request = fetch_(std::move(ids));  // named: GCC 12 mishandles by-value arguments inside co_await
        answer = co_await std::move(request);
      } catch (const std::exception& e) {
        answer = scenario::api_error{scenario::error_kind::transient, 0, e.what(), {}, {}};
      }
      std::unordered_map<std::string, const scenario::asset_info*> by_id;
      if (answer)
        for (const auto& asset : *answer) by_id.emplace(asset.id, &asset);
      for (auto* w : batch) {
        if (answer) {
          found_assets found;
          for (const auto& id : w->ids) {
            auto it = by_id.find(id);
            found.push_back(it == by_id.end() ? std::nullopt : std::optional(*it->second));
          }
          w->answer.emplace(std::move(found));
        } else {
          w->answer.emplace(answer.failure());
        }
        w->timer.cancel();
      }
    }
    fetching_ = false;
  }

  boost::asio::any_io_executor executor_;
  fetch_fn fetch_;
  std::deque<waiter*> pending_;  // each lives in its caller's coroutine frame until answered
  bool fetching_ = false;
};

}  // namespace soundtrackd::queue
