#include "measure/memory_size.h"

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace realm_measurements::measure {
namespace {

// Multiplier of a size suffix (spec-vmm §2.1); 0 = not a suffix.
uint64_t SuffixMultiplier(char c) {
  switch (c) {
    case 'B':
      return 1;
    case 'K':
      return uint64_t{1} << 10;
    case 'M':
      return uint64_t{1} << 20;
    case 'G':
      return uint64_t{1} << 30;
    case 'T':
      return uint64_t{1} << 40;
    case 'P':
      return uint64_t{1} << 50;
    default:
      return 0;
  }
}

constexpr uint64_t kDefaultMultiplier = uint64_t{1} << 20;  // MiB

}  // namespace

absl::StatusOr<uint64_t> ParseDecimalUnsigned(absl::string_view text,
                                              uint64_t max) {
  if (text.empty()) {
    return absl::InvalidArgumentError("cannot parse integer from empty string");
  }
  // As Rust: a lone sign is a bad digit, not an empty number.
  absl::string_view s = text;
  if (s[0] == '+' && s.size() > 1) s.remove_prefix(1);
  // Digit by digit as Rust does, so whichever of a bad digit or an
  // overflow comes first is the error reported.
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError("invalid digit found in string");
    }
    const uint64_t d = c - '0';
    if (d > max || v > (max - d) / 10) {
      return absl::InvalidArgumentError(
          "number too large to fit in target type");
    }
    v = v * 10 + d;
  }
  return v;
}

absl::StatusOr<uint64_t> ParseMemorySize(absl::string_view text) {
  absl::string_view digits = text;
  uint64_t mult = text.empty() ? 0 : SuffixMultiplier(text.back());
  if (mult != 0) {
    digits.remove_suffix(1);
  } else {
    mult = kDefaultMultiplier;
  }
  absl::StatusOr<uint64_t> v =
      ParseDecimalUnsigned(digits, std::numeric_limits<uint64_t>::max());
  if (!v.ok()) return v.status();
  if (*v > std::numeric_limits<uint64_t>::max() / mult) {
    // `text` passed the digit check, so echoing it is safe.
    return absl::InvalidArgumentError(
        absl::StrCat("memory size ", text, " does not fit in 64 bits"));
  }
  return *v * mult;
}

}  // namespace realm_measurements::measure
