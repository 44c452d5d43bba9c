#include "corim/comid.h"

#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/hex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/files.h"

namespace realm_measurements::corim {
namespace {

using ::testing::HasSubstr;

std::vector<uint8_t> Filled(size_t n, absl::string_view pattern) {
  std::vector<uint8_t> out;
  while (out.size() < n) out.push_back(pattern[out.size() % pattern.size()]);
  return out;
}
std::vector<uint8_t> B64(absl::string_view text) {
  std::string out;
  EXPECT_TRUE(absl::Base64Unescape(text, &out)) << text;
  return std::vector<uint8_t>(out.begin(), out.end());
}
Uuid MustUuid(absl::string_view s) { return *UuidFromString(s); }

// The draft realm of spec-token-corim §1.10, used by the §3.10/§3.11
// worked examples.
constexpr absl::string_view kRim =
    "311314ab73620350cf758834ae5c65d9e8c2dc7febe6e7d9654bbe864e300d49";
constexpr absl::string_view kRem[4] = {
    "24d5b0a296cc05cbd8068c5067c5bd473b770dda6ae082fe3ba30abe3f9a6ab1",
    "788fc090bfc6b8ed903152ba8414e73daf5b8c7bb1e79ad502ab0699b659ed16",
    "dac46a58415dc3a00d7a741852008e9cae64f52d03b9f76d76f4b3644fefc416",
    "32c6afc627e55585c03155359f331a0e225f6840db947dd96efab81be2671939"};
constexpr absl::string_view kRpv =
    "54686520717569636b2062726f776e20666f78206a756d7073206f766572203133206c61"
    "7a7920646f67732e54686520717569636b2062726f776e20666f7820";

Comid DraftComid() {
  Comid c;
  c.tag_identity.id = MustUuid("43BBE37F-2E61-4B33-AED3-53CFF1428B16");
  RealmReferenceValue r;
  r.algorithm = RealmHashAlgorithm::kSha256;
  r.rim = test::FromHex(kRim);
  for (int i = 0; i < 4; ++i) r.rem[i] = test::FromHex(kRem[i]);
  r.rpv = test::FromHex(kRpv);
  c.realms.push_back(r);
  return c;
}

// §3.11, "Full hex" of the 2025-profile CoMID (404 bytes).
constexpr absl::string_view kComid2025Hex =
    "a201a1005043bbe37f2e614b33aed353cff1428b1604a1008182a100a100d90230582031"
    "1314ab73620350cf758834ae5c65d9e8c2dc7febe6e7d9654bbe864e300d4986a2006763"
    "63612e72696d01a1028182015820311314ab73620350cf758834ae5c65d9e8c2dc7febe6"
    "e7d9654bbe864e300d49a200686363612e72656d3001a102818201582024d5b0a296cc05"
    "cbd8068c5067c5bd473b770dda6ae082fe3ba30abe3f9a6ab1a200686363612e72656d31"
    "01a1028182015820788fc090bfc6b8ed903152ba8414e73daf5b8c7bb1e79ad502ab0699"
    "b659ed16a200686363612e72656d3201a1028182015820dac46a58415dc3a00d7a741852"
    "008e9cae64f52d03b9f76d76f4b3644fefc416a200686363612e72656d3301a102818201"
    "582032c6afc627e55585c03155359f331a0e225f6840db947dd96efab81be2671939a200"
    "676363612e72707601a104d90230584054686520717569636b2062726f776e20666f7820"
    "6a756d7073206f766572203133206c617a7920646f67732e54686520717569636b206272"
    "6f776e20666f7820";

// §3.11, legacy-profile equivalent (393 bytes).
constexpr absl::string_view kComidLegacyHex =
    "a201a1005043bbe37f2e614b33aed353cff1428b1604a1008182a200a200d82550cd1f0e"
    "5526f9460db9d8f7fde171787c0173576f726b6c6f616420436c69656e74204c746401d9"
    "02305820311314ab73620350cf758834ae5c65d9e8c2dc7febe6e7d9654bbe864e300d49"
    "81a101a204d90230584054686520717569636b2062726f776e20666f78206a756d707320"
    "6f766572203133206c617a7920646f67732e54686520717569636b2062726f776e20666f"
    "78200ea56372696d8182015820311314ab73620350cf758834ae5c65d9e8c2dc7febe6e7"
    "d9654bbe864e300d496472656d30818201582024d5b0a296cc05cbd8068c5067c5bd473b"
    "770dda6ae082fe3ba30abe3f9a6ab16472656d318182015820788fc090bfc6b8ed903152"
    "ba8414e73daf5b8c7bb1e79ad502ab0699b659ed166472656d328182015820dac46a5841"
    "5dc3a00d7a741852008e9cae64f52d03b9f76d76f4b3644fefc4166472656d3381820158"
    "2032c6afc627e55585c03155359f331a0e225f6840db947dd96efab81be2671939";

TEST(ComidTest, WorkedExample2025ComidIsByteExact) {
  absl::StatusOr<EncodedObject> out =
      EncodeComid(DraftComid(), Profile::kCcaRealm2025);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->bytes.size(), 404u);
  EXPECT_EQ(base::HexOf(out->bytes), kComid2025Hex);
  EXPECT_EQ(out->media_type, "application/cbor");
  absl::StatusOr<Comid> back = DecodeComid(out->bytes, Profile::kCcaRealm2025);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, DraftComid());
}

TEST(ComidTest, WorkedExample2025CorimIsByteExact) {
  ReferenceValues v;
  v.corim_id = std::string("cca-realm-example");
  v.comids.push_back(DraftComid());
  absl::StatusOr<EncodedObject> out = EncodeCorim(v, Profile::kCcaRealm2025);
  ASSERT_TRUE(out.ok()) << out.status();
  // §3.11: d901f5 a3 00 71 "cca-realm-example" 01 81 d901fa 590194 <CoMID>
  //        03 d820 7820 "tag:arm.com,2025:cca_realm#1.0.0"  (472 bytes).
  const std::string expected = absl::StrCat(
      "d901f5a3", "00716363612d7265616c6d2d6578616d706c65", "0181d901fa590194",
      kComid2025Hex, "03d8207820",
      "7461673a61726d2e636f6d2c323032353a6363615f7265616c6d23312e302e30");
  EXPECT_EQ(out->bytes.size(), 472u);
  EXPECT_EQ(base::HexOf(out->bytes), expected);
  EXPECT_EQ(
      out->media_type,
      "application/rim+cbor; profile=\"tag:arm.com,2025:cca_realm#1.0.0\"");
  absl::StatusOr<DecodedCorim> back = DecodeCorim(out->bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->profile, Profile::kCcaRealm2025);
  EXPECT_EQ(back->values, v);
}

TEST(ComidTest, WorkedExampleLegacyComidIsByteExact) {
  Comid c = DraftComid();
  c.legacy_class = LegacyClass{MustUuid("CD1F0E55-26F9-460D-B9D8-F7FDE171787C"),
                               std::string("Workload Client Ltd")};
  absl::StatusOr<EncodedObject> out = EncodeComid(c, Profile::kCcaRealmLegacy);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->bytes.size(), 393u);
  EXPECT_EQ(base::HexOf(out->bytes), kComidLegacyHex);
  absl::StatusOr<Comid> back =
      DecodeComid(out->bytes, Profile::kCcaRealmLegacy);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, c);
}

// testdata/vectors/README.md: Veraison's 2025 realm CoRIM; class-id 560(RIM),
// cca.rim / cca.rem0..3 digests with alg 8 (sha-512), cca.rpv raw-value;
// realm claims of cca-token-02 (RIM/REMs "CC..", RPV "AD..").
TEST(ComidTest, Vector2025DecodesToDocumentedValuesAndReencodesIdentically) {
  const std::vector<uint8_t> in =
      test::ReadFileBytes("testdata/vectors/corim-cca-realm-2025.cbor");
  absl::StatusOr<DecodedCorim> d = DecodeCorim(in);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->profile, Profile::kCcaRealm2025);
  EXPECT_EQ(std::get<std::string>(d->values.corim_id),
            "00000000-0000-0000-cca4-0000000000001");
  EXPECT_FALSE(d->values.validity.has_value());
  ASSERT_EQ(d->values.entities.size(), 1u);
  EXPECT_EQ(d->values.entities[0].name, "Veraison Project");
  EXPECT_EQ(d->values.entities[0].roles, std::vector<uint64_t>{1});
  ASSERT_EQ(d->values.comids.size(), 1u);
  const Comid& c = d->values.comids[0];
  EXPECT_EQ(std::get<Uuid>(c.tag_identity.id),
            MustUuid("43BBE37F-2E61-4B33-AED3-53CFF1428B16"));
  ASSERT_EQ(c.realms.size(), 1u);
  const RealmReferenceValue& r = c.realms[0];
  EXPECT_EQ(r.algorithm, RealmHashAlgorithm::kSha512);
  EXPECT_EQ(r.rim, Filled(64, "C"));
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(r.rem[i].has_value());
    EXPECT_EQ(*r.rem[i], Filled(64, "C"));
  }
  ASSERT_TRUE(r.rpv.has_value());
  EXPECT_EQ(*r.rpv, Filled(64, "AD"));

  absl::StatusOr<EncodedObject> again = EncodeCorim(d->values, d->profile);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(base::HexOf(again->bytes), base::HexOf(in));
}

// A validity window ending before it starts is refused (veraison/corim
// Validity.Valid): the legacy vector with its two times swapped.
TEST(ComidTest, NegativeValidityWindowIsRefused) {
  std::string hex = base::HexOf(
      test::ReadFileBytes("testdata/vectors/corim-cca-realm-legacy.cbor"));
  const std::string window = "04a200c11a61ce480001c11a69546780";
  const size_t at = hex.find(window);
  ASSERT_NE(at, std::string::npos);
  hex.replace(at, window.size(), "04a200c11a6954678001c11a61ce4800");
  absl::StatusOr<DecodedCorim> d = DecodeCorim(test::FromHex(hex));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(),
            "corim.validity: expected not-before <= not-after, found "
            "not-before 2025-12-31T00:00:00Z after not-after "
            "2021-12-31T00:00:00Z");
  // A server reads what it stored before this check with
  // keep_negative_validity: the window is kept, and no time is inside it.
  absl::StatusOr<CborValue> cbor = DecodeCbor(test::FromHex(hex), "CoRIM");
  ASSERT_TRUE(cbor.ok()) << cbor.status();
  CorimReadOptions stored;
  stored.keep_negative_validity = true;
  absl::StatusOr<DecodedCorim> kept = CorimFromCbor(*cbor, stored);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->values.validity, (Validity{1767139200, 1640908800}));
  EXPECT_FALSE(kept->values.comids.empty());
  for (int64_t t : {int64_t{0}, int64_t{1640908800}, int64_t{1700000000},
                    int64_t{1767139200}, int64_t{4102444800}}) {
    EXPECT_FALSE(ValidAt(kept->values.validity, t)) << t;
  }
  // Everything else is still checked: the same CoRIM without its tags.
  EXPECT_FALSE(
      CorimFromCbor(CborValue::Tag(501, CborValue::MakeMap({})), stored).ok());
}

// testdata/vectors/README.md: Veraison 2024-25 end-to-end realm CoRIM; legacy
// profile as untagged text, validity as tag-1 epoch times, instance 560(RIM),
// raw-value 560(RPV), integrity registers rim/rem0..3 with alg 8.
TEST(ComidTest, VectorLegacyDecodesToDocumentedValuesAndReencodesIdentically) {
  const std::vector<uint8_t> in =
      test::ReadFileBytes("testdata/vectors/corim-cca-realm-legacy.cbor");
  absl::StatusOr<DecodedCorim> d = DecodeCorim(in);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->profile, Profile::kCcaRealmLegacy);
  EXPECT_EQ(std::get<Uuid>(d->values.corim_id),
            MustUuid("00000000-0000-0001-cca4-000000000001"));
  ASSERT_TRUE(d->values.validity.has_value());
  EXPECT_EQ(d->values.validity->not_before, 1640908800);  // 2021-12-31Z
  EXPECT_EQ(d->values.validity->not_after, 1767139200);   // 2025-12-31Z
  ASSERT_EQ(d->values.entities.size(), 1u);
  EXPECT_EQ(d->values.entities[0],
            (Entity{"ACME Ltd.", std::string("acme.example"), {1}}));
  ASSERT_EQ(d->values.comids.size(), 1u);
  const Comid& c = d->values.comids[0];
  EXPECT_EQ(c.language, std::string("en-GB"));
  ASSERT_EQ(c.entities.size(), 1u);
  EXPECT_EQ(c.entities[0],
            (Entity{"Workload Client Ltd.",
                    std::string("https://workloadclient.example"),
                    {0, 1, 2}}));
  EXPECT_FALSE(c.legacy_class.has_value());
  ASSERT_EQ(c.realms.size(), 1u);
  const RealmReferenceValue& r = c.realms[0];
  EXPECT_EQ(r.algorithm, RealmHashAlgorithm::kSha512);
  EXPECT_EQ(r.rim, Filled(64, "C"));
  EXPECT_FALSE(r.legacy_instance.has_value());  // instance == RIM
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r.rem[i], Filled(64, "C"));
  EXPECT_EQ(r.rpv, Filled(64, "AD"));

  absl::StatusOr<EncodedObject> again = EncodeCorim(d->values, d->profile);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(base::HexOf(again->bytes), base::HexOf(in));
  EXPECT_EQ(again->media_type,
            "application/corim-unsigned+cbor; "
            "profile=\"http://arm.com/cca/realm/1\"");
}

TEST(ComidTest, MediaTypesFollowSpec) {
  EXPECT_EQ(
      SignedCorimMediaType(Profile::kCcaRealm2025),
      "application/rim+cose; profile=\"tag:arm.com,2025:cca_realm#1.0.0\"");
  EXPECT_EQ(SignedCorimMediaType(Profile::kCcaRealmLegacy),
            "application/rim+cose; profile=\"http://arm.com/cca/realm/1\"");
}

TEST(ComidTest, Sha384RealmEncodesAtExactSizeWithAlgorithm7) {
  Comid c = DraftComid();
  c.realms[0].algorithm = RealmHashAlgorithm::kSha384;
  c.realms[0].rim = Filled(48, "r");
  for (int i = 0; i < 4; ++i) c.realms[0].rem[i].reset();
  c.realms[0].rem[1] = Filled(48, "1");
  absl::StatusOr<EncodedObject> out = EncodeComid(c, Profile::kCcaRealm2025);
  ASSERT_TRUE(out.ok()) << out.status();
  // [[7, h'72..'(48)]] under cca.rim.
  EXPECT_THAT(base::HexOf(out->bytes), HasSubstr("a102818207583072727272"));
  absl::StatusOr<Comid> back = DecodeComid(out->bytes, Profile::kCcaRealm2025);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, c);
  // The reference tool's mistake: a 64-byte buffer for a sha-256 realm.
  c.realms[0].rim = Filled(64, "r");
  EXPECT_THAT(
      std::string(EncodeComid(c, Profile::kCcaRealm2025).status().message()),
      HasSubstr("RIM: expected 48 bytes (sha-384), found 64"));
}

// Each malformed CoMID is produced by editing our own good encoding's
// diagnostic-level structure, then checked for its specific error.
struct BadComid {
  const char* name;
  std::function<void(CborValue&)> edit;
  const char* error;
};

CborValue& At(CborValue& v, std::vector<int> path) {
  CborValue* cur = &v;
  for (int p : path) {
    if (cur->is_tag()) cur = &const_cast<CborValue&>(cur->tag_content());
    if (cur->is_map()) {
      cur = &cur->mutable_map()[p].second;
    } else {
      cur = &cur->mutable_array()[p];
    }
  }
  return *cur;
}

TEST(ComidTest, Malformed2025ComidsAreRejected) {
  // Map entries of the encoded CoMID (insertion order): 1 tag-identity,
  // 4 triples -> {0: [triple]}; triple = [env, [rim, rem0..3, rpv]].
  const std::vector<BadComid> cases = {
      {"unknown mkey",
       [](CborValue& v) {
         At(v, {1, 0, 0, 1, 0}).mutable_map()[0].second =
             CborValue::Text("cca.foo");
       },
       "expected \"cca.rim\", \"cca.rem0\"..\"cca.rem3\" or \"cca.rpv\", found "
       "\"cca.foo\""},
      {"no rim",
       [](CborValue& v) {
         auto& ms = At(v, {1, 0, 0, 1}).mutable_array();
         ms.erase(ms.begin());
       },
       "expected a \"cca.rim\" measurement, found none"},
      {"class-id differs from rim",
       [](CborValue& v) {
         At(v, {1, 0, 0, 1, 0, 1, 0, 0}).mutable_array()[1] =
             CborValue::Bytes(std::vector<uint8_t>(32, 0));
       },
       "class-id equal to the cca.rim digest"},
      {"rem of another size",
       [](CborValue& v) {
         At(v, {1, 0, 0, 1, 2, 1, 0, 0}).mutable_array()[1] =
             CborValue::Bytes(std::vector<uint8_t>(64, 0));
       },
       "REM1: expected 32 bytes (sha-256), found 64"},
      {"rem with another algorithm",
       [](CborValue& v) {
         At(v, {1, 0, 0, 1, 3, 1, 0, 0}).mutable_array()[0] =
             CborValue::Uint(8);
       },
       "expected REM2 digest algorithm sha-256 (as the RIM), found sha-512"},
      {"unknown digest algorithm",
       [](CborValue& v) {
         At(v, {1, 0, 0, 1, 0, 1, 0, 0}).mutable_array()[0] =
             CborValue::Uint(10);
       },
       "expected 1 (sha-256), 7 (sha-384) or 8 (sha-512), found 10"},
      {"two digests",
       [](CborValue& v) {
         auto& d = At(v, {1, 0, 0, 1, 0, 1, 0});
         d.mutable_array().push_back(d.array()[0]);
       },
       "expected an array with exactly one digest"},
      {"authorized-by",
       [](CborValue& v) {
         At(v, {1, 0, 0, 1, 0})
             .mutable_map()
             .emplace_back(CborValue::Uint(2), CborValue::Null());
       },
       "measurements[0]: expected only keys {0, 1}, found key 2"},
      {"instance in 2025 environment",
       [](CborValue& v) {
         At(v, {1, 0, 0, 0})
             .mutable_map()
             .emplace_back(CborValue::Uint(1),
                           CborValue::Bytes(std::vector<uint8_t>{1}));
       },
       "environment: expected only keys {0}, found key 1"},
      {"short rpv",
       [](CborValue& v) {
         At(v, {1, 0, 0, 1, 5, 1, 0}) = CborValue::Tag(
             kTagTaggedBytes, CborValue::Bytes(std::vector<uint8_t>(32, 1)));
       },
       "RPV: expected 64 bytes (realm personalization value), found 32"},
      {"rpv untagged",
       [](CborValue& v) {
         At(v, {1, 0, 0, 1, 5, 1, 0}) =
             CborValue::Bytes(std::vector<uint8_t>(64, 1));
       },
       "raw-value: expected 560(byte string), found byte string"},
      {"endorsed-values triple",
       [](CborValue& v) {
         At(v, {1}).mutable_map().emplace_back(CborValue::Uint(1),
                                               CborValue::MakeArray({}));
       },
       "comid.triples: expected only keys {0}, found key 1"},
      {"duplicate mkey",
       [](CborValue& v) {
         auto& ms = At(v, {1, 0, 0, 1}).mutable_array();
         ms.push_back(ms[1]);
       },
       "expected each mkey once, found \"cca.rem0\" again"},
  };
  absl::StatusOr<CborValue> good =
      ComidToCbor(DraftComid(), Profile::kCcaRealm2025);
  ASSERT_TRUE(good.ok());
  for (const BadComid& c : cases) {
    SCOPED_TRACE(c.name);
    CborValue v = *good;
    c.edit(v);
    absl::StatusOr<Comid> r = ComidFromCbor(v, Profile::kCcaRealm2025);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.error));
  }
}

TEST(ComidTest, MalformedLegacyComidsAreRejected) {
  Comid base = DraftComid();
  absl::StatusOr<CborValue> good = ComidToCbor(base, Profile::kCcaRealmLegacy);
  ASSERT_TRUE(good.ok());
  // Triple = [{1: instance}, [{1: {4: rpv, 14: regs}}]].
  const std::vector<BadComid> cases = {
      {"no instance",
       [](CborValue& v) {
         At(v, {1, 0, 0, 0}).mutable_map().clear();
       },
       "environment: expected key 1, found it missing"},
      {"mkey present",
       [](CborValue& v) {
         At(v, {1, 0, 0, 1, 0})
             .mutable_map()
             .emplace_back(CborValue::Uint(0), CborValue::Text("cca.rim"));
       },
       "measurements[0]: expected only keys {1}, found key 0"},
      {"no rim register",
       [](CborValue& v) {
         auto& regs = At(v, {1, 0, 0, 1, 0, 0, 1}).mutable_map();
         regs.erase(regs.begin());
       },
       "expected a \"rim\" register, found none"},
      {"unknown register",
       [](CborValue& v) {
         At(v, {1, 0, 0, 1, 0, 0, 1}).mutable_map()[1].first =
             CborValue::Text("rem9");
       },
       "found \"rem9\""},
      {"register named twice in another case",
       [](CborValue& v) {
         auto& regs = At(v, {1, 0, 0, 1, 0, 0, 1}).mutable_map();
         regs.emplace_back(CborValue::Text("RIM"), regs[0].second);
       },
       "expected each register once, found \"rim\" again"},
      {"two measurements",
       [](CborValue& v) {
         auto& ms = At(v, {1, 0, 0, 1}).mutable_array();
         ms.push_back(ms[0]);
       },
       "expected exactly one measurement"},
  };
  for (const BadComid& c : cases) {
    SCOPED_TRACE(c.name);
    CborValue v = *good;
    c.edit(v);
    absl::StatusOr<Comid> r = ComidFromCbor(v, Profile::kCcaRealmLegacy);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.error));
  }
}

TEST(ComidTest, LegacyInstanceOtherThanRimSurvivesRoundTrip) {
  Comid c = DraftComid();
  c.realms[0].legacy_instance = Filled(48, "I");
  absl::StatusOr<EncodedObject> out = EncodeComid(c, Profile::kCcaRealmLegacy);
  ASSERT_TRUE(out.ok());
  absl::StatusOr<Comid> back =
      DecodeComid(out->bytes, Profile::kCcaRealmLegacy);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, c);
}

TEST(ComidTest, MalformedCorimsAreRejected) {
  ReferenceValues v;
  v.corim_id = std::string("x");
  v.comids.push_back(DraftComid());
  absl::StatusOr<EncodedObject> good = EncodeCorim(v, Profile::kCcaRealm2025);
  ASSERT_TRUE(good.ok());
  std::vector<uint8_t> trailing = good->bytes;
  trailing.push_back(0);
  EXPECT_THAT(std::string(DecodeCorim(trailing).status().message()),
              HasSubstr("1 trailing bytes"));
  std::vector<uint8_t> untagged(good->bytes.begin() + 3, good->bytes.end());
  EXPECT_THAT(std::string(DecodeCorim(untagged).status().message()),
              HasSubstr("corim: expected tag 501 (unsigned CoRIM), found map"));
  // Unknown profile text.
  std::vector<uint8_t> other = good->bytes;
  other[other.size() - 1] ^= 0x01;  // "...#1.0.1"
  EXPECT_THAT(std::string(DecodeCorim(other).status().message()),
              HasSubstr("corim.profile: expected 32(\"tag:arm.com,2025:"));
  // Obsolete 500 wrapper is accepted.
  std::vector<uint8_t> wrapped = {0xd9, 0x01, 0xf4};
  wrapped.insert(wrapped.end(), good->bytes.begin(), good->bytes.end());
  EXPECT_TRUE(DecodeCorim(wrapped).ok());
  // A truncated CoMID bstr inside.
  std::vector<uint8_t> truncated(good->bytes.begin(), good->bytes.end() - 40);
  EXPECT_EQ(DecodeCorim(truncated).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ComidTest, EncodersRejectInvalidModels) {
  ReferenceValues v;
  v.corim_id = std::string("x");
  EXPECT_THAT(
      std::string(EncodeCorim(v, Profile::kCcaRealm2025).status().message()),
      HasSubstr("expected at least one CoMID"));
  Comid c = DraftComid();
  c.realms[0].rem[3] = std::vector<uint8_t>(31, 0);
  EXPECT_THAT(
      std::string(EncodeComid(c, Profile::kCcaRealmLegacy).status().message()),
      HasSubstr("REM3: expected 32 bytes (sha-256), found 31"));
}

// §3.10: the 2026-dialect template for the §1.10 realm.
TEST(ComidTest, Json2026TemplateMatchesSpecExample) {
  const char* kExpected = R"({
  "tag-identity": { "id": "43BBE37F-2E61-4B33-AED3-53CFF1428B16", "version": 0 },
  "triples": {
    "reference-values": [ {
      "environment": { "class": { "id": { "type": "bytes",
                                          "value": "MRMUq3NiA1DPdYg0rlxl2ejC3H/r5ufZZUu+hk4wDUk=" } } },
      "measurements": [
        { "key": { "type": "string", "value": "cca.rim" },
          "value": { "digests": [ [1, "MRMUq3NiA1DPdYg0rlxl2ejC3H_r5ufZZUu-hk4wDUk"] ] } },
        { "key": { "type": "string", "value": "cca.rem0" },
          "value": { "digests": [ [1, "JNWwopbMBcvYBoxQZ8W9Rzt3Ddpq4IL-O6MKvj-aarE"] ] } },
        { "key": { "type": "string", "value": "cca.rem1" },
          "value": { "digests": [ [1, "eI_AkL_GuO2QMVK6hBTnPa9bjHux55rVAqsGmbZZ7RY"] ] } },
        { "key": { "type": "string", "value": "cca.rem2" },
          "value": { "digests": [ [1, "2sRqWEFdw6ANenQYUgCOnK5k9S0DufdtdvSzZE_vxBY"] ] } },
        { "key": { "type": "string", "value": "cca.rem3" },
          "value": { "digests": [ [1, "MsavxiflVYXAMVU1nzMaDiJfaEDblH3Zbvq4G-JnGTk"] ] } },
        { "key": { "type": "string", "value": "cca.rpv" },
          "value": { "raw-value": { "type": "bytes",
            "value": "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIDEzIGxhenkgZG9ncy5UaGUgcXVpY2sgYnJvd24gZm94IA==" } } }
      ]
    } ]
  }
})";
  absl::StatusOr<EncodedObject> out =
      EncodeComidJson(DraftComid(), Profile::kCcaRealm2025);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->media_type, "application/json");
  nlohmann::json ours =
      nlohmann::json::parse(out->bytes.begin(), out->bytes.end());
  EXPECT_EQ(ours, nlohmann::json::parse(kExpected)) << ours.dump(2);
}

// The cocli-2024 sample template of the reference tool
// (testdata/vectors/comid-cca-realm-legacy.json) is what we write for the
// same values.
TEST(ComidTest, JsonLegacyTemplateMatchesCocliSample) {
  const std::vector<uint8_t> raw =
      test::ReadFileBytes("testdata/vectors/comid-cca-realm-legacy.json");
  const nlohmann::json sample = nlohmann::json::parse(raw.begin(), raw.end());
  Comid c;
  c.language = "en-GB";
  c.tag_identity.id = MustUuid("43BBE37F-2E61-4B33-AED3-53CFF1428B16");
  c.entities.push_back(Entity{"Workload Client Ltd.",
                              std::string("https://workloadclient.example"),
                              {0, 1, 2}});
  c.legacy_class = LegacyClass{MustUuid("CD1F0E55-26F9-460D-B9D8-F7FDE171787C"),
                               std::string("Workload Client Ltd")};
  RealmReferenceValue r;
  r.algorithm = RealmHashAlgorithm::kSha384;
  r.rim =
      B64("QoS1aUymwNLPR4mguVrIAlyBjeUjBDZL580pgbLS7caFsyInfsJYGZYkE9jJssH1");
  r.rem[0] =
      B64("IQe752H8pS2VE2oTVNt6TdV7Gya+DT2nHZ6yOYazS6YVq/ZRTPNeWp6lWgMtBop4");
  r.rem[1] =
      B64("JQe752H8pS2VE2oTVNt6TdV7Gya+DT2nHZ6yOYazS6YVq/ZRTPNeWp6lWgMtBop4");
  r.rem[2] =
      B64("MQe752H8pS2VE2oTVNt6TdV7Gya+DT2nHZ6yOYazS6YVq/ZRTPNeWp6lWgMtBop4");
  r.rem[3] =
      B64("NQe752H8pS2VE2oTVNt6TdV7Gya+DT2nHZ6yOYazS6YVq/ZRTPNeWp6lWgMtBop4");
  r.rpv =
      B64("5Fty9cDAtXLbTY06t+l/No/3TmI0eoJN7LZ6hOUiTXXkW3L1wMC1cttNjTq36X82j/"
          "dOYjR6gk3stnqE5SJNdQ==");
  c.realms.push_back(r);
  absl::StatusOr<EncodedObject> out =
      EncodeComidJson(c, Profile::kCcaRealmLegacy);
  ASSERT_TRUE(out.ok()) << out.status();
  nlohmann::json ours =
      nlohmann::json::parse(out->bytes.begin(), out->bytes.end());
  EXPECT_EQ(ours, sample) << ours.dump(2);
}

// The reference tool's CoRIM template (legacy): corim-id, plain profile text,
// RFC 3339 validity, manifestCreator.
TEST(ComidTest, JsonLegacyCorimTemplateMatchesSample) {
  const std::vector<uint8_t> raw = test::ReadFileBytes(
      "testdata/vectors/reference-testdata/corim-cca-realm.json");
  nlohmann::json sample = nlohmann::json::parse(raw.begin(), raw.end());
  ReferenceValues v;
  v.corim_id = MustUuid("5c57e8f4-46cd-421b-91c9-08cf93e13cfc");
  v.validity = Validity{1640908800, 1767139200};
  v.entities.push_back(Entity{"ACME Ltd.", std::string("acme.example"), {1}});
  v.comids.push_back(DraftComid());
  absl::StatusOr<EncodedObject> out =
      EncodeCorimTemplateJson(v, Profile::kCcaRealmLegacy);
  ASSERT_TRUE(out.ok()) << out.status();
  nlohmann::json ours =
      nlohmann::json::parse(out->bytes.begin(), out->bytes.end());
  // UUID text case is not significant (RFC 4122 §3).
  sample["corim-id"] =
      absl::AsciiStrToUpper(sample["corim-id"].get<std::string>());
  EXPECT_EQ(ours, sample) << ours.dump(2);

  absl::StatusOr<EncodedObject> t2026 =
      EncodeCorimTemplateJson(v, Profile::kCcaRealm2025);
  ASSERT_TRUE(t2026.ok());
  nlohmann::json j2026 =
      nlohmann::json::parse(t2026->bytes.begin(), t2026->bytes.end());
  EXPECT_EQ(
      j2026["profile"],
      nlohmann::json::parse(
          R"({"type": "uri", "value": "tag:arm.com,2025:cca_realm#1.0.0"})"));
}

TEST(ComidTest, DecodedJsonListsRealms) {
  const std::vector<uint8_t> in =
      test::ReadFileBytes("testdata/vectors/corim-cca-realm-legacy.cbor");
  absl::StatusOr<DecodedCorim> d = DecodeCorim(in);
  ASSERT_TRUE(d.ok());
  nlohmann::json j = nlohmann::json::parse(DecodedCorimToJson(*d));
  EXPECT_EQ(j["profile"], "http://arm.com/cca/realm/1");
  EXPECT_EQ(j["validity"]["not-after"], "2025-12-31T00:00:00Z");
  EXPECT_EQ(j["comids"][0]["realms"][0]["hash-algorithm"], "sha-512");
  EXPECT_EQ(j["comids"][0]["realms"][0]["rim"], base::HexOf(Filled(64, "C")));
}

}  // namespace
}  // namespace realm_measurements::corim
