#include "base/hex.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace realm_measurements::base {
namespace {

TEST(HexTest, LowercaseTwoDigitsPerByte) {
  const std::vector<uint8_t> b = {0x00, 0x0f, 0xa0, 0xff};
  EXPECT_EQ(HexOf(b), "000fa0ff");
  EXPECT_EQ(HexOf({}), "");
}

// RFC 4648 §10 test vectors.
TEST(IsHexDigitsTest, EitherCaseNothingElse) {
  EXPECT_TRUE(IsHexDigits(""));
  EXPECT_TRUE(IsHexDigits("0123456789abcdefABCDEF"));
  for (const char* bad : {"0x12", "12 ", "g", "-1", "\xff"}) {
    EXPECT_FALSE(IsHexDigits(bad)) << bad;
  }
}

TEST(Base64Test, Rfc4648Vectors) {
  const std::string in = "foobar";
  const std::vector<std::string> want = {
      "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (size_t n = 0; n <= in.size(); ++n) {
    std::vector<uint8_t> b(in.begin(), in.begin() + n);
    EXPECT_EQ(Base64Of(b), want[n]) << n;
  }
}

TEST(Base64Test, UrlAlphabetWithoutPadding) {
  // 0xfb 0xff encodes to "+/8=" in the standard alphabet (RFC 4648 §4 table).
  const std::vector<uint8_t> b = {0xfb, 0xff};
  EXPECT_EQ(Base64Of(b), "+/8=");
  EXPECT_EQ(Base64UrlOf(b), "-_8");
}

TEST(AsCharsTest, ViewsTheSameBytes) {
  const std::vector<uint8_t> b = {'a', 0, 'z'};
  absl::string_view v = AsChars(b);
  EXPECT_EQ(v.size(), 3u);
  EXPECT_EQ(static_cast<const void*>(v.data()),
            static_cast<const void*>(b.data()));
}

}  // namespace
}  // namespace realm_measurements::base
