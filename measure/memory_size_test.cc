#include "measure/memory_size.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace realm_measurements::measure {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// The error text of a failed parse ("" when it succeeded).
std::string ErrorOf(absl::string_view text) {
  absl::StatusOr<uint64_t> v = ParseMemorySize(text);
  return v.ok() ? "" : std::string(v.status().message());
}

// spec-vmm §2.1: B K M G T P are x1, x2^10 ... x2^50.
TEST(MemorySizeTest, Suffixes) {
  EXPECT_EQ(*ParseMemorySize("1B"), 1u);
  EXPECT_EQ(*ParseMemorySize("3K"), uint64_t{3} * 1024);
  EXPECT_EQ(*ParseMemorySize("512M"), uint64_t{512} * 1024 * 1024);
  EXPECT_EQ(*ParseMemorySize("2G"), uint64_t{2} * 1024 * 1024 * 1024);
  EXPECT_EQ(*ParseMemorySize("1T"), uint64_t{1099511627776});
  EXPECT_EQ(*ParseMemorySize("1P"), uint64_t{1125899906842624});
  EXPECT_EQ(*ParseMemorySize("0G"), 0u);
}

TEST(MemorySizeTest, NoSuffixIsMebibytes) {
  EXPECT_EQ(*ParseMemorySize("1"), uint64_t{1048576});
  EXPECT_EQ(*ParseMemorySize("64"), uint64_t{67108864});
  EXPECT_EQ(*ParseMemorySize("0"), 0u);
}

TEST(MemorySizeTest, LeadingPlus) {
  EXPECT_EQ(*ParseMemorySize("+4"), uint64_t{4} << 20);
  EXPECT_EQ(*ParseMemorySize("+4K"), uint64_t{4096});
  EXPECT_EQ(ErrorOf("++4"), "invalid digit found in string");
  // Rust: a lone sign is an invalid digit, not an empty number.
  EXPECT_EQ(ErrorOf("+"), "invalid digit found in string");
  EXPECT_EQ(ErrorOf("+G"), "invalid digit found in string");
}

// Only upper-case suffixes; the last character alone is inspected, so any
// other letter is a "digit" of the number.
TEST(MemorySizeTest, RustErrorTexts) {
  EXPECT_EQ(ErrorOf("1g"), "invalid digit found in string");
  EXPECT_EQ(ErrorOf("1m"), "invalid digit found in string");
  EXPECT_EQ(ErrorOf("1KB"), "invalid digit found in string");
  EXPECT_EQ(ErrorOf("1GB"), "invalid digit found in string");
  EXPECT_EQ(ErrorOf("1.5G"), "invalid digit found in string");
  EXPECT_EQ(ErrorOf("0x10"), "invalid digit found in string");
  EXPECT_EQ(ErrorOf("-1"), "invalid digit found in string");
  EXPECT_EQ(ErrorOf(" 1"), "invalid digit found in string");
  EXPECT_EQ(ErrorOf("1 "), "invalid digit found in string");
  EXPECT_EQ(ErrorOf(absl::string_view("1\0", 2)),
            "invalid digit found in string");
  EXPECT_EQ(ErrorOf(""), "cannot parse integer from empty string");
  EXPECT_EQ(ErrorOf("M"), "cannot parse integer from empty string");
}

// The digits must fit in u64 (Rust's message); the product must too, where
// the reference wraps and this port rejects (docs/deviations.md).
TEST(MemorySizeTest, Overflow) {
  EXPECT_EQ(*ParseMemorySize("18446744073709551615B"), kMax);
  EXPECT_EQ(ErrorOf("18446744073709551616B"),
            "number too large to fit in target type");
  EXPECT_EQ(ErrorOf("99999999999999999999999"),
            "number too large to fit in target type");
  // 2^44 MiB = 2^64 bytes; one less fits.
  EXPECT_EQ(*ParseMemorySize("17592186044415"), kMax - (kMax >> 44));
  EXPECT_EQ(ErrorOf("17592186044416"),
            "memory size 17592186044416 does not fit in 64 bits");
  EXPECT_EQ(ErrorOf("16384P"), "memory size 16384P does not fit in 64 bits");
  EXPECT_EQ(*ParseMemorySize("16383P"), uint64_t{16383} << 50);
  EXPECT_EQ(ErrorOf("+17179869184G"),
            "memory size +17179869184G does not fit in 64 bits");
}

TEST(DecimalUnsignedTest, BoundsAndMessages) {
  EXPECT_EQ(*ParseDecimalUnsigned("255", 255), 255u);
  EXPECT_EQ(*ParseDecimalUnsigned("+007", 255), 7u);
  EXPECT_EQ(ParseDecimalUnsigned("256", 255).status().message(),
            "number too large to fit in target type");
  EXPECT_EQ(*ParseDecimalUnsigned("65535", 65535), 65535u);
  EXPECT_EQ(ParseDecimalUnsigned("65536", 65535).status().message(),
            "number too large to fit in target type");
  EXPECT_EQ(*ParseDecimalUnsigned("0", 0), 0u);
  EXPECT_EQ(ParseDecimalUnsigned("1", 0).status().message(),
            "number too large to fit in target type");
  EXPECT_EQ(ParseDecimalUnsigned("", 255).status().message(),
            "cannot parse integer from empty string");
  EXPECT_EQ(ParseDecimalUnsigned("+", 255).status().message(),
            "invalid digit found in string");
  EXPECT_EQ(ParseDecimalUnsigned("-1", 255).status().message(),
            "invalid digit found in string");
  // Rust reports whichever comes first, digit by digit.
  EXPECT_EQ(ParseDecimalUnsigned("2560x", 255).status().message(),
            "number too large to fit in target type");
  EXPECT_EQ(ParseDecimalUnsigned("25x0", 255).status().message(),
            "invalid digit found in string");
}

}  // namespace
}  // namespace realm_measurements::measure
