// Asset bytes, their digests and URL signatures for the emulated CDN.
#include "cdn.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace soundtrackd::emulator {

namespace {

// Each asset is a real MP3 stream, so browsers can play what the dashboard serves: MPEG-1
// Layer III frames (128 kbit/s, 44.1 kHz, joint stereo, no padding: 417 bytes each) whose side
// information is all zeros (no main data, so every frame decodes as silence), followed by
// keystream bytes that decoders skip as ancillary data. The keystream keeps each asset's bytes
// (and sha256) distinct.
constexpr std::array<char, 4> mp3_frame_header = {'\xFF', '\xFB', '\x90', '\x64'};
constexpr std::uint64_t mp3_frame_size = 417;
constexpr std::uint64_t mp3_side_info_size = 32;
constexpr std::uint64_t mp3_silent_prefix = mp3_frame_header.size() + mp3_side_info_size;

std::array<unsigned char, 32> sha256(std::string_view bytes) {
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("EVP_Digest(sha256) failed");
  return digest;
}

}  // namespace

std::string to_hex(std::span<const unsigned char> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    out += digits[byte >> 4];
    out += digits[byte & 0x0F];
  }
  return out;
}

asset_content::asset_content(std::string_view asset_id, std::uint64_t size) : size_(size) {
  auto seed = sha256(asset_id);
  std::memcpy(&generator_state_, seed.data(), sizeof(generator_state_));
}

// splitmix64: the keystream has to be fast (tens of MB per benchmark download on the one
// emulator thread), not secret, so a cryptographic generator per block would be waste.
std::uint64_t asset_content::next_word() {
  std::uint64_t z = (generator_state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::size_t asset_content::read(std::span<char> out) {
  auto count = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), remaining()));
  std::size_t written = 0;
  while (written < count) {
    auto in_frame = position_ % mp3_frame_size;
    if (in_frame < mp3_silent_prefix) {
      out[written++] = in_frame < mp3_frame_header.size() ? mp3_frame_header[in_frame] : '\0';
      ++position_;
      continue;
    }
    if (word_used_ == word_.size()) {
      auto word = next_word();
      std::memcpy(word_.data(), &word, word_.size());
      word_used_ = 0;
    }
    auto take =
        std::min({word_.size() - word_used_, count - written, static_cast<std::size_t>(mp3_frame_size - in_frame)});
    std::memcpy(out.data() + written, word_.data() + word_used_, take);
    word_used_ += take;
    written += take;
    position_ += take;
  }
  return written;
}

std::string asset_sha256(std::string_view asset_id, std::uint64_t size) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("EVP_DigestInit_ex(sha256) failed");
  asset_content content(asset_id, size);
  std::array<char, 64 * 1024> chunk;
  while (auto n = content.read(chunk)) EVP_DigestUpdate(context.get(), chunk.data(), n);
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(context.get(), digest.data(), &length);
  return to_hex(digest);
}

url_signer::url_signer() {
  if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1) throw std::runtime_error("RAND_bytes failed");
}

std::string url_signer::sign(std::string_view asset_id, std::int64_t expires_epoch) const {
  auto message = std::string(asset_id) + '\n' + std::to_string(expires_epoch);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &length))
    throw std::runtime_error("HMAC(sha256) failed");
  return to_hex(std::span(mac.data(), length));
}

bool url_signer::verify(std::string_view asset_id, std::int64_t expires_epoch, std::string_view signature) const {
  auto expected = sign(asset_id, expires_epoch);
  return signature.size() == expected.size() && CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

}  // namespace soundtrackd::emulator
