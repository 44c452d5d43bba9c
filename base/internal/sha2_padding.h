// The final blocks of a SHA-2 message (FIPS 180-4 §5.1), shared by the
// multi-buffer hashers.
#ifndef REALM_MEASUREMENTS_BASE_INTERNAL_SHA2_PADDING_H_
#define REALM_MEASUREMENTS_BASE_INTERNAL_SHA2_PADDING_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace realm_measurements::crypto::internal {

// For a message of `length` bytes whose full kBlock-byte blocks were
// hashed: writes its tail, 0x80, zeros and the big-endian bit length in
// the last kLengthField bytes (8 for SHA-256, 16 for SHA-384/512; only the
// low 64 bits can be non-zero) to `out`, which holds 2 * kBlock bytes, and
// returns the number of blocks written (1 or 2). The sizes are template
// arguments so the zero fill is a few vector stores: with a run-time size
// GCC emits `rep stos`, on which perf put a tenth of the samples of the
// 4-way hash of 256-byte RIM descriptors (descriptor_hash benchmark).
template <size_t kBlock, size_t kLengthField>
inline size_t FinalBlocks(const uint8_t* message, size_t length,
                          uint8_t* out) {
  const size_t tail = length % kBlock;
  const size_t blocks = tail + 1 + kLengthField <= kBlock ? 1 : 2;
  std::memset(out, 0, 2 * kBlock);
  if (tail != 0) std::memcpy(out, message + (length - tail), tail);
  out[tail] = 0x80;
  const uint64_t bits = static_cast<uint64_t>(length) * 8;
  for (int i = 0; i < 8; ++i) {
    out[blocks * kBlock - 1 - i] = static_cast<uint8_t>(bits >> (8 * i));
  }
  return blocks;
}

}  // namespace realm_measurements::crypto::internal

#endif  // REALM_MEASUREMENTS_BASE_INTERNAL_SHA2_PADDING_H_
