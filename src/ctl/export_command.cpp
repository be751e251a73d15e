// soundtrackctl export: the stored audio of succeeded rows written out as files.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "commands.hpp"
#include "output.hpp"
#include "soundtrackd/util/file_names.hpp"
#include "soundtrackd/util/sha256.hpp"

namespace soundtrackd::ctl {

namespace fs = std::filesystem;

namespace {

std::string file_sha256(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  sha256 digest;
  std::vector<char> buffer(256 * 1024);
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0)
    digest.update(buffer.data(), static_cast<std::size_t>(in.gcount()));
  if (in.bad()) throw std::runtime_error("cannot read " + path.string());
  return digest.hex();
}

// The size first: it rules out almost every stale file without reading it.
bool holds_asset(const fs::path& file, const db::asset_row& asset) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec) || fs::file_size(file, ec) != asset.size_bytes || ec) return false;
  return file_sha256(file) == asset.sha256;
}

// Removes the temporary file unless it was renamed into place: an interrupted export leaves
// no partial files behind.
class temp_file {
 public:
  explicit temp_file(fs::path path) : path_(std::move(path)) {}
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  ~temp_file() {
    std::error_code ec;
    if (!path_.empty()) fs::remove(path_, ec);
  }

  const fs::path& path() const { return path_; }
  void rename_to(const fs::path& target) {
    fs::rename(path_, target);
    path_.clear();
  }

 private:
  fs::path path_;
};

// Streams the asset into a temporary file next to the target, checks it against the stored
// sha256 and renames it into place, so `target` only ever holds a complete, verified file.
void write_asset(db::queue_admin& admin, const db::exportable_asset& item, const fs::path& target) {
  temp_file temp(target.parent_path() / ("." + target.filename().string() + ".part"));
  {
    std::ofstream out(temp.path(), std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot create " + temp.path().string());
    admin.copy_asset_data(item.asset.id, out);
    out.close();
    if (!out) throw std::runtime_error("cannot write " + temp.path().string());
  }
  if (auto sha256 = file_sha256(temp.path()); sha256 != item.asset.sha256)
    throw std::runtime_error("asset " + std::to_string(item.asset.id) + " of job " + std::to_string(item.asset.job_id) +
                             ": the stored audio has sha256 " + sha256 + " but assets.sha256 says " +
                             item.asset.sha256 + "; not exported");
  temp.rename_to(target);
}

}  // namespace

int run_export(db::queue_admin& admin, const export_options& options) {
  const fs::path dir(options.dir);
  fs::create_directories(dir);

  std::int64_t written = 0;
  std::int64_t skipped = 0;
  admin.for_each_exportable_asset(options.batch, [&](const db::exportable_asset& item) {
    const auto target = dir / export_file_name(item.job_name, item.asset.job_id, item.index, item.asset.mime_type);
    if (holds_asset(target, item.asset)) {
      ++skipped;
      return;
    }
    write_asset(admin, item, target);
    ++written;
  });

  if (options.json)
    print_json(std::cout, boost::json::object{{"dir", dir.string()}, {"written", written}, {"skipped", skipped}});
  else
    std::cout << "exported to " << dir.string() << ": " << written << " files written, " << skipped
              << " already up to date\n";
  return exit_ok;
}

}  // namespace soundtrackd::ctl
