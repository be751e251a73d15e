// Export file naming shared by the daemon's output_dir and soundtrackctl export.
#include "soundtrackd/util/file_names.hpp"

#include <cctype>

namespace soundtrackd {

std::string_view extension_for_mime(std::string_view mime_type) {
  if (auto semicolon = mime_type.find(';'); semicolon != std::string_view::npos)
    mime_type = mime_type.substr(0, semicolon);
  if (mime_type == "audio/mpeg" || mime_type == "audio/mp3") return "mp3";
  if (mime_type == "audio/wav" || mime_type == "audio/x-wav" || mime_type == "audio/wave") return "wav";
  if (mime_type == "audio/flac" || mime_type == "audio/x-flac") return "flac";
  return "bin";
}

std::string export_file_name(const std::optional<std::string>& name, std::int64_t job_id, std::size_t index,
                             std::string_view mime_type) {
  std::string stem;
  if (name) {
    auto is_separator = [](char c) { return c == '-' || c == '.'; };
    for (unsigned char c : *name) {
      // A dot right after a separator would start "..": dropped, like repeated separators.
      if (c == '.' && !stem.empty() && is_separator(stem.back())) continue;
      if (std::isalnum(c) || c == '.' || c == '_' || c == '-') {
        stem += static_cast<char>(c);
      } else if (!stem.empty() && stem.back() != '-') {
        stem += '-';
      }
      if (stem.size() >= 80) break;
    }
    // No hidden files, no leading dash (read as an option): trim separators at both ends.
    while (!stem.empty() && is_separator(stem.back())) stem.pop_back();
    while (!stem.empty() && is_separator(stem.front())) stem.erase(0, 1);
  }
  if (stem.empty()) stem = "job";
  std::string file = stem + "-" + std::to_string(job_id);
  if (index > 0) file += "-" + std::to_string(index + 1);
  file += ".";
  file += extension_for_mime(mime_type);
  return file;
}

}  // namespace soundtrackd
