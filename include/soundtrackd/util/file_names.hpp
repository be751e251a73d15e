// Names of exported audio files: <name or "job">-<id>[-<n>].<ext>.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace soundtrackd {

// "audio/mpeg" -> "mp3", "audio/wav" -> "wav", "audio/flac" -> "flac", else "bin".
std::string_view extension_for_mime(std::string_view mime_type);

// `name` sanitised (letters, digits, '.', '_' and '-' kept, runs of anything else become
// one '-', at most 80 characters), or "job" when empty. `index` is 0-based; the first asset
// of a job has no -<n> suffix, the second is -2, and so on.
std::string export_file_name(const std::optional<std::string>& name, std::int64_t job_id, std::size_t index,
                             std::string_view mime_type);

}  // namespace soundtrackd
