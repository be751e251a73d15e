// Health and metrics text for the status server.
#include "soundtrackd/queue/status_report.hpp"

#include <cstdio>

namespace soundtrackd::queue {

namespace {

void header(std::string& out, const char* name, const char* help, const char* type) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void counter(std::string& out, const char* name, const char* help, std::int64_t value, const char* type = "counter") {
  header(out, name, help, type);
  out += std::string(name) + " " + std::to_string(value) + "\n";
}

// One counter with one label, e.g. soundtrackd_polls_total{outcome="ok"} 12.
void labelled(std::string& out, const char* name, const char* help, const char* label,
              const std::map<std::string, std::int64_t>& values) {
  header(out, name, help, "counter");
  for (const auto& [value, n] : values)
    out += std::string(name) + "{" + label + "=\"" + value + "\"} " + std::to_string(n) + "\n";
}

void histogram(std::string& out, const char* name, const char* call, const scenario::latency_histogram& h) {
  std::int64_t cumulative = 0;
  char bound[32];
  for (std::size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += h.counts[i];
    std::snprintf(bound, sizeof bound, "%g", h.bounds[i]);
    out +=
        std::string(name) + "_bucket{call=\"" + call + "\",le=\"" + bound + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += std::string(name) + "_bucket{call=\"" + call + "\",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
  out += std::string(name) + "_sum{call=\"" + call + "\"} " + std::to_string(h.sum) + "\n";
  out += std::string(name) + "_count{call=\"" + call + "\"} " + std::to_string(h.count) + "\n";
}

}  // namespace

http::server_reply health_reply(const scheduler_stats& stats) {
  if (!stats.paused_reason.empty())
    return {
        .status = 503, .content_type = "text/plain; charset=utf-8", .body = "paused: " + stats.paused_reason + "\n"};
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
  labelled(out, "soundtrackd_submits_total",
           "Generate calls by outcome (ok, transient, rate_limited, permanent, global).", "outcome", s.submits);
  labelled(out, "soundtrackd_polls_total", "Remote job polls by outcome.", "outcome", s.polls);
  labelled(out, "soundtrackd_downloads_total", "Audio downloads by outcome (url_expired: a fresh URL is fetched).",
           "outcome", s.downloads);
  labelled(out, "soundtrackd_retries_total", "Failed steps scheduled for another try, by the step that failed.",
           "reason", s.retries_by_step);
  counter(out, "soundtrackd_downloaded_bytes_total", "Audio bytes downloaded and verified.",
          static_cast<std::int64_t>(s.bytes_downloaded));
  header(out, "soundtrackd_api_request_duration_seconds",
         "Time from sending an API request to its answer (or failure).", "histogram");
  histogram(out, "soundtrackd_api_request_duration_seconds", "generate", s.api_latency.generate);
  histogram(out, "soundtrackd_api_request_duration_seconds", "get_job", s.api_latency.get_job);
  histogram(out, "soundtrackd_api_request_duration_seconds", "get_asset", s.api_latency.get_asset);
  histogram(out, "soundtrackd_api_request_duration_seconds", "get_bulk", s.api_latency.get_bulk);
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
