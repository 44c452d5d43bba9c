#include "corim/reference_values.h"

#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace realm_measurements::corim {
namespace {

using ::testing::HasSubstr;

TEST(ReferenceValuesTest, HashTablesFollowSpec) {
  // §3.5: IANA Named Information ids and value lengths.
  EXPECT_EQ(DigestSize(RealmHashAlgorithm::kSha256), 32u);
  EXPECT_EQ(DigestSize(RealmHashAlgorithm::kSha384), 48u);
  EXPECT_EQ(DigestSize(RealmHashAlgorithm::kSha512), 64u);
  EXPECT_EQ(static_cast<int>(NamedInfoId(RealmHashAlgorithm::kSha256)), 1);
  EXPECT_EQ(static_cast<int>(NamedInfoId(RealmHashAlgorithm::kSha384)), 7);
  EXPECT_EQ(static_cast<int>(NamedInfoId(RealmHashAlgorithm::kSha512)), 8);
  EXPECT_EQ(*HashFromNamedInfoId(7), RealmHashAlgorithm::kSha384);
  EXPECT_EQ(*HashFromName("sha-512"), RealmHashAlgorithm::kSha512);
  EXPECT_THAT(std::string(HashFromNamedInfoId(10).status().message()),
              HasSubstr("found 10"));
  EXPECT_THAT(std::string(HashFromName("SHA256").status().message()),
              HasSubstr("found \"SHA256\""));
}

TEST(ReferenceValuesTest, UuidTextRoundTrip) {
  absl::StatusOr<Uuid> u =
      UuidFromString("43bbe37f-2e61-4b33-aed3-53cff1428b16");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ((*u)[0], 0x43);
  EXPECT_EQ((*u)[15], 0x16);
  EXPECT_EQ(UuidToString(*u), "43BBE37F-2E61-4B33-AED3-53CFF1428B16");
  // The 2025 vector's corim-id is not a UUID (13 digits in the last group).
  EXPECT_FALSE(UuidFromString("00000000-0000-0000-cca4-0000000000001").ok());
  EXPECT_FALSE(UuidFromString("43bbe37f+2e61-4b33-aed3-53cff1428b16").ok());
  EXPECT_FALSE(UuidFromString("x3bbe37f-2e61-4b33-aed3-53cff1428b16").ok());
}

TEST(ReferenceValuesTest, ValidateRealmChecksExactSizes) {
  RealmReferenceValue r;
  r.algorithm = RealmHashAlgorithm::kSha384;
  r.rim.assign(48, 1);
  EXPECT_TRUE(ValidateRealm(r).ok());
  r.rem[2] = std::vector<uint8_t>(64, 2);  // the reference tool's mistake
  absl::Status s = ValidateRealm(r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "REM2: expected 48 bytes (sha-384), found 64");
  r.rem[2] = std::vector<uint8_t>(48, 2);
  r.rpv = std::vector<uint8_t>(32, 0);
  EXPECT_EQ(ValidateRealm(r).message(),
            "RPV: expected 64 bytes (realm personalization value), found 32");
  r.rpv.reset();
  r.rim.resize(32);
  EXPECT_EQ(ValidateRealm(r).message(),
            "RIM: expected 48 bytes (sha-384), found 32");
}

TEST(ReferenceValuesTest, ValidateReferenceValuesNeedsContent) {
  ReferenceValues v;
  v.corim_id = std::string("x");
  EXPECT_THAT(std::string(ValidateReferenceValues(v).message()),
              HasSubstr("expected at least one CoMID"));
  v.comids.emplace_back();
  v.comids[0].tag_identity.id = std::string("t");
  EXPECT_THAT(
      std::string(ValidateReferenceValues(v).message()),
      HasSubstr(
          "CoMID 0: CoMID reference values: expected at least one realm"));
  v.comids[0].realms.emplace_back();
  v.comids[0].realms[0].rim.assign(32, 0);
  EXPECT_TRUE(ValidateReferenceValues(v).ok());
  v.entities.push_back(Entity{"ACME", std::nullopt, {}});
  EXPECT_THAT(std::string(ValidateReferenceValues(v).message()),
              HasSubstr("expected at least one role"));
}

// CoRIM validity windows include both bounds; no window is always valid.
TEST(ReferenceValuesTest, ValidAtIncludesBothBounds) {
  EXPECT_TRUE(ValidAt(std::nullopt, -5));
  const Validity w{1000, 2000};
  EXPECT_FALSE(ValidAt(w, 999));
  EXPECT_TRUE(ValidAt(w, 1000));
  EXPECT_TRUE(ValidAt(w, 2000));
  EXPECT_FALSE(ValidAt(w, 2001));
  const Validity open_start{std::nullopt, 2000};
  EXPECT_TRUE(ValidAt(open_start, std::numeric_limits<int64_t>::min()));
  EXPECT_FALSE(ValidAt(open_start, 2001));
  EXPECT_TRUE(CheckValidity(w, "w").ok());
  EXPECT_TRUE(CheckValidity(Validity{2000, 2000}, "w").ok());
  EXPECT_EQ(CheckValidity(Validity{2001, 2000}, "corim.validity").message(),
            "corim.validity: expected not-before <= not-after, found "
            "not-before 1970-01-01T00:33:21Z after not-after "
            "1970-01-01T00:33:20Z");
  EXPECT_EQ(EpochToRfc3339(1767139200), "2025-12-31T00:00:00Z");
  // Command-line times (values from python3 datetime).
  EXPECT_EQ(*ParseTimeText("2025-12-31T00:00:00Z", "t"), 1767139200);
  EXPECT_EQ(*ParseTimeText("2025-12-31T01:00:00+01:00", "t"), 1767139200);
  EXPECT_EQ(*ParseTimeText("1767139200", "t"), 1767139200);
  EXPECT_EQ(*ParseTimeText("0", "t"), 0);
  EXPECT_EQ(*ParseTimeText("9999-12-31T23:59:59Z", "t"), kMaxRfc3339Seconds);
  EXPECT_EQ(*ParseTimeText("253402300799", "t"), kMaxRfc3339Seconds);
  for (const char* bad :
       {"", "-5", "1e9", "2025-13-01T00:00:00Z", "2025-12-31",
        "9999999999999999999", "now", "253402300800", "1969-12-31T23:59:59Z",
        "9999-12-31T23:59:59-01:00"}) {
    absl::StatusOr<int64_t> t = ParseTimeText(bad, "--at");
    EXPECT_FALSE(t.ok()) << bad;
    EXPECT_THAT(std::string(t.status().message()),
                HasSubstr("--at: expected an RFC 3339 time"))
        << bad;
  }
  EXPECT_EQ(ValidityToText(Validity{1640908800, 1767139200}),
            "not-before 2021-12-31T00:00:00Z, not-after 2025-12-31T00:00:00Z");
  EXPECT_EQ(ValidityToText(open_start), "not-after 1970-01-01T00:33:20Z");
  // The encoders refuse a negative window too.
  ReferenceValues v;
  v.corim_id = std::string("x");
  v.comids.emplace_back();
  v.comids[0].tag_identity.id = std::string("t");
  v.comids[0].realms.emplace_back();
  v.comids[0].realms[0].rim.assign(32, 0);
  v.validity = Validity{2001, 2000};
  EXPECT_THAT(std::string(ValidateReferenceValues(v).message()),
              HasSubstr("CoRIM validity: expected not-before <= not-after"));
}

}  // namespace
}  // namespace realm_measurements::corim
