// Many rows at once while every endpoint misbehaves now and then (probabilistic faults):
// every row still succeeds with the right bytes, and a job is submitted twice only after an
// answer to a submit was lost.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <iostream>
#include <map>
#include <set>

#include "daemon_setup.hpp"

using namespace soundtrackd;
using namespace soundtrackd::test;
namespace json = boost::json;

TEST(Chaos, ThreeHundredRowsUnderFaultsAllSucceed) {
  constexpr int rows_count = 300;
  emulator_options eo;
  eo.job_duration = "1s";
  eo.url_ttl = "2s";
  daemon_setup stage(eo, daemon_setup::default_queue_toml + "max_attempts = 10\n");
  auto& emu = stage.emulator();
  // No drops on generate: a lost answer to a submit may rightly lead to a second submit.
  emu.set_faults(R"([
    {"endpoint": "generate", "probability": 0.10, "status": 429, "retry_after": "1", "seed": 1},
    {"endpoint": "generate", "probability": 0.10, "status": 503, "seed": 2},
    {"endpoint": "get_job", "probability": 0.05, "action": "drop", "seed": 3},
    {"endpoint": "get_job", "probability": 0.05, "action": "malformed", "seed": 4},
    {"endpoint": "get_job", "probability": 0.10, "status": 503, "seed": 5},
    {"endpoint": "cdn", "probability": 0.10, "action": "truncate", "seed": 6},
    {"endpoint": "get_bulk", "probability": 0.05, "status": 503, "seed": 7},
    {"endpoint": "get_bulk", "probability": 0.05, "action": "drop", "seed": 8}
  ])");
  stage.insert_rows(rows_count);

  auto start = std::chrono::steady_clock::now();
  auto result = stage.run_until_idle(300);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(result.exit_code, 0) << result.output;

  auto db = stage.open_db();
  auto failed = db.prepare("SELECT id, status, last_error FROM jobs WHERE status <> 'succeeded' ORDER BY id");
  int not_succeeded = 0;
  while (failed.step()) {
    ++not_succeeded;
    ADD_FAILURE() << "job " << failed.column_int64(0) << " ended " << failed.column_text(1) << ": "
                  << failed.column_text(2);
  }
  EXPECT_EQ(stage.count("status = 'succeeded'"), std::to_string(rows_count));

  auto stats = emu.stats();
  std::map<std::string, json::object> remote_jobs;
  for (auto& j : stats.at("jobs").as_array()) remote_jobs[json::value_to<std::string>(j.at("jobId"))] = j.as_object();

  auto rows = db.prepare(
      "SELECT j.id, j.remote_job_id, a.remote_asset_id, a.sha256, a.data FROM jobs j JOIN assets a ON a.job_id = j.id "
      "ORDER BY j.id");
  int verified = 0;
  std::set<std::int64_t> jobs_with_assets;
  while (rows.step()) {
    const auto id = rows.column_int64(0);
    jobs_with_assets.insert(id);
    auto remote = remote_jobs.find(rows.column_text(1));
    if (remote == remote_jobs.end()) {
      ADD_FAILURE() << "job " << id << " has an unknown remote job id " << rows.column_text(1);
      continue;
    }
    const auto& remote_asset = remote->second.at("assets").as_array().at(0).as_object();
    EXPECT_EQ(rows.column_text(2), json::value_to<std::string>(remote_asset.at("id"))) << "job " << id;
    auto blob = rows.column_blob(4);
    std::string bytes(reinterpret_cast<const char*>(blob.data()), blob.size());
    const auto expected = json::value_to<std::string>(remote_asset.at("sha256"));
    EXPECT_EQ(sha256_hex(bytes), expected) << "job " << id;
    EXPECT_EQ(rows.column_text(3), expected) << "job " << id;
    ++verified;
  }
  EXPECT_EQ(verified, rows_count) << "assets must have one row per job";
  EXPECT_EQ(jobs_with_assets.size(), static_cast<std::size_t>(rows_count));
  auto asset_count = db.prepare("SELECT count(*) FROM assets");
  ASSERT_TRUE(asset_count.step());
  EXPECT_EQ(asset_count.column_int64(0), rows_count);

  const auto duplicates = stats.at("duplicate_submits").as_int64();
  auto requeued_query = db.prepare("SELECT count(DISTINCT job_id) FROM job_events WHERE kind = 'requeued'");
  ASSERT_TRUE(requeued_query.step());
  const auto requeued = requeued_query.column_int64(0);
  const auto& requests = stats.at("requests");
  std::cout << "[ chaos ] " << rows_count << " rows, " << seconds << " s wall; submits " << stats.at("submits")
            << ", duplicate_submits " << duplicates << ", requeued rows " << requeued << ", not succeeded "
            << not_succeeded << "; requests " << json::serialize(requests) << "\n";
  EXPECT_LE(duplicates, requeued) << "a duplicate submit is only allowed after a lost answer to a submit";
}
