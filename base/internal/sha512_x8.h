// Eight SHA-512 or SHA-384 digests at once with AVX-512.
//
// SHA-512 has no instructions of its own on x86; one stream runs on scalar
// 64-bit ALUs. Eight independent messages in the eight 64-bit lanes of a
// 512-bit register (native 64-bit rotates, three-input logic) do about
// 2-3x the work of OpenSSL's single stream per core on the AMD EPYC of our
// CI (docs/performance.md). The RIM's granule contents are independent
// messages of equal length, which is exactly this shape. FIPS 180-4 §6.4
// (SHA-512) and §6.5 (SHA-384: other initial value, first 48 bytes).
#ifndef REALM_MEASUREMENTS_BASE_INTERNAL_SHA512_X8_H_
#define REALM_MEASUREMENTS_BASE_INTERNAL_SHA512_X8_H_

#include <cstddef>
#include <cstdint>

namespace realm_measurements::crypto::internal {

// True when this CPU has AVX-512F and AVX-512BW and the OS saves the
// 512-bit state (cpuid and XGETBV, read once), on an x86-64 build.
bool Sha512X8Supported();

// SHA-512 (sha384 = false: 64-byte digests) or SHA-384 (48 bytes) of
// in[0..7], each `length` bytes, into out[0..7]. Only call when
// Sha512X8Supported(). Allocates nothing.
void Sha512X8(const uint8_t* const in[8], size_t length, bool sha384,
              uint8_t* const out[8]);

}  // namespace realm_measurements::crypto::internal

#endif  // REALM_MEASUREMENTS_BASE_INTERNAL_SHA512_X8_H_
