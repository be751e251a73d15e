// What the emulated CDN serves: deterministic asset bytes and signed, expiring URLs.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace soundtrackd::emulator {

// The bytes of one asset, produced on the fly so that a download of any size costs no memory:
// a silent but decodable MP3 stream (so sniffers see audio/mpeg and browsers play it) whose
// ancillary bytes are a keystream seeded from the asset id. The same id and size always give the same bytes, so a test
// can check a download against the sha256 the emulator reports.
class asset_content {
 public:
  asset_content(std::string_view asset_id, std::uint64_t size);

  std::uint64_t size() const { return size_; }
  std::uint64_t remaining() const { return size_ - position_; }

  // Fills the front of `out` with the next bytes; returns how many (0 once all were read).
  std::size_t read(std::span<char> out);

 private:
  std::uint64_t next_word();

  std::uint64_t size_;
  std::uint64_t position_ = 0;
  std::uint64_t generator_state_;
  std::array<char, 8> word_{};
  std::size_t word_used_ = sizeof(word_);
};

// Hex SHA-256 of the whole content of an asset.
std::string asset_sha256(std::string_view asset_id, std::uint64_t size);

// Signs CDN URLs like a CloudFront key pair would: the signature covers the asset and the
// expiry, so a client cannot extend a URL's life or reuse it for another asset.
class url_signer {
 public:
  url_signer();  // a fresh random key, so URLs handed out by an earlier run never verify

  std::string sign(std::string_view asset_id, std::int64_t expires_epoch) const;
  bool verify(std::string_view asset_id, std::int64_t expires_epoch, std::string_view signature) const;

 private:
  std::array<unsigned char, 32> key_{};
};

std::string to_hex(std::span<const unsigned char> bytes);

}  // namespace soundtrackd::emulator
