// UTF-8 checks for text that came from outside (API error bodies, request paths) before it goes
// into last_error, logs or JSON: invalid bytes become U+FFFD.
#pragma once

#include <string>
#include <string_view>

namespace soundtrackd {

// The length of the well-formed UTF-8 sequence at the start of `text` (RFC 3629: no
// overlongs, no surrogates, nothing above U+10FFFF), 0 when it is not one (or `text` is empty).
inline std::size_t utf8_sequence_length(std::string_view text) {
  if (text.empty()) return 0;
  const auto lead = static_cast<unsigned char>(text[0]);
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, low = lead == 0xE0 ? 0xA0 : 0x80, high = lead == 0xED ? 0x9F : 0xBF;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, low = lead == 0xF0 ? 0x90 : 0x80, high = lead == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < (i == 1 ? low : 0x80) || c > (i == 1 ? high : 0xBF)) return 0;
  }
  return length;
}

// `text` with every byte that does not start a well-formed sequence replaced by U+FFFD.
inline std::string to_valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence_length(text.substr(i));
    out.append(length ? text.substr(i, length) : std::string_view("\xEF\xBF\xBD"));
    i += length ? length : 1;
  }
  return out;
}

}  // namespace soundtrackd
