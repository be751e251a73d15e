// soundtrackctl prune and backup: keeping the queue database small and safely copied.
#include <boost/json/object.hpp>
#include <iostream>

#include "commands.hpp"
#include "output.hpp"
#include "time_text.hpp"

namespace soundtrackd::ctl {

int run_prune(db::queue_admin& admin, const prune_options& options) {
  const auto now = now_epoch();
  const epoch_seconds cutoff = now - std::chrono::duration<double>(options.older_than).count();
  const auto size_before = admin.size_bytes();
  const auto outcome = admin.prune(cutoff, options.keep_audio, options.batch);
  if (!options.no_vacuum) admin.reclaim_space();
  const auto size_after = admin.size_bytes();
  // Without VACUUM the file keeps its size: the freed pages wait for new rows.
  const auto reclaimed = std::max<std::int64_t>(0, size_before - size_after);

  if (options.json) {
    print_json(std::cout, boost::json::object{
                              {"cutoff", cutoff},
                              {"jobs_deleted", outcome.jobs_deleted},
                              {"assets_deleted", outcome.assets_deleted},
                              {"events_deleted", outcome.events_deleted},
                              {"bytes_before", size_before},
                              {"bytes_after", size_after},
                              {"bytes_reclaimed", reclaimed},
                          });
    return exit_ok;
  }
  std::cout << "removed " << outcome.jobs_deleted << " rows finished before " << format_utc(cutoff) << " ("
            << outcome.assets_deleted << " audio files, " << outcome.events_deleted << " events)\n";
  if (options.no_vacuum)
    std::cout << "not vacuumed: the freed space is reused by new rows; the file stays " << size_after << " bytes\n";
  else
    std::cout << "reclaimed " << reclaimed << " bytes (" << size_before << " -> " << size_after << ")\n";
  return exit_ok;
}

int run_backup(db::queue_admin& admin, const backup_options& options) {
  const auto bytes = admin.backup_to(options.path, options.force);
  if (options.json)
    print_json(std::cout, boost::json::object{{"path", options.path}, {"bytes", bytes}, {"integrity_check", "ok"}});
  else
    std::cout << "wrote " << options.path << " (" << bytes << " bytes, integrity_check ok)\n";
  return exit_ok;
}

}  // namespace soundtrackd::ctl
