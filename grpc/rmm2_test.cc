// RMM 2.0 through the gRPC service (spec-rmm2 §2), on a real server over a
// real SQLite store. Expected measurements come from the TF-RMM 2.0 golden
// sample (testdata/golden/rmm2/), never from this server's own output; the
// token test appraises a synthesised SHA-384 token against the CoRIM the CLI
// binary wrote.
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/crypto.h"
#include "corim/appraisal.h"
#include "corim/comid.h"
#include "corim/internal/token_samples.h"
#include "corim/reference_values.h"
#include "corim/token.h"
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
using ::realm_measurements::service::testing::Upload;

constexpr char kInputs[] = "testdata/golden/inputs/";
constexpr char kRmm2Cases[] = "testdata/golden/rmm2/cases-rmm2-public.json";
constexpr char kCli[] = "cli/realm-measurements";

std::string Hex(const std::string& b) { return absl::BytesToHexString(b); }

class Rmm2Test : public ::testing::Test {
 protected:
  void SetUp() override { ts_.Start(MakeTempDir(), AllowUnsigned()); }
  // These tests provision unsigned CoRIMs and inline sets.
  static ServerOptions AllowUnsigned() {
    ServerOptions o;
    o.allow_unsigned_corim = true;
    return o;
  }

  // Uploads `file` (under kInputs) and points `ref` at it.
  void UploadInput(const std::string& file, v1::PayloadRef* ref) {
    auto stub = ts_.Stub();
    v1::UploadPayloadResponse up;
    ::grpc::Status s =
        Upload(*stub, ReadFileOrDie(absl::StrCat(kInputs, file)), &up);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ref->set_sha256(up.sha256());
  }

  ::grpc::Status Compute(const v1::ComputeMeasurementsRequest& req,
                         v1::ComputeMeasurementsResponse* r) {
    auto stub = ts_.Stub();
    ::grpc::ClientContext ctx;
    SetDeadline(ctx, 60);
    return stub->ComputeMeasurements(&ctx, req, r);
  }

  TestServer ts_;
};

// A golden argv as a request, the way the CLI maps its global options
// (spec-core §10.2); the cases of the RMM 2.0 sample use only these.
v1::ComputeMeasurementsRequest MapArgv(
    const std::vector<std::string>& argv,
    std::map<std::string, std::string>* payloads) {
  v1::ComputeMeasurementsRequest req;
  v1::HostCapsOverrides* o = req.mutable_overrides();
  size_t i = 0;
  auto number = [](const std::string& v) {
    uint32_t n = 0;
    EXPECT_TRUE(absl::SimpleAtoi(v, &n)) << v;
    return n;
  };
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "kvmtool" || a == "qemu" || a == "cloud-hv") break;
    const std::string v = i + 1 < argv.size() ? argv[++i] : "";
    if (a == "--rmm-version") {
      EXPECT_EQ(v, "2.0");
      req.set_rmm_version(v1::RMM_VERSION_2_0);
    } else if (a == "-c") {
      req.add_host_caps_toml(ReadFileOrDie(absl::StrCat(kInputs, v)));
    } else if (a == "-k") {
      (*payloads)["kernel"] = v;
    } else if (a == "-i") {
      (*payloads)["initrd"] = v;
    } else if (a == "-f") {
      (*payloads)["firmware"] = v;
    } else if (a == "--num-bps") {
      o->set_num_bps(number(v));
    } else if (a == "--num-wps") {
      o->set_num_wps(number(v));
    } else if (a == "--ipa-bits") {
      o->set_ipa_bits(number(v));
    } else if (a == "--pmu-num-ctrs") {
      o->set_pmu_num_ctrs(number(v));
    } else if (a != "--output-dtb") {
      ADD_FAILURE() << "option not mapped: " << a;
    }
  }
  EXPECT_LT(i, argv.size());
  if (i >= argv.size()) return req;
  req.set_vmm(argv[i] == "kvmtool" ? v1::VMM_KVMTOOL
              : argv[i] == "qemu"  ? v1::VMM_QEMU
                                   : v1::VMM_CLOUD_HYPERVISOR);
  for (++i; i < argv.size(); ++i) req.add_vmm_args(argv[i]);
  return req;
}

TEST_F(Rmm2Test, ComputeMatchesTheRmm2GoldenSample) {
  nlohmann::json corpus = nlohmann::json::parse(ReadFileOrDie(kRmm2Cases));
  int checked = 0, sha384 = 0;
  for (const nlohmann::json& c : corpus["cases"]) {
    const std::string id = c["id"];
    SCOPED_TRACE(id);
    std::map<std::string, std::string> payloads;
    v1::ComputeMeasurementsRequest req =
        MapArgv(c["argv"].get<std::vector<std::string>>(), &payloads);
    for (const auto& [field, file] : payloads) {
      UploadInput(file, field == "kernel"   ? req.mutable_kernel()
                        : field == "initrd" ? req.mutable_initrd()
                                            : req.mutable_firmware());
    }
    v1::ComputeMeasurementsResponse r;
    ::grpc::Status s = Compute(req, &r);
    ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
    EXPECT_EQ(r.rmm_version(), v1::RMM_VERSION_2_0);
    // "RIM: <hex>\nREM0: <hex>\n..." of 64-byte buffers.
    std::vector<std::string> want;
    const std::string out = c["expected_stdout"];
    for (absl::string_view line :
         absl::StrSplit(out, '\n', absl::SkipEmpty())) {
      want.push_back(absl::HexStringToBytes(line.substr(line.find(": ") + 2)));
    }
    ASSERT_EQ(want.size(), 5u);
    const size_t n = r.rim().size();
    if (absl::EndsWith(id, "@sha384")) {
      EXPECT_EQ(r.hash_algorithm(), v1::HASH_ALGORITHM_SHA384);
      EXPECT_EQ(n, 48u);
      ++sha384;
    }
    EXPECT_EQ(Hex(r.rim()), Hex(want[0].substr(0, n)));
    EXPECT_EQ(want[0].substr(n), std::string(64 - n, '\0'));
    ASSERT_EQ(r.rems_size(), 4);
    for (int k = 0; k < 4; ++k) {
      EXPECT_EQ(Hex(r.rems(k)), Hex(want[1 + k].substr(0, n))) << "REM" << k;
    }
    // spec-rmm2 §1 row 5: a PMU realm gets the TF-RMM 2.0 warning.
    bool warned = false;
    for (const std::string& w : r.warnings()) {
      warned |= absl::StrContains(w, "TF-RMM 2.0 (as of 2026-07) refuses");
    }
    EXPECT_EQ(warned, r.parameters().pmu());
    ++checked;
  }
  EXPECT_EQ(checked, 10);
  EXPECT_EQ(sha384, 2);
}

// One flow for the CLI and the server (measure/measure.h): a host-caps
// hash_algo never chooses the algorithm, and the response says so with the
// CLI's warning when it disagrees with the VMM's.
TEST_F(Rmm2Test, HostCapsHashAlgoThatDisagreesWarnsAsInTheCli) {
  v1::ComputeMeasurementsRequest req = testing::KvmMin();
  v1::ComputeMeasurementsResponse plain, r;
  ASSERT_TRUE(Compute(req, &plain).ok());
  EXPECT_EQ(plain.warnings_size(), 0);
  req.add_host_caps_toml("hash_algo = \"RmiHashSha512\"\n");
  ASSERT_TRUE(Compute(req, &r).ok());
  EXPECT_EQ(r.hash_algorithm(), v1::HASH_ALGORITHM_SHA256);
  EXPECT_EQ(r.rim(), plain.rim());
  ASSERT_EQ(r.warnings_size(), 1);
  EXPECT_EQ(r.warnings(0),
            "config hash_algo RmiHashSha512 is ignored: the VMM arguments "
            "select sha256");
}

TEST_F(Rmm2Test, RmmVersionFieldSemantics) {
  v1::ComputeMeasurementsRequest req = testing::KvmMin();
  v1::ComputeMeasurementsResponse v1_0, v2_0, r;
  ASSERT_TRUE(Compute(req, &v1_0).ok());
  EXPECT_EQ(v1_0.rmm_version(), v1::RMM_VERSION_1_0);  // the default

  // The TOML key alone selects 2.0; the request field overrides it.
  req.add_host_caps_toml("rmm_version = \"2.0\"\n");
  ASSERT_TRUE(Compute(req, &v2_0).ok());
  EXPECT_EQ(v2_0.rmm_version(), v1::RMM_VERSION_2_0);
  EXPECT_NE(v2_0.rim(), v1_0.rim());
  req.set_rmm_version(v1::RMM_VERSION_1_0);
  ASSERT_TRUE(Compute(req, &r).ok());
  EXPECT_EQ(r.rmm_version(), v1::RMM_VERSION_1_0);
  EXPECT_EQ(r.rim(), v1_0.rim());
  req.clear_host_caps_toml();
  req.set_rmm_version(v1::RMM_VERSION_2_0);
  ASSERT_TRUE(Compute(req, &r).ok());
  EXPECT_EQ(r.rim(), v2_0.rim());

  // SHA-384 under RMM 1.0: INVALID_ARGUMENT naming the version.
  req.add_vmm_args("--measurement-algo");
  req.add_vmm_args("sha384");
  req.set_rmm_version(v1::RMM_VERSION_1_0);
  ::grpc::Status s = Compute(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(
      s.error_message(), "hash algorithm sha384 is not available in RMM 1.0"))
      << s.error_message();
  req.set_rmm_version(v1::RMM_VERSION_2_0);
  ASSERT_TRUE(Compute(req, &r).ok());
  EXPECT_EQ(r.hash_algorithm(), v1::HASH_ALGORITHM_SHA384);
  EXPECT_EQ(r.rim().size(), 48u);

  // Unknown enum values (a newer client, or garbage) are refused by the
  // request check that every handler runs first (grpc/internal/request_check).
  req.set_rmm_version(static_cast<v1::RmmVersion>(7));
  s = Compute(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "rmm_version: expected a RmmVersion (RMM_VERSION_UNSPECIFIED=0, "
            "RMM_VERSION_1_0=1, RMM_VERSION_2_0=2), found 7");

  auto stub = ts_.Stub();
  v1::ReplayEventLogRequest replay;
  replay.set_event_log(ReadFileOrDie("testdata/grpc/t2-qemu-sha256.bin"));
  replay.set_rmm_version(static_cast<v1::RmmVersion>(-1));
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ReplayEventLogResponse rr;
  s = stub->ReplayEventLog(&ctx, replay, &rr);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "rmm_version: expected a RmmVersion (RMM_VERSION_UNSPECIFIED=0, "
            "RMM_VERSION_1_0=1, RMM_VERSION_2_0=2), found -1");
}

// SweepMeasurements takes the RMM version from its base request: every
// entry equals the individual RMM 2.0 call (SHA-384 included).
TEST_F(Rmm2Test, SweepFollowsTheBaseRmmVersion) {
  v1::SweepMeasurementsRequest sweep;
  v1::ComputeMeasurementsRequest* base = sweep.mutable_base();
  base->set_vmm(v1::VMM_KVMTOOL);
  base->set_rmm_version(v1::RMM_VERSION_2_0);
  for (const char* a : {"--realm", "-c", "{cpus}", "-m", "512M",
                        "--measurement-algo", "sha384"}) {
    base->add_vmm_args(a);
  }
  base->mutable_overrides()->set_num_bps(6);
  base->mutable_overrides()->set_num_wps(6);
  v1::SweepAxis* axis = sweep.add_axes();
  axis->set_key("cpus");
  axis->add_values("1");
  axis->add_values("4");
  auto stub = ts_.Stub();
  ::grpc::ClientContext ctx;
  SetDeadline(ctx, 60);
  v1::SweepMeasurementsResponse r;
  ::grpc::Status s = stub->SweepMeasurements(&ctx, sweep, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(r.entries_size(), 2);
  for (const v1::SweepEntry& e : r.entries()) {
    v1::ComputeMeasurementsRequest one = *base;
    one.clear_vmm_args();
    for (const std::string& a : e.vmm_args()) one.add_vmm_args(a);
    v1::ComputeMeasurementsResponse want;
    ASSERT_TRUE(Compute(one, &want).ok());
    EXPECT_EQ(e.result().rmm_version(), v1::RMM_VERSION_2_0);
    EXPECT_EQ(e.result().hash_algorithm(), v1::HASH_ALGORITHM_SHA384);
    EXPECT_EQ(Hex(e.result().rim()), Hex(want.rim()));
  }
  EXPECT_NE(r.entries(0).result().rim(), r.entries(1).result().rim());
}

// The spec-eventlog §J.4 T2 log replayed for an RMM 2.0 realm: INIT_RIPAS
// reported but not measured, DATA named RTT_DATA_MAP_INIT, and the RIM no
// longer the RMM 1.0 value of §J.4.
TEST_F(Rmm2Test, ReplayEventLogForRmm2) {
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
  req.set_rmm_version(v1::RMM_VERSION_2_0);
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ReplayEventLogResponse r;
  ::grpc::Status s = stub->ReplayEventLog(&ctx, req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.rmm_version(), v1::RMM_VERSION_2_0);
  EXPECT_EQ(r.hash_algorithm(), v1::HASH_ALGORITHM_SHA256);
  EXPECT_NE(Hex(r.rim()),
            "84855690bb1a5bb0381cf10bb6f73f568f7dcaaec0aa81510285d81f85900244");
  int ripas = 0, data = 0;
  for (const v1::ReplayedEvent& e : r.events()) {
    if (absl::StartsWith(e.action(), "INIT_RIPAS")) {
      ++ripas;
      EXPECT_TRUE(absl::EndsWith(e.action(), "not measured (RMM 2.0)"))
          << e.action();
    }
    if (absl::StartsWith(e.action(), "DATA")) ADD_FAILURE() << e.action();
    data += absl::StartsWith(e.action(), "RTT_DATA_MAP_INIT");
  }
  EXPECT_GE(ripas, 1);
  EXPECT_GE(data, 3);
}

// Runs the CLI binary with `args`, stdout to `out`; returns the exit code.
int RunCli(const std::string& dir, const std::string& args, std::string* out) {
  const std::string stdout_path = dir + "/cli.out";
  const std::string cmd =
      absl::StrCat(kCli, " ", args, " >", stdout_path, " 2>", dir, "/cli.err");
  const int rc = std::system(cmd.c_str());
  *out = ReadFileOrDie(stdout_path);
  return rc;
}

std::string B64Url(absl::Span<const uint8_t> b) {
  return absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

std::vector<uint8_t> FromHexPrefix(const std::string& hex, size_t n) {
  const std::string b = absl::HexStringToBytes(hex.substr(0, 2 * n));
  return std::vector<uint8_t>(b.begin(), b.end());
}

// spec-rmm2 §2 "Endorsements": the CLI's CoRIM for a SHA-384 RMM 2.0 realm
// (sha-384 digests, named-info id 7) appraises a CCA token whose realm
// claims use sha-384, through ProvisionReferenceValues and AppraiseToken.
TEST_F(Rmm2Test, Sha384TokenAppraisesAgainstTheCliCorim) {
  const std::string dir = MakeTempDir();
  const std::string rpv(64, 'R');
  std::string b64_rpv;
  absl::Base64Escape(rpv, &b64_rpv);
  std::string json_text;
  const std::string args = absl::StrCat(
      "--rmm-version 2.0 --num-wps 6 --num-bps 6 --ipa-bits 52 -k ", kInputs,
      "Image-a -i ", kInputs, "initrd-small.cpio --corim-output ", dir,
      "/realm.corim --format json qemu -M "
      "virt,confidential-guest-support=rme0 -object "
      "rme-guest,id=rme0,measurement-algorithm=sha384,personalization-value=",
      b64_rpv,
      " -cpu host -enable-kvm -nographic -smp 2 -m 1G -kernel Image -initrd "
      "initrd -append console=ttyAMA0");
  ASSERT_EQ(RunCli(dir, args, &json_text), 0)
      << ReadFileOrDie(dir + "/cli.err");
  nlohmann::json doc = nlohmann::json::parse(json_text);
  ASSERT_EQ(doc["hash_algorithm"], "sha384");
  ASSERT_EQ(doc["significant_length"], 48);
  const std::string corim = ReadFileOrDie(dir + "/realm.corim");

  // The CoRIM carries 48-byte sha-384 digests (decoded independently of the
  // CLI's JSON).
  absl::StatusOr<corim::DecodedCorim> decoded =
      corim::DecodeCorim(absl::MakeConstSpan(
          reinterpret_cast<const uint8_t*>(corim.data()), corim.size()));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  std::vector<corim::RealmReferenceValue> refs =
      corim::FlattenReferenceValues(decoded->values);
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(refs[0].algorithm, corim::RealmHashAlgorithm::kSha384);
  EXPECT_EQ(refs[0].rim.size(), 48u);

  auto stub = ts_.Stub();
  {
    v1::ProvisionReferenceValuesRequest prov;
    prov.set_name("cli-sha384");
    prov.set_corim(corim);
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ProvisionReferenceValuesResponse r;
    ::grpc::Status s = stub->ProvisionReferenceValues(&ctx, prov, &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(r.set().realm_count(), 1u);
  }

  // The JSON templates: the corim 2026 dialect writes the named-information
  // id (7), the cocli 2024 dialect the label sha-384.
  auto export_json = [&](v1::EndorsementFormat f) {
    v1::ExportEndorsementsRequest req;
    req.set_stored_set("cli-sha384");
    req.set_format(f);
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ExportEndorsementsResponse r;
    ::grpc::Status s = stub->ExportEndorsements(&ctx, req, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r.content();
  };
  {
    nlohmann::json j = nlohmann::json::parse(
        export_json(v1::ENDORSEMENT_FORMAT_CORIM_JSON_2026));
    const nlohmann::json& rim =
        j["triples"]["reference-values"][0]["measurements"][0];
    EXPECT_EQ(rim["key"]["value"], "cca.rim");
    EXPECT_EQ(rim["value"]["digests"][0][0], 7) << j.dump(2);
  }
  const std::string cocli = export_json(v1::ENDORSEMENT_FORMAT_COCLI_JSON_2024);
  EXPECT_TRUE(absl::StrContains(cocli, "\"sha-384;")) << cocli;
  EXPECT_FALSE(absl::StrContains(cocli, "sha-256")) << cocli;

  // A token for that realm: the sample claims with the CLI's measurements.
  absl::StatusOr<crypto::EcPrivateKey> cpak =
      crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
  absl::StatusOr<crypto::EcPrivateKey> rak =
      crypto::EcPrivateKey::Generate(crypto::Curve::kP384);
  ASSERT_TRUE(cpak.ok() && rak.ok());
  corim::RealmClaims realm =
      corim::internal::SampleRealmClaims(corim::RealmProfile::kV2, "sha-384");
  const nlohmann::json& m = doc["measurements"];
  realm.initial_measurement = FromHexPrefix(m["rim"], 48);
  realm.extensible_measurements.clear();
  for (int k = 0; k < 4; ++k) {
    realm.extensible_measurements.push_back(
        FromHexPrefix(m[absl::StrCat("rem", k)], 48));
  }
  realm.personalization_value.assign(rpv.begin(), rpv.end());
  auto sign = [&](const corim::RealmClaims& claims) {
    absl::StatusOr<std::vector<uint8_t>> t = corim::SignCcaToken(
        corim::TopLevelForm::kCmwCollection,
        corim::internal::SamplePlatformClaims(), claims, *cpak, *rak);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? std::string(t->begin(), t->end()) : std::string();
  };
  absl::StatusOr<std::vector<uint8_t>> point = cpak->PublicKey()->ToSec1();
  ASSERT_TRUE(point.ok());
  const nlohmann::json jwk = {
      {"kty", "EC"},
      {"crv", "P-256"},
      {"x", B64Url(absl::MakeConstSpan(*point).subspan(1, 32))},
      {"y", B64Url(absl::MakeConstSpan(*point).subspan(33, 32))}};

  auto appraise = [&](const std::string& token) {
    v1::AppraiseTokenRequest req;
    req.set_token(token);
    req.set_cpak(jwk.dump());
    req.set_stored_set("cli-sha384");
    req.set_require_hash_algorithm_match(true);
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::AppraiseTokenResponse r;
    ::grpc::Status s = stub->AppraiseToken(&ctx, req, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r;
  };
  v1::AppraiseTokenResponse ok = appraise(sign(realm));
  EXPECT_TRUE(ok.verification().ok()) << ok.report_json();
  EXPECT_TRUE(ok.has_matched()) << ok.report_json();
  EXPECT_EQ(ok.realm_status(), "affirming") << ok.report_json();
  EXPECT_TRUE(ok.affirms()) << ok.report_json();
  EXPECT_EQ(ok.realm().executables(), 2) << ok.report_json();  // all match

  // The last byte of a 48-byte REM off: RIM and RPV still match, so the
  // realm is a known one with unexpected runtime state (§4.5 outcome table).
  corim::RealmClaims other = realm;
  other.extensible_measurements[0][47] ^= 1;
  v1::AppraiseTokenResponse rem = appraise(sign(other));
  EXPECT_TRUE(rem.verification().ok()) << rem.report_json();
  EXPECT_EQ(rem.realm().executables(), 3) << rem.report_json();
  // The last RIM byte off: no reference value matches.
  other = realm;
  other.initial_measurement[47] ^= 1;
  v1::AppraiseTokenResponse bad = appraise(sign(other));
  EXPECT_TRUE(bad.verification().ok()) << bad.report_json();
  EXPECT_FALSE(bad.affirms()) << bad.report_json();
  EXPECT_NE(bad.realm_status(), "affirming") << bad.report_json();
}

}  // namespace
}  // namespace realm_measurements::service
