# Writes OUTPUT: a C++ file defining soundtrackd::http::find_dashboard_file() from the FILES
# (web/*), so the daemon serves its dashboard with no files at run time. Every byte is written
# as a \xNN escape, so any file content (binary, or a JS string that looks like a raw-string
# delimiter) embeds safely.
set(entries "")
set(arrays "")
set(index 0)
foreach(file IN LISTS FILES)
  get_filename_component(name ${file} NAME)
  get_filename_component(extension ${file} LAST_EXT)
  if(name STREQUAL "index.html")
    set(path "/")
  else()
    set(path "/ui/${name}")
  endif()
  if(extension STREQUAL ".html")
    set(type "text/html; charset=utf-8")
  elseif(extension STREQUAL ".js")
    set(type "text/javascript; charset=utf-8")
  elseif(extension STREQUAL ".css")
    set(type "text/css; charset=utf-8")
  elseif(extension STREQUAL ".svg")
    set(type "image/svg+xml")
  elseif(extension STREQUAL ".png")
    set(type "image/png")
  else()
    message(FATAL_ERROR "dashboard file ${file}: no content type known for '${extension}'")
  endif()
  file(SHA256 ${file} digest)
  string(SUBSTRING ${digest} 0 16 etag)
  file(SIZE ${file} size)
  file(READ ${file} hex HEX)
  string(REGEX REPLACE "(..)" "\\\\x\\1" escaped "${hex}")
  string(REPEAT "\\\\x.." 24 line_of_bytes)  # a line of 24 escaped bytes (CMake regexes allow 9 groups)
  string(REGEX REPLACE "(${line_of_bytes})" "\\1\"\n    \"" escaped "${escaped}")
  string(APPEND arrays "// ${name}\nconstexpr char file_${index}[] =\n    \"${escaped}\";\n\n")
  string(APPEND entries "    {\"${path}\", \"${type}\", std::string_view(file_${index}, ${size}), \"\\\"${etag}\\\"\"},\n")
  math(EXPR index "${index} + 1")
endforeach()
file(WRITE ${OUTPUT}.tmp "// Generated from web/* by cmake/embed_dashboard.cmake; do not edit.
#include \"soundtrackd/http/dashboard_files.hpp\"

#include <array>

namespace soundtrackd::http {

namespace {

${arrays}constexpr std::array<embedded_file, ${index}> files{{
${entries}}};

}  // namespace

const embedded_file* find_dashboard_file(std::string_view path) {
  for (const auto& file : files)
    if (file.path == path) return &file;
  return nullptr;
}

}  // namespace soundtrackd::http
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
