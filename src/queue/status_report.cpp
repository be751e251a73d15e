// Health and metrics text for the status server.
#include "soundtrackd/queue/status_report.hpp"

namespace soundtrackd::queue {

namespace {

void header(std::string& out, const char* name, const char* help, const char* type) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void counter(std::string& out, const char* name, const char* help, std::int64_t value, const char* type = "counter") {
  header(out, name, help, type);
  out += std::string(name) + " " + std::to_string(value) + "\n";
}

}  // namespace

http::server_reply health_reply(const scheduler_stats& stats) {
  if (!stats.paused_reason.empty())
    return {.status = 503, .content_type = "text/plain; charset=utf-8", .body = "paused: " + stats.paused_reason + "\n"};
  return {.status = 200, .content_type = "text/plain; charset=utf-8", .body = "ok\n"};
}

std::string metrics_text(const scheduler_stats& s, const queue_snapshot& queue) {
  std::string out;
  header(out, "soundtrackd_jobs", "Rows of the queue by status.", "gauge");
  for (const auto& [status, n] : queue.counts.by_status)
    out += "soundtrackd_jobs{status=\"" + std::string(db::to_string(status)) + "\"} " + std::to_string(n) + "\n";
  header(out, "soundtrackd_queue_lag_seconds", "Age of the oldest queued row that is due (0 when none).", "gauge");
  out += "soundtrackd_queue_lag_seconds " + std::to_string(queue.queue_lag_seconds) + "\n";
  counter(out, "soundtrackd_jobs_submitted_total", "Generate calls answered with a remote job.", s.submitted);
  counter(out, "soundtrackd_jobs_succeeded_total", "Rows whose audio was stored.", s.succeeded);
  counter(out, "soundtrackd_jobs_failed_total", "Rows that ended failed.", s.failed);
  counter(out, "soundtrackd_step_retries_total", "Failed steps scheduled for another try.", s.retries);
  counter(out, "soundtrackd_rate_limit_waits_total",
          "HTTP 429 answers from the API (each slows every call or lowers the in-flight cap).", s.rate_limit_waits);
  counter(out, "soundtrackd_ambiguous_resubmits_total",
          "Rows found submitting without a remote job id after a crash and submitted again (may bill twice).",
          s.ambiguous_resubmits);
  counter(out, "soundtrackd_jobs_in_flight", "Rows the daemon is working on now.",
          static_cast<std::int64_t>(s.in_flight), "gauge");
  counter(out, "soundtrackd_queue_paused", "1 while submissions are paused (credentials, credits, spend limit).",
          s.paused_reason.empty() ? 0 : 1, "gauge");
  return out;
}

}  // namespace soundtrackd::queue
