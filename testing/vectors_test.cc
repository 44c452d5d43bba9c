#include "testing/vectors.h"

#include <string>

#include "gtest/gtest.h"
#include "testing/golden.h"

namespace realm_measurements::test {
namespace {

// The golden corpus and spec-core were recorded separately; where they hold
// the same realm they must agree, and the constants must be one spelling
// (lower-case hex of a whole digest).
TEST(VectorsTest, A3No4IsTheGoldenKvmMinCase) {
  const GoldenCase c = LoadGoldenCase("kvm-min-sha256");
  EXPECT_EQ(c.argv, (std::vector<std::string>{"--num-wps", "6", "--num-bps",
                                               "6", "kvmtool", "--realm", "-c",
                                               "1", "-m", "512M"}));
  EXPECT_EQ(c.rim, std::string(kSpecCoreA3No4Rim) + std::string(64, '0'));
}

TEST(VectorsTest, LowerCaseHexOfADigest) {
  for (const std::string v :
       {kSpecCoreA3No4Rim, kSpecCoreA5No8Rim, kSpecCoreA5No10Rim}) {
    EXPECT_TRUE(v.size() == 64 || v.size() == 128) << v;
    EXPECT_EQ(v.find_first_not_of("0123456789abcdef"), std::string::npos)
        << v;
  }
}

}  // namespace
}  // namespace realm_measurements::test
