// The KVM stage-2 translation model that predicts how RMI_RTT_INIT_RIPAS
// splits a range into RTT entries (spec-core §4.3-§4.4, spec-eventlog §F.3):
// 4 KiB granule, 9 bits per level, concatenated starting-level tables when
// the starting level would have <= 16 entries, largest aligned block first.
#ifndef REALM_MEASUREMENTS_MEASURE_INTERNAL_RTT_H_
#define REALM_MEASUREMENTS_MEASURE_INTERNAL_RTT_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace realm_measurements::measure::internal {

// IPA widths for which the model is defined (spec-core §4.3 table): below 13
// the tool's arithmetic underflows, above 52 more than 4 levels are needed.
inline constexpr int kMinModelIpaBits = 13;
inline constexpr int kMaxModelIpaBits = 52;
// The narrowest width that yields any usable block size (13..16 give none).
inline constexpr int kMinUsableIpaBits = 17;

inline constexpr uint64_t kRttGranule = 0x1000;

// Bit mask of the RTT block sizes usable for INIT_RIPAS with `ipa_bits`
// (each set bit is a size: 0x1000 = 4K, 0x200000 = 2M, ...). 0 for 13..16;
// kInvalidArgument outside 13..52.
absl::StatusOr<uint64_t> TranslationBlockSizes(int ipa_bits);

// The block to use at `start` for [start, top) (spec-core §4.3
// find_block_size). Requires start < top, both 4K aligned, and the 4K bit in
// `mask`; otherwise kInvalidArgument.
absl::StatusOr<uint64_t> FindBlockSize(uint64_t start, uint64_t top,
                                       uint64_t mask);

// Calls `visit(block_base, block_top)` for each RTT entry INIT_RIPAS of
// [base, top) measures, in order, stopping at the first error. The same
// preconditions as FindBlockSize.
absl::Status SplitRipas(
    uint64_t base, uint64_t top, uint64_t mask,
    const std::function<absl::Status(uint64_t, uint64_t)>& visit);

}  // namespace realm_measurements::measure::internal

#endif  // REALM_MEASUREMENTS_MEASURE_INTERNAL_RTT_H_
