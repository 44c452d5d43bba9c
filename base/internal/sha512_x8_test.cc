#include "base/internal/sha512_x8.h"

#include <openssl/sha.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "base/hex.h"
#include "gtest/gtest.h"

namespace realm_measurements::crypto::internal {
namespace {

std::string Hex(const uint8_t* p, size_t n) {
  return base::HexOf(absl::MakeConstSpan(p, n));
}

// Eight digests of `len`-byte messages against the library's SHA384/512().
void ExpectLanesMatch(const std::vector<std::vector<uint8_t>>& msgs, size_t len,
                      bool sha384) {
  const uint8_t* in[8];
  uint8_t got[8][64];
  uint8_t* out[8];
  for (int l = 0; l < 8; ++l) {
    in[l] = msgs[l].data();
    out[l] = got[l];
  }
  Sha512X8(in, len, sha384, out);
  for (int l = 0; l < 8; ++l) {
    uint8_t want[64];
    if (sha384) {
      SHA384(msgs[l].data(), len, want);
    } else {
      SHA512(msgs[l].data(), len, want);
    }
    const size_t n = sha384 ? 48 : 64;
    EXPECT_EQ(Hex(got[l], n), Hex(want, n))
        << (sha384 ? "SHA-384" : "SHA-512") << " length " << len << " lane "
        << l;
  }
}

std::vector<std::vector<uint8_t>> Random(std::mt19937& rng, size_t len) {
  std::vector<std::vector<uint8_t>> msgs(8, std::vector<uint8_t>(len + 1));
  for (auto& m : msgs) {
    for (auto& b : m) b = static_cast<uint8_t>(rng());
  }
  return msgs;
}

TEST(Sha512X8Test, FipsVectorsInEveryLane) {
  if (!Sha512X8Supported()) GTEST_SKIP() << "no AVX-512 on this CPU";
  // FIPS 180-2 appendix C.1 / D.1 ("abc"): known digests, not the
  // library's.
  const std::string abc = "abc";
  const uint8_t* in[8];
  uint8_t got[8][64];
  uint8_t* out[8];
  for (int l = 0; l < 8; ++l) {
    in[l] = reinterpret_cast<const uint8_t*>(abc.data());
    out[l] = got[l];
  }
  Sha512X8(in, abc.size(), false, out);
  for (int l = 0; l < 8; ++l) {
    EXPECT_EQ(Hex(got[l], 64),
              "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
              "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49"
              "f");
  }
  Sha512X8(in, abc.size(), true, out);
  for (int l = 0; l < 8; ++l) {
    EXPECT_EQ(Hex(got[l], 48),
              "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
              "8086072ba1e7cc2358baeca134c825a7");
  }
}

TEST(Sha512X8Test, EqualsTheLibraryAtEveryPaddingBoundary) {
  if (!Sha512X8Supported()) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(512);
  for (bool sha384 : {false, true}) {
    for (size_t len : {0, 1, 7, 111, 112, 113, 127, 128, 129, 239, 240, 255,
                       256, 257, 4095, 4096, 4097, 8192}) {
      ExpectLanesMatch(Random(rng, len), len, sha384);
    }
  }
}

TEST(Sha512X8Test, LanesAreIndependent) {
  if (!Sha512X8Supported()) GTEST_SKIP() << "no AVX-512 on this CPU";
  // Equal messages but one bit: only that lane's digest changes.
  const std::vector<std::vector<uint8_t>> same(
      8, std::vector<uint8_t>(4096, 0xa5));
  for (int flip = 0; flip < 8; ++flip) {
    auto m = same;
    m[flip][4095 - 9 * flip] ^= 0x80;
    ExpectLanesMatch(m, 4096, false);
  }
}

TEST(Sha512X8Test, ManyRandomGranules) {
  if (!Sha512X8Supported()) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(4096);
  for (int round = 0; round < 128; ++round) {
    ExpectLanesMatch(Random(rng, 4096), 4096, round % 2 == 1);
  }
}

}  // namespace
}  // namespace realm_measurements::crypto::internal
