// Memory size strings (spec-vmm §2.1), shared by the kvmtool, QEMU and
// cloud-hv models, and the Rust-compatible decimal parser they build on.
#ifndef REALM_MEASUREMENTS_MEASURE_MEMORY_SIZE_H_
#define REALM_MEASUREMENTS_MEASURE_MEMORY_SIZE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace realm_measurements::measure {

// Rust's `FromStr` for unsigned integers, bounded by `max`: an optional
// leading '+', then decimal digits only. Errors carry Rust's messages:
// "cannot parse integer from empty string", "invalid digit found in
// string", "number too large to fit in target type".
absl::StatusOr<uint64_t> ParseDecimalUnsigned(absl::string_view text,
                                              uint64_t max);

// `<digits>[suffix]` (spec-vmm §2.1): only the last character is inspected;
// B K M G T P multiply by 1, 2^10 ... 2^50, no suffix means MiB, anything
// else is part of the digits. The digits follow ParseDecimalUnsigned.
// Deviation: the reference wraps a product beyond 64 bits; it is rejected
// here ("memory size <text> does not fit in 64 bits").
absl::StatusOr<uint64_t> ParseMemorySize(absl::string_view text);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_MEMORY_SIZE_H_
