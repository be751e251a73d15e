// What /healthz and /metrics say: health from the scheduler's state, Prometheus text from its
// counters and from the queue's rows.
#pragma once

#include <optional>
#include <string>

#include "soundtrackd/db/job_store.hpp"
#include "soundtrackd/http/status_server.hpp"
#include "soundtrackd/queue/scheduler.hpp"

namespace soundtrackd::queue {

// What /metrics reads from the database.
struct queue_snapshot {
  db::status_counts counts;
  double queue_lag_seconds = 0;  // age of the oldest due row; 0 when none is due
};

// 200 "ok", or 503 naming why the queue is paused.
http::server_reply health_reply(const scheduler_stats& stats);

// Prometheus text format (version 0.0.4).
std::string metrics_text(const scheduler_stats& stats, const queue_snapshot& queue);

}  // namespace soundtrackd::queue
