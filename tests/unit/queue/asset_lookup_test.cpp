// Tests of asset_lookup with a scripted get-bulk request: lookups arriving while a request is
// out share the next one, a lone lookup goes at once, no request carries more than 200 ids or
// splits a caller's ids, each caller gets its own assets in its order (nullopt for what the
// answer lacked), and a failed request fails exactly the lookups it carried.
#include "soundtrackd/queue/asset_lookup.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace soundtrackd::queue {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using scenario::api_error;
using scenario::api_result;
using scenario::asset_info;

using lookup_result = api_result<asset_lookup::found_assets>;

// An API that takes 10 ms to answer, knows every id except those starting with "unknown",
// answers in reverse order, and fails the requests whose number is in `failing`.
class AssetLookupTest : public ::testing::Test {
 protected:
  asset_lookup make_lookup() {
    return asset_lookup(io_.get_executor(), [this](std::vector<std::string> ids) { return fetch(std::move(ids)); });
  }

  asio::awaitable<api_result<std::vector<asset_info>>> fetch(std::vector<std::string> ids) {
    requests_.push_back(ids);
    const auto number = requests_.size();
    asio::steady_timer answer_after(io_, 10ms);
    co_await answer_after.async_wait(asio::use_awaitable);
    if (number == throwing_) throw std::runtime_error("connection pool gone");
    if (number == failing_) co_return api_error{scenario::error_kind::transient, 503, "HTTP 503 from get-bulk", {}, {}};
    std::vector<asset_info> found;
    for (auto it = ids.rbegin(); it != ids.rend(); ++it)
      if (it->rfind("unknown", 0) != 0) found.push_back({*it, "https://cdn.test/" + *it + ".mp3", "audio/mpeg", {}});
    co_return found;
  }

  // Starts a lookup of `ids` now, its answer landing in `out`.
  void look_up(asset_lookup& lookup, std::vector<std::string> ids, std::optional<lookup_result>& out) {
    asio::co_spawn(
        io_,
        [&lookup, ids = std::move(ids), &out]() -> asio::awaitable<void> { out.emplace(co_await lookup.resolve(ids)); },
        asio::detached);
  }

  // "m0", "m1", ... "m<n-1>"
  static std::vector<std::string> numbered(const std::string& prefix, int n) {
    std::vector<std::string> out;
    out.reserve(n);
    for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
    return out;
  }

  // The url of each found asset, "-" for each one the answer lacked.
  static std::vector<std::string> urls(const std::optional<lookup_result>& r) {
    std::vector<std::string> out;
    if (!r || !*r) return out;
    for (const auto& a : **r) out.push_back(a ? a->url : "-");
    return out;
  }

  asio::io_context io_;
  std::vector<std::vector<std::string>> requests_;
  std::size_t failing_ = 0;   // the request number that fails (1-based; 0: none)
  std::size_t throwing_ = 0;  // the request number whose fetch throws
};

TEST_F(AssetLookupTest, LookupsArrivingWhileARequestIsOutShareTheNextOne) {
  auto lookup = make_lookup();
  std::optional<lookup_result> first, second, third;
  look_up(lookup, {"a1"}, first);
  io_.poll();  // the first request is out
  look_up(lookup, {"b1", "b2"}, second);
  look_up(lookup, {"c1"}, third);
  io_.run();
  ASSERT_EQ(requests_.size(), 2u);
  EXPECT_EQ(requests_[0], (std::vector<std::string>{"a1"})) << "a lone lookup waits for nothing";
  EXPECT_EQ(requests_[1], (std::vector<std::string>{"b1", "b2", "c1"}));
  EXPECT_EQ(urls(first), (std::vector<std::string>{"https://cdn.test/a1.mp3"}));
  EXPECT_EQ(urls(second), (std::vector<std::string>{"https://cdn.test/b1.mp3", "https://cdn.test/b2.mp3"}));
  EXPECT_EQ(urls(third), (std::vector<std::string>{"https://cdn.test/c1.mp3"}));
}

TEST_F(AssetLookupTest, AssetsTheAnswerLacksComeBackEmptyInTheirPlace) {
  auto lookup = make_lookup();
  std::optional<lookup_result> r;
  look_up(lookup, {"a1", "unknown-2", "a3"}, r);
  io_.run();
  EXPECT_EQ(urls(r), (std::vector<std::string>{"https://cdn.test/a1.mp3", "-", "https://cdn.test/a3.mp3"}));
}

TEST_F(AssetLookupTest, NoRequestCarriesMoreThanTwoHundredIdsNorSplitsACallersIds) {
  auto lookup = make_lookup();
  std::optional<lookup_result> opener;
  look_up(lookup, {"first"}, opener);
  io_.poll();
  std::vector<std::optional<lookup_result>> singles(250);
  for (std::size_t i = 0; i < singles.size(); ++i) look_up(lookup, {"s" + std::to_string(i)}, singles[i]);
  const auto many = numbered("m", 160);
  std::optional<lookup_result> big;
  look_up(lookup, many, big);
  io_.run();
  ASSERT_EQ(requests_.size(), 4u);
  EXPECT_EQ(requests_[1].size(), 200u);
  EXPECT_EQ(requests_[2].size(), 50u) << "the 160 ids of one caller do not fit beside the other 50";
  EXPECT_EQ(requests_[3], many);
  for (std::size_t i = 0; i < singles.size(); ++i)
    EXPECT_EQ(urls(singles[i]), (std::vector<std::string>{"https://cdn.test/s" + std::to_string(i) + ".mp3"}));
  ASSERT_TRUE(big && *big);
  EXPECT_EQ((*big)->size(), 160u);
  EXPECT_EQ((*big)->back()->id, "m159");
}

TEST_F(AssetLookupTest, MoreThanTwoHundredIdsOfOneCallerSendTheFirstTwoHundred) {
  auto lookup = make_lookup();
  const auto many = numbered("m", 201);
  std::optional<lookup_result> r;
  look_up(lookup, many, r);
  io_.run();
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(requests_[0].size(), 200u);
  auto got = urls(r);
  ASSERT_EQ(got.size(), 201u);
  EXPECT_EQ(got[199], "https://cdn.test/m199.mp3");
  EXPECT_EQ(got[200], "-") << "left for the caller to ask for alone";
}

TEST_F(AssetLookupTest, AFailedRequestFailsTheLookupsItCarriedAndTheNextOnesStillGo) {
  failing_ = 2;
  auto lookup = make_lookup();
  std::optional<lookup_result> first, second, third, later;
  look_up(lookup, {"a1"}, first);
  io_.poll();
  look_up(lookup, {"b1"}, second);
  look_up(lookup, {"c1"}, third);
  io_.run();
  EXPECT_EQ(urls(first), (std::vector<std::string>{"https://cdn.test/a1.mp3"}));
  for (auto* failed : {&second, &third}) {
    ASSERT_TRUE(failed->has_value());
    ASSERT_FALSE(**failed);
    EXPECT_EQ((*failed)->failure().message, "HTTP 503 from get-bulk");
    EXPECT_EQ((*failed)->failure().http_status, 503u);
  }
  io_.restart();
  look_up(lookup, {"d1"}, later);
  io_.run();
  EXPECT_EQ(urls(later), (std::vector<std::string>{"https://cdn.test/d1.mp3"}));
}

TEST_F(AssetLookupTest, AFetchThatThrowsIsATransientFailureOfItsLookups) {
  throwing_ = 1;
  auto lookup = make_lookup();
  std::optional<lookup_result> r;
  look_up(lookup, {"a1"}, r);
  io_.run();
  ASSERT_TRUE(r.has_value());
  ASSERT_FALSE(*r);
  EXPECT_EQ(r->failure().kind, scenario::error_kind::transient);
  EXPECT_EQ(r->failure().message, "connection pool gone");
}

TEST_F(AssetLookupTest, NoIdsNoRequest) {
  auto lookup = make_lookup();
  std::optional<lookup_result> r;
  look_up(lookup, {}, r);
  io_.run();
  EXPECT_TRUE(requests_.empty());
  ASSERT_TRUE(r && *r);
  EXPECT_TRUE((*r)->empty());
}

}  // namespace
}  // namespace soundtrackd::queue
