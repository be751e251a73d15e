// Fuzzes the HTTP response reader: status line, headers, chunked bodies, Content-Length lies,
// fed in pieces the way the socket delivers them, through the same parser setup the client
// uses (limit_in_memory, response_from); then the streamed (download) reading and the
// redirect Location handling.
#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_checks.hpp"
#include "http/connection.hpp"
#include "soundtrackd/http/url.hpp"

using namespace soundtrackd;
using namespace soundtrackd::http;
namespace bhttp = boost::beast::http;

namespace {

// Gives `parser` the bytes of `input` `piece` at a time, as reads from a socket would, then
// the end of the stream. Returns the parser's error (none when the message is complete).
template <class Parser>
error_code feed(Parser& parser, std::string_view input, std::size_t piece, boost::beast::flat_buffer& buffer,
                std::size_t& offset, bool until_header) {
  error_code ec;
  auto done = [&] { return until_header ? parser.is_header_done() : parser.is_done(); };
  while (!done()) {
    if (buffer.size() == 0 || ec == bhttp::error::need_more) {
      if (offset == input.size()) {
        // As Beast's read does: EOF before any byte is end_of_stream, not put_eof.
        if (!parser.got_some()) return bhttp::error::end_of_stream;
        parser.put_eof(ec);
        return ec;
      }
      const std::size_t n = std::min(piece, input.size() - offset);
      auto space = buffer.prepare(n);
      std::memcpy(space.data(), input.data() + offset, n);
      buffer.commit(n);
      offset += n;
    }
    ec = {};
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == bhttp::error::need_more || (!ec && used == 0)) {
      ec = bhttp::error::need_more;
      continue;
    }
    if (ec) return ec;
  }
  return ec;
}

void check_in_memory(std::string_view input, std::size_t piece) {
  string_parser parser;
  limit_in_memory(parser);
  parser.eager(true);
  boost::beast::flat_buffer buffer;
  std::size_t offset = 0;
  if (feed(parser, input, piece, buffer, offset, false) || !parser.is_done()) return;
  const auto length = parser.content_length();
  const auto res = response_from(parser);
  fuzz::require(res.body.size() <= max_in_memory_body, "in-memory body within its cap");
  // 1xx, 204 and 304 answers have no body whatever Content-Length says (RFC 9112 6.3).
  const bool may_have_body = res.status >= 200 && res.status != 204 && res.status != 304;
  if (length && may_have_body) fuzz::require(res.body.size() == *length, "body has the announced length");
  // Beast takes any three digits, "000" too: the client classifies those as errors.
  fuzz::require(res.status <= 999, "status has three digits");
}

void check_streamed(std::string_view input, std::size_t piece) {
  buffer_parser parser;
  parser.body_limit(boost::none);
  boost::beast::flat_buffer buffer;
  std::size_t offset = 0;
  if (feed(parser, input, piece, buffer, offset, true)) return;

  // Redirect targets: any Location resolves to a URL the client can parse, or to an error
  // that does not repeat the signed query string of the URL it came from.
  const auto& head = parser.get();
  // (A Location that itself contains the marker may be named in its own error: that is not
  // the query of the URL it came from.)
  if (auto location = head.find(bhttp::field::location);
      location != head.end() && location->value().find("SECRETSIGNATURE") == std::string_view::npos) {
    const std::string base = "https://cdn.example.com/audio/a.mp3?Signature=SECRETSIGNATURE";
    auto next = resolve_location(base, location->value());
    if (next) {
      auto target = parse_url(*next);
      if (!target)
        fuzz::require(target.error_message().find("SECRETSIGNATURE") == std::string::npos, "URL errors omit the query");
    } else {
      fuzz::require(next.error_message().find("SECRETSIGNATURE") == std::string::npos,
                    "redirect errors omit the query");
    }
  }

  char chunk[4096];
  std::uint64_t total = 0;
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    error_code ec = feed(parser, input, piece, buffer, offset, false);
    if (ec == bhttp::error::need_buffer) ec = {};
    total += sizeof chunk - parser.get().body().size;
    if (auto length = parser.content_length()) fuzz::require(total <= *length, "no more than the announced length");
    if (ec) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 64;  // how the bytes trickle in
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  check_in_memory(input, piece);
  check_streamed(input, piece);
  return 0;
}
