#include "measure/internal/rtt.h"

#include <map>

#include "gtest/gtest.h"

namespace realm_measurements::measure::internal {
namespace {

constexpr uint64_t k4K = 0x1000, k2M = 0x200000, k1G = 0x40000000,
                   k512G = 0x8000000000;

TEST(TranslationBlockSizesTest, EveryRowOfTheSpecTable) {
  // spec-core §4.3 table; spec-eventlog §F.3.
  for (int bits = 13; bits <= 52; ++bits) {
    SCOPED_TRACE(bits);
    uint64_t expected = 0;
    if (bits >= 44) {
      expected = 0x8040201000;
    } else if (bits >= 35) {
      expected = 0x40201000;
    } else if (bits >= 26) {
      expected = 0x201000;
    } else if (bits >= 17) {
      expected = 0x1000;
    }
    absl::StatusOr<uint64_t> mask = TranslationBlockSizes(bits);
    ASSERT_TRUE(mask.ok()) << mask.status();
    EXPECT_EQ(*mask, expected);
  }
}

TEST(TranslationBlockSizesTest, OutsideTheModelIsAnError) {
  for (int bits : {-1, 0, 11, 12, 53, 64, 255}) {
    absl::StatusOr<uint64_t> mask = TranslationBlockSizes(bits);
    EXPECT_EQ(mask.status().code(), absl::StatusCode::kInvalidArgument) << bits;
    EXPECT_NE(mask.status().message().find("supports 13..52"),
              std::string::npos)
        << mask.status();
  }
}

struct BlockCase {
  uint64_t start, top, mask, expected;
};

TEST(FindBlockSizeTest, SpecExamples) {
  const BlockCase cases[] = {
      // spec-core §4.3.
      {0, 0x1000, 0x40201000, k4K},
      {0, 0x40000000, 0x40201000, k1G},
      {0x40000000, 0x80000000, 0x201000, k2M},
      {0x80001000, 0x80200000, 0x40201000, k4K},
      {0x6200000, 0x70000000, 0x40201000, k2M},
      {0x6300000, 0x70000000, 0x40201000, k4K},
      {0x400000, 0x500000, 0x40201000, k4K},
      // spec-eventlog §F.3.
      {0x1000, 0x2000, 0x1000, k4K},
      {0x40000000, 0x80000000, 0x40201000, k1G},
      {0x100000000, 0x140000000, 0x40201000, k1G},
      {0x1000000000, 0x1100000000, 0x40201000, k1G},
      {0x80000000, 0x80200000, 0x40201000, k2M},
      {0x6400000, 0x70000000, 0x40201000, k2M},
      {0x400000, 0x800000, 0x40201000, k2M},
  };
  for (const BlockCase& c : cases) {
    SCOPED_TRACE(testing::Message()
                 << std::hex << c.start << " " << c.top << " " << c.mask);
    absl::StatusOr<uint64_t> size = FindBlockSize(c.start, c.top, c.mask);
    ASSERT_TRUE(size.ok()) << size.status();
    EXPECT_EQ(*size, c.expected);
  }
}

TEST(FindBlockSizeTest, BadArgumentsAreErrors) {
  const BlockCase bad[] = {
      {0x2000, 0x2000, 0x1000, 0},                 // empty
      {0x3000, 0x2000, 0x1000, 0},                 // reversed
      {0x1800, 0x2000, 0x1000, 0},                 // unaligned start
      {0x1000, 0x2800, 0x1000, 0},                 // unaligned top
      {0x1000, 0x2000, 0x201000 & ~0x1000ull, 0},  // no 4K size
      {0x1000, 0x2000, 0, 0},
  };
  for (const BlockCase& c : bad) {
    EXPECT_EQ(FindBlockSize(c.start, c.top, c.mask).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  // Highest possible alignment does not overflow the shift.
  absl::StatusOr<uint64_t> s =
      FindBlockSize(0x8000000000000000, 0x8000000000001000, 0x8040201000);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, k4K);
}

std::map<uint64_t, int> CountBlocks(uint64_t base, uint64_t top,
                                    uint64_t mask) {
  std::map<uint64_t, int> counts;
  uint64_t expected_next = base;
  absl::Status s = SplitRipas(base, top, mask, [&](uint64_t b, uint64_t t) {
    EXPECT_EQ(b, expected_next);
    EXPECT_EQ(b % (t - b), 0u) << "block not aligned to its size";
    expected_next = t;
    ++counts[t - b];
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(expected_next, top);
  return counts;
}

TEST(SplitRipasTest, SpecCoreSection44WorkedExamples) {
  // 512 MiB at 0x80000000 with ipa 33 (mask 0x201000): 256 x 2M.
  EXPECT_EQ(CountBlocks(0x80000000, 0xa0000000, *TranslationBlockSizes(33)),
            (std::map<uint64_t, int>{{k2M, 256}}));
  // 1 GiB at 0x40000000 with ipa 41 or 48: a single 1G block.
  for (int bits : {41, 48}) {
    EXPECT_EQ(CountBlocks(0x40000000, 0x80000000, *TranslationBlockSizes(bits)),
              (std::map<uint64_t, int>{{k1G, 1}}));
  }
  // [0x40001000, 0x100200000) with 0x8040201000: 511x4K, 511x2M, 2x1G, 1x2M.
  EXPECT_EQ(CountBlocks(0x40001000, 0x100200000, 0x8040201000),
            (std::map<uint64_t, int>{{k4K, 511}, {k2M, 512}, {k1G, 2}}));
}

TEST(SplitRipasTest, UsesLevelZeroBlocksAndStopsOnError) {
  EXPECT_EQ(CountBlocks(0, 2 * k512G, 0x8040201000),
            (std::map<uint64_t, int>{{k512G, 2}}));
  int calls = 0;
  absl::Status s = SplitRipas(0, 0x10000, 0x1000, [&](uint64_t, uint64_t) {
    ++calls;
    return calls == 3 ? absl::InternalError("stop") : absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(SplitRipas(0x2000, 0x1000, 0x1000,
                       [](uint64_t, uint64_t) { return absl::OkStatus(); })
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace realm_measurements::measure::internal
