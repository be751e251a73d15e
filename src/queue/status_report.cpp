// Health and metrics text for the status server.
#include "soundtrackd/queue/status_report.hpp"

namespace soundtrackd::queue {

namespace {

void counter(std::string& out, const char* name, const char* help, std::int64_t value, const char* type = "counter") {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
         std::to_string(value) + "\n";
}

std::string metrics_text(const scheduler_stats& s) {
  std::string out;
  counter(out, "soundtrackd_jobs_submitted_total", "Generate calls answered with a remote job.", s.submitted);
  counter(out, "soundtrackd_jobs_succeeded_total", "Rows whose audio was stored.", s.succeeded);
  counter(out, "soundtrackd_jobs_failed_total", "Rows that ended failed.", s.failed);
  counter(out, "soundtrackd_step_retries_total", "Failed steps scheduled for another try.", s.retries);
  counter(out, "soundtrackd_ambiguous_resubmits_total",
          "Rows found submitting without a remote job id after a crash and submitted again (may bill twice).",
          s.ambiguous_resubmits);
  counter(out, "soundtrackd_jobs_in_flight", "Rows the daemon is working on now.",
          static_cast<std::int64_t>(s.in_flight), "gauge");
  counter(out, "soundtrackd_queue_paused", "1 while submissions are paused (credentials, credits, spend limit).",
          s.paused_reason.empty() ? 0 : 1, "gauge");
  return out;
}

}  // namespace

http::server_reply status_reply(const scheduler_stats& stats, std::string_view method, std::string_view target) {
  const auto path = target.substr(0, target.find('?'));
  if (path != "/healthz" && path != "/metrics") return {404, "text/plain; charset=utf-8", "not found\n"};
  if (method != "GET" && method != "HEAD") return {405, "text/plain; charset=utf-8", "only GET\n"};
  if (path == "/metrics") return {200, "text/plain; version=0.0.4; charset=utf-8", metrics_text(stats)};
  if (!stats.paused_reason.empty()) return {503, "text/plain; charset=utf-8", "paused: " + stats.paused_reason + "\n"};
  return {200, "text/plain; charset=utf-8", "ok\n"};
}

}  // namespace soundtrackd::queue
