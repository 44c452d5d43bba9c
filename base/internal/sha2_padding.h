// The final blocks of a SHA-2 message (FIPS 180-4 §5.1), shared by the
// multi-buffer hashers.
#ifndef REALM_MEASUREMENTS_BASE_INTERNAL_SHA2_PADDING_H_
#define REALM_MEASUREMENTS_BASE_INTERNAL_SHA2_PADDING_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace realm_measurements::crypto::internal {

// For a message of `length` bytes whose full `block`-byte blocks were
// hashed: writes its tail, 0x80, zeros and the big-endian bit length in
// the last `length_field` bytes (8 for SHA-256, 16 for SHA-384/512; only
// the low 64 bits can be non-zero) to `out`, which holds 2 * block bytes,
// and returns the number of blocks written (1 or 2).
inline size_t FinalBlocks(const uint8_t* message, size_t length, size_t block,
                          size_t length_field, uint8_t* out) {
  const size_t tail = length % block;
  const size_t blocks = tail + 1 + length_field <= block ? 1 : 2;
  std::memset(out, 0, 2 * block);
  if (tail != 0) std::memcpy(out, message + (length - tail), tail);
  out[tail] = 0x80;
  const uint64_t bits = static_cast<uint64_t>(length) * 8;
  for (int i = 0; i < 8; ++i) {
    out[blocks * block - 1 - i] = static_cast<uint8_t>(bits >> (8 * i));
  }
  return blocks;
}

}  // namespace realm_measurements::crypto::internal

#endif  // REALM_MEASUREMENTS_BASE_INTERNAL_SHA2_PADDING_H_
