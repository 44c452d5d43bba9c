#include "testing/dtc.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "testing/files.h"

namespace realm_measurements::test {
namespace {

// A minimal FDT (v17) written out by hand from the Devicetree Specification
// v0.4 §5: 40-byte header, an empty reservation map, a root node with no
// properties, FDT_END, and an empty strings block.
std::vector<uint8_t> EmptyRootDtb() {
  std::vector<uint8_t> b;
  auto be32 = [&b](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
  };
  const uint32_t off_rsv = 40, off_struct = 56, size_struct = 16;
  const uint32_t off_strings = off_struct + size_struct, total = off_strings;
  be32(0xd00dfeed), be32(total), be32(off_struct), be32(off_strings);
  be32(off_rsv), be32(17), be32(16), be32(0), be32(0), be32(size_struct);
  for (int i = 0; i < 4; ++i) be32(0);  // reservation terminator (2 x u64)
  be32(1), be32(0);                     // FDT_BEGIN_NODE ""
  be32(2);                              // FDT_END_NODE
  be32(9);                              // FDT_END
  return b;
}

TEST(DtcTest, DecompilesAValidBlob) {
  ASSERT_TRUE(HaveDtc());
  const std::string dts = DtcDecompile(EmptyRootDtb(), "dtc_test_ok.dtb");
  EXPECT_NE(dts.find("/dts-v1/;"), std::string::npos) << dts;
  EXPECT_NE(dts.find("/ {"), std::string::npos) << dts;
}

TEST(DtcTest, RefusedBlobFailsTheTest) {
  const std::vector<uint8_t> junk = {1, 2, 3, 4};
  EXPECT_NONFATAL_FAILURE(DtcDecompile(junk, "dtc_test_bad.dtb"), "dtc");
}

}  // namespace
}  // namespace realm_measurements::test
