// The web dashboard's static files (web/*), embedded in the binary at build time by
// cmake/embed_dashboard.cmake: index.html is served at "/", every other file at "/ui/<name>".
#pragma once

#include <string_view>

namespace soundtrackd::http {

struct embedded_file {
  std::string_view path;          // "/" or "/ui/app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view bytes;
  std::string_view etag;  // quoted, from the content's sha256: "\"1a2b...\""
};

// The file served at `path` (no query string), or nullptr.
const embedded_file* find_dashboard_file(std::string_view path);

}  // namespace soundtrackd::http
