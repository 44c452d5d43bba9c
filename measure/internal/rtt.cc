#include "measure/internal/rtt.h"

#include "absl/strings/str_cat.h"

namespace realm_measurements::measure::internal {
namespace {

// Translation granule and table geometry of the model (spec-core §4.3).
constexpr int kGranuleShift = 12;
constexpr int kBitsPerLevel = 9;
constexpr int kMaxLevels = 4;
// Up to 16 entries (4 bits) at the start level are folded into a
// concatenated table one level down.
constexpr int kMaxConcatenationBits = 4;

int HighestBit(uint64_t v) { return 63 - __builtin_clzll(v); }

absl::Status CheckRange(uint64_t start, uint64_t top, uint64_t mask) {
  if (start >= top || start % kRttGranule != 0 || top % kRttGranule != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RTT block range [0x", absl::Hex(start), ", 0x", absl::Hex(top),
        "): expected start < top, both 4 KiB aligned"));
  }
  if ((mask & kRttGranule) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("RTT block size mask 0x", absl::Hex(mask),
                     ": expected the 4 KiB size to be usable"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint64_t> TranslationBlockSizes(int ipa_bits) {
  if (ipa_bits < kMinModelIpaBits || ipa_bits > kMaxModelIpaBits) {
    return absl::InvalidArgumentError(
        absl::StrCat("IPA width ", ipa_bits, " bits: the RTT model supports ",
                     kMinModelIpaBits, "..", kMaxModelIpaBits));
  }
  const int table_bits = ipa_bits - kGranuleShift;
  int levels = (table_bits + kBitsPerLevel - 1) / kBitsPerLevel;
  if (table_bits - kBitsPerLevel * (levels - 1) <= kMaxConcatenationBits) {
    --levels;
  }
  if (levels < 0 || levels > kMaxLevels) {
    return absl::InternalError(
        absl::StrCat("RTT model: ", levels, " levels for ", ipa_bits, " bits"));
  }
  uint64_t mask = 0;
  for (int level = kMaxLevels - levels; level <= 3; ++level) {
    mask |= kRttGranule << (kBitsPerLevel * (3 - level));
  }
  return mask;
}

absl::StatusOr<uint64_t> FindBlockSize(uint64_t start, uint64_t top,
                                       uint64_t mask) {
  absl::Status s = CheckRange(start, top, mask);
  if (!s.ok()) return s;
  // A block must be aligned at `start`: keep sizes up to its alignment.
  if (start != 0) {
    const int align = __builtin_ctzll(start);
    if (align < 63) mask &= (uint64_t{1} << (align + 1)) - 1;
  }
  // Terminates: the 4 KiB bit survives (start is 4K aligned) and fits.
  while (mask != 0) {
    const uint64_t size = uint64_t{1} << HighestBit(mask);
    if (top - start >= size) return size;
    mask &= ~size;
  }
  return absl::InternalError("RTT model: no block size fits");
}

absl::Status SplitRipas(
    uint64_t base, uint64_t top, uint64_t mask,
    const std::function<absl::Status(uint64_t, uint64_t)>& visit) {
  absl::Status s = CheckRange(base, top, mask);
  if (!s.ok()) return s;
  for (uint64_t cur = base; cur < top;) {
    absl::StatusOr<uint64_t> size = FindBlockSize(cur, top, mask);
    if (!size.ok()) return size.status();
    // cur + size <= top, so this never wraps.
    s = visit(cur, cur + *size);
    if (!s.ok()) return s;
    cur += *size;
  }
  return absl::OkStatus();
}

}  // namespace realm_measurements::measure::internal
