#include "measure/internal/rmm_structs.h"

#include <algorithm>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"

namespace realm_measurements::measure::internal {
namespace {

template <size_t N>
std::string HexPrefix(const std::array<uint8_t, N>& a, size_t n) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(a.data()), n));
}
// Spec examples are written with a space every 8 bytes.
std::string Unspace(absl::string_view s) {
  return absl::StrReplaceAll(s, {{" ", ""}});
}
template <size_t N>
bool AllZeroFrom(const std::array<uint8_t, N>& a, size_t from) {
  for (size_t i = from; i < N; ++i) {
    if (a[i] != 0) return false;
  }
  return true;
}

MeasurementBuffer Pattern(uint8_t seed) {
  MeasurementBuffer m;
  for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<uint8_t>(seed + i);
  return m;
}

TEST(RealmParamsTest, SpecCoreSection31Example) {
  // ipa 48, 2 bps, 2 wps, no SVE/PMU/LPA2, SHA-256 (spec-core §3.1).
  RealmParamsFields f;
  f.s2sz = 48;
  f.num_bps = 1;
  f.num_wps = 1;
  f.hash_algo = 0;
  RealmParamsImage image;
  image.fill(0xaa);  // The encoder must overwrite everything.
  EncodeRealmParams(f, &image);
  EXPECT_EQ(HexPrefix(image, 0x38),
            Unspace("0000000000000000 3000000000000000 0000000000000000 "
                    "0100000000000000 0100000000000000 0000000000000000 "
                    "0000000000000000"));
  EXPECT_TRUE(AllZeroFrom(image, 0x38));
}

TEST(RealmParamsTest, AppendixCScenarioFExample) {
  // ipa 52, 16 bps/wps, SVE 512 (VQ 3), PMU with 8 counters, LPA2, SHA-512.
  RealmParamsFields f;
  f.flags = kRealmFlagLpa2 | kRealmFlagSve | kRealmFlagPmu;
  f.s2sz = 52;
  f.sve_vl = 3;
  f.num_bps = 15;
  f.num_wps = 15;
  f.pmu_num_ctrs = 8;
  f.hash_algo = 1;
  RealmParamsImage image;
  EncodeRealmParams(f, &image);
  EXPECT_EQ(HexPrefix(image, 0x38),
            Unspace("0700000000000000 3400000000000000 0300000000000000 "
                    "0f00000000000000 0f00000000000000 0800000000000000 "
                    "0100000000000000"));
  EXPECT_TRUE(AllZeroFrom(image, 0x38));
}

TEST(RecParamsTest, FieldOffsets) {
  RecParamsImage image;
  image.fill(0xaa);
  EncodeRecParams(kRecFlagRunnable, 0x80000000,
                  {0x8fe00000, 1, 2, 3, 4, 5, 6, 0x0102030405060708}, &image);
  EXPECT_EQ(HexPrefix(image, 8), "0100000000000000");
  for (size_t i = 8; i < 0x200; ++i) ASSERT_EQ(image[i], 0) << i;
  EXPECT_EQ(absl::BytesToHexString(absl::string_view(
                reinterpret_cast<const char*>(image.data()) + 0x200, 8)),
            "0000008000000000");
  for (size_t i = 0x208; i < 0x300; ++i) ASSERT_EQ(image[i], 0) << i;
  EXPECT_EQ(absl::BytesToHexString(absl::string_view(
                reinterpret_cast<const char*>(image.data()) + 0x300, 64)),
            "0000e08f00000000"
            "0100000000000000"
            "0200000000000000"
            "0300000000000000"
            "0400000000000000"
            "0500000000000000"
            "0600000000000000"
            "0807060504030201");
  EXPECT_TRUE(AllZeroFrom(image, 0x340));
}

std::string Slice(const DescriptorImage& d, size_t off, size_t n) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(d.data()) + off, n));
}

TEST(DescriptorTest, DataLayout) {
  DescriptorImage d;
  d.fill(0xaa);
  const MeasurementBuffer rim = Pattern(0x10);
  const MeasurementBuffer content = Pattern(0x80);
  EncodeDataDescriptor(rim, 0x8fdff000, kDataFlagMeasure, content, &d);
  EXPECT_EQ(Slice(d, 0, 0x10), "00000000000000000001000000000000");
  EXPECT_TRUE(std::equal(rim.begin(), rim.end(), d.begin() + 0x10));
  EXPECT_EQ(Slice(d, 0x50, 16), "00f0df8f000000000100000000000000");
  EXPECT_EQ(d[0x60], 0x80);
  EXPECT_EQ(d[0x9f], 0x80 + 63);
  EXPECT_TRUE(AllZeroFrom(d, 0xa0));
}

TEST(DescriptorTest, RecLayout) {
  DescriptorImage d;
  d.fill(0xaa);
  EncodeRecDescriptor(Pattern(1), Pattern(0x40), &d);
  EXPECT_EQ(Slice(d, 0, 0x10), "01000000000000000001000000000000");
  EXPECT_EQ(d[0x10], 1);
  EXPECT_EQ(d[0x4f], 64);
  EXPECT_EQ(d[0x50], 0x40);
  EXPECT_EQ(d[0x8f], 0x40 + 63);
  EXPECT_TRUE(AllZeroFrom(d, 0x90));
}

TEST(DescriptorTest, RipasLayout) {
  DescriptorImage d;
  d.fill(0xaa);
  EncodeRipasDescriptor(Pattern(1), 0x80000000, 0x80200000, &d);
  EXPECT_EQ(Slice(d, 0, 0x10), "02000000000000000001000000000000");
  EXPECT_EQ(d[0x10], 1);
  EXPECT_EQ(Slice(d, 0x50, 16), "00000080000000000000208000000000");
  EXPECT_TRUE(AllZeroFrom(d, 0x60));
}

}  // namespace
}  // namespace realm_measurements::measure::internal
