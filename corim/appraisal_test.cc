#include "corim/appraisal.h"

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "corim/comid.h"
#include "corim/internal/token_samples.h"
#include "gtest/gtest.h"
#include "measure/crypto.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::corim {
namespace {

using crypto::Curve;
using crypto::EcPrivateKey;
using crypto::EcPublicKey;
using internal::Pattern;
using internal::SamplePlatformClaims;
using internal::SampleRealmClaims;
using Json = nlohmann::json;

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

TrustVector Vec(int ii, int conf, int exe, int fs, int hw, int rt, int st,
                int sd) {
  TrustVector v;
  v.instance_identity = ii, v.configuration = conf, v.executables = exe,
  v.file_system = fs, v.hardware = hw, v.runtime_opaque = rt,
  v.storage_opaque = st, v.sourced_data = sd;
  return v;
}

TEST(TrustTest, Tiers) {
  // §4.6 boundaries.
  EXPECT_EQ(TierOf(-1), TrustTier::kNone);
  EXPECT_EQ(TierOf(1), TrustTier::kNone);
  EXPECT_EQ(TierOf(2), TrustTier::kAffirming);
  EXPECT_EQ(TierOf(31), TrustTier::kAffirming);
  EXPECT_EQ(TierOf(-2), TrustTier::kAffirming);
  EXPECT_EQ(TierOf(-32), TrustTier::kAffirming);
  EXPECT_EQ(TierOf(32), TrustTier::kWarning);
  EXPECT_EQ(TierOf(95), TrustTier::kWarning);
  EXPECT_EQ(TierOf(-33), TrustTier::kWarning);
  EXPECT_EQ(TierOf(-96), TrustTier::kWarning);
  EXPECT_EQ(TierOf(96), TrustTier::kContraindicated);
  EXPECT_EQ(TierOf(99), TrustTier::kContraindicated);
  EXPECT_EQ(TierOf(-97), TrustTier::kContraindicated);
  EXPECT_EQ(StatusOf(Vec(0, 0, 0, 0, 0, 0, 0, 0)), TrustTier::kNone);
  EXPECT_EQ(StatusOf(Vec(2, 0, 33, 0, 0, 0, 0, 0)), TrustTier::kWarning);
  EXPECT_EQ(StatusOf(Vec(2, 0, 3, 0, 0, 96, 0, 0)),
            TrustTier::kContraindicated);
}

class AppraisalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cpak_ =
        std::make_unique<EcPrivateKey>(*EcPrivateKey::Generate(Curve::kP256));
    rak_ =
        std::make_unique<EcPrivateKey>(*EcPrivateKey::Generate(Curve::kP384));
    cpak_pub_ = std::make_unique<EcPublicKey>(*cpak_->PublicKey());
    claims_ = SampleRealmClaims(RealmProfile::kV2, "sha-256");
    auto bytes = SignCcaToken(TopLevelForm::kCmwCollection,
                              SamplePlatformClaims(), claims_, *cpak_, *rak_);
    ASSERT_TRUE(bytes.ok());
    token_ = *DecodeCcaToken(*bytes);
  }
  // A reference value equal to every realm claim of the token.
  RealmReferenceValue Full() const {
    RealmReferenceValue r;
    r.algorithm = RealmHashAlgorithm::kSha256;
    r.rim = claims_.initial_measurement;
    for (int i = 0; i < kRemCount; ++i)
      r.rem[i] = claims_.extensible_measurements[i];
    r.rpv = claims_.personalization_value;
    return r;
  }
  AppraisalResult Appraise(const std::vector<RealmReferenceValue>& refs) {
    AppraisalOptions o;
    o.verify.cpak = cpak_pub_.get();
    return AppraiseCcaToken(token_, refs, o);
  }
  std::unique_ptr<EcPrivateKey> cpak_, rak_;
  std::unique_ptr<EcPublicKey> cpak_pub_;
  RealmClaims claims_;
  CcaToken token_;
};

// §4.5 outcome table (Veraison 2026).
TEST_F(AppraisalTest, RealmOutcomeTable) {
  const TrustVector platform_ok = Vec(2, 0, 0, 0, 2, 2, 2, 0);
  RealmReferenceValue other_rim = Full();
  other_rim.rim = Pattern(32, 0x01);
  RealmReferenceValue bad_rpv = Full();
  bad_rpv.rpv = Pattern(64, 0x99);
  RealmReferenceValue bad_rem = Full();
  bad_rem.rem[2] = Pattern(32, 0x77);
  RealmReferenceValue no_rems = Full();
  for (auto& rem : no_rems.rem) rem.reset();
  RealmReferenceValue no_rpv_some_rems = Full();
  no_rpv_some_rems.rpv.reset();
  no_rpv_some_rems.rem[0].reset();
  no_rpv_some_rems.rem[3].reset();
  struct Case {
    const char* name;
    std::vector<RealmReferenceValue> refs;
    int executables;
    TrustTier realm_status;
    bool affirms;
    std::optional<size_t> matched;
  } cases[] = {
      {"no reference values", {}, 33, TrustTier::kWarning, false, {}},
      {"no matching RIM", {other_rim}, 33, TrustTier::kWarning, false, {}},
      {"RPV mismatch", {bad_rpv}, 96, TrustTier::kContraindicated, false, {}},
      {"REM mismatch", {bad_rem}, 3, TrustTier::kAffirming, true, 0},
      {"full match", {Full()}, 2, TrustTier::kAffirming, true, 0},
      {"no REMs supplied", {no_rems}, 2, TrustTier::kAffirming, true, 0},
      {"some REMs, no RPV",
       {no_rpv_some_rems},
       2,
       TrustTier::kAffirming,
       true,
       0},
      {"RPV mismatch then full match",
       {other_rim, bad_rpv, Full()},
       2,
       TrustTier::kAffirming,
       true,
       2},
      {"REM mismatch decides before a later full match",
       {bad_rem, Full()},
       3,
       TrustTier::kAffirming,
       true,
       0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    AppraisalResult r = Appraise(c.refs);
    EXPECT_TRUE(r.verification.ok()) << AppraisalToText(r);
    EXPECT_EQ(r.platform.vector, platform_ok);
    EXPECT_EQ(r.platform.status(), TrustTier::kAffirming);
    EXPECT_EQ(r.realm.vector, Vec(2, 0, c.executables, 0, 0, 0, 0, 0));
    EXPECT_EQ(r.realm.status(), c.realm_status);
    EXPECT_EQ(r.affirms(), c.affirms);
    EXPECT_EQ(r.matched, c.matched);
    EXPECT_EQ(r.candidates.size(), c.refs.size());
  }
}

TEST_F(AppraisalTest, PerFieldReport) {
  RealmReferenceValue ref = Full();
  ref.rem[1] = Pattern(32, 0x77);
  ref.rem[3].reset();
  AppraisalResult r = Appraise({ref});
  ASSERT_EQ(r.candidates.size(), 1u);
  const auto& f = r.candidates[0].fields;
  ASSERT_EQ(f.size(), 7u);
  EXPECT_EQ(f[0].field, "hash-algorithm");
  EXPECT_EQ(f[0].outcome, FieldOutcome::kMatch);
  EXPECT_EQ(f[1].field, "rim");
  EXPECT_EQ(f[1].outcome, FieldOutcome::kMatch);
  EXPECT_EQ(f[2].field, "rpv");
  EXPECT_EQ(f[2].outcome, FieldOutcome::kMatch);
  EXPECT_EQ(f[4].field, "rem1");
  EXPECT_EQ(f[4].outcome, FieldOutcome::kMismatch);
  EXPECT_EQ(f[4].expected,
            "7778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f90919293949596");
  EXPECT_EQ(f[4].found,
            "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf");
  EXPECT_EQ(f[6].field, "rem3");
  EXPECT_EQ(f[6].outcome, FieldOutcome::kNotSupplied);
  const std::string text = AppraisalToText(r);
  EXPECT_NE(text.find("rem1: mismatch (expected 7778"), std::string::npos)
      << text;
  Json j = Json::parse(AppraisalToJson(token_, r, {}));
  EXPECT_EQ(j["candidates"][0]["fields"][4]["outcome"], "mismatch");
  EXPECT_EQ(j["candidates"][0]["executables"], 3);
  EXPECT_FALSE(j["candidates"][0]["fields"][6].contains("expected"));
}

// The hash algorithm is reported; it excludes a candidate only on request.
TEST_F(AppraisalTest, HashAlgorithmMismatch) {
  RealmReferenceValue ref = Full();
  ref.algorithm = RealmHashAlgorithm::kSha512;
  AppraisalResult r = Appraise({ref});
  EXPECT_EQ(r.candidates[0].fields[0].outcome, FieldOutcome::kMismatch);
  EXPECT_EQ(r.candidates[0].fields[0].expected, "sha-512");
  EXPECT_EQ(r.candidates[0].fields[0].found, "sha-256");
  EXPECT_EQ(r.realm.vector.executables, 2);
  AppraisalOptions o;
  o.verify.cpak = cpak_pub_.get();
  o.require_hash_algorithm_match = true;
  EXPECT_EQ(AppraiseCcaToken(token_, {ref}, o).realm.vector.executables, 33);
}

TEST_F(AppraisalTest, VerificationFailures) {
  // Platform signature: platform all 99, realm all 0.
  auto other = EcPrivateKey::Generate(Curve::kP256);
  auto other_pub = other->PublicKey();
  AppraisalOptions o;
  o.verify.cpak = &*other_pub;
  AppraisalResult r = AppraiseCcaToken(token_, {Full()}, o);
  EXPECT_EQ(r.platform.vector, Vec(99, 99, 99, 99, 99, 99, 99, 99));
  EXPECT_EQ(r.realm.vector, Vec(0, 0, 0, 0, 0, 0, 0, 0));
  EXPECT_EQ(r.realm.status(), TrustTier::kNone);
  EXPECT_FALSE(r.affirms());
  ASSERT_TRUE(r.platform.problem.has_value());
  EXPECT_NE(r.platform.problem->find("integrity validation failed: platform "
                                     "signature"),
            std::string::npos);
  // Freshness: realm all 99.
  o.verify.cpak = cpak_pub_.get();
  o.verify.nonce = Hex("ff");
  r = AppraiseCcaToken(token_, {Full()}, o);
  EXPECT_EQ(r.platform.status(), TrustTier::kAffirming);
  EXPECT_EQ(r.realm.vector, Vec(99, 99, 99, 99, 99, 99, 99, 99));
  EXPECT_NE(r.realm.problem->find("freshness: realm challenge"),
            std::string::npos);
  // Debug lifecycle: platform contraindicated.
  PlatformClaims p = SamplePlatformClaims();
  p.lifecycle = 0x5000;
  auto bytes =
      SignCcaToken(TopLevelForm::kEatCollection, p, claims_, *cpak_, *rak_);
  CcaToken t = *DecodeCcaToken(*bytes);
  o.verify.nonce.reset();
  r = AppraiseCcaToken(t, {Full()}, o);
  EXPECT_EQ(r.platform.vector, Vec(96, 0, 0, 0, 2, 96, 96, 0));
  EXPECT_EQ(r.platform.status(), TrustTier::kContraindicated);
  EXPECT_EQ(r.realm.vector.executables, 2);
  EXPECT_FALSE(r.affirms());
}

// testdata/vectors/README.md: bug-33 -> platform instance-identity 2, realm
// instance-identity 99.
TEST(AppraisalVectorTest, Bug33BindingFailure) {
  auto token = DecodeCcaToken(ReadVector("cca-token-bug-33.cbor"));
  ASSERT_TRUE(token.ok());
  auto cpak =
      LoadPublicKey(ReadText("testdata/vectors/cpak-tfm-p384.jwk.json"));
  ASSERT_TRUE(cpak.ok());
  AppraisalOptions o;
  o.verify.cpak = &*cpak;
  AppraisalResult r = AppraiseCcaToken(*token, {}, o);
  EXPECT_EQ(r.platform.vector.instance_identity, 2);
  EXPECT_EQ(r.realm.vector.instance_identity, 99);
  EXPECT_NE(r.realm.problem->find("binding: platform nonce"),
            std::string::npos);
}

// testdata/vectors/README.md: corim-cca-realm-2025.cbor matches the realm
// claims of cca-token-02.cbor (platform key: ta-iak-p256.json).
TEST(AppraisalVectorTest, Token02AgainstVeraisonCorim) {
  auto token = DecodeCcaToken(ReadVector("cca-token-02.cbor"));
  ASSERT_TRUE(token.ok());
  auto corim = DecodeCorim(ReadVector("corim-cca-realm-2025.cbor"));
  ASSERT_TRUE(corim.ok()) << corim.status();
  std::vector<uint8_t> inst(33, 0x02);
  inst[0] = 0x01;
  auto cpak =
      LoadPublicKey(ReadText("testdata/vectors/ta-iak-p256.json"), inst);
  ASSERT_TRUE(cpak.ok());
  AppraisalOptions o;
  o.verify.cpak = &*cpak;
  const std::vector<RealmReferenceValue> refs =
      FlattenReferenceValues(corim->values);
  ASSERT_FALSE(refs.empty());
  AppraisalResult r = AppraiseCcaToken(*token, refs, o);
  EXPECT_TRUE(r.verification.ok()) << AppraisalToText(r);
  EXPECT_EQ(r.realm.vector.executables, 2) << AppraisalToText(r);
  EXPECT_TRUE(r.affirms()) << AppraisalToText(r);
}

// EAR JSON field by field for the draft token (§5.1-§5.3); expected bytes
// in base64 were computed with Python's base64 module from the §1.10 hex.
TEST(AppraisalVectorTest, DraftTokenEar) {
  auto token = DecodeCcaToken(ReadVector("cca-token-draft-ffm-00.cbor"));
  ASSERT_TRUE(token.ok());
  auto cpak =
      LoadPublicKey(ReadText("testdata/vectors/cpak-tfm-p384.jwk.json"));
  ASSERT_TRUE(cpak.ok());
  RealmReferenceValue ref;
  ref.rim =
      Hex("311314ab73620350cf758834ae5c65d9e8c2dc7febe6e7d9654bbe864e300d49");
  ref.rem[3] =
      Hex("32c6afc627e55585c03155359f331a0e225f6840db947dd96efab81be2671939");
  const std::string rpv =
      "The quick brown fox jumps over 13 lazy dogs.The quick brown fox ";
  ref.rpv = std::vector<uint8_t>(rpv.begin(), rpv.end());
  const std::vector<uint8_t> nonce = token->realm.challenge;
  AppraisalOptions o;
  o.verify.cpak = &*cpak;
  o.verify.nonce = nonce;
  AppraisalResult r = AppraiseCcaToken(*token, {ref}, o);
  ASSERT_TRUE(r.affirms()) << AppraisalToText(r);

  EarOptions eo;
  eo.issued_at = 1760000000;
  eo.verifier_build = "commit-abc1234";
  eo.verifier_developer = "Veraison Project";
  eo.nonce = nonce;
  Json ear = Json::parse(EarToJson(*token, r, eo));
  EXPECT_EQ(ear.size(), 5u) << ear.dump(2);
  EXPECT_EQ(ear["eat_profile"], "tag:github.com,2023:veraison/ear");
  EXPECT_EQ(ear["iat"], 1760000000);
  EXPECT_EQ(ear["ear.verifier-id"], Json({{"build", "commit-abc1234"},
                                          {"developer", "Veraison Project"}}));
  EXPECT_EQ(
      ear["eat_nonce"],
      "bobW2XzHE7xt1D285JGmtAMRwCeov4WjnaY-nORMEyqKEZ0pb65qaZnpvz5EcbDOASRd"
      "iJQkwx6JeTs7HWsVBA==");
  ASSERT_EQ(ear["submods"].size(), 2u);
  const Json& platform = ear["submods"]["CCA_SSD_PLATFORM"];
  EXPECT_EQ(platform["ear.status"], "affirming");
  EXPECT_EQ(platform["ear.appraisal-policy-id"], "policy:ARM_CCA");
  EXPECT_EQ(platform["ear.trustworthiness-vector"],
            Json({{"instance-identity", 2},
                  {"configuration", 0},
                  {"executables", 0},
                  {"file-system", 0},
                  {"hardware", 2},
                  {"runtime-opaque", 2},
                  {"storage-opaque", 2},
                  {"sourced-data", 0}}));
  const Json& pe = platform["ear.veraison.annotated-evidence"];
  EXPECT_EQ(pe["cca-platform-profile"], "tag:arm.com,2023:cca_platform#1.0.0");
  EXPECT_EQ(pe["cca-platform-challenge"],
            "DSLgiphGkFhIYxgoNIm9s28J2+/rGGTfQz+m5U6i1xE=");
  EXPECT_EQ(pe["cca-platform-config"], "z8/Pzw==");  // cfcfcfcf
  EXPECT_EQ(pe["cca-platform-sw-components"].size(), 13u);
  EXPECT_FALSE(platform.contains("ear.veraison.policy-claims"));

  const Json& realm = ear["submods"]["CCA_REALM"];
  EXPECT_EQ(realm["ear.status"], "affirming");
  EXPECT_EQ(realm["ear.trustworthiness-vector"], Json({{"instance-identity", 2},
                                                       {"configuration", 0},
                                                       {"executables", 2},
                                                       {"file-system", 0},
                                                       {"hardware", 0},
                                                       {"runtime-opaque", 0},
                                                       {"storage-opaque", 0},
                                                       {"sourced-data", 0}}));
  EXPECT_EQ(realm["ear.appraisal-policy-id"], "policy:ARM_CCA");
  const Json& re = realm["ear.veraison.annotated-evidence"];
  EXPECT_EQ(re.size(), 8u) << re.dump(2);
  EXPECT_EQ(re["cca-realm-profile"], "tag:arm.com,2023:realm#1.0.0");
  EXPECT_EQ(re["cca-realm-initial-measurement"],
            "MRMUq3NiA1DPdYg0rlxl2ejC3H/r5ufZZUu+hk4wDUk=");
  EXPECT_EQ(re["cca-realm-extensible-measurements"].size(), 4u);
  EXPECT_EQ(re["cca-realm-extensible-measurements"][3],
            "MsavxiflVYXAMVU1nzMaDiJfaEDblH3Zbvq4G+JnGTk=");
  EXPECT_EQ(re["cca-realm-personalization-value"],
            "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIDEzIGxhenkgZG9ncy5UaGUgcX"
            "VpY2sgYnJvd24gZm94IA==");
  EXPECT_EQ(re["cca-realm-hash-algo-id"], "sha-256");
  EXPECT_EQ(re["cca-realm-public-key-hash-algo-id"], "sha-256");
  // §5.3 example prefixes.
  EXPECT_EQ(re["cca-realm-public-key"].get<std::string>().substr(0, 7),
            "pAECIAI");
  EXPECT_EQ(re["cca-realm-challenge"].get<std::string>().substr(0, 8),
            "bobW2XzH");
}

// Token text claims are not UTF-8 checked when decoded; rendering them must
// not throw (found while writing the fuzz target).
TEST_F(AppraisalTest, InvalidUtf8ClaimsRenderWithReplacement) {
  CcaToken t = token_;
  t.realm.profile_text = std::string("tag:\xff\xfe");
  t.platform.hash_algorithm = "\xc3";
  AppraisalResult r = Appraise({Full()});
  const std::string ear = EarToJson(t, r, {});
  Json j = Json::parse(ear);
  EXPECT_EQ(j["submods"]["CCA_REALM"]["ear.veraison.annotated-evidence"]
             ["cca-realm-profile"],
            "tag:\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_FALSE(AppraisalToJson(t, r, {}).empty());
}

TEST(EarJwtTest, SignsAndVerifiesEs256) {
  auto key = EcPrivateKey::Generate(Curve::kP256);
  ASSERT_TRUE(key.ok());
  const std::string payload =
      R"({"eat_profile":"tag:github.com,2023:veraison/ear"})";
  auto jwt = SignEarJwt(payload, *key);
  ASSERT_TRUE(jwt.ok()) << jwt.status();
  std::vector<std::string> parts = absl::StrSplit(*jwt, '.');
  ASSERT_EQ(parts.size(), 3u);
  std::string header, body, sig;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[0], &header));
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[1], &body));
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[2], &sig));
  EXPECT_EQ(Json::parse(header), Json({{"alg", "ES256"}, {"typ", "JWT"}}));
  EXPECT_EQ(body, payload);
  EXPECT_EQ(parts[2].find('='), std::string::npos);
  ASSERT_EQ(sig.size(), 64u);
  const std::string input = parts[0] + "." + parts[1];
  auto pub = key->PublicKey();
  EXPECT_TRUE(
      pub->VerifyRaw(
             crypto::DigestAlgorithm::kSha256,
             absl::Span<const uint8_t>(
                 reinterpret_cast<const uint8_t*>(input.data()), input.size()),
             absl::Span<const uint8_t>(
                 reinterpret_cast<const uint8_t*>(sig.data()), sig.size()))
          .ok());
  auto p384 = EcPrivateKey::Generate(Curve::kP384);
  auto bad = SignEarJwt(payload, *p384);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace realm_measurements::corim
