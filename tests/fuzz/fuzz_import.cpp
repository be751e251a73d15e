// Fuzzes the import formats (soundtrackctl import, the HTTP API's job JSON): JSON Lines, CSV
// and one JSON object. Any bytes give requests that pass validate(), or an error naming the line.
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "fuzz_checks.hpp"
#include "soundtrackd/db/request_reader.hpp"

using namespace soundtrackd;

namespace {

void read_all(const std::string& text, db::import_format format) {
  std::istringstream in(text);
  std::size_t last_line = 0;
  try {
    db::read_requests(in, format, [&](std::size_t line, db::job_request&& request) {
      fuzz::require(line > last_line, "requests come in line order");
      last_line = line;
      db::validate(request);  // throws (and so fails the target) if a request slipped through
    });
  } catch (const db::invalid_import_line& e) {
    const std::string prefix = "line " + std::to_string(e.line()) + ": ";
    fuzz::require(std::string_view(e.what()).starts_with(prefix), "an import error starts with its line");
    fuzz::require(e.line() >= last_line, "the bad line comes after the good ones");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  read_all(text, db::import_format::json_lines);
  read_all(text, db::import_format::csv);
  try {
    db::validate(db::job_request_from_json(std::string_view(text)));
  } catch (const db::invalid_request& e) {
    fuzz::require(std::string_view(e.what()).size() > 0, "a refusal says why");
  }
  return 0;
}
