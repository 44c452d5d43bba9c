#include "corim/token.h"

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "base/crypto.h"
#include "base/hex.h"
#include "corim/internal/token_samples.h"
#include "gtest/gtest.h"
#include "testing/files.h"

namespace realm_measurements::corim {
namespace {

using internal::SamplePlatformClaims;
using internal::SampleRealmClaims;

std::vector<uint8_t> ReadVector(const std::string& name) {
  return test::ReadFileBytes("testdata/vectors/" + name);
}

// testdata/vectors/README.md and spec §1.2/§1.10 describe each vector.
TEST(TokenTest, DecodesDraftExample) {
  auto t = DecodeCcaToken(ReadVector("cca-token-draft-ffm-00.cbor"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->form, TopLevelForm::kEatCollection);
  EXPECT_EQ(t->realm.profile, RealmProfile::kV1);
  EXPECT_EQ(t->platform.profile, PlatformProfile::kV1);
  EXPECT_EQ(t->platform.sw_components.size(), 13u);
  EXPECT_EQ(base::HexOf(t->realm.initial_measurement),
            "311314ab73620350cf758834ae5c65d9e8c2dc7febe6e7d9654bbe864e300d49");
  ASSERT_EQ(t->realm.extensible_measurements.size(), 4u);
  EXPECT_EQ(base::HexOf(t->realm.extensible_measurements[3]),
            "32c6afc627e55585c03155359f331a0e225f6840db947dd96efab81be2671939");
  EXPECT_EQ(std::string(t->realm.personalization_value.begin(),
                        t->realm.personalization_value.end()),
            "The quick brown fox jumps over 13 lazy dogs.The quick brown fox ");
  EXPECT_EQ(t->realm.hash_algorithm, "sha-256");
  EXPECT_EQ(t->realm.public_key.size(), 107u);
  EXPECT_EQ(base::HexOf(t->platform.challenge),
            "0d22e08a98469058486318283489bdb36f09dbefeb1864df433fa6e54ea2d711");
  EXPECT_EQ(base::HexOf(t->platform.config), "cfcfcfcf");
  EXPECT_EQ(base::HexOf(t->realm_envelope.protected_bytes), "a1013822");
  EXPECT_EQ(t->realm_envelope.payload.size(), 481u);
  EXPECT_TRUE(t->realm.unknown_keys.empty());
}

TEST(TokenTest, DecodesEveryVector) {
  struct Case {
    const char* file;
    TopLevelForm form;
    RealmProfile realm_profile;
    PlatformProfile platform_profile;
    size_t rak_size;
    const char* realm_hash;
    const char* rak_hash;
    size_t rim_size;
  } cases[] = {
      {"cca-token-01.cbor", TopLevelForm::kEatCollection, RealmProfile::kNone,
       PlatformProfile::kLegacy, 97, "sha-256", "sha-256", 32},
      {"cca-token-02.cbor", TopLevelForm::kEatCollection, RealmProfile::kNone,
       PlatformProfile::kLegacy, 97, "sha-256", "sha-512", 64},
      {"cca-token-bug-33.cbor", TopLevelForm::kEatCollection,
       RealmProfile::kNone, PlatformProfile::kUnknown, 97, "sha-512", nullptr,
       64},
      {"cca-token-draft-ffm-00.cbor", TopLevelForm::kEatCollection,
       RealmProfile::kV1, PlatformProfile::kV1, 107, "sha-256", "sha-256", 32},
      {"cca-token-cmw907.cbor", TopLevelForm::kCmwCollection, RealmProfile::kV1,
       PlatformProfile::kV1, 107, nullptr, "sha-512", 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    auto t = DecodeCcaToken(ReadVector(c.file));
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->form, c.form);
    EXPECT_EQ(t->realm.profile, c.realm_profile);
    if (c.platform_profile != PlatformProfile::kUnknown) {
      EXPECT_EQ(t->platform.profile, c.platform_profile);
    }
    EXPECT_EQ(t->realm.public_key.size(), c.rak_size);
    if (c.realm_hash) EXPECT_EQ(t->realm.hash_algorithm, c.realm_hash);
    if (c.rak_hash) EXPECT_EQ(t->realm.public_key_hash_algorithm, c.rak_hash);
    if (c.rim_size) EXPECT_EQ(t->realm.initial_measurement.size(), c.rim_size);
    if (c.form == TopLevelForm::kCmwCollection) {
      EXPECT_EQ(t->platform_content_format, kContentFormatEatCwt);
      EXPECT_EQ(t->realm_content_format, kContentFormatEatCwt);
    }
    // Strict decoding accepts all five too (tagged COSE, no extra keys).
    TokenDecodeOptions strict;
    strict.strict = true;
    EXPECT_TRUE(DecodeCcaToken(ReadVector(c.file), strict).ok());
  }
}

// §1.2 byte prefixes of forms A and B.
TEST(TokenTest, TopLevelPrefixes) {
  const std::vector<uint8_t> a = ReadVector("cca-token-draft-ffm-00.cbor");
  const std::vector<uint8_t> b = ReadVector("cca-token-cmw907.cbor");
  EXPECT_EQ(base::HexOf(absl::MakeConstSpan(a).subspan(0, 9)),
            "d9018fa219acca5905");
  EXPECT_EQ(base::HexOf(absl::MakeConstSpan(b).subspan(0, 12)),
            "d9038ba219acca82190107"
            "59");
}

class SynthTest : public ::testing::TestWithParam<
                      std::tuple<TopLevelForm, RealmProfile, const char*>> {};

TEST_P(SynthTest, RoundTrip) {
  const auto [form, profile, hash] = GetParam();
  auto cpak = crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
  auto rak = crypto::EcPrivateKey::Generate(crypto::Curve::kP384);
  ASSERT_TRUE(cpak.ok() && rak.ok());
  PlatformClaims platform = SamplePlatformClaims();
  RealmClaims realm = SampleRealmClaims(profile, hash);
  auto bytes = SignCcaToken(form, platform, realm, *cpak, *rak);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  TokenDecodeOptions strict;
  strict.strict = true;
  auto t = DecodeCcaToken(*bytes, strict);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->form, form);
  EXPECT_EQ(t->realm.profile, profile);
  EXPECT_EQ(t->realm.hash_algorithm, hash);
  EXPECT_EQ(t->realm.initial_measurement, realm.initial_measurement);
  EXPECT_EQ(t->realm.extensible_measurements, realm.extensible_measurements);
  EXPECT_EQ(t->realm.personalization_value, realm.personalization_value);
  EXPECT_EQ(t->realm.challenge, realm.challenge);
  EXPECT_EQ(t->realm.instance_id, realm.instance_id);
  EXPECT_EQ(t->realm.mec_policy, realm.mec_policy);
  EXPECT_EQ(t->realm.public_key.size(),
            profile == RealmProfile::kNone ? 97u : 107u);
  EXPECT_EQ(t->platform.implementation_id, platform.implementation_id);
  EXPECT_EQ(t->platform.instance_id, platform.instance_id);
  EXPECT_EQ(t->platform.lifecycle, platform.lifecycle);
  ASSERT_EQ(t->platform.sw_components.size(), 1u);
  EXPECT_EQ(t->platform.sw_components[0].version, "1.0.0");
  EXPECT_EQ(t->platform.challenge.size(), 32u);  // sha-256 binder
  // Re-encoding the decoded claims reproduces the signed payloads.
  EXPECT_EQ(*EncodeRealmClaims(t->realm), t->realm_envelope.payload);
  EXPECT_EQ(*EncodePlatformClaims(t->platform), t->platform_envelope.payload);
}

INSTANTIATE_TEST_SUITE_P(
    FormsProfilesHashes, SynthTest,
    ::testing::Combine(::testing::Values(TopLevelForm::kEatCollection,
                                         TopLevelForm::kCmwCollection),
                       ::testing::Values(RealmProfile::kNone, RealmProfile::kV1,
                                         RealmProfile::kV2),
                       ::testing::Values("sha-256", "sha-384", "sha-512")));

TEST(TokenTest, TopLevelErrors) {
  const std::string cose =
      "d28443a10126a0"
      "41a0"
      "40";  // payload {}
  struct Case {
    std::string hex;
    const char* needle;
  } cases[] = {
      // Tag 18 at top level.
      {cose, "top-level tag: expected 399 or 907, found tag 18"},
      // Untagged map.
      {"a0", "expected 399 or 907, found map"},
      // 907 with an empty map.
      {"d9038ba0", "collection key 44234: expected the platform token"},
      // 907 with the platform only.
      {"d9038ba119acca821901074a" + cose,
       "collection key 44241: expected the realm token, found none"},
      // 907 with bare byte strings (testBadUnwrappedTokens).
      {"d9038ba219acca42dead19acd142beef",
       "CMW record (tag 907): expected a 2-element array"},
      // 399 with entries that are not COSE_Sign1.
      {"d9018fa219acca42dead19acd142beef", "platform token"},
      // 399 map value is an array.
      {"d9018fa219acca8019acd180", "expected a byte string holding a"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.hex);
    auto t = DecodeCcaToken(test::FromHex(c.hex));
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(t.status().message().find(c.needle), std::string::npos)
        << t.status();
  }
}

// Lenient skips an unknown collection key and accepts untagged COSE_Sign1;
// strict rejects both (§1.2, §1.3).
TEST(TokenTest, StrictVersusLenient) {
  auto cpak = crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
  auto rak = crypto::EcPrivateKey::Generate(crypto::Curve::kP384);
  ASSERT_TRUE(cpak.ok() && rak.ok());
  auto bytes =
      SignCcaToken(TopLevelForm::kEatCollection, SamplePlatformClaims(),
                   SampleRealmClaims(RealmProfile::kV1), *cpak, *rak);
  ASSERT_TRUE(bytes.ok());
  auto top = DecodeCbor(*bytes);
  ASSERT_TRUE(top.ok());
  CborValue map = top->tag_content();
  map.mutable_map().emplace_back(CborValue::Uint(44242),
                                 CborValue::Bytes(test::FromHex("00")));
  auto extra = EncodeCbor(CborValue::Tag(399, map));
  ASSERT_TRUE(extra.ok());
  TokenDecodeOptions strict;
  strict.strict = true;
  auto lenient = DecodeCcaToken(*extra);
  ASSERT_TRUE(lenient.ok()) << lenient.status();
  ASSERT_EQ(lenient->unknown_keys.size(), 1u);
  EXPECT_EQ(ClaimKeyToString(lenient->unknown_keys[0]), "44242");
  auto s = DecodeCcaToken(*extra, strict);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("found 44242"), std::string::npos);

  // Strip tag 18 from the realm entry.
  CborValue realm_cose =
      *DecodeCbor(top->tag_content().FindUint(44241)->bytes());
  CborValue untagged = realm_cose.tag_content();
  CborValue map2 = top->tag_content();
  for (auto& e : map2.mutable_map()) {
    if (e.first == CborValue::Uint(44241)) {
      e.second = CborValue::Bytes(*EncodeCbor(untagged));
    }
  }
  auto untagged_token = EncodeCbor(CborValue::Tag(399, map2));
  ASSERT_TRUE(untagged_token.ok());
  auto ok = DecodeCcaToken(*untagged_token);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_FALSE(ok->realm_envelope.tagged);
  auto bad = DecodeCcaToken(*untagged_token, strict);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(
      bad.status().message().find("realm token: COSE_Sign1: expected tag 18"),
      std::string::npos)
      << bad.status();
}

TEST(TokenTest, RealmClaimErrors) {
  RealmClaims base = SampleRealmClaims(RealmProfile::kV1);
  base.public_key = std::vector<uint8_t>(107, 0);
  auto payload = EncodeRealmClaims(base);
  ASSERT_TRUE(payload.ok());
  ASSERT_TRUE(DecodeRealmClaims(*payload).ok());
  const uint64_t mandatory[] = {10, 44235, 44236, 44237, 44238, 44239, 44240};
  for (uint64_t key : mandatory) {
    SCOPED_TRACE(key);
    CborValue m = *DecodeCbor(*payload);
    auto& entries = m.mutable_map();
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].first == CborValue::Uint(key)) {
        entries.erase(entries.begin() + i);
        break;
      }
    }
    auto r = DecodeRealmClaims(*EncodeCbor(m));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("claim " + std::to_string(key) + " ("),
              std::string::npos)
        << r.status();
    EXPECT_NE(
        r.status().message().find("expected a mandatory claim, found none"),
        std::string::npos);
  }
  // Wrong types.
  struct Case {
    uint64_t key;
    CborValue value;
    const char* needle;
  } cases[] = {
      {10, CborValue::MakeArray({CborValue::Bytes(test::FromHex("00"))}),
       "claim 10 (challenge): expected a byte string, found array"},
      {44236, CborValue::Text(""), "expected a non-empty text string"},
      {44239, CborValue::MakeArray({}), "expected a non-empty array"},
      {44239, CborValue::MakeArray({CborValue::Text("x")}),
       "claim 44239 (REM0): expected a byte string, found text"},
      {44243, CborValue::Bytes(test::FromHex("01")),
       "expected an unsigned integer or text"},
      {265, CborValue::Uint(1), "claim 265 (profile): expected a text string"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.needle);
    CborValue m = *DecodeCbor(*payload);
    bool replaced = false;
    for (auto& e : m.mutable_map()) {
      if (e.first == CborValue::Uint(c.key))
        e.second = c.value, replaced = true;
    }
    if (!replaced)
      m.mutable_map().emplace_back(CborValue::Uint(c.key), c.value);
    auto r = DecodeRealmClaims(*EncodeCbor(m));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos)
        << r.status();
  }
  // Not a map; duplicate keys (rejected by the CBOR layer).
  EXPECT_FALSE(DecodeRealmClaims(test::FromHex("80")).ok());
  EXPECT_FALSE(DecodeRealmClaims(test::FromHex("a20a40"
                                               "0a40"))
                   .ok());
}

TEST(TokenTest, PlatformClaimErrors) {
  PlatformClaims base = SamplePlatformClaims();
  base.challenge = std::vector<uint8_t>(32, 1);
  auto payload = EncodePlatformClaims(base);
  ASSERT_TRUE(payload.ok());
  ASSERT_TRUE(DecodePlatformClaims(*payload).ok());
  for (uint64_t key : {265, 10, 2396, 256, 2401, 2395, 2399, 2402}) {
    SCOPED_TRACE(key);
    CborValue m = *DecodeCbor(*payload);
    auto& entries = m.mutable_map();
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].first == CborValue::Uint(key)) {
        entries.erase(entries.begin() + i);
        break;
      }
    }
    auto r = DecodePlatformClaims(*EncodeCbor(m));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("claim " + std::to_string(key)),
              std::string::npos)
        << r.status();
  }
  // Two nonces (array) are an error.
  CborValue m = *DecodeCbor(*payload);
  for (auto& e : m.mutable_map()) {
    if (e.first == CborValue::Uint(10)) {
      e.second = CborValue::MakeArray({CborValue::Bytes(test::FromHex("00")),
                                       CborValue::Bytes(test::FromHex("01"))});
    }
  }
  auto r = DecodePlatformClaims(*EncodeCbor(m));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(
      r.status().message().find("claim 10 (challenge): expected a byte string"),
      std::string::npos);
}

}  // namespace
}  // namespace realm_measurements::corim

namespace realm_measurements::corim {
namespace {

// §1.2 item 4: the cmw907 vector with its collection map and the platform
// CMW record re-framed as indefinite-length items (same content). Lenient
// decoding gives the same token; strict rejects it.
TEST(TokenIndefiniteTest, LenientAcceptsStrictRejects) {
  const std::vector<uint8_t> v = ReadVector("cca-token-cmw907.cbor");
  // d9 038b a2 19 acca 82 19 0107 59 0199 <409> 19 acd1 82 ...
  ASSERT_EQ(v[3], 0xa2);
  ASSERT_EQ(v[7], 0x82);
  const size_t platform_end = 8 + 3 + 3 + 0x199;  // after the platform bstr
  ASSERT_EQ(v[platform_end], 0x19);               // key 44241 follows
  std::vector<uint8_t> w(v.begin(), v.begin() + platform_end);
  w[3] = 0xbf;        // map(*)
  w[7] = 0x9f;        // array(*)
  w.push_back(0xff);  // ends the record
  w.insert(w.end(), v.begin() + platform_end, v.end());
  w.push_back(0xff);  // ends the map

  absl::StatusOr<CcaToken> a = DecodeCcaToken(v);
  absl::StatusOr<CcaToken> b = DecodeCcaToken(w);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->platform_envelope.payload, a->platform_envelope.payload);
  EXPECT_EQ(b->realm_envelope.signature, a->realm_envelope.signature);
  EXPECT_EQ(b->realm.initial_measurement, a->realm.initial_measurement);
  EXPECT_EQ(b->platform_content_format, 263u);

  TokenDecodeOptions strict;
  strict.strict = true;
  absl::StatusOr<CcaToken> s = DecodeCcaToken(w, strict);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("indefinite-length items"),
            absl::string_view::npos)
      << s.status();

  // An indefinite-length claims map inside a payload (checked without the
  // signature): lenient decodes, strict refuses.
  std::vector<uint8_t> payload = a->realm_envelope.payload;
  ASSERT_EQ(payload[0] & 0xe0, 0xa0);  // a definite map
  payload[0] = 0xbf;
  payload.push_back(0xff);
  EXPECT_TRUE(DecodeRealmClaims(payload).ok());
  EXPECT_FALSE(DecodeRealmClaims(payload, strict).ok());
}

}  // namespace
}  // namespace realm_measurements::corim
