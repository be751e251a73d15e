// The JSON shapes of queue rows, shared by the HTTP API and soundtrackctl --json: keys are the
// column names, times are epoch seconds, missing values null.
#pragma once

#include <boost/json/object.hpp>

#include "soundtrackd/db/job_row.hpp"
#include "soundtrackd/db/queue_admin.hpp"
#include "soundtrackd/db/sqlite_job_store.hpp"

namespace soundtrackd::db {

boost::json::object row_json(const job_row& job);  // every column of jobs
boost::json::object summary_json(const job_summary& job);
boost::json::object asset_json(const asset_row& asset);  // every column of assets but data
boost::json::object event_json(const job_event& event);

}  // namespace soundtrackd::db
