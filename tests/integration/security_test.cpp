// Hostile input and secrets, with the real daemon against the HTTPS emulator: hostile API and
// CDN answers, odd but valid rows, TLS verification, and credentials that never leak.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "daemon_setup.hpp"
#include "valid_utf8.hpp"

using namespace soundtrackd;
using namespace soundtrackd::test;

namespace {

// Two attempts per step: a hostile answer ends the row quickly.
const std::string two_attempts_queue = daemon_setup::default_queue_toml + "max_attempts = 2\n";

struct row_outcome {
  std::string status;
  std::string last_error;
};

row_outcome outcome_of(const daemon_setup& stage, std::int64_t id) {
  auto db = stage.open_db();
  auto q = db.prepare("SELECT status, coalesce(last_error, '') FROM jobs WHERE id = ?1");
  q.bind_all(id);
  if (!q.step()) return {"(no row)", ""};
  return {q.column_text(0), q.column_text(1)};
}

std::int64_t insert_row(const daemon_setup& stage, const std::string& prompt, const std::string& name) {
  auto db = stage.open_db();
  db.prepare("INSERT INTO jobs (prompt, name) VALUES (?1, ?2)").bind_all(prompt, name).execute();
  return db.prepare("SELECT max(id) FROM jobs").first_row([](db::statement& r) { return r.column_int64(0); }).value();
}

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace

// Each hostile answer ends its row failed (or succeeded, where the answer is only odd) with a
// message naming the problem; the daemon exits 0 after every one of them.
TEST(HostileAnswers, EachEndsTheRowWithAClearMessage) {
  daemon_setup stage({}, two_attempts_queue);
  const std::string nested(100000, '[');
  struct hostile_case {
    std::string name;
    std::string faults;  // the emulator's fault rules
    std::string status;  // where the row ends
    std::string error;   // a part of last_error
  };
  const std::vector<hostile_case> cases = {
      {"oversized generate answer", R"([{"endpoint":"generate","count":10,"status":200,"pad_bytes":17825792,
          "body":"{\"job\":{\"jobId\":\"job_x\"}}"}])",
       "failed", "is larger than 16 MiB"},
      {"deep nesting", R"([{"endpoint":"get_job","count":1000,"status":200,"body":")" + nested + R"("}])", "failed",
       "malformed answer from GET /v1/jobs/job_"},
      {"missing status, unknown fields", R"([{"endpoint":"get_job","count":1000,"status":200,
          "body":"{\"job\":{\"jobId\":\"job_1\",\"surprise\":{\"x\":[1,2]}},\"extra\":true}"}])",
       "failed", "no job.status"},
      {"wrong types", R"([{"endpoint":"generate","count":10,"status":200,
          "body":"{\"job\":{\"jobId\":[\"job_1\"],\"status\":42,\"billing\":\"free\"}}"}])",
       "failed", "no job.jobId"},
      {"job id with path characters", R"([{"endpoint":"generate","count":1,"status":200,
          "body":"{\"job\":{\"jobId\":\"../../_emulator/reset?x=1#f\"}}"}])",
       "failed", "HTTP 404 from GET /v1/jobs/..%2F..%2F_emulator%2Freset%3Fx%3D1%23f"},
      // get-bulk refused, so the asset comes from GET /assets/{id}, whose answer is hostile.
      {"asset url with a file scheme", R"([{"endpoint":"get_bulk","count":1000,"status":404},
          {"endpoint":"get_asset","count":1000,"status":200,
          "body":"{\"asset\":{\"id\":\"a\",\"url\":\"file:///etc/passwd\",\"mimeType\":\"audio/mpeg\"}}"}])",
       "failed", "unsupported URL scheme in file:///etc/passwd (only http and https)"},
      {"asset url without a host", R"([{"endpoint":"get_bulk","count":1000,"status":404},
          {"endpoint":"get_asset","count":1000,"status":200,
          "body":"{\"asset\":{\"id\":\"a\",\"url\":\"https:///a.mp3?Signature=s\",\"mimeType\":\"audio/mpeg\"}}"}])",
       "failed", "https:///a.mp3"},
      {"redirect loop", R"([{"endpoint":"cdn","count":1000,"status":302,"location":"/cdn/loop.mp3"}])", "failed",
       "more than 5 redirects downloading from"},
      {"redirect from https to http", R"([{"endpoint":"cdn","count":1000,"status":302,
          "location":"http://127.0.0.1:9/cdn/a.mp3?Signature=s"}])",
       "failed", "refusing redirect from https to http"},
      {"invalid UTF-8 in an error", R"([{"endpoint":"generate","count":1,"status":400,
          "body_bytes":"{\"reason\":\"bad \u00ff\u00fe bytes\u0000\n\u001b[31m\"}"}])",
       "failed",
       "HTTP 400 from POST /v1/generate/custom/model_minimax-music-2-6: {\"reason\":\"bad \xEF\xBF\xBD\xEF\xBF\xBD "
       "bytes"},
      {"endless CDN body", R"([{"endpoint":"cdn","count":1000,"action":"endless"}])", "failed",
       "exceeds the limit of 20000 bytes"},
      {"CDN body longer than announced", R"([{"endpoint":"cdn","count":1000,"action":"overlong"}])", "succeeded", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    stage.emulator().reset();
    stage.emulator().set_faults(c.faults);
    const auto id = insert_row(stage, "hostile " + c.name, c.name);
    auto r = stage.run_until_idle();
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const auto row = outcome_of(stage, id);
    EXPECT_EQ(row.status, c.status) << row.last_error;
    if (c.error.empty()) {
      EXPECT_EQ(row.last_error, "");
    } else {
      EXPECT_NE(row.last_error.find(c.error), std::string::npos) << row.last_error;
    }
    EXPECT_TRUE(valid_utf8(row.last_error)) << row.last_error;
    EXPECT_EQ(row.last_error.find('\n'), std::string::npos) << row.last_error;
  }
  // The overlong body was cut at the announced length: the stored asset is exactly the asset.
  auto db = stage.open_db();
  auto q = db.prepare(
      "SELECT size_bytes, length(data) FROM assets JOIN jobs ON jobs.id = assets.job_id "
      "WHERE jobs.name = 'CDN body longer than announced'");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.column_int64(0), 20000);
  EXPECT_EQ(q.column_int64(1), 20000);
  // Nothing was named after the hostile job id, and the emulator was never reset through it.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(stage.dir().path()))
    EXPECT_EQ(entry.path().string().find("_emulator"), std::string::npos) << entry.path();
}

// Valid rows with odd text: each goes through the API and succeeds, the request carrying the
// text unchanged; the export file name stays a plain name.
TEST(OddRows, EmojiRightToLeftQuotesSqlAndLongLyricsSucceed) {
  daemon_setup stage;
  std::string lyrics_3500;
  for (int i = 0; i < 3500; ++i) lyrics_3500 += (i % 2) ? "\xC3\xA9" : "a";  // 3500 code points, 5250 bytes
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"\xF0\x9F\x8E\xB8 rock \xF0\x9F\xA5\x81 with emoji \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", "\xF0\x9F\x8E\xB5 Song"},
      {"\xD7\x9E\xD7\x95\xD7\xA1\xD7\x99\xD7\xA7\xD7\x94 \xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A\xD8\xA9 mixed RTL",
       "\xE2\x80\xAEgpj.exe"},
      {"it's a \"quoted\" `prompt` with \\backslashes\\ and 'single' quotes", "\"quoted\" 'name'"},
      {"'); DROP TABLE jobs; -- SELECT * FROM assets WHERE 1=1", "../../etc/passwd"},
      {"long lyrics", "lyrics"},
  };
  auto db = stage.open_db();
  for (const auto& [prompt, name] : rows) {
    db.prepare("INSERT INTO jobs (prompt, name, lyrics) VALUES (?1, ?2, ?3)")
        .bind_all(prompt, name, name == "lyrics" ? lyrics_3500 : std::string("[Verse]\nla la"))
        .execute();
  }
  EXPECT_EQ(db.prepare("SELECT length(lyrics) FROM jobs WHERE name = 'lyrics'")
                .first_row([](db::statement& r) { return r.column_int64(0); })
                .value(),
            3500);
  auto r = stage.run_until_idle();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(stage.count("status = 'succeeded'"), "5") << r.output;
  EXPECT_EQ(stage.count("1"), "5");  // the SQL-looking prompt dropped nothing

  // The API received every prompt byte for byte.
  std::vector<std::string> sent;
  const auto stats = stage.emulator().stats();
  for (const auto& job : stats.at("jobs").as_array()) sent.emplace_back(job.at("prompt").as_string());
  for (const auto& [prompt, name] : rows) EXPECT_NE(std::find(sent.begin(), sent.end(), prompt), sent.end()) << prompt;

  // Exported files (output_dir) have plain names in that directory, nowhere else.
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(stage.output_dir()))
    files.push_back(entry.path().filename().string());
  EXPECT_EQ(files.size(), 5u);
  for (const auto& file : files) {
    EXPECT_EQ(file.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"),
              std::string::npos)
        << file;
    EXPECT_NE(file.front(), '.');
  }
}

// TLS against the loopback HTTPS emulator: every kind of bad certificate ends the row with the
// verification error; the right ca_file works. No setting turns verification off.
TEST(TlsVerification, BadCertificatesFailWithTheReasonAndTheRightCaPasses) {
  temp_dir certificates;
  const test_ca ca = make_test_ca(certificates.path());
  struct tls_case {
    bad_certificate kind;
    bool with_ca_file;
    std::string reason;
  };
  const tls_case cases[] = {
      {bad_certificate::self_signed, false, "certificate verify failed (self-signed certificate)"},
      {bad_certificate::wrong_host, true, "certificate verify failed (IP address mismatch)"},
      {bad_certificate::expired, true, "certificate verify failed (certificate has expired)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.reason);
    const auto bad = make_bad_server_certificate(ca, certificates.path(), c.kind);
    emulator_options options;
    options.cert_file = bad.cert_file;
    options.key_file = bad.key_file;
    daemon_setup stage(options, two_attempts_queue);
    auto config = read_file(stage.config_path());
    const std::string ca_line = "ca_file = \"";
    const auto at = config.find(ca_line);
    ASSERT_NE(at, std::string::npos);
    const auto end = config.find('"', at + ca_line.size());
    config.replace(at, end + 1 - at, c.with_ca_file ? ca_line + ca.ca_file.string() + "\"" : "ca_file = \"\"");
    write_file(stage.config_path(), config);

    const auto id = insert_row(stage, "tls", "tls");
    auto r = stage.run_until_idle();
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const auto row = outcome_of(stage, id);
    EXPECT_EQ(row.status, "failed");
    EXPECT_NE(row.last_error.find("TLS handshake with 127.0.0.1:" + std::to_string(stage.emulator().port()) +
                                  " failed: " + c.reason),
              std::string::npos)
        << row.last_error;
  }

  daemon_setup good({}, two_attempts_queue);  // the emulator's certificate, its CA as ca_file
  insert_row(good, "tls", "tls");
  auto r = good.run_until_idle();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(good.count("status = 'succeeded'"), "1") << r.output;
}

// A batch with failures at debug level: the key, the secret and the Basic value appear in no
// log line, database byte, error text or command line, and never reach the CDN; signed CDN
// URLs are logged without their query strings.
TEST(CredentialSecrecy, NothingLeaksFromABatchWithFailures) {
  emulator_options options;
  options.api_key = "KEY-7d1f0c2a-unique";
  options.api_secret = "SECRET-93be44e1-unique";
  daemon_setup stage(options, two_attempts_queue);
  write_file(stage.config_path(), read_file(stage.config_path()) + "[log]\nlevel = \"debug\"\n");
  const std::string basic = base64(options.api_key + ":" + options.api_secret);
  const std::vector<std::string> secrets = {options.api_key, options.api_secret, basic};

  stage.emulator().set_faults(R"([
      {"endpoint": "generate", "count": 1, "status": 503},
      {"endpoint": "get_job", "count": 1, "action": "drop"},
      {"endpoint": "get_bulk", "count": 1, "status": 500},
      {"endpoint": "cdn", "count": 1, "status": 403, "body": "<Error>AccessDenied</Error>"},
      {"endpoint": "cdn", "count": 2, "action": "truncate"},
      {"endpoint": "get_job", "count": 1, "action": "remote_failure"}])");
  stage.insert_rows(6);
  insert_row(stage, "REJECT_ME please", "rejected");

  const auto log_file = stage.dir() / "daemon.log";
  background_process daemon({SOUNDTRACKD_BIN, "--config", stage.config_path(), "--exit-when-idle"},
                            stage.credentials_env(), log_file);
  const std::string cmdline = read_file("/proc/" + std::to_string(daemon.pid()) + "/cmdline");
  ASSERT_EQ(daemon.wait(120), 0) << read_file(log_file);

  const std::string log = read_file(log_file);
  EXPECT_GE(std::stoi(stage.count("status = 'failed'")), 2) << log;  // the rejected row and the remote failure
  EXPECT_GE(std::stoi(stage.count("status = 'succeeded'")), 4) << log;

  std::string errors;
  auto db = stage.open_db();
  db.prepare("SELECT coalesce(last_error, '') FROM jobs UNION ALL SELECT detail FROM job_events")
      .for_each_row([&](db::statement& r) { errors += r.column_text(0) + "\n"; });
  std::string database_bytes;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(stage.dir().path()))
    if (entry.is_regular_file() && entry.path().filename().string().starts_with("queue.db"))
      database_bytes += read_file(entry.path());

  for (const auto& secret : secrets) {
    SCOPED_TRACE(secret);
    EXPECT_EQ(log.find(secret), std::string::npos);
    EXPECT_EQ(errors.find(secret), std::string::npos);
    EXPECT_EQ(database_bytes.find(secret), std::string::npos);
    EXPECT_EQ(cmdline.find(secret), std::string::npos);
  }
  EXPECT_EQ(log.find("Basic "), std::string::npos);
  EXPECT_EQ(stage.emulator().stats().at("cdn_requests_with_credentials").as_int64(), 0);
  // CDN URLs appear (the 403 and the truncations are logged) but never their signatures.
  EXPECT_NE(log.find("/cdn/"), std::string::npos) << log;
  for (const char* query : {"Signature=", "Expires=", "Key-Pair-Id="}) {
    EXPECT_EQ(log.find(query), std::string::npos) << query;
    EXPECT_EQ(errors.find(query), std::string::npos) << query;
  }
}
