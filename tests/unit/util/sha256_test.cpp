// sha256: the FIPS 180-2 test vectors, as lowercase hex, whether the bytes come at once or in pieces.
#include "soundtrackd/util/sha256.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace soundtrackd {
namespace {

std::string hex_of(const std::string& bytes) {
  sha256 digest;
  digest.update(bytes.data(), bytes.size());
  return digest.hex();
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(hex_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, PiecesHashLikeTheWhole) {
  std::string million(1'000'000, 'a');
  sha256 digest;
  for (std::size_t at = 0; at < million.size(); at += 4096)
    digest.update(million.data() + at, std::min<std::size_t>(4096, million.size() - at));
  EXPECT_EQ(digest.hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(hex_of(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

}  // namespace
}  // namespace soundtrackd
