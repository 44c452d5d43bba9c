// Four SHA-256 digests at once with the x86 SHA extensions (SHA-NI).
//
// One SHA-256 stream is bound by the latency of SHA256RNDS2: each pair of
// rounds waits for the previous one. Four independent messages interleaved
// keep the unit busy, about 1.7x the single-stream throughput of OpenSSL on
// the AMD EPYC of our CI (docs/performance.md). The RIM's granule contents
// are independent messages of equal length, which is exactly this shape.
// FIPS 180-4 §6.2 is the algorithm; only the instruction scheduling differs.
#ifndef REALM_MEASUREMENTS_BASE_INTERNAL_SHA256_X4_H_
#define REALM_MEASUREMENTS_BASE_INTERNAL_SHA256_X4_H_

#include <cstddef>
#include <cstdint>

namespace realm_measurements::crypto::internal {

// True when this CPU has SHA-NI, SSSE3 and SSE4.1 (cpuid, read once) and
// the build targets x86-64.
bool Sha256X4Supported();

// SHA-256 of in[0..3], each `length` bytes, into out[0..3] (32 bytes each).
// Only call when Sha256X4Supported(). Allocates nothing.
void Sha256X4(const uint8_t* const in[4], size_t length, uint8_t* const out[4]);

}  // namespace realm_measurements::crypto::internal

#endif  // REALM_MEASUREMENTS_BASE_INTERNAL_SHA256_X4_H_
