#include "corim/verify.h"

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/crypto.h"
#include "corim/cose.h"
#include "corim/internal/token_samples.h"
#include "corim/token.h"
#include "gtest/gtest.h"

namespace realm_measurements::corim {
namespace {

using crypto::Curve;
using crypto::EcPrivateKey;
using crypto::EcPublicKey;
using internal::Pattern;
using internal::SamplePlatformClaims;
using internal::SampleRealmClaims;

std::vector<uint8_t> Hex(absl::string_view hex) {
  std::string s = absl::HexStringToBytes(hex);
  return std::vector<uint8_t>(s.begin(), s.end());
}
std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
std::vector<uint8_t> ReadVector(const std::string& name) {
  std::string s = ReadText("testdata/vectors/" + name);
  return std::vector<uint8_t>(s.begin(), s.end());
}
bool Contains(absl::string_view hay, absl::string_view needle) {
  return hay.find(needle) != absl::string_view::npos;
}

EcPublicKey TfmCpak() {
  auto k = LoadPublicKey(ReadText("testdata/vectors/cpak-tfm-p384.jwk.json"));
  EXPECT_TRUE(k.ok()) << k.status();
  return std::move(*k);
}
// ta-iak-p256.json is a store keyed by instance-id 01 02*32.
EcPublicKey P256Iak() {
  std::vector<uint8_t> inst(33, 0x02);
  inst[0] = 0x01;
  auto k = LoadPublicKey(ReadText("testdata/vectors/ta-iak-p256.json"), inst);
  EXPECT_TRUE(k.ok()) << k.status();
  return std::move(*k);
}

// testdata/vectors/README.md "Expected verification outcomes".
TEST(VerifyTest, VectorOutcomes) {
  const EcPublicKey tfm = TfmCpak();
  const EcPublicKey iak = P256Iak();
  struct Case {
    const char* file;
    const EcPublicKey* key;
    bool platform;
    bool binding;
  } cases[] = {
      {"cca-token-01.cbor", &tfm, true, true},
      {"cca-token-01.cbor", &iak, false, true},
      {"cca-token-02.cbor", &iak, true, true},
      {"cca-token-02.cbor", &tfm, false, true},
      {"cca-token-bug-33.cbor", &tfm, true, false},
      {"cca-token-draft-ffm-00.cbor", &tfm, true, true},
      {"cca-token-cmw907.cbor", &iak, true, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.file, " with ", CurveName(c.key->curve())));
    auto token = DecodeCcaToken(ReadVector(c.file));
    ASSERT_TRUE(token.ok()) << token.status();
    VerifyOptions options;
    options.cpak = c.key;
    VerificationReport r = VerifyCcaToken(*token, options);
    EXPECT_EQ(r.freshness.status, CheckStatus::kSkipped);
    EXPECT_EQ(r.platform_signature.passed(), c.platform)
        << r.platform_signature.detail;
    EXPECT_TRUE(r.realm_key.passed()) << r.realm_key.detail;
    EXPECT_TRUE(r.realm_signature.passed()) << r.realm_signature.detail;
    EXPECT_EQ(r.binding.passed(), c.binding) << r.binding.detail;
    EXPECT_EQ(r.ok(), c.platform && c.binding);
    if (!c.platform) {
      // A wrong-curve key fails on alg/curve agreement, by name.
      EXPECT_TRUE(Contains(r.platform_signature.detail, "needs a"))
          << r.platform_signature.detail;
    }
    if (!c.binding) {
      EXPECT_TRUE(Contains(r.binding.detail, "does not match RAK hash"));
    }
  }
}

// cca-token-02 labels a 64-byte RIM sha-256: strict L1 flags it (§2.1).
TEST(VerifyTest, Token02StrictL1) {
  auto token = DecodeCcaToken(ReadVector("cca-token-02.cbor"));
  ASSERT_TRUE(token.ok());
  const EcPublicKey iak = P256Iak();
  VerifyOptions options;
  options.cpak = &iak;
  options.strict = true;
  VerificationReport r = VerifyCcaToken(*token, options);
  bool l1 = false;
  for (const LintFinding& l : r.lints) {
    if (l.id == "L1" && Contains(l.message,
                                 "claim 44238 (RIM): expected 32 "
                                 "bytes for sha-256, found 64")) {
      l1 = true;
    }
  }
  EXPECT_TRUE(l1) << VerificationReportToText(r);
  EXPECT_FALSE(r.ok());
  options.strict = false;
  EXPECT_TRUE(VerifyCcaToken(*token, options).ok());
}

TEST(VerifyTest, DraftTokenIsLintClean) {
  auto token = DecodeCcaToken(ReadVector("cca-token-draft-ffm-00.cbor"));
  ASSERT_TRUE(token.ok());
  const EcPublicKey tfm = TfmCpak();
  for (const LintFinding& l : LintCcaToken(*token, &tfm)) {
    ADD_FAILURE() << l.id << ": " << l.message;
  }
}

TEST(VerifyTest, KeyFormats) {
  // The TF-M CPAK as PEM SubjectPublicKeyInfo: the fixed P-384 SPKI prefix
  // (RFC 5480) around the JWK's point, base64 by hand.
  const EcPublicKey jwk = TfmCpak();
  std::vector<uint8_t> der =
      Hex("3076301006072a8648ce3d020106052b81040022036200");
  std::vector<uint8_t> point = *jwk.ToSec1();
  der.insert(der.end(), point.begin(), point.end());
  const std::string pem =
      absl::StrCat("-----BEGIN PUBLIC KEY-----\n",
                   absl::Base64Escape(absl::string_view(
                       reinterpret_cast<const char*>(der.data()), der.size())),
                   "\n-----END PUBLIC KEY-----\n");
  auto from_pem = LoadPublicKey(pem);
  ASSERT_TRUE(from_pem.ok()) << from_pem.status();
  EXPECT_EQ(*from_pem->ToSec1(), point);
  // The same key as a COSE_Key.
  auto cose = EncodeCoseKey(jwk);
  ASSERT_TRUE(cose.ok());
  auto from_cose = LoadPublicKey(std::string(cose->begin(), cose->end()));
  ASSERT_TRUE(from_cose.ok()) << from_cose.status();
  EXPECT_EQ(*from_cose->ToSec1(), point);

  // Trust-anchor store: unknown instance-id.
  auto missing =
      LoadPublicKey(ReadText("testdata/vectors/ta-iak-p256.json"), Hex("0103"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  // JWK errors.
  struct Case {
    const char* json;
    const char* needle;
  } cases[] = {
      {"{\"kty\":\"RSA\"}", "JWK kty: expected \"EC\", found \"RSA\""},
      {"{\"kty\":\"EC\",\"crv\":\"P-192\"}", "found \"P-192\""},
      {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\"}", "expected x and y"},
      {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"!!\",\"y\":\"AA\"}",
       "JWK x: expected base64url"},
      // ta-02-bad style: x and y from different points (not on the curve).
      {"{\"kty\":\"EC\",\"crv\":\"P-256\","
       "\"x\":\"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4\","
       "\"y\":\"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4\"}",
       "JWK: "},
      {"{not json", "expected a JSON object"},
  };
  // Issue 14: nlohmann::json recurses when it dumps (or copies) a value: a
  // trust-anchor entry whose pkey nests 100,000 arrays crashed the token
  // CLI and the server. Both inputs are refused before parsing.
  const std::string deep = std::string(30000, '[') + std::string(30000, ']');
  EXPECT_EQ(LoadPublicKey("{\"a\":" + deep + "}").status().message(),
            "JWK: nesting deeper than 4 levels at byte 8");
  const std::string deep_store =
      "[{\"instance-id\":\"0103\",\"pkey\":" + std::string(100000, '[') +
      std::string(100000, ']') + "}]";
  EXPECT_EQ(LoadPublicKey(deep_store, Hex("0103")).status().message(),
            "trust-anchor store: nesting deeper than 8 levels at byte 36");
  // Leading whitespace counts toward the size limits (64 KiB for a JWK,
  // 4 MiB for a store) and toward the byte offsets of errors.
  const std::string jwk_text =
      ReadText("testdata/vectors/cpak-tfm-p384.jwk.json");
  ASSERT_TRUE(LoadPublicKey(" \n\t" + jwk_text).ok());
  EXPECT_EQ(
      LoadPublicKey(std::string(65536 - 1, ' ') + "{}").status().message(),
      "JWK: document is 65537 bytes, more than the limit of 65536 bytes");
  EXPECT_EQ(LoadPublicKey("  {\"a\":" + deep + "}").status().message(),
            "JWK: nesting deeper than 4 levels at byte 10");
  EXPECT_EQ(LoadPublicKey(std::string(4 << 20, '\n') + "[]", Hex("0103"))
                .status()
                .message(),
            "trust-anchor store: document is 4194306 bytes, more than the "
            "limit of 4194304 bytes");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    auto k = LoadPublicKey(c.json);
    ASSERT_FALSE(k.ok());
    EXPECT_TRUE(Contains(k.status().message(), c.needle)) << k.status();
  }
}

TEST(VerifyTest, NonceAndLifecycleHelpers) {
  auto padded = PadNonce(Hex("0102"));
  ASSERT_TRUE(padded.ok());
  EXPECT_EQ(padded->size(), 64u);
  EXPECT_EQ((*padded)[1], 0x02);
  EXPECT_EQ((*padded)[63], 0x00);
  EXPECT_FALSE(PadNonce({}).ok());
  EXPECT_FALSE(PadNonce(std::vector<uint8_t>(65, 1)).ok());
  EXPECT_EQ(*LifecycleStateName(0x3000), "secured");
  EXPECT_EQ(*LifecycleStateName(0x60ff), "decommissioned");
  EXPECT_FALSE(LifecycleStateName(0x7000).has_value());
  EXPECT_FALSE(LifecycleStateName(0x0100).has_value());
  EXPECT_TRUE(LifecycleTrustworthy(0x30ff));
  EXPECT_TRUE(LifecycleTrustworthy(0x4000));
  EXPECT_FALSE(LifecycleTrustworthy(0x5000));
  EXPECT_FALSE(LifecycleTrustworthy(0x3100));
}

// Synthesised tokens: fresh P-256 CPAK and P-384 RAK per fixture.
class SynthVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cpak_ =
        std::make_unique<EcPrivateKey>(*EcPrivateKey::Generate(Curve::kP256));
    rak_ =
        std::make_unique<EcPrivateKey>(*EcPrivateKey::Generate(Curve::kP384));
    cpak_pub_ = std::make_unique<EcPublicKey>(*cpak_->PublicKey());
  }
  CcaToken Make(PlatformClaims p, RealmClaims r,
                TopLevelForm form = TopLevelForm::kCmwCollection) {
    auto bytes = SignCcaToken(form, std::move(p), std::move(r), *cpak_, *rak_);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    auto t = DecodeCcaToken(*bytes);
    EXPECT_TRUE(t.ok()) << t.status();
    return std::move(*t);
  }
  VerificationReport Verify(const CcaToken& t,
                            std::optional<std::vector<uint8_t>> nonce = {},
                            bool strict = true) {
    VerifyOptions o;
    o.cpak = cpak_pub_.get();
    o.nonce = std::move(nonce);
    o.strict = strict;
    return VerifyCcaToken(t, o);
  }
  std::unique_ptr<EcPrivateKey> cpak_, rak_;
  std::unique_ptr<EcPublicKey> cpak_pub_;
};

TEST_F(SynthVerifyTest, AllProfilesVerifyLintClean) {
  for (RealmProfile profile :
       {RealmProfile::kNone, RealmProfile::kV1, RealmProfile::kV2}) {
    for (const char* hash : {"sha-256", "sha-384", "sha-512"}) {
      SCOPED_TRACE(absl::StrCat(static_cast<int>(profile), hash));
      PlatformClaims p = SamplePlatformClaims();
      if (profile == RealmProfile::kNone) {
        p.profile = PlatformProfile::kLegacy;
        p.profile_text = std::string(kPlatformProfileLegacy);
      }
      RealmClaims r = SampleRealmClaims(profile, hash);
      r.public_key_hash_algorithm = hash;
      // Freshness: an 8-byte nonce, zero-padded by the RMM caller.
      const std::vector<uint8_t> nonce = Pattern(8, 0x55);
      r.challenge = nonce;
      r.challenge.resize(64, 0);
      CcaToken t = Make(p, r);
      VerificationReport rep = Verify(t, nonce);
      EXPECT_TRUE(rep.ok()) << VerificationReportToText(rep);
      EXPECT_TRUE(rep.freshness.passed());
      EXPECT_TRUE(rep.lints.empty()) << VerificationReportToText(rep);
    }
  }
}

TEST_F(SynthVerifyTest, EachVerificationFailure) {
  const CcaToken good =
      Make(SamplePlatformClaims(), SampleRealmClaims(RealmProfile::kV2));
  // Freshness: wrong nonce, nonce too long.
  {
    VerificationReport r = Verify(good, Hex("00"));
    EXPECT_EQ(r.freshness.status, CheckStatus::kFail);
    EXPECT_TRUE(Contains(r.freshness.detail, "does not match nonce"));
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.realm_verified());
    EXPECT_TRUE(r.platform_verified());
    r = Verify(good, std::vector<uint8_t>(65, 0x10));
    EXPECT_TRUE(Contains(r.freshness.detail, "expected 1..64 bytes, found 65"));
  }
  // No CPAK; a different P-256 CPAK; a P-384 CPAK (alg/curve).
  {
    VerifyOptions o;
    VerificationReport r = VerifyCcaToken(good, o);
    EXPECT_EQ(r.platform_signature.status, CheckStatus::kFail);
    EXPECT_EQ(r.platform_signature.detail, "no CPAK supplied");
    auto other = EcPrivateKey::Generate(Curve::kP256);
    auto other_pub = other->PublicKey();
    o.cpak = &*other_pub;
    r = VerifyCcaToken(good, o);
    EXPECT_EQ(r.platform_signature.status, CheckStatus::kFail);
    EXPECT_TRUE(r.realm_verified());
    auto p384 = EcPrivateKey::Generate(Curve::kP384);
    auto p384_pub = p384->PublicKey();
    o.cpak = &*p384_pub;
    r = VerifyCcaToken(good, o);
    EXPECT_TRUE(Contains(r.platform_signature.detail,
                         "ES256 needs a P-256 key, found a P-384 key"));
  }
  // Tampered platform signature / realm payload.
  {
    CcaToken t = good;
    t.platform_envelope.signature[5] ^= 0x80;
    EXPECT_EQ(Verify(t).platform_signature.status, CheckStatus::kFail);
    t = good;
    t.realm_envelope.payload.back() ^= 1;
    VerificationReport r = Verify(t);
    EXPECT_EQ(r.realm_signature.status, CheckStatus::kFail);
    EXPECT_TRUE(r.binding.passed());
  }
  // Realm signed by a key other than the RAK it carries.
  {
    RealmClaims realm = SampleRealmClaims(RealmProfile::kV1);
    auto other = EcPrivateKey::Generate(Curve::kP384);
    realm.public_key = *EncodeCoseKey(*other->PublicKey());
    CcaToken t = Make(SamplePlatformClaims(), realm);
    VerificationReport r = Verify(t);
    EXPECT_TRUE(r.realm_key.passed());
    EXPECT_EQ(r.realm_signature.status, CheckStatus::kFail);
    EXPECT_TRUE(r.binding.passed());  // the binder covers the carried key
  }
  // RAK not decodable: realm signature skipped.
  {
    RealmClaims realm = SampleRealmClaims(RealmProfile::kNone);
    realm.public_key = std::vector<uint8_t>(97, 0x04);
    CcaToken t = Make(SamplePlatformClaims(), realm);
    VerificationReport r = Verify(t);
    EXPECT_EQ(r.realm_key.status, CheckStatus::kFail);
    EXPECT_TRUE(Contains(r.realm_key.detail, "claim 44237 (RAK, raw)"));
    EXPECT_EQ(r.realm_signature.status, CheckStatus::kSkipped);
  }
  // Binding: wrong platform nonce; unsupported RAK hash algorithm.
  {
    PlatformClaims p = SamplePlatformClaims();
    p.challenge = std::vector<uint8_t>(32, 0x33);
    CcaToken t = Make(p, SampleRealmClaims(RealmProfile::kV1));
    VerificationReport r = Verify(t);
    EXPECT_EQ(r.binding.status, CheckStatus::kFail);
    EXPECT_TRUE(r.realm_signature.passed());
    EXPECT_TRUE(r.platform_verified());
    RealmClaims realm = SampleRealmClaims(RealmProfile::kV1);
    realm.public_key_hash_algorithm = "sha-224";
    p.challenge = std::vector<uint8_t>(28, 0x33);
    t = Make(p, realm);
    r = Verify(t);
    EXPECT_TRUE(Contains(r.binding.detail, "found \"sha-224\""));
  }
}

bool HasLint(const VerificationReport& r, const std::string& id,
             absl::string_view needle, bool warning) {
  for (const LintFinding& l : r.lints) {
    if (l.id == id && l.warning == warning && Contains(l.message, needle)) {
      return true;
    }
  }
  return false;
}

TEST_F(SynthVerifyTest, EachLint) {
  struct Case {
    const char* id;
    const char* needle;
    bool warning;
    std::function<void(PlatformClaims&, RealmClaims&)> mutate;
  } cases[] = {
      {"L1", "claim 44239 (REM2): expected 32 bytes for sha-256, found 48",
       false,
       [](PlatformClaims&, RealmClaims& r) {
         r.extensible_measurements[2] = Pattern(48, 0);
       }},
      {"L1", "found \"sha3-256\"", false,
       [](PlatformClaims&, RealmClaims& r) { r.hash_algorithm = "sha3-256"; }},
      {"L2", "expected 4 entries, found 3", false,
       [](PlatformClaims&, RealmClaims& r) {
         r.extensible_measurements.pop_back();
       }},
      {"L3", "claim 44235 (RPV): expected 64 bytes, found 32", false,
       [](PlatformClaims&, RealmClaims& r) {
         r.personalization_value.resize(32);
       }},
      {"L3", "claim 10 (realm challenge): expected 64 bytes, found 48", false,
       [](PlatformClaims&, RealmClaims& r) { r.challenge.resize(48); }},
      {"L4", "expected a raw 97-byte SEC1 P-384 point", false,
       [](PlatformClaims&, RealmClaims& r) {
         // Legacy profile but a COSE_Key RAK.
         r.profile = RealmProfile::kNone;
         r.profile_text.reset();
         r.public_key = Hex("a1010a");
       }},
      {"L6", "platform claim 10: expected 64 bytes for sha-512, found 32",
       false,
       [](PlatformClaims& p, RealmClaims& r) {
         r.public_key_hash_algorithm = "sha-512";
         p.challenge = Pattern(32, 0);
       }},
      {"L7", "realm#2.0.0: expected claim 256", false,
       [](PlatformClaims&, RealmClaims& r) {
         r.profile = RealmProfile::kV2;
         r.profile_text = std::string(kRealmProfile2024);
         r.mec_policy = uint64_t{0};
         r.mec_policy_key = kRealmMecPolicy;
       }},
      {"L7", "expected 33 bytes starting 0x01, found 33 bytes starting 0x02",
       false,
       [](PlatformClaims&, RealmClaims& r) {
         r = SampleRealmClaims(RealmProfile::kV2);
         (*r.instance_id)[0] = 0x02;
       }},
      {"L7", "expected integer MEC policy at 44243, found text at 44243", false,
       [](PlatformClaims&, RealmClaims& r) {
         r = SampleRealmClaims(RealmProfile::kV2);
         r.mec_policy = std::string("private");
       }},
      {"L7", "text MEC policy at 44241", true,
       [](PlatformClaims&, RealmClaims& r) {
         r.mec_policy = std::string("private");
         r.mec_policy_key = kRealmMecPolicyOld;
       }},
      {"L7", "claim 256 (realm instance id) present without realm#2.0.0", false,
       [](PlatformClaims&, RealmClaims& r) { r.instance_id = Pattern(33, 1); }},
      {"L8", "platform profile 2023 paired with a realm token without", true,
       [](PlatformClaims&, RealmClaims& r) {
         r.profile = RealmProfile::kNone;
         r.profile_text.reset();
       }},
      {"L8", "unknown realm profile \"tag:arm.com,2099:realm#9\"", true,
       [](PlatformClaims&, RealmClaims& r) {
         r.profile_text = "tag:arm.com,2099:realm#9";
       }},
      {"L10", "claim 2396 (implementation id): expected 32 bytes, found 31",
       false,
       [](PlatformClaims& p, RealmClaims&) { p.implementation_id.resize(31); }},
      {"L10", "claim 256 (instance id): expected 33 bytes starting 0x01", false,
       [](PlatformClaims& p, RealmClaims&) { p.instance_id[0] = 0x02; }},
      {"L10", "claim 2395 (lifecycle): expected a defined range, found 0x7000",
       false, [](PlatformClaims& p, RealmClaims&) { p.lifecycle = 0x7000; }},
      {"L10", "expected at least one, found 0", false,
       [](PlatformClaims& p, RealmClaims&) { p.sw_components.clear(); }},
      {"L10",
       "sw-component 0: expected measurement value (2) and signer id (5)",
       false,
       [](PlatformClaims& p, RealmClaims&) {
         p.sw_components[0].signer_id.reset();
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.id, ": ", c.needle));
    PlatformClaims p = SamplePlatformClaims();
    RealmClaims r = SampleRealmClaims(RealmProfile::kV1);
    c.mutate(p, r);
    CcaToken t = Make(p, r);
    VerificationReport rep = Verify(t);
    EXPECT_TRUE(HasLint(rep, c.id, c.needle, c.warning))
        << VerificationReportToText(rep);
    EXPECT_EQ(rep.has_lint_errors(), !c.warning)
        << VerificationReportToText(rep);
  }
}

// L4 (RAK curve), L5 (alg), L9 (content-format), L11 (unknown keys) need
// hand-assembled envelopes.
TEST_F(SynthVerifyTest, EnvelopeLints) {
  PlatformClaims p = SamplePlatformClaims();
  RealmClaims r = SampleRealmClaims(RealmProfile::kV1);
  // Realm signed ES256 with a P-256 RAK: L4 (not P-384) and L5 (not ES384).
  {
    auto rak256 = EcPrivateKey::Generate(Curve::kP256);
    auto bytes =
        SignCcaToken(TopLevelForm::kCmwCollection, p, r, *cpak_, *rak256);
    ASSERT_TRUE(bytes.ok());
    CcaToken t = *DecodeCcaToken(*bytes);
    VerificationReport rep = Verify(t);
    EXPECT_TRUE(rep.realm_signature.passed());
    EXPECT_TRUE(HasLint(rep, "L4", "expected a P-384 key, found P-256", false));
    EXPECT_TRUE(HasLint(rep, "L5",
                        "realm token alg: expected ES384, found ES256", false));
    EXPECT_FALSE(rep.ok());
  }
  // Protected header says ES512 for a P-384 RAK.
  {
    CcaToken t = Make(p, r);
    t.realm_envelope.protected_bytes = Hex("a1013823");
    t.realm_envelope.protected_header = *DecodeCbor(Hex("a1013823"));
    VerificationReport rep = Verify(t);
    EXPECT_TRUE(
        HasLint(rep, "L5", "ES512 does not agree with the P-384 RAK", false))
        << VerificationReportToText(rep);
    EXPECT_EQ(rep.realm_signature.status, CheckStatus::kFail);
  }
  // Platform alg vs a P-384 CPAK.
  {
    CcaToken t = Make(p, r);
    auto p384 = EcPrivateKey::Generate(Curve::kP384);
    auto pub = p384->PublicKey();
    bool found = false;
    for (const LintFinding& l : LintCcaToken(t, &*pub)) {
      found |= l.id == "L5" &&
               Contains(l.message, "ES256 does not agree with the P-384 CPAK");
    }
    EXPECT_TRUE(found);
  }
  // L9: content-format 264.
  {
    CcaToken good = Make(p, r);
    auto bytes =
        SignCcaToken(TopLevelForm::kCmwCollection, p, r, *cpak_, *rak_);
    CborValue top = *DecodeCbor(*bytes);
    const auto platform_cose =
        top.tag_content().FindUint(44234)->array()[1].bytes();
    const auto realm_cose =
        top.tag_content().FindUint(44241)->array()[1].bytes();
    auto token = EncodeCcaToken(TopLevelForm::kCmwCollection, platform_cose,
                                realm_cose, 264);
    CcaToken t = *DecodeCcaToken(*token);
    EXPECT_EQ(t.realm_content_format, 264u);
    VerificationReport rep = Verify(t);
    EXPECT_TRUE(HasLint(
        rep, "L9", "realm CMW content-format: expected 263, found 264", true));
    EXPECT_TRUE(rep.ok());  // warning only
  }
  // L11: unknown realm and platform keys are listed.
  {
    auto rak_pub = rak_->PublicKey();
    r.public_key = *EncodeCoseKey(*rak_pub);
    CborValue realm_map = *DecodeCbor(*EncodeRealmClaims(r));
    realm_map.mutable_map().emplace_back(CborValue::Uint(99999),
                                         CborValue::Uint(1));
    realm_map.mutable_map().emplace_back(CborValue::Text("x-extra"),
                                         CborValue::Uint(1));
    p.challenge =
        *crypto::HashOnce(crypto::DigestAlgorithm::kSha256, r.public_key);
    CborValue platform_map = *DecodeCbor(*EncodePlatformClaims(p));
    platform_map.mutable_map().emplace_back(CborValue::Int(-5),
                                            CborValue::Uint(1));
    auto platform_cose = SignCoseSign1(*EncodeCbor(platform_map), *cpak_);
    auto realm_cose = SignCoseSign1(*EncodeCbor(realm_map), *rak_);
    auto token = EncodeCcaToken(TopLevelForm::kEatCollection, *platform_cose,
                                *realm_cose);
    CcaToken t = *DecodeCcaToken(*token);
    VerificationReport rep = Verify(t);
    EXPECT_TRUE(rep.ok()) << VerificationReportToText(rep);
    EXPECT_TRUE(HasLint(rep, "L11",
                        "unknown realm claim keys: 99999, \"x-extra\"", true))
        << VerificationReportToText(rep);
    EXPECT_TRUE(HasLint(rep, "L11", "unknown platform claim keys: -5", true));
  }
}

TEST_F(SynthVerifyTest, ReportRendering) {
  CcaToken t =
      Make(SamplePlatformClaims(), SampleRealmClaims(RealmProfile::kV1));
  VerificationReport rep = Verify(t, Hex("01"));
  const std::string text = VerificationReportToText(rep);
  EXPECT_TRUE(Contains(text, "freshness: fail")) << text;
  EXPECT_TRUE(Contains(text, "binding: pass")) << text;
  EXPECT_TRUE(Contains(text, "verification: FAILED")) << text;
  const std::string json = VerificationReportToJson(rep);
  EXPECT_TRUE(Contains(json, "\"platform-signature\"")) << json;
  EXPECT_TRUE(Contains(json, "\"ok\": false")) << json;
}

}  // namespace
}  // namespace realm_measurements::corim
