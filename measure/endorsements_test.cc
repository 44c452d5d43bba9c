#include "measure/endorsements.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "corim/comid.h"
#include "gtest/gtest.h"
#include "measure/vmm/vmm.h"

namespace realm_measurements::measure {
namespace {

template <typename T>
T Must(absl::StatusOr<T> v) {
  EXPECT_TRUE(v.ok()) << v.status();
  return *std::move(v);
}

// --- The model -----------------------------------------------------------

Measurements Sample(HashAlgorithm alg) {
  Measurements m;
  m.hash_algorithm = alg;
  for (size_t i = 0; i < kMeasurementWidth; ++i) {
    m.rim[i] = static_cast<uint8_t>(i + 1);
    for (int r = 0; r < 4; ++r) m.rem[r][i] = static_cast<uint8_t>(16 * r + i);
  }
  return m;
}

TEST(RealmReferenceValues, Sha256DigestsAreCutTo32BytesRpvOmittedWhenZero) {
  Measurement rpv = {};
  corim::ReferenceValues v = Must(RealmReferenceValues(
      Sample(HashAlgorithm::kSha256), rpv, EndorsementOptions{}));
  ASSERT_EQ(v.comids.size(), 1u);
  ASSERT_EQ(v.comids[0].realms.size(), 1u);
  const corim::RealmReferenceValue& r = v.comids[0].realms[0];
  EXPECT_EQ(r.algorithm, corim::RealmHashAlgorithm::kSha256);
  ASSERT_EQ(r.rim.size(), 32u);
  EXPECT_EQ(r.rim.front(), 1);
  EXPECT_EQ(r.rim.back(), 32);
  ASSERT_TRUE(r.rem[3].has_value());
  EXPECT_EQ(r.rem[3]->size(), 32u);
  EXPECT_EQ((*r.rem[3])[0], 48);
  EXPECT_FALSE(r.rpv.has_value());
  EXPECT_TRUE(v.entities.empty());
  EXPECT_TRUE(v.comids[0].entities.empty());
}

TEST(RealmReferenceValues, Sha512KeepsAll64BytesAndANonZeroRpv) {
  Measurement rpv = {};
  rpv[63] = 1;
  EndorsementOptions o;
  o.entity = "ACME";
  corim::ReferenceValues v =
      Must(RealmReferenceValues(Sample(HashAlgorithm::kSha512), rpv, o));
  const corim::RealmReferenceValue& r = v.comids[0].realms[0];
  EXPECT_EQ(r.algorithm, corim::RealmHashAlgorithm::kSha512);
  EXPECT_EQ(r.rim.size(), 64u);
  EXPECT_EQ(r.rem[0]->size(), 64u);
  ASSERT_TRUE(r.rpv.has_value());
  EXPECT_EQ(*r.rpv, std::vector<uint8_t>(rpv.begin(), rpv.end()));
  ASSERT_EQ(v.entities.size(), 1u);
  EXPECT_EQ(v.entities[0].name, "ACME");
  EXPECT_EQ(v.entities[0].roles, std::vector<uint64_t>{1});  // manifest-creator
  ASSERT_EQ(v.comids[0].entities.size(), 1u);
  EXPECT_EQ(v.comids[0].entities[0].roles, (std::vector<uint64_t>{0, 1}));
}

TEST(RealmReferenceValues, DerivedIdsAreStableUuidV8AndDistinct) {
  Measurement rpv = {};
  Measurements m = Sample(HashAlgorithm::kSha256);
  corim::ReferenceValues a = Must(RealmReferenceValues(m, rpv, {}));
  corim::ReferenceValues b = Must(RealmReferenceValues(m, rpv, {}));
  EXPECT_EQ(a, b);
  ASSERT_TRUE(std::holds_alternative<corim::Uuid>(a.corim_id));
  ASSERT_TRUE(std::holds_alternative<corim::Uuid>(a.comids[0].tag_identity.id));
  const corim::Uuid tag = std::get<corim::Uuid>(a.comids[0].tag_identity.id);
  EXPECT_NE(tag, std::get<corim::Uuid>(a.corim_id));
  EXPECT_EQ(tag[6] >> 4, 8);       // RFC 9562 version 8
  EXPECT_EQ(tag[8] & 0xc0, 0x80);  // RFC variant
  m.rim[0] ^= 1;
  corim::ReferenceValues c = Must(RealmReferenceValues(m, rpv, {}));
  EXPECT_NE(c.comids[0].tag_identity.id, a.comids[0].tag_identity.id);
  EndorsementOptions legacy;
  legacy.profile = std::string(kCorimProfileLegacy);
  corim::ReferenceValues d =
      Must(RealmReferenceValues(Sample(HashAlgorithm::kSha256), rpv, legacy));
  EXPECT_NE(d.comids[0].tag_identity.id, a.comids[0].tag_identity.id);
}

TEST(RealmReferenceValues, ExplicitIdsUuidOrText) {
  EndorsementOptions o;
  o.tag_id = "43bbe37f-2e61-4b33-aed3-53cff1428b16";
  o.corim_id = "my-corim";
  corim::ReferenceValues v =
      Must(RealmReferenceValues(Sample(HashAlgorithm::kSha256), {}, o));
  ASSERT_TRUE(std::holds_alternative<corim::Uuid>(v.comids[0].tag_identity.id));
  EXPECT_EQ(
      corim::UuidToString(std::get<corim::Uuid>(v.comids[0].tag_identity.id)),
      "43BBE37F-2E61-4B33-AED3-53CFF1428B16");
  EXPECT_EQ(v.corim_id, corim::Identifier(std::string("my-corim")));
}

TEST(CheckEndorsementOptions, Combinations) {
  auto check = [](EndorsementOptions o, bool measuring = true) {
    return CheckEndorsementOptions(o, measuring);
  };
  EXPECT_TRUE(check({}).ok());
  EndorsementOptions corim;
  corim.corim_output = "x.cbor";
  EXPECT_TRUE(check(corim).ok());
  EXPECT_FALSE(check(corim, /*measuring=*/false).ok());

  EndorsementOptions o = corim;
  o.profile = "cca-realm-2024";
  absl::Status s = check(o);
  EXPECT_TRUE(IsUsageError(s));
  EXPECT_TRUE(absl::StrContains(s.message(), "cca-realm-2024")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "cca-realm-legacy")) << s;

  o = corim;
  o.sign_key = "k.pem";
  s = check(o);
  EXPECT_TRUE(absl::StrContains(s.message(), "together")) << s;

  o = {};
  o.comid_output = "c.cbor";
  o.sign_key = "k.pem";
  o.sign_chain = "c.pem";
  s = check(o);
  EXPECT_TRUE(absl::StrContains(s.message(), "needs --corim-output")) << s;

  o = {};
  o.comid_output = "c.cbor";
  o.corim_id = "id";
  EXPECT_FALSE(check(o).ok());

  o = {};
  o.profile = std::string(kCorimProfileLegacy);
  s = check(o);
  EXPECT_TRUE(absl::StrContains(s.message(), "need --corim-output")) << s;

  o = corim;
  o.comid_output = "x.cbor";
  EXPECT_FALSE(check(o).ok());

  o = corim;
  o.entity = "";
  EXPECT_FALSE(check(o).ok());

  // --corim-rems: needs an output, and a valid list.
  o = {};
  o.rems = "none";
  s = check(o);
  EXPECT_TRUE(IsUsageError(s));
  EXPECT_EQ(s.message(), "--corim-rems needs --corim-output or --comid-output");
  o = corim;
  for (const char* good : {"all", "none", "0", "3,1", "0,1,2,3"}) {
    o.rems = good;
    EXPECT_TRUE(check(o).ok()) << good;
  }
  for (const char* bad : {"", "4", "0,0", "1,", "01", "ALL", " 0", "-1"}) {
    o.rems = bad;
    s = check(o);
    EXPECT_TRUE(IsUsageError(s)) << bad;
    EXPECT_EQ(s.message(),
              absl::StrCat("--corim-rems: expected all, none or distinct REM "
                           "indices 0-3 separated by commas (e.g. 0,2), "
                           "found '",
                           bad, "'"));
  }
}

// --corim-rems: the REMs left out are absent from the reference values
// (not compared), the others cut to the digest size as before.
TEST(RealmReferenceValues, CorimRemsLeavesTheOthersOut) {
  Measurement rpv = {};
  EndorsementOptions o;
  o.rems = "0,2";
  corim::ReferenceValues v =
      Must(RealmReferenceValues(Sample(HashAlgorithm::kSha256), rpv, o));
  const corim::RealmReferenceValue& r = v.comids[0].realms[0];
  ASSERT_TRUE(r.rem[0].has_value());
  EXPECT_EQ((*r.rem[0])[0], 0);
  EXPECT_FALSE(r.rem[1].has_value());
  ASSERT_TRUE(r.rem[2].has_value());
  EXPECT_EQ(r.rem[2]->size(), 32u);
  EXPECT_EQ((*r.rem[2])[0], 32);
  EXPECT_FALSE(r.rem[3].has_value());
  o.rems = "none";
  v = Must(RealmReferenceValues(Sample(HashAlgorithm::kSha256), rpv, o));
  for (const auto& rem : v.comids[0].realms[0].rem) EXPECT_FALSE(rem);
  // The encoded CoRIM decodes to the same REMs (both profiles).
  for (const char* profile : {"cca-realm-2025", "cca-realm-legacy"}) {
    o.rems = "1";
    o.profile = profile;
    v = Must(RealmReferenceValues(Sample(HashAlgorithm::kSha256), rpv, o));
    corim::EncodedObject e =
        Must(corim::EncodeCorim(v, *ParseCorimProfile(profile)));
    corim::DecodedCorim d = Must(corim::DecodeCorim(e.bytes));
    const corim::RealmReferenceValue& back = d.values.comids[0].realms[0];
    EXPECT_FALSE(back.rem[0]) << profile;
    ASSERT_TRUE(back.rem[1]) << profile;
    EXPECT_EQ(*back.rem[1], *v.comids[0].realms[0].rem[1]) << profile;
    EXPECT_FALSE(back.rem[2]) << profile;
  }
}

}  // namespace
}  // namespace realm_measurements::measure
