#include "testing/golden.h"

#include "absl/strings/ascii.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"

namespace realm_measurements::test {
namespace {

TEST(LoadGoldenCase, ReadsTheCaseItNames) {
  const GoldenCase g = LoadGoldenCase("kvm-k-2cpu-256M-sha512");
  EXPECT_EQ(g.id, "kvm-k-2cpu-256M-sha512");
  ASSERT_FALSE(g.argv.empty());
  EXPECT_EQ(g.expected_stdout.substr(0, 5 + 128), "RIM: " + g.rim);
  ASSERT_EQ(g.rim.size(), 128u);
  for (char c : g.rim) EXPECT_TRUE(absl::ascii_isxdigit(c)) << g.rim;
  EXPECT_GT(g.dtb_size, 0u);
  EXPECT_EQ(g.dtb_sha256.size(), 64u);
  // The RMM 2.0 sample is another file.
  EXPECT_FALSE(
      LoadGoldenCase("kvm-min-sha256@rmm2", "rmm2/cases-rmm2-public.json")
          .argv.empty());
}

TEST(LoadGoldenCase, AMissingCaseFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(LoadGoldenCase("no-such-case"),
                          "no golden case no-such-case");
}

}  // namespace
}  // namespace realm_measurements::test
