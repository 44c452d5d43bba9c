#include "corim/appraisal.h"

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/crypto.h"
#include "base/hex.h"
#include "corim/comid.h"
#include "corim/cose.h"
#include "corim/internal/token_samples.h"
#include "corim/platform_token_cache.h"
#include "corim/public_key_cache.h"
#include "gtest/gtest.h"
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

// SubjectPublicKeyInfo PEM of a P-256 key: the fixed RFC 5480 DER prefix
// (id-ecPublicKey, prime256v1, BIT STRING of 66 bytes) and the SEC1 point.
std::string SpkiPemP256(const crypto::EcPublicKey& key) {
  std::vector<uint8_t> der =
      Hex("3059301306072a8648ce3d020106082a8648ce3d030107034200");
  std::vector<uint8_t> point = *key.ToSec1();
  der.insert(der.end(), point.begin(), point.end());
  return absl::StrCat(
      "-----BEGIN PUBLIC KEY-----\n",
      absl::Base64Escape(absl::string_view(
          reinterpret_cast<const char*>(der.data()), der.size())),
      "\n-----END PUBLIC KEY-----\n");
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
    // Only when nothing decided: why (veraison/services#265).
    std::optional<std::string> problem;
  } cases[] = {
      {"no reference values",
       {},
       33,
       TrustTier::kWarning,
       false,
       {},
       "no reference value has the realm's RIM " +
           base::HexOf(claims_.initial_measurement) + " (sha-256)"},
      {"no matching RIM",
       {other_rim},
       33,
       TrustTier::kWarning,
       false,
       {},
       "no reference value has the realm's RIM " +
           base::HexOf(claims_.initial_measurement) + " (sha-256)"},
      {"RPV mismatch",
       {bad_rpv, other_rim, bad_rpv},
       96,
       TrustTier::kContraindicated,
       false,
       {},
       "the realm's personalization value matches none of the 2 reference "
       "value(s) with its RIM"},
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
    EXPECT_EQ(r.realm.problem, c.problem);
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
  AppraisalResult strict = AppraiseCcaToken(token_, {ref}, o);
  EXPECT_EQ(strict.realm.vector.executables, 33);
  EXPECT_EQ(strict.realm.problem,
            "1 reference value(s) with the realm's RIM name another hash "
            "algorithm than its sha-256");
  // The reason reaches the EAR's policy claims.
  Json j = Json::parse(AppraisalToJson(token_, strict, {}));
  EXPECT_NE(j.dump().find("name another hash algorithm"), std::string::npos)
      << j.dump();
}

// IntegrityFailureMode::kSeparate: the rust-ccatoken mapping (§4.5 end).
TEST_F(AppraisalTest, VerificationFailuresSeparate) {
  // Platform signature: platform all 99, realm all 0.
  auto other = EcPrivateKey::Generate(Curve::kP256);
  auto other_pub = other->PublicKey();
  AppraisalOptions o;
  o.integrity_failures = IntegrityFailureMode::kSeparate;
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
  EXPECT_EQ(r.first_failure.rfind("platform signature: ", 0), 0u)
      << r.first_failure;
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

// Veraison 2026 (§4.1 step 7, the default): each failed check -> every
// claim of both submods 99, the problem naming that check.
TEST_F(AppraisalTest, IntegrityFailuresVeraison2026) {
  const TrustVector all99 = Vec(99, 99, 99, 99, 99, 99, 99, 99);
  auto other = EcPrivateKey::Generate(Curve::kP256);
  auto other_pub = other->PublicKey();
  auto other_rak = EcPrivateKey::Generate(Curve::kP384);

  struct Case {
    const char* name;
    CcaToken token;
    const EcPublicKey* cpak;
    std::optional<std::vector<uint8_t>> nonce;
    const char* problem;
  };
  // Realm signature: re-sign the realm with a key that is not the RAK in
  // 44237 (the platform binder still matches the carried RAK).
  CcaToken bad_realm_sig = token_;
  {
    auto sig = other_rak->SignRaw(
        crypto::DigestAlgorithm::kSha384,
        SigStructure(bad_realm_sig.realm_envelope.protected_bytes, {},
                     bad_realm_sig.realm_envelope.payload));
    ASSERT_TRUE(sig.ok());
    bad_realm_sig.realm_envelope.signature = *sig;
  }
  // Binding: a platform challenge that is not the RAK hash.
  PlatformClaims p = SamplePlatformClaims();
  p.challenge = std::vector<uint8_t>(32, 0xee);
  CcaToken bad_binding = *DecodeCcaToken(
      *SignCcaToken(TopLevelForm::kCmwCollection, p, claims_, *cpak_, *rak_));
  // Realm key: a realm key claim that is not a COSE_Key.
  CcaToken bad_key = token_;
  bad_key.realm.public_key = {0x01, 0x02};

  Case cases[] = {
      {"freshness", token_, cpak_pub_.get(), Hex("ff"),
       "integrity validation failed: freshness: realm challenge"},
      {"platform signature", token_, &*other_pub, std::nullopt,
       "integrity validation failed: platform signature"},
      {"realm key", bad_key, cpak_pub_.get(), std::nullopt,
       "integrity validation failed: realm key"},
      {"realm signature", bad_realm_sig, cpak_pub_.get(), std::nullopt,
       "integrity validation failed: realm signature"},
      {"binding", bad_binding, cpak_pub_.get(), std::nullopt,
       "integrity validation failed: binding"},
  };
  for (const Case& c : cases) {
    AppraisalOptions o;
    o.verify.cpak = c.cpak;
    o.verify.nonce = c.nonce;
    AppraisalResult r = AppraiseCcaToken(c.token, {Full()}, o);
    EXPECT_EQ(r.platform.vector, all99) << c.name;
    EXPECT_EQ(r.realm.vector, all99) << c.name;
    ASSERT_TRUE(r.platform.problem && r.realm.problem) << c.name;
    EXPECT_EQ(r.platform.problem->rfind(c.problem, 0), 0u)
        << c.name << ": " << *r.platform.problem;
    EXPECT_EQ(*r.realm.problem, *r.platform.problem) << c.name;
    EXPECT_EQ("integrity validation failed: " + r.first_failure,
              *r.realm.problem);
    EXPECT_FALSE(r.affirms()) << c.name;
  }
  // All checks pass: no failure recorded.
  AppraisalOptions o;
  o.verify.cpak = cpak_pub_.get();
  o.verify.nonce = claims_.challenge;
  AppraisalResult r = AppraiseCcaToken(token_, {Full()}, o);
  EXPECT_TRUE(r.first_failure.empty()) << r.first_failure;
  EXPECT_TRUE(r.affirms());
}

// Platform endorsements built from the sample platform claims.
class PlatformAppraisalTest : public AppraisalTest {
 protected:
  PlatformReferenceValue Reference() const {
    const PlatformClaims p = SamplePlatformClaims();
    PlatformReferenceValue rv;
    rv.implementation_id = p.implementation_id;
    for (const SwComponent& c : p.sw_components) {
      PlatformComponentReference ref;
      ref.type = c.type;
      ref.version = c.version;
      ref.algorithm = "1";
      ref.measurement = *c.measurement;
      ref.signer_id = *c.signer_id;
      rv.components.push_back(ref);
    }
    rv.config = p.config;
    rv.config_mask = std::vector<uint8_t>(p.config.size(), 0xff);
    return rv;
  }
  PlatformTrustAnchor Anchor() const {
    const PlatformClaims p = SamplePlatformClaims();
    return {p.implementation_id, p.instance_id, SpkiPemP256(*cpak_pub_)};
  }
  CcaToken Token(const PlatformClaims& p) const {
    return *DecodeCcaToken(
        *SignCcaToken(TopLevelForm::kCmwCollection, p, claims_, *cpak_, *rak_));
  }
  AppraisalResult Run(const CcaToken& t,
                      const std::vector<PlatformReferenceValue>& refs,
                      const std::vector<PlatformTrustAnchor>& tas) const {
    AppraisalOptions o;
    o.platform_references = &refs;
    o.trust_anchors = &tas;
    return AppraiseCcaToken(t, {Full()}, o);
  }
};

// §4.4 vectors: each row changes one thing against matching endorsements.
TEST_F(PlatformAppraisalTest, Table) {
  const PlatformClaims base = SamplePlatformClaims();
  ASSERT_FALSE(base.sw_components.empty());
  struct Case {
    const char* name;
    PlatformClaims claims;
    std::vector<PlatformReferenceValue> refs;
    TrustVector platform;
    const char* field;  // the report field that fails, or ""
  };
  std::vector<Case> cases;
  cases.push_back(
      {"all match", base, {Reference()}, Vec(2, 2, 2, 0, 2, 2, 2, 0), ""});
  {
    PlatformClaims c = base;
    c.sw_components[0].measurement->at(0) ^= 1;
    cases.push_back({"unknown component",
                     c,
                     {Reference()},
                     Vec(2, 2, 33, 0, 2, 2, 2, 0),
                     "sw-component[0]"});
  }
  {
    PlatformClaims c = base;
    c.sw_components[0].version = "9.9.9";
    cases.push_back({"component version differs",
                     c,
                     {Reference()},
                     Vec(2, 2, 33, 0, 2, 2, 2, 0),
                     "sw-component[0]"});
  }
  {
    PlatformClaims c = base;
    c.sw_components[0].type = "OTHER";
    cases.push_back({"component type differs",
                     c,
                     {Reference()},
                     Vec(2, 2, 33, 0, 2, 2, 2, 0),
                     "sw-component[0]"});
  }
  {
    PlatformReferenceValue r = Reference();
    r.components[0].type.reset();
    r.components[0].version.reset();
    cases.push_back({"reference without type/version",
                     base,
                     {r},
                     Vec(2, 2, 2, 0, 2, 2, 2, 0),
                     ""});
  }
  {
    // A token component without a type: only a reference without a type
    // matches it (Veraison would reject the evidence instead).
    PlatformClaims c = base;
    c.sw_components[0].type.reset();
    cases.push_back({"component without type",
                     c,
                     {Reference()},
                     Vec(2, 2, 33, 0, 2, 2, 2, 0),
                     "sw-component[0]"});
    PlatformReferenceValue r = Reference();
    r.components[0].type.reset();
    cases.push_back({"component and reference without type",
                     c,
                     {r},
                     Vec(2, 2, 2, 0, 2, 2, 2, 0),
                     ""});
  }
  {
    PlatformClaims c = base;
    c.config.push_back(0x00);
    cases.push_back({"changed config",
                     c,
                     {Reference()},
                     Vec(2, 32, 2, 0, 2, 2, 2, 0),
                     "config"});
  }
  {
    PlatformReferenceValue r = Reference();
    r.config.reset();
    cases.push_back({"no reference config",
                     base,
                     {r},
                     Vec(2, 32, 2, 0, 2, 2, 2, 0),
                     "config"});
  }
  {
    PlatformClaims c = base;
    c.lifecycle = 0x5000;  // recoverable-cca-platform-rot-debug
    cases.push_back({"debug lifecycle",
                     c,
                     {Reference()},
                     Vec(96, 2, 2, 0, 2, 96, 96, 0),
                     "lifecycle"});
  }
  {
    PlatformClaims c = base;
    c.lifecycle = 0x4001;  // non-cca-platform-rot-debug: trustworthy
    cases.push_back({"non-CCA debug lifecycle",
                     c,
                     {Reference()},
                     Vec(2, 2, 2, 0, 2, 2, 2, 0),
                     ""});
  }
  {
    PlatformReferenceValue r = Reference();
    r.implementation_id[0] ^= 1;
    cases.push_back({"endorsements of another implementation",
                     base,
                     {r},
                     Vec(2, 32, 33, 0, 2, 2, 2, 0),
                     "config"});
  }
  {
    // Components split over two triples of the same implementation-id.
    PlatformReferenceValue a = Reference(), b = Reference();
    b.components.erase(b.components.begin());
    a.components.resize(1);
    cases.push_back(
        {"two triples", base, {a, b}, Vec(2, 2, 2, 0, 2, 2, 2, 0), ""});
  }
  for (const Case& c : cases) {
    AppraisalResult r = Run(Token(c.claims), c.refs, {Anchor()});
    EXPECT_EQ(r.platform.vector, c.platform) << c.name << "\n"
                                             << AppraisalToText(r);
    EXPECT_EQ(r.realm.vector.executables, 2) << c.name;
    EXPECT_EQ(r.cpak_source, "trust anchor 0") << c.name;
    std::string failing;
    for (const FieldMatch& f : r.platform_report.fields) {
      if (f.outcome == FieldOutcome::kMismatch && failing.empty()) {
        failing = f.field;
      }
    }
    EXPECT_EQ(failing, c.field) << c.name;
  }
}

// §4.1 step 3: no trust anchor for the token's implementation-id +
// instance-id -> both submods 99.
TEST_F(PlatformAppraisalTest, UnknownPlatform) {
  PlatformTrustAnchor other_impl = Anchor();
  other_impl.implementation_id[5] ^= 1;
  PlatformTrustAnchor other_inst = Anchor();
  other_inst.instance_id[5] ^= 1;
  for (const PlatformTrustAnchor& ta : {other_impl, other_inst}) {
    AppraisalResult r =
        Run(token_, {Reference()}, std::vector<PlatformTrustAnchor>{ta});
    EXPECT_EQ(r.platform.vector, Vec(99, 99, 99, 99, 99, 99, 99, 99));
    EXPECT_EQ(r.realm.vector, Vec(99, 99, 99, 99, 99, 99, 99, 99));
    ASSERT_TRUE(r.platform.problem.has_value());
    EXPECT_EQ(r.platform.problem->rfind("no trust anchor for evidence", 0), 0u)
        << *r.platform.problem;
    EXPECT_EQ(r.first_failure.rfind("trust anchor: no trust anchor", 0), 0u);
    EXPECT_TRUE(r.cpak_source.empty());
  }
  // A trust anchor whose key is not the one that signed: platform
  // signature failure.
  PlatformTrustAnchor wrong = Anchor();
  auto other = EcPrivateKey::Generate(Curve::kP256);
  wrong.public_key_pem = SpkiPemP256(*other->PublicKey());
  AppraisalResult r = Run(token_, {Reference()}, {wrong});
  EXPECT_EQ(r.platform.vector.hardware, 99);
  EXPECT_EQ(r.first_failure.rfind("platform signature: ", 0), 0u);
  // A given CPAK wins over the store.
  AppraisalOptions o;
  std::vector<PlatformTrustAnchor> none;
  o.trust_anchors = &none;
  o.verify.cpak = cpak_pub_.get();
  r = AppraiseCcaToken(token_, {Full()}, o);
  EXPECT_EQ(r.cpak_source, "given");
  EXPECT_TRUE(r.affirms());
}

// The step 3 problem names the token's ids, and the CPAK triples CoRIM
// validity left out when there were any.
TEST_F(PlatformAppraisalTest, NoTrustAnchorProblemNamesAnchorsOutsideValidity) {
  auto hex = [](const std::vector<uint8_t>& b) {
    return absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  };
  const std::string ids =
      absl::StrCat("no trust anchor for evidence (implementation-id ",
                   hex(token_.platform.implementation_id), ", instance-id ",
                   hex(token_.platform.instance_id));
  EXPECT_EQ(NoTrustAnchorProblem(token_, std::nullopt), ids + ")");
  ValidityCheck v;
  v.time = 1767225600;
  EXPECT_EQ(NoTrustAnchorProblem(token_, v), ids + ")");
  v.trust_anchors = 2;
  EXPECT_EQ(NoTrustAnchorProblem(token_, v),
            ids + "; 2 outside their CoRIM validity at 2026-01-01T00:00:00Z)");
}

// testdata/vectors/README.md: bug-33 fails the binding.
TEST(AppraisalVectorTest, Bug33BindingFailure) {
  auto token = DecodeCcaToken(ReadVector("cca-token-bug-33.cbor"));
  ASSERT_TRUE(token.ok());
  auto cpak =
      LoadPublicKey(ReadText("testdata/vectors/cpak-tfm-p384.jwk.json"));
  ASSERT_TRUE(cpak.ok());
  AppraisalOptions o;
  o.verify.cpak = &*cpak;
  AppraisalResult r = AppraiseCcaToken(*token, {}, o);
  // Veraison 2026: both submods 99.
  EXPECT_EQ(r.platform.vector.instance_identity, 99);
  EXPECT_EQ(r.realm.vector.instance_identity, 99);
  EXPECT_EQ(r.first_failure.rfind("binding: ", 0), 0u);
  // rust-ccatoken mapping: the platform is still appraised.
  o.integrity_failures = IntegrityFailureMode::kSeparate;
  r = AppraiseCcaToken(*token, {}, o);
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

// The end-to-end flow of Veraison's integration test (testdata/vectors/
// veraison-cca/README.md): its token, its platform and realm CoRIMs, the
// CPAK found in the platform CoRIM, the session nonce = the realm challenge.
// The submods must equal integration-tests/data/results/cca.good.json; the
// one difference is the platform profile string, because that test signs
// claims whose profile is the 2023 string while cca-good.cbor carries the
// legacy one.
TEST(AppraisalVectorTest, VeraisonEndToEndGood) {
  auto token = DecodeCcaToken(ReadVector("veraison-cca/cca-good.cbor"));
  ASSERT_TRUE(token.ok()) << token.status();
  auto platform = DecodePlatformCorim(
      ReadVector("veraison-cca/corim-cca-platform-valid.cbor"));
  ASSERT_TRUE(platform.ok()) << platform.status();
  auto realm = DecodeCorim(ReadVector("corim-cca-realm-2025.cbor"));
  ASSERT_TRUE(realm.ok()) << realm.status();
  AppraisalOptions o;
  o.platform_references = &platform->reference_values;
  o.trust_anchors = &platform->trust_anchors;
  o.verify.nonce = token->realm.challenge;
  AppraisalResult r =
      AppraiseCcaToken(*token, FlattenReferenceValues(realm->values), o);
  ASSERT_TRUE(r.affirms()) << AppraisalToText(r);
  EXPECT_EQ(r.cpak_source, "trust anchor 0");

  Json ours = Json::parse(EarToJson(*token, r, EarOptions{}))["submods"];
  Json want =
      Json::parse(ReadText("testdata/vectors/veraison-cca/cca.good.json"));
  ASSERT_EQ(ours.size(), want.size());
  EXPECT_EQ(ours["CCA_REALM"], want["CCA_REALM"]);
  EXPECT_EQ(ours["CCA_SSD_PLATFORM"]["ear.veraison.annotated-evidence"]
                ["cca-platform-profile"],
            "http://arm.com/CCA-SSD/1.0.0");
  ours["CCA_SSD_PLATFORM"]["ear.veraison.annotated-evidence"]
      ["cca-platform-profile"] = "tag:arm.com,2023:cca_platform#1.0.0";
  EXPECT_EQ(ours["CCA_SSD_PLATFORM"], want["CCA_SSD_PLATFORM"])
      << ours["CCA_SSD_PLATFORM"].dump(2);
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

// The documents are written member by member (base::JsonWriter), not
// dumped from a tree. nlohmann is the oracle: each document, parsed and
// dumped again with the same indent (nlohmann::json orders members by key),
// must give the same bytes, and the report must embed the EAR and the
// verification report. Covered: optional claims present and absent,
// candidates with and without expected values, platform fields and
// references, policy-claims problems, null and set deciding reference and
// first failure, a nonce, lints, and claims that are not UTF-8.
TEST_F(AppraisalTest, DocumentsRoundTripThroughNlohmann) {
  CcaToken bad_text = token_;
  bad_text.realm.profile_text = std::string("tag:\xff\xfe");
  bad_text.platform.hash_algorithm = "\xc3";
  CcaToken sparse = token_;
  sparse.realm.profile_text.reset();
  sparse.platform.service_indicator.reset();
  sparse.platform.sw_components.resize(2);
  sparse.platform.sw_components[0] = SwComponent{};
  sparse.platform.sw_components[1].type = "BL\"2\"";
  sparse.platform.sw_components[1].version.reset();
  CcaToken full = token_;
  full.platform.service_indicator = "https://psa-verifier.org";
  for (SwComponent& c : full.platform.sw_components) {
    c.type = "BL";
    c.version = "1.2.3";
    c.hash_algorithm = "sha-256";
  }
  EarOptions with_nonce;
  with_nonce.issued_at = 1700000000;
  with_nonce.nonce = std::vector<uint8_t>(64, 0xa5);
  RealmReferenceValue wrong_rpv = Full();
  wrong_rpv.rpv = std::vector<uint8_t>(64, 0);
  AppraisalResult decorated = Appraise({wrong_rpv, Full()});
  decorated.realm.problem = "executables: unknown event \"x\"";
  decorated.first_failure = "binding: tab\there";
  decorated.platform_report.appraised = true;
  decorated.platform_report.references = {0, 3, 18446744073709551615u};
  decorated.platform_report.fields = {
      {"lifecycle", FieldOutcome::kMatch, "12288", "12288"},
      {"sw-component[0]", FieldOutcome::kNotSupplied, "", "ab"}};
  decorated.verification.lints = {{"L1", false, "one"}, {"L11", true, "two"}};
  decorated.validity = ValidityCheck{1767225600, 3, 2, 1};
  int documents = 0;
  for (const CcaToken* t : {&token_, &bad_text, &sparse, &full}) {
    for (const EarOptions& e : {EarOptions{}, with_nonce}) {
      for (const AppraisalResult& r :
           {Appraise({Full()}), Appraise({}), decorated,
            AppraiseCcaToken(*t, {Full()}, AppraisalOptions{})}) {
        const AppraisalDocuments d = AppraisalToDocuments(*t, r, e);
        const Json ear = Json::parse(d.ear_json);
        const Json verification = Json::parse(d.verification_json);
        const Json report = Json::parse(d.report_json);
        EXPECT_EQ(ear.dump(-1), d.ear_json);
        EXPECT_EQ(verification.dump(2), d.verification_json);
        EXPECT_EQ(report.dump(2), d.report_json);
        EXPECT_EQ(report["ear"], ear);
        EXPECT_EQ(report["verification"], verification);
        EXPECT_EQ(d.ear_json, EarToJson(*t, r, e));
        EXPECT_EQ(d.verification_json,
                  VerificationReportToJson(r.verification));
        EXPECT_EQ(d.report_json, AppraisalToJson(*t, r, e));
        ++documents;
      }
    }
  }
  EXPECT_EQ(documents, 32);
  // The decorated result's values arrive where they belong.
  const Json report = Json::parse(AppraisalToJson(full, decorated, with_nonce));
  EXPECT_EQ(report["first-failure"], "binding: tab\there");
  EXPECT_EQ(report["platform"]["references"][2], 18446744073709551615u);
  EXPECT_FALSE(report["platform"]["fields"][1].contains("expected"));
  EXPECT_EQ(report["validity"],
            Json::parse(R"({"excluded-platform-references": 2,
                            "excluded-realm-values": 3,
                            "excluded-trust-anchors": 1,
                            "time": "2026-01-01T00:00:00Z"})"));
  EXPECT_FALSE(Json::parse(AppraisalToJson(full, Appraise({}), with_nonce))
                   .contains("validity"));
  EXPECT_TRUE(absl::StrContains(
      AppraisalToText(decorated),
      "CoRIM validity at 2026-01-01T00:00:00Z: left out 3 realm value(s) with "
      "the token's RIM, 2 platform reference triple(s), 1 trust anchor(s)\n"));
  EXPECT_EQ(report["candidates"][0]["fields"].size(),
            decorated.candidates[0].fields.size());
  EXPECT_EQ(report["ear"]["submods"]["CCA_REALM"]["ear.veraison.policy-claims"]
                  ["problem"],
            "executables: unknown event \"x\"");
  EXPECT_EQ(report["ear"]["submods"]["CCA_SSD_PLATFORM"]
                  ["ear.veraison.annotated-evidence"]
                  ["cca-platform-service-indicator"],
            "https://psa-verifier.org");
  EXPECT_EQ(report["verification"]["lints"][1]["severity"], "warning");
  EXPECT_EQ(report["ear"]["iat"], 1700000000);
}

// RFC 7638 thumbprint of a fixed P-256 key (made with `openssl ecparam`);
// the expected value was computed with Python's hashlib and base64 over the
// canonical JSON of the public point printed by `openssl ec -text`.
TEST(EarJwtTest, KeyIdIsTheRfc7638Thumbprint) {
  constexpr char kPem[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgi9/stx5XQZaXrNDl
qU1HD5dUUd1HGNyvlH9ocQagXKmhRANCAATPA67a8Yn4nubT+/t9nyw4t6xBMUOE
ZcW7Lq08v9KyWGPezz5faZinu0cMdkUGSTFEas4Fs5NmRoSfkKY53lmQ
-----END PRIVATE KEY-----
)";
  auto key = EcPrivateKey::FromPem(kPem);
  ASSERT_TRUE(key.ok()) << key.status();
  auto kid = EarKeyId(*key);
  ASSERT_TRUE(kid.ok()) << kid.status();
  EXPECT_EQ(*kid, "5AKB4rxzbDdTaq929r5hQphVOZN73UI3MLSeEO22Jow");
  auto p384 = EcPrivateKey::Generate(Curve::kP384);
  ASSERT_TRUE(p384.ok());
  EXPECT_EQ(EarKeyId(*p384).status().code(),
            absl::StatusCode::kInvalidArgument);
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
  EXPECT_EQ(Json::parse(header),
            Json({{"alg", "ES256"}, {"kid", *EarKeyId(*key)}, {"typ", "JWT"}}));
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

// EarSigner precomputes the kid and header: its JWTs have SignEarJwt's
// header and payload parts, and a signature that verifies with the key.
TEST(EarJwtTest, SignerMatchesSignEarJwt) {
  auto key = EcPrivateKey::Generate(Curve::kP256);
  ASSERT_TRUE(key.ok());
  auto shared = std::make_shared<const EcPrivateKey>(std::move(*key));
  auto signer = EarSigner::Create(shared);
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ(signer->kid(), *EarKeyId(*shared));
  const std::string payload = R"({"iat":1,"x":"\u00e9"})";
  auto a = signer->Sign(payload);
  auto b = SignEarJwt(payload, *shared);
  ASSERT_TRUE(a.ok() && b.ok());
  const std::vector<std::string> pa = absl::StrSplit(*a, '.');
  const std::vector<std::string> pb = absl::StrSplit(*b, '.');
  ASSERT_EQ(pa.size(), 3u);
  ASSERT_EQ(pb.size(), 3u);
  EXPECT_EQ(pa[0], pb[0]);
  EXPECT_EQ(pa[1], pb[1]);
  std::string sig;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(pa[2], &sig));
  const std::string input = pa[0] + "." + pa[1];
  EXPECT_TRUE(
      shared->PublicKey()
          ->VerifyRaw(
              crypto::DigestAlgorithm::kSha256,
              absl::Span<const uint8_t>(
                  reinterpret_cast<const uint8_t*>(input.data()), input.size()),
              absl::Span<const uint8_t>(
                  reinterpret_cast<const uint8_t*>(sig.data()), sig.size()))
          .ok());
  auto p384 = EcPrivateKey::Generate(Curve::kP384);
  EXPECT_EQ(
      EarSigner::Create(std::make_shared<const EcPrivateKey>(std::move(*p384)))
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EarSigner::Create(nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The Veraison flow with both caches, three times: every result is the one
// the uncached appraisal gives, the trust anchor's PEM and the RAK are
// parsed once and the platform token verified once.
TEST(AppraisalVectorTest, CachesGiveTheUncachedResult) {
  auto token = DecodeCcaToken(ReadVector("veraison-cca/cca-good.cbor"));
  ASSERT_TRUE(token.ok()) << token.status();
  auto platform = DecodePlatformCorim(
      ReadVector("veraison-cca/corim-cca-platform-valid.cbor"));
  ASSERT_TRUE(platform.ok()) << platform.status();
  auto realm = DecodeCorim(ReadVector("corim-cca-realm-2025.cbor"));
  ASSERT_TRUE(realm.ok()) << realm.status();
  const std::vector<RealmReferenceValue> refs =
      FlattenReferenceValues(realm->values);
  AppraisalOptions o;
  o.platform_references = &platform->reference_values;
  o.trust_anchors = &platform->trust_anchors;
  o.verify.nonce = token->realm.challenge;
  const std::string want =
      AppraisalToJson(*token, AppraiseCcaToken(*token, refs, o), {});
  PublicKeyCache keys(4);
  PlatformTokenCache verified(4);
  AppraisalOptions cached = o;
  cached.verify.key_cache = &keys;
  cached.verify.platform_cache = &verified;
  for (int i = 0; i < 3; ++i) {
    AppraisalResult r = AppraiseCcaToken(*token, refs, cached);
    EXPECT_TRUE(r.affirms());
    EXPECT_EQ(AppraisalToJson(*token, r, {}), want);
  }
  // The anchor's PEM and the RAK, parsed on the first call only.
  EXPECT_EQ(keys.stats().misses, 2u);
  EXPECT_EQ(keys.stats().hits, 4u);
  EXPECT_EQ(verified.stats().misses, 1u);
  EXPECT_EQ(verified.stats().hits, 2u);
  // A trust anchor whose PEM does not parse: the same problem text cached
  // or not (errors are not remembered).
  std::vector<PlatformTrustAnchor> broken = platform->trust_anchors;
  broken[0].public_key_pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n";
  o.trust_anchors = &broken;
  cached.trust_anchors = &broken;
  const std::string bad = AppraiseCcaToken(*token, refs, o).first_failure;
  EXPECT_EQ(bad.rfind("trust anchor: trust anchor 0: CPAK: ", 0), 0u) << bad;
  EXPECT_EQ(AppraiseCcaToken(*token, refs, cached).first_failure, bad);
  EXPECT_EQ(AppraiseCcaToken(*token, refs, cached).first_failure, bad);
}

}  // namespace
}  // namespace realm_measurements::corim
