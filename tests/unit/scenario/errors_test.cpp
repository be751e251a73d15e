// Classification of every kind of API and CDN answer, and the JSON mapping of answers.
#include "soundtrackd/scenario/errors.hpp"

#include <gtest/gtest.h>

#include "soundtrackd/scenario/messages.hpp"

using namespace soundtrackd;
using namespace soundtrackd::scenario;
using namespace std::chrono_literals;

namespace {
api_error classify(call c, unsigned status, std::string body = "{}", std::optional<std::string> retry_after = {}) {
  return classify_http_error(c, "POST /v1/generate/custom/m", status, body, retry_after, 1'445'412'480.0);
}
}  // namespace

TEST(ScenarioErrors, StatusesMapToKinds) {
  EXPECT_EQ(classify(call::generate, 500).kind, error_kind::transient);
  EXPECT_EQ(classify(call::generate, 502).kind, error_kind::transient);
  EXPECT_EQ(classify(call::generate, 503).kind, error_kind::transient);
  EXPECT_EQ(classify(call::generate, 408).kind, error_kind::transient);
  EXPECT_EQ(classify(call::generate, 429).kind, error_kind::rate_limited);
  EXPECT_EQ(classify(call::generate, 400).kind, error_kind::permanent);
  EXPECT_EQ(classify(call::generate, 404).kind, error_kind::permanent);
  EXPECT_EQ(classify(call::generate, 422).kind, error_kind::permanent);
  EXPECT_EQ(classify(call::generate, 401).kind, error_kind::global);
  EXPECT_EQ(classify(call::generate, 403).kind, error_kind::global);
  EXPECT_EQ(classify(call::generate, 402).kind, error_kind::global);
  EXPECT_EQ(classify(call::get_job, 401).kind, error_kind::global);
  EXPECT_EQ(classify(call::get_job, 404).kind, error_kind::permanent);
}

TEST(ScenarioErrors, OutOfCreditsMessageIsGlobalWhateverTheStatus) {
  EXPECT_EQ(classify(call::generate, 400, R"({"reason":"Not enough creative units"})").kind, error_kind::global);
  EXPECT_EQ(classify(call::generate, 400, R"({"reason":"insufficient credits"})").kind, error_kind::global);
}

TEST(ScenarioErrors, CdnAnswersForADownload) {
  EXPECT_EQ(classify(call::download, 403).kind, error_kind::url_expired);
  EXPECT_EQ(classify(call::download, 404).kind, error_kind::url_expired);
  EXPECT_EQ(classify(call::download, 410).kind, error_kind::url_expired);
  EXPECT_EQ(classify(call::download, 500).kind, error_kind::transient);
  EXPECT_EQ(classify(call::download, 401).kind, error_kind::transient);
}

TEST(ScenarioErrors, MessageNamesStatusCallAndReason) {
  auto e = classify(call::generate, 400, R"({"reason":"sampleRate must be one of 16000"})");
  EXPECT_EQ(e.message, "HTTP 400 from POST /v1/generate/custom/m: sampleRate must be one of 16000");
  EXPECT_EQ(e.http_status, 400u);
}

TEST(ScenarioErrors, ErrorTextLooksInEachFieldInOrder) {
  EXPECT_EQ(error_text(R"({"message":"m","error":"e"})"), "m");
  EXPECT_EQ(error_text(R"({"error":"e","details":"d"})"), "e");
  EXPECT_EQ(error_text(R"({"details":{"actionName":"x"}})"), R"({"actionName":"x"})");
  EXPECT_EQ(error_text(R"({"reason":"r","message":"m"})"), "r");
  EXPECT_EQ(error_text("<html>Bad Gateway</html>"), "<html>Bad Gateway</html>");
  EXPECT_EQ(error_text(""), "");
  EXPECT_EQ(error_text(std::string(1000, 'x')).size(), 303u);  // shortened with "..."
}

// A hostile or broken server's bytes end up in last_error, the logs and JSON output: they are
// kept as one line of valid UTF-8, however they arrive.
TEST(ScenarioErrors, ErrorTextIsOneLineOfValidUtf8) {
  EXPECT_EQ(error_text("bad \xFF\xFE bytes"), "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
  EXPECT_EQ(error_text("overlong \xC0\xAF slash"), "overlong \xEF\xBF\xBD\xEF\xBF\xBD slash");
  EXPECT_EQ(error_text("surrogate \xED\xA0\x80."), "surrogate \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD.");
  EXPECT_EQ(error_text("line\r\nbreak\ttab\x1B[31mred"), "line  break tab [31mred");
  EXPECT_EQ(error_text("caf\xC3\xA9 \xF0\x9F\x8E\xB5"), "caf\xC3\xA9 \xF0\x9F\x8E\xB5");  // valid text stays
  // Cut at a character boundary: 299 ASCII bytes and a 2-byte character do not fit in 300.
  const auto cut = error_text(std::string(299, 'x') + "\xC3\xA9tail");
  EXPECT_EQ(cut, std::string(299, 'x') + "...");
  // Invalid UTF-8 inside a JSON body makes it not JSON: the raw body, cleaned, is the text.
  EXPECT_EQ(error_text("{\"reason\":\"\xFF\"}"), "{\"reason\":\"\xEF\xBF\xBD\"}");
  auto e = classify(call::get_job, 500, "\xFF\n");
  EXPECT_EQ(e.message, "HTTP 500 from POST /v1/generate/custom/m: \xEF\xBF\xBD ");
}

TEST(ScenarioErrors, ConcurrencyCeilingIsRead) {
  auto e = classify(call::generate, 429,
                    R"({"reason":"Too many jobs","details":{"actionName":"generate","actionLimit":4}})");
  EXPECT_EQ(e.kind, error_kind::rate_limited);
  ASSERT_TRUE(e.action_limit);
  EXPECT_EQ(*e.action_limit, 4);
  EXPECT_FALSE(classify(call::generate, 429).action_limit);
}

TEST(ScenarioErrors, RetryAfterSecondsAndHttpDate) {
  EXPECT_EQ(parse_retry_after("120", 0), std::optional<duration>(120s));
  EXPECT_EQ(parse_retry_after(" 3 ", 0), std::optional<duration>(3s));
  // 1445412480 is Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", 1'445'412'480.0), std::optional<duration>(30s));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", 1'445'412'480.0), std::optional<duration>(0s));
  EXPECT_FALSE(parse_retry_after("soon", 0));
  // Hostile or absurd values are capped at an hour (the server is asked again then).
  EXPECT_EQ(parse_retry_after("3600", 0), std::optional<duration>(1h));
  EXPECT_EQ(parse_retry_after("999999999", 0), std::optional<duration>(1h));
  EXPECT_EQ(parse_retry_after("99999999999999999999", 0), std::optional<duration>(1h));
  EXPECT_EQ(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", 1'445'412'480.0), std::optional<duration>(1h));
  EXPECT_FALSE(parse_retry_after("", 0));
  EXPECT_EQ(classify(call::generate, 503, "{}", "5").retry_after, std::optional<duration>(5s));
}

TEST(ScenarioErrors, TransportErrorsAreTransient) {
  auto e = classify_transport_error("GET /v1/jobs/j", "connection reset by 127.0.0.1:443");
  EXPECT_EQ(e.kind, error_kind::transient);
  EXPECT_EQ(e.http_status, 0u);
  EXPECT_EQ(e.message, "connection reset by 127.0.0.1:443 (GET /v1/jobs/j)");
}

TEST(ScenarioErrors, RemoteStatuses) {
  EXPECT_EQ(classify_remote_status("success"), remote_state::succeeded);
  EXPECT_EQ(classify_remote_status("failure"), remote_state::failed);
  EXPECT_EQ(classify_remote_status("failed"), remote_state::failed);
  EXPECT_EQ(classify_remote_status("canceled"), remote_state::canceled);
  for (auto s : {"pending", "warming-up", "queued", "in-progress", "finalizing", "brand-new"})
    EXPECT_EQ(classify_remote_status(s), remote_state::running) << s;
  EXPECT_TRUE(is_known_remote_status("finalizing"));
  EXPECT_FALSE(is_known_remote_status("brand-new"));
}

TEST(ScenarioMessages, GenerateBodyHasEveryField) {
  db::job_request r;
  r.prompt = "lofi \"beats\"";
  r.lyrics = "[Verse]\nla";
  r.is_instrumental = true;
  r.sample_rate = 32000;
  r.bitrate = 128000;
  EXPECT_EQ(generate_body(r),
            R"({"prompt":"lofi \"beats\"","lyrics":"[Verse]\nla","isInstrumental":true,"lyricsOptimizer":false,)"
            R"("sampleRate":32000,"bitrate":128000})");
}

TEST(ScenarioMessages, GenerateAnswer) {
  auto ok =
      parse_generate_answer(R"({"job":{"jobId":"job_1","billing":{"cuCost":7}},"creativeUnitsCost":5})", "POST x");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->job_id, "job_1");
  EXPECT_EQ(ok->cost_cu, 7.0);
  auto fallback = parse_generate_answer(R"({"job":{"id":"job_2"},"creativeUnitsCost":5})", "POST x");
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->job_id, "job_2");
  EXPECT_EQ(fallback->cost_cu, 5.0);
  auto bad = parse_generate_answer(R"({"job":{}})", "POST x");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.failure().kind, error_kind::transient);
  EXPECT_EQ(bad.failure().message, "malformed answer from POST x: no job.jobId");
  EXPECT_FALSE(parse_generate_answer("not json", "POST x"));
}

TEST(ScenarioMessages, JobAnswer) {
  auto j = parse_job_answer(
      R"({"job":{"jobId":"job_1","status":"failure","progress":0.4,"metadata":{"assetIds":["a","b"],"error":"E","hint":"H"}}})",
      "GET x");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->status, "failure");
  EXPECT_DOUBLE_EQ(j->progress, 0.4);
  EXPECT_EQ(j->asset_ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(j->error, "E");
  EXPECT_EQ(j->hint, "H");
  EXPECT_FALSE(parse_job_answer(R"({"job":{"jobId":"x"}})", "GET x"));
  auto clamped = parse_job_answer(R"({"job":{"status":"queued","progress":7}})", "GET x");
  ASSERT_TRUE(clamped);
  EXPECT_DOUBLE_EQ(clamped->progress, 1.0);
}

TEST(ScenarioMessages, JobAnswerRunTimeComesFromTheStatusHistoryOfASucceededJob) {
  const std::string history =
      R"("statusHistory":[{"status":"pending","date":"2026-11-29T10:00:00.250Z"},)"
      R"({"status":"in-progress","date":"2026-11-29T10:00:30Z"},{"status":"success","date":"2026-11-29T10:01:31.750Z"}])";
  auto done = parse_job_answer(R"({"job":{"status":"success",)" + history + "}}", "GET x");
  ASSERT_TRUE(done);
  ASSERT_TRUE(done->run_seconds);
  EXPECT_DOUBLE_EQ(*done->run_seconds, 91.5);
  auto running = parse_job_answer(R"({"job":{"status":"in-progress",)" + history + "}}", "GET x");
  ASSERT_TRUE(running);
  EXPECT_FALSE(running->run_seconds) << "only a finished job has a run time";
  for (const char* odd :
       {R"({"job":{"status":"success"}})", R"({"job":{"status":"success","statusHistory":[]}})",
        R"({"job":{"status":"success","statusHistory":[{"status":"success","date":"yesterday"}]}})",
        R"({"job":{"status":"success","statusHistory":[{"status":"pending","date":"2026-11-29T10:00:00Z"}]}})",
        R"({"job":{"status":"success","statusHistory":[{"status":"pending","date":"2026-11-29T10:00:00Z"},)"
        R"({"status":"success","date":"2026-11-29T09:00:00Z"}]}})",
        R"({"job":{"status":"success","statusHistory":{"status":"success"}}})"}) {
    auto j = parse_job_answer(odd, "GET x");
    ASSERT_TRUE(j) << odd;
    EXPECT_FALSE(j->run_seconds) << odd;
  }
}

TEST(ScenarioMessages, AssetAnswer) {
  auto a = parse_asset_answer(
      R"({"asset":{"id":"a1","url":"https://cdn/x?Signature=s","mimeType":"audio/mpeg","size":12}})", "GET x");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->url, "https://cdn/x?Signature=s");
  EXPECT_EQ(a->mime_type, "audio/mpeg");
  EXPECT_EQ(a->size, std::optional<std::uint64_t>(12));
  EXPECT_FALSE(parse_asset_answer(R"({"asset":{"id":"a1"}})", "GET x"));
}

// get-bulk: every usable entry, in the answer's order; an entry without an id or a url is left
// out (that asset is then asked for alone), and a body without the array is malformed.
TEST(ScenarioMessages, BulkAssetsAnswer) {
  auto assets =
      parse_bulk_assets_answer(R"({"assets":[{"id":"a2","url":"https://cdn/2","mimeType":"audio/mpeg","size":20000},)"
                               R"({"id":"a1","url":"https://cdn/1"},{"id":"a3"},{"url":"https://cdn/4"},42,)"
                               R"({"id":"a5","url":"https://cdn/5","size":1e300}]})",
                               "POST /v1/assets/get-bulk");
  ASSERT_TRUE(assets);
  ASSERT_EQ(assets->size(), 2u);
  EXPECT_EQ((*assets)[0].id, "a2");
  EXPECT_EQ((*assets)[0].url, "https://cdn/2");
  EXPECT_EQ((*assets)[0].mime_type, "audio/mpeg");
  EXPECT_EQ((*assets)[0].size, std::optional<std::uint64_t>(20000));
  EXPECT_EQ((*assets)[1].id, "a1");
  EXPECT_FALSE((*assets)[1].size);

  auto empty = parse_bulk_assets_answer(R"({"assets":[]})", "POST x");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  for (const auto* body : {R"({"asset":{"id":"a1","url":"u"}})", R"({"assets":{}})", "[]", "not json"}) {
    auto bad = parse_bulk_assets_answer(body, "POST /v1/assets/get-bulk");
    ASSERT_FALSE(bad) << body;
    EXPECT_EQ(bad.failure().message.rfind("malformed answer from POST /v1/assets/get-bulk: ", 0), 0u)
        << bad.failure().message;
  }
  EXPECT_EQ(parse_bulk_assets_answer(R"({"assets":{}})", "POST x").failure().message,
            "malformed answer from POST x: no assets array");
}

TEST(ScenarioMessages, BulkAssetsBody) {
  EXPECT_EQ(bulk_assets_body({"a1", "a\"2"}), R"({"assetIds":["a1","a\"2"]})");
  EXPECT_EQ(bulk_assets_body({}), R"({"assetIds":[]})");
}

TEST(ScenarioMessages, DryRunAnswer) {
  auto cost = parse_dry_run_answer(R"({"creativeUnitsCost":12.5})", "POST x");
  ASSERT_TRUE(cost);
  EXPECT_DOUBLE_EQ(*cost, 12.5);
  EXPECT_FALSE(parse_dry_run_answer("{}", "POST x"));
}
