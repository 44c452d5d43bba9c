// End-to-end: a real server on 127.0.0.1:0 over a real SQLite store, driven
// by the generated client. Expected values come from the golden corpus
// (testdata/golden/cases-public.json, produced by the reference tool) and the
// public token/CoRIM vectors (testdata/vectors/README.md), never from this
// server's own output.
#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "base/crypto.h"
#include "corim/comid.h"
#include "corim/signed_corim.h"
#include "grpc/internal/test_util.h"
#include "grpc/service.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::service {
namespace {

using ::realm_measurements::service::testing::DraftTokenVectors;
using ::realm_measurements::service::testing::MakeTempDir;
using ::realm_measurements::service::testing::ReadFileOrDie;
using ::realm_measurements::service::testing::SetDeadline;
using ::realm_measurements::service::testing::Sha256;
using ::realm_measurements::service::testing::TestServer;
using ::realm_measurements::service::testing::Token02Vectors;
using ::realm_measurements::service::testing::TokenVectors;
using ::realm_measurements::service::testing::Upload;

constexpr char kGolden[] = "testdata/golden/";
constexpr char kVectors[] = "testdata/vectors/";

std::string Hex(const std::string& b) { return absl::BytesToHexString(b); }

// A golden case's argv mapped onto a ComputeMeasurementsRequest the way the
// CLI maps it (spec-core §10.2), uploading the payload files it names.
struct GoldenCall {
  bool supported = true;
  bool print_b64 = false;
  bool output_dtb = false;
  v1::ComputeMeasurementsRequest request;
  std::map<std::string, std::string> payloads;  // field -> input file
};

GoldenCall MapArgv(const std::vector<std::string>& argv) {
  GoldenCall g;
  size_t i = 0;
  auto uint_override = [&](const std::string& v) {
    uint32_t n = 0;
    EXPECT_TRUE(absl::SimpleAtoi(v, &n)) << v;
    return n;
  };
  v1::HostCapsOverrides* o = g.request.mutable_overrides();
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "kvmtool" || a == "qemu" || a == "cloud-hv") break;
    const std::string v = i + 1 < argv.size() ? argv[i + 1] : "";
    if (a == "--print-b64") {
      g.print_b64 = true;
      continue;
    }
    ++i;
    if (a == "-c") {
      g.request.add_host_caps_toml(
          ReadFileOrDie(absl::StrCat(kGolden, "inputs/", v)));
    } else if (a == "-k") {
      g.payloads["kernel"] = v;
    } else if (a == "-i") {
      g.payloads["initrd"] = v;
    } else if (a == "-f") {
      g.payloads["firmware"] = v;
    } else if (a == "--dtb") {
      g.payloads["dtb"] = v;
    } else if (a == "--dtb-template") {
      g.payloads["dtb_template"] = v;
    } else if (a == "--output-dtb") {
      g.output_dtb = true;
    } else if (a == "--num-bps") {
      o->set_num_bps(uint_override(v));
    } else if (a == "--num-wps") {
      o->set_num_wps(uint_override(v));
    } else if (a == "--ipa-bits") {
      o->set_ipa_bits(uint_override(v));
    } else if (a == "--sve-vl") {
      o->set_sve_vl(uint_override(v));
    } else if (a == "--pmu-num-ctrs") {
      o->set_pmu_num_ctrs(uint_override(v));
    } else if (a == "--pmu") {
      o->set_pmu(v == "true");
    } else if (a == "--lpa2") {
      o->set_lpa2(v == "true");
    } else {
      g.supported = false;  // endorsements, -v, --no-measurements, ...
    }
  }
  if (i >= argv.size()) {
    g.supported = false;
    return g;
  }
  const std::string& vmm = argv[i];
  g.request.set_vmm(vmm == "kvmtool" ? v1::VMM_KVMTOOL
                    : vmm == "qemu"  ? v1::VMM_QEMU
                                     : v1::VMM_CLOUD_HYPERVISOR);
  for (++i; i < argv.size(); ++i) g.request.add_vmm_args(argv[i]);
  return g;
}

// "RIM: <hex|b64>\nREM0: ..." -> five 64-byte buffers.
std::vector<std::string> ParseStdout(const std::string& out, bool b64) {
  std::vector<std::string> values;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    std::vector<std::string> kv = absl::StrSplit(line, ": ");
    if (kv.size() != 2) continue;
    std::string bytes;
    if (b64) {
      EXPECT_TRUE(absl::Base64Unescape(kv[1], &bytes));
    } else {
      bytes = absl::HexStringToBytes(kv[1]);
    }
    values.push_back(bytes);
  }
  return values;
}

class IntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override { ts_.Start(MakeTempDir(), AllowUnsigned()); }
  // These tests provision unsigned CoRIMs and inline sets.
  static ServerOptions AllowUnsigned() {
    ServerOptions o;
    o.allow_unsigned_corim = true;
    return o;
  }
  TestServer ts_;
};

TEST_F(IntegrationTest, ComputeMatchesEveryGoldenCase) {
  nlohmann::json corpus = nlohmann::json::parse(
      ReadFileOrDie(absl::StrCat(kGolden, "cases-public.json")));
  auto stub = ts_.Stub();
  int checked = 0, dtbs = 0, rejected = 0;
  for (const nlohmann::json& c : corpus["cases"]) {
    if (c["expected_exit_code"] != 0) continue;
    const std::string id = c["id"];
    const std::string out = c["expected_stdout"];
    GoldenCall g = MapArgv(c["argv"].get<std::vector<std::string>>());
    if (!g.supported || out.empty()) continue;
    SCOPED_TRACE(id);
    for (const auto& [field, file] : g.payloads) {
      const std::string content =
          ReadFileOrDie(absl::StrCat(kGolden, "inputs/", file));
      v1::UploadPayloadResponse up;
      ::grpc::Status s = Upload(*stub, content, &up);
      ASSERT_TRUE(s.ok()) << s.error_message();
      v1::PayloadRef* ref = field == "kernel"     ? g.request.mutable_kernel()
                            : field == "initrd"   ? g.request.mutable_initrd()
                            : field == "firmware" ? g.request.mutable_firmware()
                            : field == "dtb"      ? g.request.mutable_dtb()
                                             : g.request.mutable_dtb_template();
      ref->set_sha256(up.sha256());
    }
    ::grpc::ClientContext ctx;
    SetDeadline(ctx, 60);
    v1::ComputeMeasurementsResponse r;
    ::grpc::Status s = stub->ComputeMeasurements(&ctx, g.request, &r);
    bool may_reject = false;
    for (const auto& t : c["tags"]) may_reject |= t == "may-reject";
    if (may_reject && !s.ok()) {
      // A documented deliberate rejection (docs/deviations.md): it must be
      // a clean INVALID_ARGUMENT.
      EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT)
          << s.error_message();
      ++rejected;
      continue;
    }
    ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
    const std::vector<std::string> want = ParseStdout(out, g.print_b64);
    ASSERT_EQ(want.size(), 5u) << out;
    const size_t n = r.rim().size();
    ASSERT_TRUE(n == 32 || n == 64) << n;
    EXPECT_EQ(r.hash_algorithm(),
              n == 32 ? v1::HASH_ALGORITHM_SHA256 : v1::HASH_ALGORITHM_SHA512);
    // Which behaviour the values assume, as the CLI's JSON "model" says.
    EXPECT_TRUE(absl::StrContains(
        r.vmm_behaviour(),
        g.request.vmm() == v1::VMM_KVMTOOL ? "(docs/vmm-kvmtool.md)"
        : g.request.vmm() == v1::VMM_QEMU  ? "(docs/vmm-qemu.md)"
                                           : "(docs/vmm-cloud-hv.md)"))
        << r.vmm_behaviour();
    EXPECT_EQ(Hex(r.rim()), Hex(want[0].substr(0, n)));
    EXPECT_EQ(want[0].substr(n), std::string(64 - n, '\0'));
    ASSERT_EQ(r.rems_size(), 4);
    for (int k = 0; k < 4; ++k) {
      EXPECT_EQ(Hex(r.rems(k)), Hex(want[1 + k].substr(0, n))) << "REM" << k;
    }
    const std::string dtb_path = absl::StrCat(kGolden, "dtbs/", id, ".dtb");
    if (g.output_dtb) {
      bool listed = false;
      for (const auto& f : corpus["dtb_files"])
        listed |= f == "dtbs/" + id + ".dtb";
      if (listed) {
        EXPECT_EQ(r.dtb(), ReadFileOrDie(dtb_path)) << "DTB differs";
        ++dtbs;
      }
    }
    ++checked;
  }
  // The public corpus has 25 measurement cases the API can express (the
  // endorsement-output ones go through ExportEndorsements instead).
  EXPECT_GE(checked, 20);
  EXPECT_GE(dtbs, 10);
  std::cout << "golden cases checked: " << checked << ", DTBs: " << dtbs
            << ", documented rejections: " << rejected << "\n";
}

TEST_F(IntegrationTest, ComputeErrorsAreCleanInvalidArgument) {
  auto stub = ts_.Stub();
  struct Case {
    const char* what;
    v1::ComputeMeasurementsRequest req;
    ::grpc::StatusCode code;
    const char* text;
  };
  std::vector<Case> cases;
  {
    Case c{"no vmm", {}, ::grpc::StatusCode::INVALID_ARGUMENT, "vmm: expected"};
    cases.push_back(c);
  }
  {
    Case c{"bad arg", {}, ::grpc::StatusCode::INVALID_ARGUMENT, "--bogus"};
    c.req.set_vmm(v1::VMM_KVMTOOL);
    c.req.add_vmm_args("--bogus");
    cases.push_back(c);
  }
  {
    Case c{"unknown payload",
           {},
           ::grpc::StatusCode::NOT_FOUND,
           "kernel: no payload with sha256"};
    c.req.set_vmm(v1::VMM_KVMTOOL);
    c.req.mutable_kernel()->set_sha256(std::string(32, '\x11'));
    cases.push_back(c);
  }
  {
    Case c{"short digest",
           {},
           ::grpc::StatusCode::INVALID_ARGUMENT,
           "expected 32 bytes, found 3"};
    c.req.set_vmm(v1::VMM_KVMTOOL);
    c.req.mutable_kernel()->set_sha256("abc");
    cases.push_back(c);
  }
  {
    Case c{"bad toml",
           {},
           ::grpc::StatusCode::INVALID_ARGUMENT,
           "host_caps_toml[0]"};
    c.req.set_vmm(v1::VMM_KVMTOOL);
    c.req.add_host_caps_toml("this is = = not toml");
    cases.push_back(c);
  }
  {
    Case c{"override range",
           {},
           ::grpc::StatusCode::INVALID_ARGUMENT,
           "overrides.ipa_bits: expected 0..255, found 300"};
    c.req.set_vmm(v1::VMM_KVMTOOL);
    c.req.mutable_overrides()->set_ipa_bits(300);
    cases.push_back(c);
  }
  {
    // A payload that is no kernel: the message names it by digest, never
    // by the server's file path.
    const std::string junk = "this is not an arm64 Image";
    v1::UploadPayloadResponse up;
    ASSERT_TRUE(Upload(*stub, junk, &up).ok());
    Case c{"bad kernel", {}, ::grpc::StatusCode::INVALID_ARGUMENT, ""};
    c.req.set_vmm(v1::VMM_KVMTOOL);
    for (const char* a : {"--realm", "-c", "1", "-m", "256M", "-k", "k"}) {
      c.req.add_vmm_args(a);
    }
    c.req.mutable_kernel()->set_sha256(up.sha256());
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ComputeMeasurementsResponse r;
    ::grpc::Status s = stub->ComputeMeasurements(&ctx, c.req, &r);
    EXPECT_FALSE(s.ok());
    EXPECT_TRUE(
        absl::StartsWith(s.error_message(), "cannot build parameters: "))
        << s.error_message();
    EXPECT_FALSE(absl::StrContains(s.error_message(), ts_.dir))
        << s.error_message();
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ComputeMeasurementsResponse r;
    ::grpc::Status s = stub->ComputeMeasurements(&ctx, c.req, &r);
    EXPECT_EQ(s.error_code(), c.code) << s.error_message();
    EXPECT_TRUE(absl::StrContains(s.error_message(), c.text))
        << s.error_message();
    EXPECT_EQ(s.error_message().find('\n'), std::string::npos);
  }
}

// The EAR JWT verifies with the JWK of GetServiceInfo (RFC 7515 ES256 over
// "header.payload") and carries the EAR JSON as its payload.
void ExpectJwtVerifies(const std::string& jwt, const std::string& jwk_json,
                       const std::string& ear_json) {
  std::vector<std::string> parts = absl::StrSplit(jwt, '.');
  ASSERT_EQ(parts.size(), 3u);
  std::string header, payload, sig;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[0], &header));
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[1], &payload));
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[2], &sig));
  EXPECT_EQ(nlohmann::json::parse(header)["alg"], "ES256");
  EXPECT_EQ(payload, ear_json);
  nlohmann::json jwk = nlohmann::json::parse(jwk_json);
  EXPECT_EQ(jwk["kty"], "EC");
  EXPECT_EQ(jwk["crv"], "P-256");
  std::string x, y;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(jwk["x"].get<std::string>(), &x));
  ASSERT_TRUE(absl::WebSafeBase64Unescape(jwk["y"].get<std::string>(), &y));
  auto span = [](const std::string& s) {
    return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()),
                                     s.size());
  };
  absl::StatusOr<crypto::EcPublicKey> key =
      crypto::EcPublicKey::FromCoordinates(crypto::Curve::kP256, span(x),
                                           span(y));
  ASSERT_TRUE(key.ok()) << key.status();
  const std::string signed_part = parts[0] + "." + parts[1];
  EXPECT_TRUE(key->VerifyRaw(crypto::DigestAlgorithm::kSha256,
                             span(signed_part), span(sig))
                  .ok());
}

TEST_F(IntegrationTest, ProvisionVeraisonCorimThenAppraiseToken02) {
  auto stub = ts_.Stub();
  const TokenVectors vectors = Token02Vectors();
  v1::ProvisionReferenceValuesRequest prov;
  prov.set_name("veraison-2025");
  prov.set_corim(vectors.corim);
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ProvisionReferenceValuesResponse r;
    ::grpc::Status s = stub->ProvisionReferenceValues(&ctx, prov, &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(r.set().profile(), v1::CORIM_PROFILE_CCA_REALM_2025);
    EXPECT_GE(r.set().realm_count(), 1u);
    EXPECT_EQ(r.set().corim_sha256(), Sha256(prov.corim()));
  }
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ProvisionReferenceValuesResponse r;
    EXPECT_EQ(stub->ProvisionReferenceValues(&ctx, prov, &r).error_code(),
              ::grpc::StatusCode::ALREADY_EXISTS);
  }
  v1::GetServiceInfoResponse info;
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    ASSERT_TRUE(stub->GetServiceInfo(&ctx, {}, &info).ok());
  }
  // testdata/vectors/README.md: token 02 verifies with the P-256 IAK and
  // its realm claims match corim-cca-realm-2025.cbor.
  v1::AppraiseTokenRequest req;
  req.set_token(vectors.token);
  req.set_cpak(vectors.cpak);
  req.set_stored_set("veraison-2025");
  v1::AppraiseTokenResponse r;
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    ::grpc::Status s = stub->AppraiseToken(&ctx, req, &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_TRUE(r.verification().ok()) << r.report_json();
  EXPECT_EQ(r.realm().executables(), 2) << r.report_json();
  EXPECT_TRUE(r.affirms()) << r.report_json();
  EXPECT_EQ(r.realm_status(), "affirming");
  EXPECT_TRUE(r.has_matched());
  nlohmann::json ear = nlohmann::json::parse(r.ear_json());
  EXPECT_EQ(ear["eat_profile"], "tag:github.com,2023:veraison/ear");
  EXPECT_EQ(ear["submods"]["CCA_REALM"]["ear.status"], "affirming");
  ExpectJwtVerifies(r.ear_jwt(), info.ear_verification_key_jwk(), r.ear_json());
  // The JWT header's kid names a key of the published JWK set, and that key
  // verifies it too (issue 15: rotation).
  {
    std::string header;
    ASSERT_TRUE(absl::WebSafeBase64Unescape(
        std::string(r.ear_jwt().substr(0, r.ear_jwt().find('.'))), &header));
    const std::string kid = nlohmann::json::parse(header)["kid"];
    nlohmann::json jwks = nlohmann::json::parse(info.ear_verification_jwks());
    ASSERT_EQ(jwks["keys"].size(), 1u);
    EXPECT_EQ(jwks["keys"][0]["kid"], kid);
    EXPECT_EQ(jwks["keys"][0]["use"], "sig");
    ExpectJwtVerifies(r.ear_jwt(), jwks["keys"][0].dump(), r.ear_json());
  }
  // Again, now with the platform token verified and the keys parsed before
  // (the server's caches, issue 18): the same answer, bar the EAR's iat and
  // the JWT's signature.
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::AppraiseTokenResponse again;
    ASSERT_TRUE(stub->AppraiseToken(&ctx, req, &again).ok());
    EXPECT_EQ(again.verification().SerializeAsString(),
              r.verification().SerializeAsString());
    EXPECT_EQ(again.platform().SerializeAsString(),
              r.platform().SerializeAsString());
    EXPECT_EQ(again.realm().SerializeAsString(), r.realm().SerializeAsString());
    ASSERT_EQ(again.candidates_size(), r.candidates_size());
    for (int i = 0; i < r.candidates_size(); ++i) {
      EXPECT_EQ(again.candidates(i).SerializeAsString(),
                r.candidates(i).SerializeAsString());
    }
    nlohmann::json a = nlohmann::json::parse(again.ear_json());
    nlohmann::json b = nlohmann::json::parse(r.ear_json());
    a.erase("iat");
    b.erase("iat");
    EXPECT_EQ(a, b);
    nlohmann::json ra = nlohmann::json::parse(again.report_json());
    nlohmann::json rb = nlohmann::json::parse(r.report_json());
    ra["ear"].erase("iat");
    rb["ear"].erase("iat");
    EXPECT_EQ(ra, rb);
    ExpectJwtVerifies(again.ear_jwt(), info.ear_verification_key_jwk(),
                      again.ear_json());
  }

  // Same token with the wrong platform key: platform signature fails
  // (README: token 02 fails with the TF-M CPAK).
  req.set_cpak(DraftTokenVectors().cpak);  // the TF-M CPAK
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::AppraiseTokenResponse bad;
    ASSERT_TRUE(stub->AppraiseToken(&ctx, req, &bad).ok());
    EXPECT_FALSE(bad.affirms());
    EXPECT_EQ(bad.platform().instance_identity(), 99);
  }
  // Deleted set: NOT_FOUND.
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DeleteReferenceValuesRequest d;
    d.set_name("veraison-2025");
    v1::DeleteReferenceValuesResponse dr;
    ASSERT_TRUE(stub->DeleteReferenceValues(&ctx, d, &dr).ok());
  }
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::AppraiseTokenResponse gone;
    ::grpc::Status s = stub->AppraiseToken(&ctx, req, &gone);
    EXPECT_EQ(s.error_code(), ::grpc::StatusCode::NOT_FOUND);
    EXPECT_TRUE(absl::StrContains(s.error_message(), "veraison-2025"));
  }
}

// spec-token-corim §1.10: the draft token's realm claims as an inline set,
// with the realm challenge as the nonce.
TEST_F(IntegrationTest, AppraiseDraftTokenInlineAndVerify) {
  auto stub = ts_.Stub();
  const TokenVectors draft = DraftTokenVectors();
  const std::string& token = draft.token;
  const std::string& cpak = draft.cpak;
  v1::AppraiseTokenRequest req;
  req.set_token(token);
  req.set_cpak(cpak);
  v1::RealmReferenceValue* rv = req.mutable_inline_set()->add_realms();
  rv->set_hash_algorithm(v1::HASH_ALGORITHM_SHA256);
  rv->set_rim(absl::HexStringToBytes(
      "311314ab73620350cf758834ae5c65d9e8c2dc7febe6e7d9654bbe864e300d49"));
  rv->set_rpv(
      "The quick brown fox jumps over 13 lazy dogs.The quick brown fox ");
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::AppraiseTokenResponse r;
  ::grpc::Status s = stub->AppraiseToken(&ctx, req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(r.affirms()) << r.report_json();
  EXPECT_EQ(r.realm().executables(), 2);

  // Wrong RIM: no value has the token's RIM; on request (a near miss), a
  // per-field report naming the RIM mismatch.
  rv->set_rim(std::string(32, '\0'));
  req.set_max_near_misses(1);
  ::grpc::ClientContext ctx2;
  SetDeadline(ctx2);
  v1::AppraiseTokenResponse r2;
  ASSERT_TRUE(stub->AppraiseToken(&ctx2, req, &r2).ok());
  EXPECT_FALSE(r2.affirms());
  EXPECT_EQ(r2.candidate_count(), 0u);
  ASSERT_EQ(r2.candidates_size(), 1);
  bool rim_mismatch = false;
  for (const v1::FieldMatch& f : r2.candidates(0).fields()) {
    if (f.field() == "rim") {
      rim_mismatch = f.outcome() == v1::FIELD_OUTCOME_MISMATCH;
      EXPECT_EQ(
          f.found(),
          "311314ab73620350cf758834ae5c65d9e8c2dc7febe6e7d9654bbe864e300d49");
    }
  }
  EXPECT_TRUE(rim_mismatch);

  // VerifyToken: README outcomes (bug-33 fails the binding).
  v1::VerifyTokenRequest vr;
  vr.set_token(ReadFileOrDie(absl::StrCat(kVectors, "cca-token-bug-33.cbor")));
  vr.set_cpak(cpak);
  ::grpc::ClientContext ctx3;
  SetDeadline(ctx3);
  v1::VerifyTokenResponse v;
  ASSERT_TRUE(stub->VerifyToken(&ctx3, vr, &v).ok());
  EXPECT_FALSE(v.ok());
  std::map<std::string, v1::CheckStatus> checks;
  for (const v1::CheckResult& c : v.checks()) checks[c.name()] = c.status();
  EXPECT_EQ(checks["platform_signature"], v1::CHECK_STATUS_PASS);
  EXPECT_EQ(checks["realm_signature"], v1::CHECK_STATUS_PASS);
  EXPECT_EQ(checks["binding"], v1::CHECK_STATUS_FAIL);

  // Garbage token: INVALID_ARGUMENT, one line.
  vr.set_token("\xa0garbage");
  ::grpc::ClientContext ctx4;
  SetDeadline(ctx4);
  ::grpc::Status bad = stub->VerifyToken(&ctx4, vr, &v);
  EXPECT_EQ(bad.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(bad.error_message(), "token: "));
}

TEST_F(IntegrationTest, ExportStoredSetReproducesVectorBytes) {
  auto stub = ts_.Stub();
  const std::string corim =
      ReadFileOrDie(absl::StrCat(kVectors, "corim-cca-realm-2025.cbor"));
  v1::ProvisionReferenceValuesRequest prov;
  prov.set_name("v");
  prov.set_corim(corim);
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ProvisionReferenceValuesResponse r;
    ASSERT_TRUE(stub->ProvisionReferenceValues(&ctx, prov, &r).ok());
  }
  v1::ExportEndorsementsRequest ex;
  ex.set_stored_set("v");
  ex.set_format(v1::ENDORSEMENT_FORMAT_CORIM_2025_UNSIGNED);
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ExportEndorsementsResponse r;
  ASSERT_TRUE(stub->ExportEndorsements(&ctx, ex, &r).ok());
  // comid.h: our encoder re-encodes the public vector byte for byte.
  EXPECT_EQ(Hex(r.content()), Hex(corim));
  // spec-token-corim §3.13.
  EXPECT_EQ(r.media_type(),
            "application/rim+cbor; "
            "profile=\"tag:arm.com,2025:cca_realm#1.0.0\"");

  ex.set_format(v1::ENDORSEMENT_FORMAT_CORIM_2025_SIGNED);
  ::grpc::ClientContext ctx2;
  SetDeadline(ctx2);
  ::grpc::Status s = stub->ExportEndorsements(&ctx2, ex, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "signer"));
}

// Signed export (spec-token-corim §3.12): a CA and a signing leaf made by
// /usr/bin/openssl; the result verifies against the CA with the corim
// library's verifier and decodes to the inline set.
TEST_F(IntegrationTest, ExportSignedCorimVerifiesAgainstTheCa) {
  const std::string d = MakeTempDir();
  const std::string script = absl::StrCat(
      "set -e; cd '", d, "'\n",
      "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
      "-out ca.key 2>/dev/null\n",
      "openssl req -x509 -new -key ca.key -subj /CN=endorser-ca -days 2 "
      "-addext basicConstraints=critical,CA:TRUE "
      "-addext keyUsage=critical,keyCertSign -out ca.pem\n",
      "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
      "-out leaf.key 2>/dev/null\n",
      "openssl req -new -key leaf.key -subj /CN=endorser -out leaf.csr\n",
      "printf 'keyUsage=critical,digitalSignature\\n' > leaf.ext\n",
      "openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key "
      "-CAcreateserial -days 2 -extfile leaf.ext -out leaf.pem "
      "2>/dev/null\n");
  ASSERT_EQ(std::system(
                absl::StrCat("bash -c '",
                             absl::StrReplaceAll(script, {{"'", "'\\''"}}), "'")
                    .c_str()),
            0);
  auto stub = ts_.Stub();
  v1::ExportEndorsementsRequest ex;
  v1::RealmReferenceValue* rv = ex.mutable_inline_set()->add_realms();
  rv->set_hash_algorithm(v1::HASH_ALGORITHM_SHA512);
  rv->set_rim(std::string(64, '\x5a'));
  for (int i = 0; i < 4; ++i) rv->add_rems(std::string(64, '\x10' + i));
  rv->set_rpv(std::string(64, '\x01'));
  ex.mutable_inline_set()->set_corim_id("signed-set");
  ex.set_format(v1::ENDORSEMENT_FORMAT_CORIM_2025_SIGNED);
  ex.mutable_signer()->set_key_pem(ReadFileOrDie(d + "/leaf.key"));
  ex.mutable_signer()->set_chain_pem(ReadFileOrDie(d + "/leaf.pem"));
  ex.mutable_signer()->set_signer_name("ACME endorser");
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ExportEndorsementsResponse r;
  ::grpc::Status s = stub->ExportEndorsements(&ctx, ex, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.media_type(),
            "application/rim+cose; "
            "profile=\"tag:arm.com,2025:cca_realm#1.0.0\"");
  absl::StatusOr<crypto::Certificate> ca =
      crypto::Certificate::FromPem(ReadFileOrDie(d + "/ca.pem"));
  ASSERT_TRUE(ca.ok());
  absl::StatusOr<corim::VerifiedCorim> v = corim::VerifySignedCorim(
      absl::Span<const uint8_t>(
          reinterpret_cast<const uint8_t*>(r.content().data()),
          r.content().size()),
      *ca);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->signer_name, "ACME endorser");
  ASSERT_EQ(v->corim.values.comids.size(), 1u);
  ASSERT_EQ(v->corim.values.comids[0].realms.size(), 1u);
  const corim::RealmReferenceValue& got = v->corim.values.comids[0].realms[0];
  EXPECT_EQ(got.algorithm, corim::RealmHashAlgorithm::kSha512);
  EXPECT_EQ(got.rim, std::vector<uint8_t>(64, 0x5a));
  ASSERT_TRUE(got.rem[3].has_value());
  EXPECT_EQ(*got.rem[3], std::vector<uint8_t>(64, 0x13));

  // A key that is not the leaf's: INVALID_ARGUMENT naming the signer.
  ex.mutable_signer()->set_key_pem(ReadFileOrDie(d + "/ca.key"));
  ::grpc::ClientContext ctx2;
  SetDeadline(ctx2);
  s = stub->ExportEndorsements(&ctx2, ex, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "signer: "))
      << s.error_message();
}

TEST_F(IntegrationTest, RestartKeepsSetsPayloadsAndEarKey) {
  auto stub = ts_.Stub();
  const std::string kernel =
      ReadFileOrDie(absl::StrCat(kGolden, "inputs/Image-a"));
  v1::UploadPayloadResponse up;
  ASSERT_TRUE(Upload(*stub, kernel, &up).ok());
  EXPECT_FALSE(up.already_present());
  v1::ProvisionReferenceValuesRequest prov;
  prov.set_name("inline-set");
  v1::RealmReferenceValue* rv = prov.mutable_inline_set()->add_realms();
  rv->set_hash_algorithm(v1::HASH_ALGORITHM_SHA256);
  rv->set_rim(std::string(32, '\x42'));
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ProvisionReferenceValuesResponse r;
    ASSERT_TRUE(stub->ProvisionReferenceValues(&ctx, prov, &r).ok());
  }
  stub.reset();
  const std::string dir = ts_.dir;
  ts_.Stop();
  ts_.Start(dir, AllowUnsigned());
  stub = ts_.Stub();
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ListReferenceValuesResponse r;
    ASSERT_TRUE(stub->ListReferenceValues(&ctx, {}, &r).ok());
    ASSERT_EQ(r.sets_size(), 1);
    EXPECT_EQ(r.sets(0).name(), "inline-set");
    EXPECT_EQ(r.sets(0).realm_count(), 1u);
  }
  // The payload is still there: re-upload deduplicates, compute finds it.
  ASSERT_TRUE(Upload(*stub, kernel, &up).ok());
  EXPECT_TRUE(up.already_present());
  v1::ComputeMeasurementsRequest req;
  req.set_vmm(v1::VMM_KVMTOOL);
  for (const char* a : {"--realm", "-c", "1", "-m", "256M", "-k", "Image"}) {
    req.add_vmm_args(a);
  }
  req.mutable_kernel()->set_sha256(Sha256(kernel));
  req.mutable_overrides()->set_num_bps(6);
  req.mutable_overrides()->set_num_wps(6);
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ComputeMeasurementsResponse r;
  ::grpc::Status s = stub->ComputeMeasurements(&ctx, req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  bool kernel_blob = false;
  for (const v1::LayoutBlob& b : r.layout().blobs()) {
    if (b.name() == "kernel") {
      kernel_blob = true;
      EXPECT_EQ(b.sha256(), Sha256(kernel));
    }
  }
  EXPECT_TRUE(kernel_blob);
  EXPECT_TRUE(ts_.store->CheckConsistency().ok());
}

// spec-eventlog §J.4 T2-SHA256: the log and its image catalogue (copies in
// testdata/grpc/), expected values as printed there.
TEST_F(IntegrationTest, ReplayEventLogT2Sha256) {
  auto stub = ts_.Stub();
  v1::ReplayEventLogRequest req;
  req.set_event_log(ReadFileOrDie("testdata/grpc/t2-qemu-sha256.bin"));
  for (const char* image : {"dtb", "fw", "initrd", "kernel"}) {
    v1::UploadPayloadResponse up;
    ASSERT_TRUE(
        Upload(*stub,
               ReadFileOrDie(absl::StrCat("testdata/grpc/t2-", image, ".bin")),
               &up)
            .ok());
    req.add_images()->set_sha256(up.sha256());
  }
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ReplayEventLogResponse r;
  ::grpc::Status s = stub->ReplayEventLog(&ctx, req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.hash_algorithm(), v1::HASH_ALGORITHM_SHA256);
  EXPECT_EQ(Hex(r.rim()),
            "84855690bb1a5bb0381cf10bb6f73f568f7dcaaec0aa81510285d81f85900244");
  ASSERT_EQ(r.rems_size(), 4);
  EXPECT_EQ(Hex(r.rems(2)),
            "7ad38f26d2e711c8a073e4eaa3c2a82ef726d793d2c09d2f2bab65261efd5d1f");
  EXPECT_EQ(r.rems(0), std::string(32, '\0'));
  int verified = 0;
  for (const v1::ReplayedEvent& e : r.events()) {
    verified += e.match() == v1::CATALOGUE_MATCH_VERIFIED;
  }
  EXPECT_GE(verified, 4);  // firmware, kernel, initrd, DTB (and REM digests)

  // Without the catalogue the measured images cannot be found.
  req.clear_images();
  ::grpc::ClientContext ctx2;
  SetDeadline(ctx2);
  s = stub->ReplayEventLog(&ctx2, req, &r);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "replay: "))
      << s.error_message();
  // A truncated log is INVALID_ARGUMENT from the parser.
  req.set_event_log(req.event_log().substr(0, 100));
  ::grpc::ClientContext ctx3;
  SetDeadline(ctx3);
  s = stub->ReplayEventLog(&ctx3, req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "event_log: "))
      << s.error_message();
}

// A firmware (CCEL) log on its own, with the realm's hash algorithm given:
// REMs from zero, RIM unknown. Expected values: SHA-512 over the logged
// digests (TF-RMM H(REM || digest)), computed here, not by the replay code.
TEST_F(IntegrationTest, ReplayEventLogFirmwareLogOnItsOwn) {
  auto stub = ts_.Stub();
  auto replay = [&stub](const v1::ReplayEventLogRequest& q,
                        v1::ReplayEventLogResponse* out) {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    return stub->ReplayEventLog(&ctx, q, out);
  };
  v1::ReplayEventLogRequest req;
  req.set_event_log(ReadFileOrDie("testdata/grpc/fw-sha512.bin"));
  req.set_source(v1::LOG_SOURCE_FIRMWARE);
  req.set_hash_algorithm(v1::HASH_ALGORITHM_SHA512);
  v1::ReplayEventLogResponse r;
  ::grpc::Status s = replay(req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.hash_algorithm(), v1::HASH_ALGORITHM_SHA512);
  EXPECT_TRUE(r.rim().empty());  // no VMM log: the RIM is unknown
  auto sha512 = [](const std::string& bytes) {
    absl::StatusOr<std::vector<uint8_t>> d = crypto::HashOnce(
        crypto::DigestAlgorithm::kSha512,
        absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bytes.data()),
                            bytes.size()));
    EXPECT_TRUE(d.ok());
    return d.ok() ? std::string(d->begin(), d->end()) : std::string();
  };
  const std::string zero(64, '\0');
  const std::string action = "Calling EFI Application from Boot Option";
  ASSERT_EQ(r.rems_size(), 4);
  EXPECT_EQ(r.rems(0), zero);
  EXPECT_EQ(r.rems(1), zero);
  EXPECT_EQ(Hex(r.rems(2)), Hex(sha512(zero + sha512(action))));
  EXPECT_EQ(Hex(r.rems(3)), Hex(sha512(zero + sha512(std::string(4, '\0')))));
  EXPECT_TRUE(
      absl::StrContains(r.report_text(), "RIM: unknown (no VMM log replayed)"))
      << r.report_text();

  // Without the algorithm nothing creates the realm: refused.
  req.clear_hash_algorithm();
  s = replay(req, &r);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "replay: "))
      << s.error_message();
  // SHA-384 realms need RMM 2.0: UNIMPLEMENTED under 1.0.
  req.set_hash_algorithm(v1::HASH_ALGORITHM_SHA384);
  s = replay(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::UNIMPLEMENTED)
      << s.error_message();
  // With a VMM log the given algorithm must be the log's.
  v1::ReplayEventLogRequest vmm;
  vmm.set_event_log(ReadFileOrDie("testdata/grpc/t2-qemu-sha256.bin"));
  vmm.set_hash_algorithm(v1::HASH_ALGORITHM_SHA512);
  s = replay(vmm, &r);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.error_message(), "sha512"))
      << s.error_message();
}

TEST_F(IntegrationTest, ServiceInfoReportsCapabilities) {
  auto stub = ts_.Stub();
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::GetServiceInfoResponse info;
  ASSERT_TRUE(stub->GetServiceInfo(&ctx, {}, &info).ok());
  EXPECT_EQ(info.evidence_media_types(0),
            "application/eat-collection; "
            "profile=\"http://arm.com/CCA-SSD/1.0.0\"");
  ASSERT_EQ(info.corim_profiles_size(), 4);
  EXPECT_EQ(info.corim_profiles(0), "tag:arm.com,2025:cca_realm#1.0.0");
  EXPECT_EQ(info.corim_profiles(1), "http://arm.com/cca/realm/1");
  EXPECT_EQ(info.corim_profiles(2), "tag:arm.com,2025:cca_platform#1.0.0");
  EXPECT_EQ(info.corim_profiles(3), "http://arm.com/cca/ssd/1");
  EXPECT_EQ(info.endorsement_formats_size(), 7);
  EXPECT_EQ(info.max_message_bytes(), 4u << 20);
  EXPECT_FALSE(info.ear_verification_key_jwk().empty());
}

}  // namespace
}  // namespace realm_measurements::service
