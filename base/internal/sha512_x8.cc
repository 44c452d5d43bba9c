#include "base/internal/sha512_x8.h"

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

// FIPS 180-4 §4.2.3: the SHA-384/512 round constants.
alignas(64) constexpr uint64_t kRoundConstants[80] = {
    0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL,
    0xe9b5dba58189dbbcULL, 0x3956c25bf348b538ULL, 0x59f111f1b605d019ULL,
    0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL, 0xd807aa98a3030242ULL,
    0x12835b0145706fbeULL, 0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL,
    0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL,
    0xc19bf174cf692694ULL, 0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL,
    0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL, 0x2de92c6f592b0275ULL,
    0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL,
    0x983e5152ee66dfabULL, 0xa831c66d2db43210ULL, 0xb00327c898fb213fULL,
    0xbf597fc7beef0ee4ULL, 0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL,
    0x06ca6351e003826fULL, 0x142929670a0e6e70ULL, 0x27b70a8546d22ffcULL,
    0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL, 0x53380d139d95b3dfULL,
    0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL,
    0x92722c851482353bULL, 0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL,
    0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL, 0xd192e819d6ef5218ULL,
    0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL,
    0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL, 0x2748774cdf8eeb99ULL,
    0x34b0bcb5e19b48a8ULL, 0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL,
    0x5b9cca4f7763e373ULL, 0x682e6ff3d6b2b8a3ULL, 0x748f82ee5defb2fcULL,
    0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
    0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL,
    0xc67178f2e372532bULL, 0xca273eceea26619cULL, 0xd186b8c721c0c207ULL,
    0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL, 0x06f067aa72176fbaULL,
    0x0a637dc5a2c898a6ULL, 0x113f9804bef90daeULL, 0x1b710b35131c471bULL,
    0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL,
    0x431d67c49c100d4cULL, 0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL,
    0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL,
};

// FIPS 180-4 §5.3.5 (SHA-512) and §5.3.4 (SHA-384): initial hash values.
constexpr uint64_t kInitialSha512[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
    0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
    0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};
constexpr uint64_t kInitialSha384[8] = {
    0xcbbb9d5dc1059ed8ULL, 0x629a292a367cd507ULL, 0x9159015a3070dd17ULL,
    0x152fecd8f70e5939ULL, 0x67332667ffc00b31ULL, 0x8eb44a8768581511ULL,
    0xdb0c2e0d64f98fa7ULL, 0x47b5481dbefa4fa4ULL};

constexpr int kLanes = 8;
constexpr size_t kBlock = 128;

#define RM_AVX512_TARGET __attribute__((target("avx512f,avx512bw")))

// vpternlogq truth tables (bit i = f(a, b, c) with i = a<<2 | b<<1 | c).
constexpr int kXor3 = 0x96;
constexpr int kChoose = 0xCA;    // §4.1.3 Ch: a ? b : c
constexpr int kMajority = 0xE8;  // §4.1.3 Maj

// A template: the rotate count must be an immediate, also at -O0.
template <int kBits>
RM_AVX512_TARGET __attribute__((always_inline)) inline __m512i Rotr(__m512i x) {
  return _mm512_ror_epi64(x, kBits);
}

// One 128-byte block of each lane; s[0..7] = a..h, one lane per message.
// always_inline keeps the lane vectors in registers (see sha256_x4.cc).
RM_AVX512_TARGET __attribute__((always_inline)) inline void CompressBlocks(
    __m512i s[8], const uint8_t* const block[kLanes]) {
  // Big-endian 64-bit words: reverse the bytes of each lane.
  const __m512i swap = _mm512_set_epi8(
      8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
      13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2,
      3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  // Lane l's word t is at block[0] + 8t + (block[l] - block[0]); the
  // blocks may lie in different arrays, so the distance is taken on
  // addresses.
  long long off[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    off[l] = static_cast<long long>(reinterpret_cast<uintptr_t>(block[l]) -
                                    reinterpret_cast<uintptr_t>(block[0]));
  }
  const __m512i offsets = _mm512_set_epi64(off[7], off[6], off[5], off[4],
                                           off[3], off[2], off[1], off[0]);
  __m512i w[16];
#pragma GCC unroll 16
  for (int t = 0; t < 16; ++t) {
    w[t] = _mm512_shuffle_epi8(
        _mm512_i64gather_epi64(offsets, block[0] + 8 * t, 1), swap);
  }
  __m512i a = s[0], b = s[1], c = s[2], d = s[3];
  __m512i e = s[4], f = s[5], g = s[6], h = s[7];
  // §6.4.2: w[t % 16] holds W[t] (the schedule kept in a ring of 16).
#pragma GCC unroll 80
  for (int t = 0; t < 80; ++t) {
    const int j = t & 15;
    if (t >= 16) {
      const __m512i w15 = w[(j + 1) & 15];
      const __m512i w2 = w[(j + 14) & 15];
      const __m512i sigma0 = _mm512_ternarylogic_epi64(
          Rotr<1>(w15), Rotr<8>(w15), _mm512_srli_epi64(w15, 7), kXor3);
      const __m512i sigma1 = _mm512_ternarylogic_epi64(
          Rotr<19>(w2), Rotr<61>(w2), _mm512_srli_epi64(w2, 6), kXor3);
      w[j] = _mm512_add_epi64(_mm512_add_epi64(w[j], sigma0),
                              _mm512_add_epi64(sigma1, w[(j + 9) & 15]));
    }
    const __m512i big_sigma1 =
        _mm512_ternarylogic_epi64(Rotr<14>(e), Rotr<18>(e), Rotr<41>(e), kXor3);
    const __m512i ch = _mm512_ternarylogic_epi64(e, f, g, kChoose);
    const __m512i t1 = _mm512_add_epi64(
        _mm512_add_epi64(h, big_sigma1),
        _mm512_add_epi64(
            ch, _mm512_add_epi64(w[j], _mm512_set1_epi64(static_cast<long long>(
                                           kRoundConstants[t])))));
    const __m512i big_sigma0 =
        _mm512_ternarylogic_epi64(Rotr<28>(a), Rotr<34>(a), Rotr<39>(a), kXor3);
    const __m512i maj = _mm512_ternarylogic_epi64(a, b, c, kMajority);
    const __m512i t2 = _mm512_add_epi64(big_sigma0, maj);
    h = g;
    g = f;
    f = e;
    e = _mm512_add_epi64(d, t1);
    d = c;
    c = b;
    b = a;
    a = _mm512_add_epi64(t1, t2);
  }
  s[0] = _mm512_add_epi64(s[0], a);
  s[1] = _mm512_add_epi64(s[1], b);
  s[2] = _mm512_add_epi64(s[2], c);
  s[3] = _mm512_add_epi64(s[3], d);
  s[4] = _mm512_add_epi64(s[4], e);
  s[5] = _mm512_add_epi64(s[5], f);
  s[6] = _mm512_add_epi64(s[6], g);
  s[7] = _mm512_add_epi64(s[7], h);
}

}  // namespace

bool Sha512X8Supported() {
  static const bool supported = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) == 0) return false;
    if ((c & bit_OSXSAVE) == 0) return false;
    // XCR0: SSE, AVX, opmask, upper ZMM0-15 and ZMM16-31 state enabled.
    unsigned lo = 0, hi = 0;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xE6) != 0xE6) return false;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return false;
    return (b & bit_AVX512F) != 0 && (b & bit_AVX512BW) != 0;
  }();
  return supported;
}

RM_AVX512_TARGET void Sha512X8(const uint8_t* const in[8], size_t length,
                               bool sha384, uint8_t* const out[8]) {
  const uint64_t* initial = sha384 ? kInitialSha384 : kInitialSha512;
  __m512i s[8];
  for (int i = 0; i < 8; ++i) {
    s[i] = _mm512_set1_epi64(static_cast<long long>(initial[i]));
  }
  const uint8_t* block[kLanes];
  const size_t full = length / kBlock;
  for (size_t b = 0; b < full; ++b) {
    for (int l = 0; l < kLanes; ++l) block[l] = in[l] + b * kBlock;
    CompressBlocks(s, block);
  }
  // §5.1.2 padding: one or two blocks, the same number for every lane.
  alignas(64) uint8_t last[kLanes][2 * kBlock];
  size_t pad_blocks = 0;
  for (int l = 0; l < kLanes; ++l) {
    pad_blocks = FinalBlocks<kBlock, 16>(in[l], length, last[l]);
  }
  for (size_t b = 0; b < pad_blocks; ++b) {
    for (int l = 0; l < kLanes; ++l) block[l] = last[l] + b * kBlock;
    CompressBlocks(s, block);
  }
  alignas(64) uint64_t words[8][kLanes];
  for (int i = 0; i < 8; ++i) _mm512_store_si512(words[i], s[i]);
  const int out_words = sha384 ? 6 : 8;
  for (int l = 0; l < kLanes; ++l) {
    for (int i = 0; i < out_words; ++i) {
      for (int k = 0; k < 8; ++k) {
        out[l][8 * i + k] = static_cast<uint8_t>(words[i][l] >> (56 - 8 * k));
      }
    }
  }
}

#undef RM_AVX512_TARGET

#else  // !__x86_64__

bool Sha512X8Supported() { return false; }

void Sha512X8(const uint8_t* const[8], size_t, bool, uint8_t* const[8]) {
  std::abort();  // callers check Sha512X8Supported()
}

#endif

}  // namespace realm_measurements::crypto::internal
