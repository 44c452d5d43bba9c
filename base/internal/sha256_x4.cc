#include "base/internal/sha256_x4.h"

#include <cstdlib>
#include <cstring>

#include "base/internal/sha2_padding.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace realm_measurements::crypto::internal {

#if defined(__x86_64__)
namespace {

// FIPS 180-4 §4.2.2: the SHA-256 round constants.
alignas(16) constexpr uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// FIPS 180-4 §5.3.3: the initial hash value H(0).
alignas(16) constexpr uint32_t kInitialHash[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

constexpr int kLanes = 4;
constexpr size_t kBlock = 64;

#define RM_SHA_TARGET __attribute__((target("sha,ssse3,sse4.1")))

// Big-endian 32-bit words <-> the register's little-endian lanes.
RM_SHA_TARGET inline __m128i ByteSwapMask() {
  return _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
}

// One 64-byte block of each lane. The state is kept as SHA256RNDS2 wants
// it: abef = {a, b, e, f} and cdgh = {c, d, g, h} (high to low lanes).
// always_inline: GCC at -O2 otherwise passes the lane arrays through
// memory, which costs the interleaving its gain.
RM_SHA_TARGET __attribute__((always_inline)) inline void CompressBlocks(
    __m128i abef[kLanes], __m128i cdgh[kLanes],
    const uint8_t* const block[kLanes]) {
  const __m128i swap = ByteSwapMask();
  __m128i w[kLanes][4];
  __m128i abef0[kLanes];
  __m128i cdgh0[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    abef0[l] = abef[l];
    cdgh0[l] = cdgh[l];
    for (int q = 0; q < 4; ++q) {
      w[l][q] = _mm_shuffle_epi8(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(block[l] + 16 * q)),
          swap);
    }
  }
  // 16 groups of 4 rounds; w[l][i % 4] holds W[4i..4i+3] (§6.2.2 step 1,
  // the schedule computed 4 words at a time by SHA256MSG1/MSG2).
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) {
    const __m128i k = _mm_load_si128(
        reinterpret_cast<const __m128i*>(kRoundConstants + 4 * i));
#pragma GCC unroll 4
    for (int l = 0; l < kLanes; ++l) {
      __m128i* s = w[l];
      if (i >= 4) {
        __m128i t = _mm_sha256msg1_epu32(s[i & 3], s[(i + 1) & 3]);
        t = _mm_add_epi32(t,
                          _mm_alignr_epi8(s[(i + 3) & 3], s[(i + 2) & 3], 4));
        s[i & 3] = _mm_sha256msg2_epu32(t, s[(i + 3) & 3]);
      }
      __m128i wk = _mm_add_epi32(s[i & 3], k);
      cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], wk);
      wk = _mm_shuffle_epi32(wk, 0x0E);
      abef[l] = _mm_sha256rnds2_epu32(abef[l], cdgh[l], wk);
    }
  }
  for (int l = 0; l < kLanes; ++l) {
    abef[l] = _mm_add_epi32(abef[l], abef0[l]);
    cdgh[l] = _mm_add_epi32(cdgh[l], cdgh0[l]);
  }
}

}  // namespace

bool Sha256X4Supported() {
  static const bool supported = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) == 0) return false;
    const bool ssse3 = (c & bit_SSSE3) != 0;
    const bool sse41 = (c & bit_SSE4_1) != 0;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return false;
    const bool sha = (b & bit_SHA) != 0;
    return ssse3 && sse41 && sha;
  }();
  return supported;
}

RM_SHA_TARGET void Sha256X4(const uint8_t* const in[4], size_t length,
                            uint8_t* const out[4]) {
  __m128i abef[kLanes];
  __m128i cdgh[kLanes];
  {
    // {a,b,c,d} {e,f,g,h} -> {a,b,e,f} {c,d,g,h} in SHA256RNDS2 order.
    const __m128i abcd = _mm_shuffle_epi32(
        _mm_load_si128(reinterpret_cast<const __m128i*>(kInitialHash)), 0xB1);
    const __m128i efgh = _mm_shuffle_epi32(
        _mm_load_si128(reinterpret_cast<const __m128i*>(kInitialHash + 4)),
        0x1B);
    for (int l = 0; l < kLanes; ++l) {
      abef[l] = _mm_alignr_epi8(abcd, efgh, 8);
      cdgh[l] = _mm_blend_epi16(efgh, abcd, 0xF0);
    }
  }
  const uint8_t* block[kLanes];
  const size_t full = length / kBlock;
  for (size_t b = 0; b < full; ++b) {
    for (int l = 0; l < kLanes; ++l) block[l] = in[l] + b * kBlock;
    CompressBlocks(abef, cdgh, block);
  }
  // §5.1.1 padding: one or two blocks, the same number for every lane
  // (equal lengths).
  alignas(16) uint8_t last[kLanes][2 * kBlock];
  size_t pad_blocks = 0;
  for (int l = 0; l < kLanes; ++l) {
    pad_blocks = FinalBlocks<kBlock, 8>(in[l], length, last[l]);
  }
  for (size_t b = 0; b < pad_blocks; ++b) {
    for (int l = 0; l < kLanes; ++l) block[l] = last[l] + b * kBlock;
    CompressBlocks(abef, cdgh, block);
  }
  const __m128i swap = ByteSwapMask();
  for (int l = 0; l < kLanes; ++l) {
    // Back to {a,b,c,d} {e,f,g,h}, big-endian bytes.
    const __m128i feba = _mm_shuffle_epi32(abef[l], 0x1B);
    const __m128i dchg = _mm_shuffle_epi32(cdgh[l], 0xB1);
    const __m128i abcd = _mm_blend_epi16(feba, dchg, 0xF0);
    const __m128i efgh = _mm_alignr_epi8(dchg, feba, 8);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out[l]),
                     _mm_shuffle_epi8(abcd, swap));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out[l] + 16),
                     _mm_shuffle_epi8(efgh, swap));
  }
}

#undef RM_SHA_TARGET

#else  // !__x86_64__

bool Sha256X4Supported() { return false; }

void Sha256X4(const uint8_t* const[4], size_t, uint8_t* const[4]) {
  std::abort();  // callers check Sha256X4Supported()
}

#endif

}  // namespace realm_measurements::crypto::internal
