// The status server's job API as a client meets it: the real daemon, the emulator, a real
// queue database, and requests over loopback (curl, or raw sockets for the hostile ones).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "daemon_setup.hpp"

using namespace soundtrackd;
using namespace soundtrackd::test;
namespace json = boost::json;

namespace {

// A running daemon with its status server on 127.0.0.1 (any port).
class api_stage {
 public:
  explicit api_stage(const std::string& server_toml = {}, emulator_options eo = {}) : stage_(std::move(eo)) {
    stage_.listen_on_any_port();
    if (!server_toml.empty()) write_file(stage_.config_path(), read_file(stage_.config_path()) + server_toml);
  }
  void start() {
    daemon_ = stage_.start();
    base_ = stage_.status_url(20);
  }
  ~api_stage() {
    if (daemon_) {
      daemon_->signal(SIGTERM);
      daemon_->wait(10);
    }
  }

  daemon_setup& stage() { return stage_; }
  const std::string& base() const { return base_; }
  unsigned short port() const { return static_cast<unsigned short>(std::stoi(base_.substr(base_.rfind(':') + 1))); }
  std::string log() const { return read_file(stage_.dir() / "daemon.log"); }

  http_reply get(const std::string& path, const std::vector<std::string>& args = {}) const {
    return curl_request(stage_.dir().path(), "GET", base_ + path, {}, args);
  }
  http_reply post(const std::string& path, const std::string& body, const std::vector<std::string>& args = {}) const {
    return curl_request(stage_.dir().path(), "POST", base_ + path, body, args);
  }
  json::object get_json(const std::string& path) const {
    auto reply = get(path);
    EXPECT_EQ(reply.status, 200) << path << ": " << reply.body << reply.curl_error;
    return json::parse(reply.body).as_object();
  }

  // Rows that stay queued (their run_after is an hour away), so cancel/retry/priority find them so.
  void insert_waiting_rows(int count, const std::string& batch = "later") {
    auto db = stage_.open_db();
    for (int i = 0; i < count; ++i)
      db.prepare("INSERT INTO jobs (prompt, name, batch, run_after) VALUES ('waiting " + std::to_string(i) +
                 "', 'Waiting', '" + batch + "', unixepoch('now', '+1 hour'))")
          .execute();
  }

 private:
  daemon_setup stage_;
  std::unique_ptr<background_process> daemon_;
  std::string base_;
};

std::string error_of(const http_reply& reply) {
  auto parsed = json::parse(reply.body);
  return std::string(parsed.as_object().at("error").as_string());
}

std::string field_of(const http_reply& reply) {
  auto parsed = json::parse(reply.body).as_object();
  return parsed.contains("field") ? std::string(parsed.at("field").as_string()) : std::string();
}

// A TCP connection to 127.0.0.1:port, for what curl will not send.
class raw_socket {
 public:
  explicit raw_socket(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      throw std::runtime_error("connect() failed");
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~raw_socket() { ::close(fd_); }
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;

  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // Everything until the server closes the connection (or 5 s pass without a byte).
  std::string receive_all() {
    std::string out;
    char chunk[4096];
    for (;;) {
      auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      out.append(chunk, static_cast<std::size_t>(n));
    }
    return out;
  }
  // True once the server has closed its side (recv returns 0 or a reset).
  bool closed_by_server() {
    char byte;
    auto n = ::recv(fd_, &byte, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

 private:
  int fd_;
};

}  // namespace

TEST(Api, ListsShowsAndStreamsWhatTheDaemonStored) {
  api_stage api;
  auto& stage = api.stage();
  {
    auto db = stage.open_db();
    for (int i = 0; i < 4; ++i)
      db.prepare("INSERT INTO jobs (prompt, name, batch) VALUES ('Calm Piano " + std::to_string(i) + "', 'Night " +
                 std::to_string(i) + "', 'night')")
          .execute();
    db.exec("INSERT INTO jobs (prompt, name, batch) VALUES ('loud drums', 'Day', 'day')");
  }
  api.start();
  ASSERT_TRUE(wait_until([&] { return stage.count("status = 'succeeded'") == "5"; }, 60)) << api.log();

  // The list: newest first, every promised field, filters and paging.
  auto all = api.get_json("/v1/jobs");
  EXPECT_EQ(all.at("total").as_int64(), 5);
  auto jobs = all.at("jobs").as_array();
  ASSERT_EQ(jobs.size(), 5u);
  EXPECT_EQ(jobs[0].at("id").as_int64(), 5);
  EXPECT_EQ(jobs[4].at("id").as_int64(), 1);
  for (auto key : {"id", "status", "priority", "batch", "name", "prompt", "attempts", "remote_job_id", "progress",
                   "last_error", "created_at", "updated_at", "submitted_at", "finished_at"})
    EXPECT_TRUE(jobs[0].as_object().contains(key)) << key;
  EXPECT_EQ(jobs[0].at("status").as_string(), "succeeded");

  auto night = api.get_json("/v1/jobs?batch=night&limit=2&offset=1");
  EXPECT_EQ(night.at("total").as_int64(), 4);
  EXPECT_EQ(night.at("limit").as_int64(), 2);
  EXPECT_EQ(night.at("offset").as_int64(), 1);
  ASSERT_EQ(night.at("jobs").as_array().size(), 2u);
  EXPECT_EQ(night.at("jobs").as_array()[0].at("id").as_int64(), 3);

  auto searched = api.get_json("/v1/jobs?q=CALM%20piano%202");
  ASSERT_EQ(searched.at("total").as_int64(), 1);
  EXPECT_EQ(searched.at("jobs").as_array()[0].at("name").as_string(), "Night 2");
  EXPECT_EQ(api.get_json("/v1/jobs?q=day").at("total").as_int64(), 1);  // the name matches too
  EXPECT_EQ(api.get_json("/v1/jobs?status=queued,failed").at("total").as_int64(), 0);
  EXPECT_EQ(api.get_json("/v1/jobs?status=succeeded").at("total").as_int64(), 5);

  auto bad_status = api.get("/v1/jobs?status=queued,done");
  EXPECT_EQ(bad_status.status, 400);
  EXPECT_EQ(field_of(bad_status), "status");
  EXPECT_NE(error_of(bad_status).find("'done'"), std::string::npos) << bad_status.body;
  auto bad_limit = api.get("/v1/jobs?limit=0");
  EXPECT_EQ(bad_limit.status, 400);
  EXPECT_EQ(field_of(bad_limit), "limit");

  // One job: every column, its assets and its timeline.
  auto one = api.get_json("/v1/jobs/2");
  const auto& job = one.at("job").as_object();
  for (auto key : {"id",
                   "prompt",
                   "lyrics",
                   "is_instrumental",
                   "lyrics_optimizer",
                   "sample_rate",
                   "bitrate",
                   "priority",
                   "batch",
                   "name",
                   "run_after",
                   "max_attempts",
                   "created_at",
                   "status",
                   "attempts",
                   "remote_job_id",
                   "last_error",
                   "updated_at",
                   "submitted_at",
                   "finished_at",
                   "next_attempt_at",
                   "progress",
                   "cost_cu"})
    EXPECT_TRUE(job.contains(key)) << key;
  EXPECT_EQ(job.at("prompt").as_string(), "Calm Piano 1");
  const auto& assets = one.at("assets").as_array();
  ASSERT_EQ(assets.size(), 1u);
  for (auto key : {"id", "remote_asset_id", "mime_type", "size_bytes", "sha256", "created_at"})
    EXPECT_TRUE(assets[0].as_object().contains(key)) << key;
  std::vector<std::string> kinds;
  for (const auto& event : one.at("events").as_array()) kinds.emplace_back(event.at("kind").as_string());
  EXPECT_EQ(kinds.front(), "submitted");
  EXPECT_EQ(kinds.back(), "succeeded");

  auto missing = api.get("/v1/jobs/999");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(error_of(missing), "no job 999");
  EXPECT_EQ(api.get("/v1/jobs/abc").status, 404);

  // The audio: the stored bytes, whole and by range.
  const auto sha256 = std::string(assets[0].at("sha256").as_string());
  const auto size = assets[0].at("size_bytes").to_number<std::int64_t>();
  const auto asset_id = assets[0].at("id").as_int64();
  auto audio = api.get("/v1/jobs/2/audio");
  ASSERT_EQ(audio.status, 200) << audio.body;
  EXPECT_EQ(audio.header("Content-Type"), std::string(assets[0].at("mime_type").as_string()));
  EXPECT_EQ(audio.header("Accept-Ranges"), "bytes");
  EXPECT_EQ(static_cast<std::int64_t>(audio.body.size()), size);
  EXPECT_EQ(sha256_hex(audio.body), sha256);
  EXPECT_EQ(api.get("/v1/jobs/2/audio/" + std::to_string(asset_id)).body, audio.body);

  auto part = api.get("/v1/jobs/2/audio", {"-H", "Range: bytes=100-1099"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.header("Content-Range"), "bytes 100-1099/" + std::to_string(size));
  EXPECT_EQ(part.body, audio.body.substr(100, 1000));
  auto tail = api.get("/v1/jobs/2/audio", {"-H", "Range: bytes=-10"});
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, audio.body.substr(audio.body.size() - 10));
  auto from = api.get("/v1/jobs/2/audio", {"-H", "Range: bytes=" + std::to_string(size - 5) + "-"});
  EXPECT_EQ(from.body, audio.body.substr(audio.body.size() - 5));
  auto beyond = api.get("/v1/jobs/2/audio", {"-H", "Range: bytes=" + std::to_string(size) + "-"});
  EXPECT_EQ(beyond.status, 416);
  EXPECT_EQ(beyond.header("Content-Range"), "bytes */" + std::to_string(size));
  auto head = api.get("/v1/jobs/2/audio", {"-I"});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), std::to_string(size));
  EXPECT_EQ(api.get("/v1/jobs/2/audio/99999").status, 404);
  EXPECT_EQ(api.get("/v1/jobs/999/audio").status, 404);

  // The dashboard's overview.
  auto overview = api.get_json("/v1/overview");
  EXPECT_EQ(overview.at("counts").at("succeeded").as_int64(), 5);
  EXPECT_EQ(overview.at("counts").at("queued").as_int64(), 0);
  const auto& batches = overview.at("batches").as_array();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[1].at("batch").as_string(), "night");
  EXPECT_EQ(batches[1].at("total").as_int64(), 4);
  EXPECT_EQ(batches[1].at("done").as_int64(), 4);
  EXPECT_GT(batches[1].at("rate_per_minute").to_number<double>(), 0);
  EXPECT_EQ(batches[1].at("eta_seconds").to_number<double>(), 0);
  std::int64_t completed = 0;
  const auto& throughput = overview.at("throughput").as_array();
  EXPECT_GE(throughput.size(), 360u);
  for (const auto& minute : throughput) completed += minute.at("completed").as_int64();
  EXPECT_EQ(completed, 5);
  EXPECT_TRUE(overview.at("health").at("ok").as_bool());
  EXPECT_TRUE(overview.at("health").at("reason").is_null());
  EXPECT_EQ(overview.at("queue_lag_seconds").to_number<double>(), 0);
  EXPECT_TRUE(overview.contains("rate_limit_waits"));
  EXPECT_TRUE(overview.contains("retries"));

  auto metrics = api.get("/metrics");
  EXPECT_NE(metrics.body.find("soundtrackd_jobs{status=\"succeeded\"} 5\n"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("soundtrackd_queue_lag_seconds 0"), std::string::npos) << metrics.body;
  auto stored_bytes = [&] {
    auto db = stage.open_db();
    return db.prepare("SELECT sum(size_bytes) FROM assets").first_row([](db::statement& r) {
      return r.column_int64(0);
    });
  }();
  for (const std::string& line : std::vector<std::string>{
           "soundtrackd_submits_total{outcome=\"ok\"} 5\n", "soundtrackd_downloads_total{outcome=\"ok\"} 5\n",
           "soundtrackd_downloaded_bytes_total " + std::to_string(stored_bytes.value_or(-1)) + "\n",
           "soundtrackd_api_request_duration_seconds_count{call=\"generate\"} 5\n",
           // Asset lookups of jobs finishing together share get-bulk requests: as many as the emulator saw.
           "soundtrackd_api_request_duration_seconds_count{call=\"get_bulk\"} " +
               std::to_string(stage.emulator().stats().at("requests").at("get_bulk").as_int64()) + "\n",
           "soundtrackd_api_request_duration_seconds_count{call=\"get_asset\"} 0\n",
           "soundtrackd_polls_total{outcome=\"ok\"} ", "soundtrackd_rate_limit_waits_total 0\n"})
    EXPECT_NE(metrics.body.find(line), std::string::npos) << line << " not in:\n" << metrics.body;

  auto unknown = api.get("/v2/nothing");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(error_of(unknown), "no such resource: /v2/nothing");
  EXPECT_EQ(api.post("/v1/overview", "{}").status, 405);
}

TEST(Api, CancelsRetriesAndReprioritisesRows) {
  api_stage api;
  api.insert_waiting_rows(2);
  api.start();
  auto& stage = api.stage();

  auto cancelled = api.post("/v1/jobs/1/cancel", "{}");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  auto job = json::parse(cancelled.body).at("job").as_object();
  EXPECT_EQ(job.at("status").as_string(), "cancelled");
  EXPECT_TRUE(std::string(job.at("last_error").as_string()).starts_with("cancelled via the HTTP API at "))
      << cancelled.body;
  EXPECT_EQ(stage.count("id = 1 AND status = 'cancelled'"), "1");

  auto again = api.post("/v1/jobs/1/cancel", "{}");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(error_of(again),
            "job 1 is cancelled: only queued, submitting, running or downloading rows can be cancelled");

  auto refused_priority = api.post("/v1/jobs/1/priority", R"({"priority": 3})");
  EXPECT_EQ(refused_priority.status, 409);
  EXPECT_EQ(error_of(refused_priority), "job 1 is cancelled: priority only orders queued rows");

  auto retried = api.post("/v1/jobs/1/retry", "{}");
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(json::parse(retried.body).at("job").at("status").as_string(), "queued");
  EXPECT_EQ(stage.count("id = 1 AND status = 'queued' AND last_error IS NULL"), "1");
  EXPECT_EQ(api.post("/v1/jobs/2/retry", "{}").status, 409);

  auto raised = api.post("/v1/jobs/2/priority", R"({"priority": 7})");
  ASSERT_EQ(raised.status, 200) << raised.body;
  EXPECT_EQ(json::parse(raised.body).at("job").at("priority").as_int64(), 7);
  EXPECT_EQ(stage.count("id = 2 AND priority = 7"), "1");
  auto bad = api.post("/v1/jobs/2/priority", R"({"priority": "high"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(field_of(bad), "priority");
  EXPECT_EQ(stage.count("id = 2 AND priority = 7"), "1");

  for (auto path : {"/v1/jobs/77/cancel", "/v1/jobs/77/retry", "/v1/jobs/77/priority"}) {
    auto missing = api.post(path, R"({"priority": 1})");
    EXPECT_EQ(missing.status, 404) << path;
    EXPECT_EQ(error_of(missing), "no job 77") << path;
  }
}

TEST(Api, TokenInHeaderOrSessionCookieAndCrossSitePostsRefused) {
  temp_dir secrets;
  write_file(secrets / "token", "s3cret-token\n");
  api_stage api("token_file = \"" + (secrets / "token").string() + "\"\n");
  api.insert_waiting_rows(1);
  api.start();

  auto anonymous = api.get("/v1/jobs");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.header("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(api.get("/v1/jobs", {"-H", "Authorization: Bearer wrong-token"}).status, 401);
  EXPECT_EQ(api.get("/v1/jobs", {"-H", "Authorization: Bearer s3cret-token"}).status, 200);
  EXPECT_EQ(api.get("/metrics", {"-H", "Authorization: Bearer s3cret-token"}).status, 200);
  EXPECT_EQ(api.get("/v1/jobs", {"-H", "Cookie: soundtrackd_token=s3cret-token"}).status, 200);
  EXPECT_EQ(api.get("/v1/jobs", {"-H", "Cookie: other=1; soundtrackd_token=s3cret"}).status, 401);

  auto wrong = api.post("/v1/session", R"({"token": "guess"})");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.header("Set-Cookie"), "");
  auto session = api.post("/v1/session", R"({"token": "s3cret-token"})");
  ASSERT_EQ(session.status, 200) << session.body;
  EXPECT_EQ(session.header("Set-Cookie"), "soundtrackd_token=s3cret-token; HttpOnly; SameSite=Strict; Path=/");
  EXPECT_EQ(api.post("/v1/session", "[]").status, 400);

  // Cross-site: a form post (no JSON) or a page from another origin is refused, even with the cookie.
  const std::vector<std::string> cookie = {"-H", "Cookie: soundtrackd_token=s3cret-token"};
  auto form = api.post(
      "/v1/jobs/1/cancel", "a=b",
      {"-H", "Cookie: soundtrackd_token=s3cret-token", "-H", "Content-Type: application/x-www-form-urlencoded"});
  EXPECT_EQ(form.status, 415);
  EXPECT_NE(error_of(form).find("application/json"), std::string::npos);
  auto foreign = api.post("/v1/jobs/1/cancel", "{}",
                          {"-H", "Cookie: soundtrackd_token=s3cret-token", "-H", "Origin: https://evil.example"});
  EXPECT_EQ(foreign.status, 403);
  EXPECT_NE(error_of(foreign).find("Origin https://evil.example"), std::string::npos) << foreign.body;
  EXPECT_EQ(api.stage().count("status = 'queued'"), "1");
  auto same_origin = api.post("/v1/jobs/1/cancel", "{}",
                              {"-H", "Cookie: soundtrackd_token=s3cret-token", "-H", "Origin: " + api.base()});
  EXPECT_EQ(same_origin.status, 200) << same_origin.body;
  // The token never reaches the log.
  EXPECT_EQ(api.log().find("s3cret-token"), std::string::npos);
}

TEST(Api, OversizedAndMalformedRequestsGetJsonErrors) {
  api_stage api;
  api.start();
  {
    raw_socket s(api.port());
    s.send("GET /v1/jobs HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    auto answer = s.receive_all();
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 431")) << answer.substr(0, 200);
    EXPECT_NE(answer.find("{\"error\":\"request header larger than"), std::string::npos) << answer;
  }
  {
    raw_socket s(api.port());
    s.send(
        "POST /v1/jobs/1/priority HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
        "70000\r\n\r\n" +
        std::string(70000, ' '));
    auto answer = s.receive_all();
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer.substr(0, 200);
  }
  {
    raw_socket s(api.port());
    s.send("THIS IS NOT HTTP\r\n\r\n");
    auto answer = s.receive_all();
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 400")) << answer.substr(0, 200);
    EXPECT_NE(answer.find("{\"error\":\"malformed HTTP request"), std::string::npos) << answer;
  }
  EXPECT_EQ(api.get("/healthz").body, "ok\n");  // nothing of that hurt the server
}

TEST(Api, SlowAndIdleClientsAreCutOff) {
  api_stage api("read_timeout = \"1s\"\nidle_timeout = \"2s\"\n");
  api.start();

  // A slow loris: one byte every 200 ms never finishes its header within read_timeout.
  raw_socket slow(api.port());
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(100, 'p') + "\r\n\r\n";
  const auto started = std::chrono::steady_clock::now();
  std::size_t sent = 0;
  while (sent < request.size() && slow.send(request.substr(sent, 1)) && !slow.closed_by_server()) {
    ++sent;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const auto held = std::chrono::steady_clock::now() - started;
  EXPECT_LT(sent, request.size());
  EXPECT_LT(held, std::chrono::seconds(4));
  EXPECT_GE(held, std::chrono::milliseconds(800));

  // An idle keep-alive connection is closed after idle_timeout, not before.
  raw_socket idle(api.port());
  ASSERT_TRUE(idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_FALSE(idle.closed_by_server());
  EXPECT_TRUE(wait_until([&] { return idle.closed_by_server(); }, 5));
  EXPECT_EQ(api.get("/healthz").body, "ok\n");
}

TEST(Api, AThousandIdleConnectionsDoNotStallTheJobLoop) {
  // The test's own sockets need descriptors beyond the usual 1024.
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
  setrlimit(RLIMIT_NOFILE, &limit);

  api_stage api;
  api.start();
  std::vector<std::unique_ptr<raw_socket>> idle;
  for (int i = 0; i < 1000; ++i) idle.push_back(std::make_unique<raw_socket>(api.port()));
  api.stage().insert_rows(5);
  EXPECT_TRUE(wait_until([&] { return api.stage().count("status = 'succeeded'") == "5"; }, 60)) << api.log();
  auto health = api.get("/healthz");
  EXPECT_EQ(health.status, 200) << health.curl_error;
  EXPECT_EQ(health.body, "ok\n");
  // Beyond server.max_connections (512) the longest idle ones were closed to make room.
  int closed = 0;
  for (auto& s : idle) closed += s->closed_by_server() ? 1 : 0;
  EXPECT_GE(closed, 1000 - 512);
}

TEST(Api, ReadsAnswerWhileAnotherProgramHoldsTheWriteLock) {
  api_stage api;
  api.insert_waiting_rows(3);
  api.start();
  auto holder = api.stage().open_db();
  holder.exec("BEGIN IMMEDIATE");
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(api.get_json("/v1/jobs").at("total").as_int64(), 3);
  EXPECT_EQ(api.get_json("/v1/jobs/1").at("job").at("id").as_int64(), 1);
  EXPECT_EQ(api.get_json("/v1/overview").at("counts").at("queued").as_int64(), 3);
  EXPECT_NE(api.get("/metrics").body.find("soundtrackd_jobs{status=\"queued\"} 3"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  holder.exec("COMMIT");
}

TEST(Api, ListeningBeyondLoopbackWithoutATokenRefusesToStart) {
  daemon_setup stage;
  auto config = read_file(stage.config_path());
  config.replace(config.find("listen = \"\""), 11, "listen = \"0.0.0.0:0\"");
  write_file(stage.config_path(), config);
  auto r = run({SOUNDTRACKD_BIN, "--config", stage.config_path(), "--exit-when-idle"}, stage.credentials_env());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("server.listen 0.0.0.0:0 is not loopback"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("server.token_file"), std::string::npos) << r.output;
}

TEST(Api, CreatesRowsAndRefusesBadFieldsNamingThem) {
  api_stage api;
  api.start();
  auto& stage = api.stage();

  auto created = api.post("/v1/jobs", R"({"prompt": "warm synth pad", "name": "Pad", "batch": "api",
                                          "is_instrumental": true, "priority": 4, "run_after": 4102444800})");
  ASSERT_EQ(created.status, 201) << created.body;
  const auto job = json::parse(created.body).at("job").as_object();
  EXPECT_EQ(job.at("status").as_string(), "queued");
  EXPECT_EQ(job.at("prompt").as_string(), "warm synth pad");
  EXPECT_EQ(job.at("is_instrumental").as_bool(), true);
  EXPECT_EQ(job.at("priority").as_int64(), 4);
  EXPECT_GT(job.at("created_at").to_number<double>(), 0);
  const auto id = job.at("id").as_int64();
  EXPECT_EQ(stage.count("id = " + std::to_string(id) +
                        " AND prompt = 'warm synth pad' AND batch = 'api' AND "
                        "is_instrumental = 1 AND priority = 4 AND status = 'queued'"),
            "1");

  auto too_long = api.post("/v1/jobs", R"({"prompt": ")" + std::string(2113, 'x') + R"("})");
  EXPECT_EQ(too_long.status, 400);
  EXPECT_EQ(too_long.body, R"j({"error":"prompt must be 1 to 2000 characters (got 2113)","field":"prompt"})j");
  auto bad_rate = api.post("/v1/jobs", R"({"prompt": "x", "sample_rate": -5})");
  EXPECT_EQ(bad_rate.status, 400);
  EXPECT_EQ(field_of(bad_rate), "sample_rate");
  auto daemon_column = api.post("/v1/jobs", R"({"prompt": "x", "status": "succeeded"})");
  EXPECT_EQ(daemon_column.status, 400);
  EXPECT_EQ(field_of(daemon_column), "status");
  auto not_json = api.post("/v1/jobs", "{\"prompt\": ");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_EQ(stage.count("1"), "1");  // nothing of the refused ones was stored

  // Concurrent posts are grouped into shared transactions; each answer comes after its commit.
  auto load = run({API_LOAD_BIN, "--url", api.base(), "--clients", "20", "--requests", "400", "--batch", "load"});
  ASSERT_EQ(load.exit_code, 0) << load.output;
  auto report = json::parse(load.output).as_object();
  EXPECT_EQ(report.at("created").as_int64(), 400);
  EXPECT_EQ(stage.count("batch = 'load' AND status IN ('queued', 'submitting', 'running', 'downloading', 'succeeded')"),
            "400");
  std::cout << "[ ingest ] " << load.output;
}
