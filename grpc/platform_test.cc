// Platform appraisal over a real loopback server and a real SQLite store
// (issue 16 item 1): CCA platform CoRIMs provisioned as platform endorsement
// sets (unsigned and signed), AppraiseToken finding the CPAK in them and
// appraising the platform firmware, the Veraison end-to-end result
// (testdata/vectors/veraison-cca/README.md), and the integrity-failure
// option.
#include <grpcpp/grpcpp.h>

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/crypto.h"
#include "corim/signed_corim.h"
#include "corim/testing/test_pki.h"
#include "corim/token.h"
#include "grpc/internal/metrics.h"
#include "grpc/internal/test_util.h"
#include "grpc/service.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::service {
namespace {

using ::realm_measurements::service::testing::MakeTempDir;
using ::realm_measurements::service::testing::ReadFileOrDie;
using ::realm_measurements::service::testing::SetDeadline;
using ::realm_measurements::service::testing::TestServer;
using Json = nlohmann::json;

std::string Vector(const std::string& name) {
  return ReadFileOrDie(absl::StrCat("testdata/vectors/", name));
}

std::string GoodToken() { return Vector("veraison-cca/cca-good.cbor"); }
std::string PlatformCorim() {
  return Vector("veraison-cca/corim-cca-platform-valid.cbor");
}

// `corim` (an unsigned CoRIM whose top map has 4 entries, keys 0 1 3 5, as
// both Veraison vectors used here) with key 4 = validity {0: 1(not_before),
// 1: 1(not_after)} appended, written byte by byte (RFC 8949 §3.4.2 tag 1,
// 4-byte unsigned integers).
std::string WithValidity(std::string corim, uint32_t not_before,
                         uint32_t not_after) {
  // d9 01f5 = tag 501, a4 = map(4).
  EXPECT_EQ(corim.substr(0, 4), std::string("\xd9\x01\xf5\xa4", 4));
  corim[3] = '\xa5';
  auto u32 = [](uint32_t v) {
    return std::string{static_cast<char>(0x1a), static_cast<char>(v >> 24),
                       static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  return corim + std::string("\x04\xa2\x00\xc1", 4) + u32(not_before) +
         std::string("\x01\xc1", 2) + u32(not_after);
}

// Veraison's session nonce is the token's realm challenge.
std::string GoodNonce() {
  const std::string t = GoodToken();
  absl::StatusOr<corim::CcaToken> token = corim::DecodeCcaToken(
      {reinterpret_cast<const uint8_t*>(t.data()), t.size()});
  EXPECT_TRUE(token.ok()) << token.status();
  if (!token.ok()) return "";
  return std::string(token->realm.challenge.begin(),
                     token->realm.challenge.end());
}

void ExpectAll(const v1::TrustVector& v, int value) {
  for (int claim : {v.instance_identity(), v.configuration(), v.executables(),
                    v.file_system(), v.hardware(), v.runtime_opaque(),
                    v.storage_opaque(), v.sourced_data()}) {
    EXPECT_EQ(claim, value) << v.DebugString();
  }
}

class PlatformServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    ServerOptions o;
    o.allow_unsigned_corim = true;
    ts_.Start(dir_, o);
    stub_ = ts_.Stub();
    ASSERT_TRUE(Provision("platform", PlatformCorim()).ok());
    ASSERT_TRUE(Provision("realms", Vector("corim-cca-realm-2025.cbor")).ok());
  }

  ::grpc::Status Provision(
      const std::string& name, const std::string& corim, bool append = false,
      v1::ProvisionReferenceValuesResponse* out = nullptr) {
    v1::ProvisionReferenceValuesRequest req;
    req.set_name(name);
    req.set_corim(corim);
    req.set_append(append);
    v1::ProvisionReferenceValuesResponse resp;
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    ::grpc::Status s = stub_->ProvisionReferenceValues(&ctx, req, &resp);
    if (out != nullptr) *out = resp;
    return s;
  }

  v1::AppraiseTokenRequest GoodRequest() {
    v1::AppraiseTokenRequest req;
    req.set_token(GoodToken());
    req.set_nonce(GoodNonce());
    req.set_stored_set("realms");
    req.set_platform_set("platform");
    return req;
  }

  ::grpc::Status Appraise(const v1::AppraiseTokenRequest& req,
                          v1::AppraiseTokenResponse* resp) {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    return stub_->AppraiseToken(&ctx, req, resp);
  }

  // The EAR submods must be those of Veraison's
  // integration-tests/data/results/cca.good.json but for the platform
  // profile string (corim/appraisal_test.cc VeraisonEndToEndGood says why).
  static void ExpectVeraisonGood(const v1::AppraiseTokenResponse& r) {
    Json ours = Json::parse(r.ear_json())["submods"];
    Json want = Json::parse(
        ReadFileOrDie("testdata/vectors/veraison-cca/cca.good.json"));
    ours["CCA_SSD_PLATFORM"]["ear.veraison.annotated-evidence"]
        ["cca-platform-profile"] = "tag:arm.com,2023:cca_platform#1.0.0";
    EXPECT_EQ(ours["CCA_REALM"], want["CCA_REALM"]);
    EXPECT_EQ(ours["CCA_SSD_PLATFORM"], want["CCA_SSD_PLATFORM"])
        << ours["CCA_SSD_PLATFORM"].dump(2);
  }

  std::string dir_;
  TestServer ts_;
  std::unique_ptr<v1::RealmMeasurementsService::Stub> stub_;
};

TEST_F(PlatformServiceTest, StoredPlatformSetGivesTheCpakAndVeraisonsResult) {
  v1::AppraiseTokenResponse r;
  ::grpc::Status s = Appraise(GoodRequest(), &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(r.affirms()) << r.report_json();
  EXPECT_EQ(r.cpak_source(), "trust anchor 0");
  EXPECT_EQ(r.first_failure(), "");
  EXPECT_EQ(r.platform().configuration(), 2);
  EXPECT_EQ(r.platform().executables(), 2);
  ASSERT_TRUE(r.platform_report().appraised());
  EXPECT_EQ(r.platform_report().references_size(), 1);
  ASSERT_GE(r.platform_report().fields_size(), 3);
  EXPECT_EQ(r.platform_report().fields(0).field(), "lifecycle");
  EXPECT_EQ(r.platform_report().fields(1).field(), "config");
  for (const v1::FieldMatch& f : r.platform_report().fields()) {
    EXPECT_EQ(f.outcome(), v1::FIELD_OUTCOME_MATCH) << f.DebugString();
  }
  ExpectVeraisonGood(r);
}

TEST_F(PlatformServiceTest, InlinePlatformCorimGivesTheSameResult) {
  v1::AppraiseTokenRequest req = GoodRequest();
  req.set_platform_corim(PlatformCorim());
  v1::AppraiseTokenResponse r;
  ::grpc::Status s = Appraise(req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(r.affirms()) << r.report_json();
  EXPECT_EQ(r.cpak_source(), "trust anchor 0");
  ExpectVeraisonGood(r);
}

TEST_F(PlatformServiceTest, PlatformSetsSurviveARestart) {
  ts_.Stop();
  ServerOptions o;
  o.allow_unsigned_corim = true;
  ts_.Start(dir_, o);
  stub_ = ts_.Stub();
  v1::AppraiseTokenResponse r;
  ::grpc::Status s = Appraise(GoodRequest(), &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(r.affirms()) << r.report_json();
  ExpectVeraisonGood(r);
}

TEST_F(PlatformServiceTest, ListingShowsThePlatformProfileAndItsTriples) {
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ListReferenceValuesResponse list;
  ASSERT_TRUE(stub_->ListReferenceValues(&ctx, {}, &list).ok());
  ASSERT_EQ(list.sets_size(), 2);
  EXPECT_EQ(list.sets(0).name(), "platform");
  EXPECT_EQ(list.sets(0).profile(), v1::CORIM_PROFILE_CCA_PLATFORM_2025);
  // One reference triple and one CPAK triple (the vector's README).
  EXPECT_EQ(list.sets(0).realm_count(), 2u);
  EXPECT_EQ(list.sets(1).profile(), v1::CORIM_PROFILE_CCA_REALM_2025);
}

TEST_F(PlatformServiceTest, UnknownPlatformIsTheStep3Result) {
  // A platform set whose triples do not name the token's instance.
  ASSERT_TRUE(
      Provision("no-keys", Vector("veraison-cca/"
                                  "corim-cca-platform-legacy-config-only.cbor"))
          .ok());
  v1::AppraiseTokenRequest req = GoodRequest();
  req.set_platform_set("no-keys");
  v1::AppraiseTokenResponse r;
  ::grpc::Status s = Appraise(req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(r.affirms());
  EXPECT_TRUE(absl::StartsWith(r.first_failure(),
                               "trust anchor: no trust anchor for evidence"))
      << r.first_failure();
  ExpectAll(r.platform(), 99);
  ExpectAll(r.realm(), 99);
  EXPECT_EQ(r.cpak_source(), "");
}

TEST_F(PlatformServiceTest, IntegrityFailuresVeraison2026OrSeparate) {
  // A CPAK that is not the platform's: the platform signature fails.
  v1::AppraiseTokenRequest req = GoodRequest();
  req.set_cpak(Vector("cpak-tfm-p384.jwk.json"));
  v1::AppraiseTokenResponse r;
  ::grpc::Status s = Appraise(req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.cpak_source(), "given");
  EXPECT_TRUE(absl::StartsWith(r.first_failure(), "platform signature: "))
      << r.first_failure();
  ExpectAll(r.platform(), 99);
  ExpectAll(r.realm(), 99);

  req.set_separate_integrity_failures(true);
  s = Appraise(req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ExpectAll(r.platform(), 99);
  ExpectAll(r.realm(), 0);
}

TEST_F(PlatformServiceTest, VerifyTokenFindsTheCpakInThePlatformSet) {
  v1::VerifyTokenRequest req;
  req.set_token(GoodToken());
  req.set_nonce(GoodNonce());
  req.set_platform_set("platform");
  v1::VerifyTokenResponse r;
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    ::grpc::Status s = stub_->VerifyToken(&ctx, req, &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_TRUE(r.ok()) << r.report_json();
  EXPECT_EQ(r.cpak_source(), "trust anchor 0");
  ASSERT_GE(r.checks_size(), 2);
  EXPECT_EQ(r.checks(1).status(), v1::CHECK_STATUS_PASS)
      << r.checks(1).detail();

  // No CPAK triple for this platform: the platform signature fails.
  ASSERT_TRUE(
      Provision("no-keys", Vector("veraison-cca/"
                                  "corim-cca-platform-legacy-config-only.cbor"))
          .ok());
  req.set_platform_set("no-keys");
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    ::grpc::Status s = stub_->VerifyToken(&ctx, req, &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.cpak_source(), "");
  EXPECT_EQ(r.checks(1).status(), v1::CHECK_STATUS_FAIL);
  EXPECT_TRUE(
      absl::StartsWith(r.checks(1).detail(), "no trust anchor for evidence"))
      << r.checks(1).detail();

  // Inline, and `cpak` wins over the endorsements.
  req.set_platform_corim(PlatformCorim());
  req.set_cpak(Vector("cpak-tfm-p384.jwk.json"));
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    ::grpc::Status s = stub_->VerifyToken(&ctx, req, &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(r.cpak_source(), "given");
  EXPECT_FALSE(r.ok());
}

TEST_F(PlatformServiceTest, SetsOfTheWrongKindAreRefused) {
  v1::AppraiseTokenRequest req = GoodRequest();
  req.set_stored_set("platform");
  v1::AppraiseTokenResponse r;
  ::grpc::Status s = Appraise(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(s.error_message(),
                                "'platform': expected a realm reference-value "
                                "set, found a platform endorsement set"))
      << s.error_message();

  req = GoodRequest();
  req.set_platform_set("realms");
  s = Appraise(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(s.error_message(),
                                "expected a platform endorsement set"))
      << s.error_message();

  req = GoodRequest();
  req.set_platform_set("nothing");
  s = Appraise(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::NOT_FOUND);

  v1::ExportEndorsementsRequest ex;
  ex.set_stored_set("platform");
  ex.set_format(v1::ENDORSEMENT_FORMAT_COMID_2025);
  v1::ExportEndorsementsResponse exr;
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  s = stub_->ExportEndorsements(&ctx, ex, &exr);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::FAILED_PRECONDITION)
      << s.error_message();

  // Appending a realm CoRIM to a platform set, or another profile.
  s = Provision("platform", Vector("corim-cca-realm-2025.cbor"), true);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::FAILED_PRECONDITION)
      << s.error_message();
  s = Provision("platform",
                Vector("veraison-cca/corim-cca-platform-legacy.cbor"), true);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::FAILED_PRECONDITION)
      << s.error_message();
}

TEST_F(PlatformServiceTest, AppendedPartsAreNumberedAcrossTheSet) {
  v1::ProvisionReferenceValuesResponse p;
  ::grpc::Status s = Provision("platform", PlatformCorim(), true, &p);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(p.set().realm_count(), 4u);
  EXPECT_EQ(p.set().part_count(), 2u);
  v1::AppraiseTokenResponse r;
  s = Appraise(GoodRequest(), &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(r.affirms()) << r.report_json();
  // The first CPAK triple of the instance wins; both reference triples of
  // the implementation apply, numbered across the parts.
  EXPECT_EQ(r.cpak_source(), "trust anchor 0");
  ASSERT_EQ(r.platform_report().references_size(), 2);
  EXPECT_EQ(r.platform_report().references(0), 0u);
  EXPECT_EQ(r.platform_report().references(1), 1u);
}

TEST_F(PlatformServiceTest, InvalidPlatformCorimsAreRefusedWhenProvisioned) {
  ::grpc::Status s =
      Provision("bad", Vector("veraison-cca/corim-cca-platform-bad-ta-no-"
                              "instance.cbor"));
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "corim: "))
      << s.error_message();
  v1::AppraiseTokenRequest req = GoodRequest();
  req.set_platform_corim("\xa0");
  v1::AppraiseTokenResponse r;
  s = Appraise(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "platform_corim: "))
      << s.error_message();

  // Hostile nesting (100,000 nested arrays) is refused by the decoder's
  // depth limit, inline and when provisioned, and the server lives on.
  const std::string deep = std::string(100000, '\x81') + std::string(1, '\0');
  req.set_platform_corim(deep);
  s = Appraise(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "depth"))
      << s.error_message();
  s = Provision("deep", deep);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "depth"))
      << s.error_message();
  v1::AppraiseTokenResponse good;
  s = Appraise(GoodRequest(), &good);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(good.affirms());
}

// A signed platform CoRIM is verified against --corim_trust_anchors like a
// realm one, and its signer is listed.
TEST(SignedPlatformProvisioningTest, SignedPlatformCorimIsAccepted) {
  absl::StatusOr<crypto::EcPrivateKey> root =
      crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
  absl::StatusOr<crypto::EcPrivateKey> leaf =
      crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
  ASSERT_TRUE(root.ok() && leaf.ok());
  auto root_der =
      corim::testing::MakeCertDer("Root", *root, "Root", *root, true, 1);
  auto leaf_der = corim::testing::MakeCertDer("Platform endorser", *leaf,
                                              "Root", *root, false, 2);
  ASSERT_TRUE(root_der.ok() && leaf_der.ok());
  ServerOptions o;
  auto anchor = crypto::Certificate::FromDer(*root_der);
  ASSERT_TRUE(anchor.ok()) << anchor.status();
  o.corim_trust_anchors.push_back(*std::move(anchor));
  TestServer ts;
  ts.Start(MakeTempDir(), o);
  auto stub = ts.Stub();

  absl::StatusOr<std::string> key_pem = leaf->ToPem();
  ASSERT_TRUE(key_pem.ok());
  auto signer = corim::CorimSigner::FromPem(
      *key_pem, corim::testing::DerToPem(*leaf_der), "ACME platforms");
  ASSERT_TRUE(signer.ok()) << signer.status();
  const std::string unsigned_corim = PlatformCorim();
  auto signed_corim = corim::SignCorimBytes(
      {reinterpret_cast<const uint8_t*>(unsigned_corim.data()),
       unsigned_corim.size()},
      corim::Profile::kCcaRealm2025, *signer);
  ASSERT_TRUE(signed_corim.ok()) << signed_corim.status();

  v1::ProvisionReferenceValuesRequest req;
  req.set_name("platform");
  req.set_corim(
      std::string(signed_corim->bytes.begin(), signed_corim->bytes.end()));
  v1::ProvisionReferenceValuesResponse resp;
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  ::grpc::Status s = stub->ProvisionReferenceValues(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.set().profile(), v1::CORIM_PROFILE_CCA_PLATFORM_2025);
  EXPECT_EQ(resp.set().signer_subject(), "CN=Platform endorser");

  // The unsigned one is refused by default.
  req.set_name("unsigned");
  req.set_corim(unsigned_corim);
  ::grpc::ClientContext ctx2;
  SetDeadline(ctx2);
  s = stub->ProvisionReferenceValues(&ctx2, req, &resp);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::FAILED_PRECONDITION);
}

// CoRIM validity (spec-token-corim §3.10): a stored platform set whose
// CoRIM has expired no longer gives the CPAK; appraising at a time inside
// its window (an audit) does; realm CoRIMs likewise. VerifyToken too.
TEST_F(PlatformServiceTest, CorimValidityDecidesWhichTriplesAreUsed) {
  // 2021-12-31 .. 2025-12-31, the window of Veraison's legacy vectors.
  constexpr uint32_t kNotBefore = 1640908800, kNotAfter = 1767139200;
  ASSERT_TRUE(Provision("expired-platform",
                        WithValidity(PlatformCorim(), kNotBefore, kNotAfter))
                  .ok());
  v1::AppraiseTokenRequest req = GoodRequest();
  req.set_platform_set("expired-platform");
  v1::AppraiseTokenResponse r;
  ::grpc::Status s = Appraise(req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(r.affirms());
  EXPECT_TRUE(absl::StrContains(r.first_failure(),
                                "; 1 outside their CoRIM validity at "))
      << r.first_failure();
  ExpectAll(r.platform(), 99);
  Json report = Json::parse(r.report_json());
  EXPECT_EQ(report["validity"]["excluded-trust-anchors"], 1);
  EXPECT_EQ(report["validity"]["excluded-platform-references"], 1);

  // At the last second of the window: Veraison's result.
  req.set_validity_time(kNotAfter);
  s = Appraise(req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(r.affirms()) << r.report_json();
  ExpectVeraisonGood(r);
  report = Json::parse(r.report_json());
  EXPECT_EQ(report["validity"]["time"], "2025-12-31T00:00:00Z");
  EXPECT_EQ(report["validity"]["excluded-trust-anchors"], 0);
  // One second later it has expired.
  req.set_validity_time(kNotAfter + 1);
  s = Appraise(req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(r.affirms());

  // A realm CoRIM given inline, expired: the RIM matches nothing and the
  // realm problem says why.
  req = GoodRequest();
  req.set_corim(
      WithValidity(Vector("corim-cca-realm-2025.cbor"), kNotBefore, kNotAfter));
  s = Appraise(req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.realm().executables(), 33);
  EXPECT_EQ(r.candidate_count(), 0u);
  EXPECT_TRUE(absl::StrContains(
      Json::parse(r.ear_json())["submods"]["CCA_REALM"]
                               ["ear.veraison.policy-claims"]["problem"]
                                   .get<std::string>(),
      "1 reference value(s) with this RIM not used: outside their CoRIM "
      "validity at "))
      << r.ear_json();
  req.set_validity_time(kNotBefore);
  s = Appraise(req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(r.affirms()) << r.report_json();

  req.set_validity_time(-1);
  s = Appraise(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "validity_time: expected Unix seconds from 0 (the server's clock) "
            "to 253402300799 (9999-12-31T23:59:59Z), found -1");
  req.set_validity_time(253402300800);
  s = Appraise(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);

  // VerifyToken looks the CPAK up the same way.
  v1::VerifyTokenRequest vr;
  vr.set_token(GoodToken());
  vr.set_nonce(GoodNonce());
  vr.set_platform_set("expired-platform");
  v1::VerifyTokenResponse vresp;
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    ASSERT_TRUE(stub_->VerifyToken(&ctx, vr, &vresp).ok());
  }
  ASSERT_GE(vresp.checks_size(), 2);
  EXPECT_EQ(vresp.checks(1).status(), v1::CHECK_STATUS_FAIL);
  EXPECT_TRUE(absl::StrContains(vresp.checks(1).detail(),
                                "outside their CoRIM validity"))
      << vresp.checks(1).detail();
  vr.set_validity_time(kNotBefore);
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    ASSERT_TRUE(stub_->VerifyToken(&ctx, vr, &vresp).ok());
  }
  ASSERT_GE(vresp.checks_size(), 2);
  EXPECT_EQ(vresp.checks(1).status(), v1::CHECK_STATUS_PASS)
      << vresp.checks(1).detail();
  EXPECT_EQ(vresp.cpak_source(), "trust anchor 0");
}

// The stored parts' CoRIM validity as Prometheus gauges: with a window,
// outside it now, and the seconds to the earliest not-after still ahead.
TEST(ValidityGaugesTest, StoredPartsOutsideTheirWindowAreCounted) {
  ServerOptions o;
  o.allow_unsigned_corim = true;
  auto metrics = std::make_shared<Metrics>();
  o.guard.metrics = metrics;
  TestServer ts;
  ts.Start(MakeTempDir(), o);
  auto stub = ts.Stub();
  constexpr uint32_t kY2100 = 4102444800;  // 2100-01-01T00:00:00Z
  const std::vector<std::pair<std::string, std::string>> sets = {
      {"no-window", PlatformCorim()},
      {"expired", WithValidity(PlatformCorim(), 1640908800, 1767139200)},
      {"until-2100",
       WithValidity(Vector("corim-cca-realm-2025.cbor"), 1640908800, kY2100)}};
  for (const auto& [name, corim] : sets) {
    v1::ProvisionReferenceValuesRequest req;
    req.set_name(name);
    req.set_corim(corim);
    v1::ProvisionReferenceValuesResponse resp;
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    ASSERT_TRUE(stub->ProvisionReferenceValues(&ctx, req, &resp).ok()) << name;
  }
  const int64_t before = static_cast<int64_t>(std::time(nullptr));
  const std::string text = metrics->Render();
  const int64_t after = static_cast<int64_t>(std::time(nullptr));
  EXPECT_TRUE(absl::StrContains(
      text,
      "# TYPE realm_measurements_reference_parts_with_validity gauge\n"
      "realm_measurements_reference_parts_with_validity 2\n"))
      << text;
  EXPECT_TRUE(absl::StrContains(
      text, "realm_measurements_reference_parts_outside_validity 1\n"))
      << text;
  // The sample line (the "# TYPE" line names the metric too).
  const std::string key =
      "\nrealm_measurements_reference_parts_next_expiry_seconds ";
  const size_t at = text.find(key);
  ASSERT_NE(at, std::string::npos) << text;
  const size_t start = at + key.size();
  int64_t seconds = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      text.substr(start, text.find('\n', start) - start), &seconds))
      << text;
  EXPECT_GE(seconds, kY2100 - after);
  EXPECT_LE(seconds, kY2100 - before);
  // The same per set in ListReferenceValues (sets by name).
  v1::ListReferenceValuesResponse list;
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    ASSERT_TRUE(stub->ListReferenceValues(&ctx, {}, &list).ok());
  }
  ASSERT_EQ(list.sets_size(), 3);
  const v1::ReferenceValueSetInfo& expired = list.sets(0);
  EXPECT_EQ(expired.name(), "expired");
  EXPECT_TRUE(expired.validity_known());
  EXPECT_EQ(expired.parts_with_validity(), 1u);
  EXPECT_EQ(expired.parts_outside_validity(), 1u);
  EXPECT_EQ(expired.next_not_after_unix(), 0);
  const v1::ReferenceValueSetInfo& none = list.sets(1);
  EXPECT_EQ(none.name(), "no-window");
  EXPECT_TRUE(none.validity_known());
  EXPECT_EQ(none.parts_with_validity(), 0u);
  const v1::ReferenceValueSetInfo& until = list.sets(2);
  EXPECT_EQ(until.name(), "until-2100");
  EXPECT_EQ(until.parts_with_validity(), 1u);
  EXPECT_EQ(until.parts_outside_validity(), 0u);
  EXPECT_EQ(until.next_not_after_unix(), kY2100);
}

}  // namespace
}  // namespace realm_measurements::service
