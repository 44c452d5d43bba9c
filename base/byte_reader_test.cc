#include "base/byte_reader.h"

#include <vector>

#include "gtest/gtest.h"

namespace realm_measurements {
namespace {

TEST(ByteReader, ReadsBothEndiannesses) {
  std::vector<uint8_t> d = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                            0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c};
  ByteReader r(d, "test");
  EXPECT_EQ(*r.U16Le("a"), 0x0201);
  EXPECT_EQ(*r.U16Be("b"), 0x0304);
  EXPECT_EQ(*r.U64Le("c"), 0x0c0b0a0908070605u);
  EXPECT_TRUE(r.empty());
}

TEST(ByteReader, TruncationNamesFieldOffsetAndSizes) {
  std::vector<uint8_t> d = {1, 2, 3};
  ByteReader r(d, "event log");
  ASSERT_TRUE(r.Skip(1, "x").ok());
  absl::StatusOr<uint32_t> v = r.U32Le("eventSize");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(),
            "event log: truncated eventSize at offset 1: expected 4 bytes, "
            "found 2");
  // A failed read consumes nothing.
  EXPECT_EQ(r.offset(), 1u);
  EXPECT_FALSE(r.Bytes(SIZE_MAX, "huge").ok());
  EXPECT_FALSE(r.Seek(4, "seek").ok());
  EXPECT_TRUE(r.Seek(3, "seek").ok());
  EXPECT_TRUE(r.empty());
}

}  // namespace
}  // namespace realm_measurements
