#include "base/internal/sha256_x4.h"

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

// Four digests of `len`-byte messages against the library's SHA256().
void ExpectLanesMatch(const std::vector<std::vector<uint8_t>>& msgs,
                      size_t len) {
  const uint8_t* in[4];
  uint8_t got[4][32];
  uint8_t* out[4];
  for (int l = 0; l < 4; ++l) {
    in[l] = msgs[l].data();
    out[l] = got[l];
  }
  Sha256X4(in, len, out);
  for (int l = 0; l < 4; ++l) {
    uint8_t want[32];
    SHA256(msgs[l].data(), len, want);
    EXPECT_EQ(Hex(got[l], 32), Hex(want, 32))
        << "length " << len << " lane " << l;
  }
}

TEST(Sha256X4Test, FipsVectorsInEveryLane) {
  if (!Sha256X4Supported()) GTEST_SKIP() << "no SHA-NI on this CPU";
  // FIPS 180-2 appendix B.1 ("abc") and B.2 (448-bit message), and the
  // empty message: known digests, not the library's.
  const std::string abc = "abc";
  const std::string two =
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  struct Case {
    const std::string* msg;
    const char* digest;
  };
  const std::string empty;
  const Case cases[] = {
      {&abc,
       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {&two,
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {&empty,
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}};
  for (const Case& c : cases) {
    const uint8_t* in[4];
    uint8_t got[4][32];
    uint8_t* out[4];
    for (int l = 0; l < 4; ++l) {
      in[l] = reinterpret_cast<const uint8_t*>(c.msg->data());
      out[l] = got[l];
    }
    Sha256X4(in, c.msg->size(), out);
    for (int l = 0; l < 4; ++l) EXPECT_EQ(Hex(got[l], 32), c.digest);
  }
}

TEST(Sha256X4Test, EqualsTheLibraryAtEveryPaddingBoundary) {
  if (!Sha256X4Supported()) GTEST_SKIP() << "no SHA-NI on this CPU";
  std::mt19937 rng(18);
  for (size_t len : {0,   1,   3,   55,  56,  57,  63,   64,   65,   119,
                     120, 127, 128, 129, 255, 256, 4095, 4096, 4097, 8192}) {
    std::vector<std::vector<uint8_t>> msgs(4, std::vector<uint8_t>(len + 1));
    for (auto& m : msgs) {
      for (auto& b : m) b = static_cast<uint8_t>(rng());
    }
    ExpectLanesMatch(msgs, len);
  }
}

TEST(Sha256X4Test, LanesAreIndependent) {
  if (!Sha256X4Supported()) GTEST_SKIP() << "no SHA-NI on this CPU";
  // Equal messages but one bit: only that lane's digest changes.
  std::vector<std::vector<uint8_t>> msgs(4, std::vector<uint8_t>(4096, 0x5a));
  for (int flip = 0; flip < 4; ++flip) {
    auto m = msgs;
    m[flip][4095 - flip] ^= 1;
    ExpectLanesMatch(m, 4096);
  }
}

TEST(Sha256X4Test, ManyRandomGranules) {
  if (!Sha256X4Supported()) GTEST_SKIP() << "no SHA-NI on this CPU";
  std::mt19937 rng(4096);
  for (int round = 0; round < 256; ++round) {
    std::vector<std::vector<uint8_t>> msgs(4, std::vector<uint8_t>(4096));
    for (auto& m : msgs) {
      for (auto& b : m) b = static_cast<uint8_t>(rng());
    }
    ExpectLanesMatch(msgs, 4096);
  }
}

}  // namespace
}  // namespace realm_measurements::crypto::internal
