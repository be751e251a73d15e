// What the status server answers: health and Prometheus metrics from the scheduler's counters.
#pragma once

#include <string>
#include <string_view>

#include "soundtrackd/http/status_server.hpp"
#include "soundtrackd/queue/scheduler.hpp"

namespace soundtrackd::queue {

// GET /healthz: 200 "ok", or 503 naming why the queue is paused.
// GET /metrics: Prometheus text format. Anything else: 404 (405 for other methods).
http::server_reply status_reply(const scheduler_stats& stats, std::string_view method, std::string_view target);

}  // namespace soundtrackd::queue
