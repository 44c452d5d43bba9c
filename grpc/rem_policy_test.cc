// AppraiseToken with the REM policy (issue 16 item 5) over a real server on
// loopback: the realm's logs are the spec-eventlog §J.4 QEMU log (its images
// uploaded as payloads) and an EDK2-shaped CC event log; tokens are signed
// with the RIM and REMs those logs give (the §J.4 RIM and REM2, Python
// hashlib for the firmware events), never with values our code printed.
#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/crypto.h"
#include "corim/internal/token_samples.h"
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
using ::realm_measurements::service::testing::Sha256;
using ::realm_measurements::service::testing::TestServer;
using ::realm_measurements::service::testing::Upload;

constexpr char kT2Rim[] =
    "84855690bb1a5bb0381cf10bb6f73f568f7dcaaec0aa81510285d81f85900244";
constexpr char kOtherRim[] =  // §J.4 RIM after E7
    "7e9f6612bb9bce7f424ff2d9e14c232662488764ba23558262563490a70f09f2";
constexpr char kKernel[] =
    "7e84159705320753b645ebad998561f93b4a80c94e1a8791e280894aebbb4ebb";
constexpr char kInitrd[] =
    "38a84cb302ef9d057b5e636a86fc15f7b260f54e0285f3c8313db4186d09a736";
constexpr char kAction[] =
    "3d6772b4f84ed47595d72a2c4c5ffd15f5bb72c7507fe26f2aaee2c69d5633ba";
constexpr char kSeparator[] =
    "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119";
// H(§J.4 REM2 || kAction), H(0^32 || kSeparator).
constexpr char kRem2[] =
    "2b96f31ecdab098a5456a84b7d6e73b3ada606dd255129c182ba6e7573b9fda1";
constexpr char kRem3[] =
    "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969";
constexpr char kActionText[] = "Calling EFI Application from Boot Option";

std::string H(absl::string_view hex) { return absl::HexStringToBytes(hex); }

void Put32(std::string& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>(v >> (8 * i)));
}

// TCG crypto-agile log: Spec ID (SHA-256), an EFI action on MR 3, a
// separator on MR 4, the 0xFF tail (spec-eventlog §B).
std::string FirmwareLog() {
  std::string spec("Spec ID Event03\0", 16);
  Put32(spec, 0);
  spec += std::string("\x00\x02\x6a\x02", 4);
  Put32(spec, 1);
  spec += std::string("\x0b\x00\x20\x00\x00", 5);
  std::string log;
  Put32(log, 0);
  Put32(log, 3);
  log += std::string(20, '\0');
  Put32(log, spec.size());
  log += spec;
  auto event = [&](uint32_t mr, uint32_t type, const std::string& digest,
                   const std::string& data) {
    Put32(log, mr);
    Put32(log, type);
    Put32(log, 1);
    log += std::string("\x0b\x00", 2) + digest;
    Put32(log, data.size());
    log += data;
  };
  event(3, 0x80000007, H(kAction), kActionText);
  event(4, 4, H(kSeparator), std::string(4, '\0'));
  return log + std::string(32, '\xff');
}

std::string B64Url(absl::Span<const uint8_t> b) {
  return absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

class RemPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ts_.Start(MakeTempDir());
    stub_ = ts_.Stub();
    for (const char* name : {"fw.bin", "dtb.bin", "initrd.bin", "kernel.bin"}) {
      const std::string content =
          ReadFileOrDie(absl::StrCat("testdata/eventlog/images/", name));
      v1::UploadPayloadResponse up;
      ASSERT_TRUE(Upload(*stub_, content, &up).ok());
      images_.push_back(Sha256(content));
    }
    cpak_ = *crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
    rak_ = *crypto::EcPrivateKey::Generate(crypto::Curve::kP384);
    std::vector<uint8_t> point = *cpak_->PublicKey()->ToSec1();
    jwk_ =
        nlohmann::json{
            {"kty", "EC"},
            {"crv", "P-256"},
            {"x", B64Url(absl::MakeConstSpan(point).subspan(1, 32))},
            {"y", B64Url(absl::MakeConstSpan(point).subspan(33, 32))}}
            .dump();
  }

  std::string Token(const std::string& rim, const std::string& rem3) {
    corim::RealmClaims realm =
        corim::internal::SampleRealmClaims(corim::RealmProfile::kV1);
    auto v = [](const std::string& s) {
      return std::vector<uint8_t>(s.begin(), s.end());
    };
    realm.initial_measurement = v(rim);
    realm.extensible_measurements = {std::vector<uint8_t>(32, 0),
                                     std::vector<uint8_t>(32, 0), v(H(kRem2)),
                                     v(rem3)};
    absl::StatusOr<std::vector<uint8_t>> t = corim::SignCcaToken(
        corim::TopLevelForm::kCmwCollection,
        corim::internal::SamplePlatformClaims(), realm, *cpak_, *rak_);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? std::string(t->begin(), t->end()) : "";
  }

  v1::AppraiseTokenRequest Request(const std::string& token,
                                   const std::string& rim,
                                   std::vector<std::string> allowed) {
    v1::AppraiseTokenRequest req;
    req.set_token(token);
    req.set_cpak(jwk_);
    v1::RealmReferenceValue* rv = req.mutable_inline_set()->add_realms();
    rv->set_hash_algorithm(v1::HASH_ALGORITHM_SHA256);
    rv->set_rim(rim);
    v1::RealmEventLog* vmm = req.add_event_logs();
    vmm->set_data(ReadFileOrDie("testdata/eventlog/t2-qemu-sha256.bin"));
    vmm->set_source(v1::LOG_SOURCE_VMM);
    v1::RealmEventLog* fw = req.add_event_logs();
    fw->set_data(FirmwareLog());
    fw->set_source(v1::LOG_SOURCE_FIRMWARE);
    nlohmann::json catalogue = nlohmann::json::array();
    for (const std::string& d : allowed) {
      catalogue.push_back({{"digest", d}, {"description", "allowed"}});
    }
    req.set_event_catalogue(catalogue.dump());
    for (const std::string& d : images_) {
      req.add_event_log_images()->set_sha256(d);
    }
    return req;
  }

  ::grpc::Status Appraise(const v1::AppraiseTokenRequest& req,
                          v1::AppraiseTokenResponse* r) {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    return stub_->AppraiseToken(&ctx, req, r);
  }

  static int EarExecutables(const v1::AppraiseTokenResponse& r) {
    return nlohmann::json::parse(
        r.ear_json())["submods"]["CCA_REALM"]["ear.trustworthiness-vector"]
                     ["executables"];
  }

  TestServer ts_;
  std::unique_ptr<v1::RealmMeasurementsService::Stub> stub_;
  std::vector<std::string> images_;
  std::optional<crypto::EcPrivateKey> cpak_, rak_;
  std::string jwk_;
};

TEST_F(RemPolicyTest, AllEventsCataloguedAffirmsWithExecutables2) {
  v1::AppraiseTokenResponse r;
  ASSERT_TRUE(Appraise(Request(Token(H(kT2Rim), H(kRem3)), H(kT2Rim),
                               {kKernel, kInitrd, kAction, kSeparator}),
                       &r)
                  .ok());
  EXPECT_EQ(r.rem_policy().outcome(), "approved-runtime")
      << r.rem_policy().problem();
  EXPECT_TRUE(r.rem_policy().applies());
  EXPECT_EQ(r.realm().executables(), 2);
  EXPECT_EQ(EarExecutables(r), 2);
  EXPECT_EQ(r.realm_status(), "affirming");
  EXPECT_EQ(r.rem_policy().replayed_rim(), H(kT2Rim));
  ASSERT_EQ(r.rem_policy().replayed_rems_size(), 4);
  EXPECT_EQ(r.rem_policy().replayed_rems(3), H(kRem3));
  EXPECT_EQ(r.rem_policy().approved_events_size(), 4);
}

TEST_F(RemPolicyTest, OneUnknownEventGives3AndIsNamed) {
  v1::AppraiseTokenResponse r;
  ASSERT_TRUE(Appraise(Request(Token(H(kT2Rim), H(kRem3)), H(kT2Rim),
                               {kKernel, kInitrd, kSeparator}),
                       &r)
                  .ok());
  EXPECT_EQ(r.rem_policy().outcome(), "unknown-events");
  EXPECT_EQ(r.realm().executables(), 3);
  EXPECT_EQ(EarExecutables(r), 3);
  ASSERT_EQ(r.rem_policy().unknown_events_size(), 1);
  const v1::RemPolicyEvent& e = r.rem_policy().unknown_events(0);
  EXPECT_EQ(e.log(), 1u);
  EXPECT_EQ(e.event(), 0u);
  EXPECT_EQ(e.offset(), 65u);
  EXPECT_EQ(e.rem(), 2u);
  EXPECT_EQ(e.type(), "EV_EFI_ACTION");
  EXPECT_EQ(e.description(), kActionText);
  EXPECT_EQ(e.digest(), kAction);
  EXPECT_TRUE(absl::StrContains(r.ear_json(), "not in the catalogue"))
      << r.ear_json();
}

TEST_F(RemPolicyTest, LogThatDoesNotReplayToTheTokensRimFails) {
  v1::AppraiseTokenResponse r;
  ASSERT_TRUE(Appraise(Request(Token(H(kOtherRim), H(kRem3)), H(kOtherRim),
                               {kKernel, kInitrd, kAction, kSeparator}),
                       &r)
                  .ok());
  EXPECT_EQ(r.rem_policy().outcome(), "rim-not-replayed");
  EXPECT_EQ(r.realm().executables(), 96);
  EXPECT_EQ(r.realm_status(), "contraindicated");
  EXPECT_FALSE(r.affirms());
}

TEST_F(RemPolicyTest, RequestChecks) {
  const std::string token = Token(H(kT2Rim), H(kRem3));
  v1::AppraiseTokenRequest req = Request(token, H(kT2Rim), {kAction});
  req.clear_event_catalogue();
  v1::AppraiseTokenResponse r;
  ::grpc::Status s = Appraise(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "event_logs: expected event_logs and event_catalogue together");
  req = Request(token, H(kT2Rim), {kAction});
  req.set_event_catalogue("[{\"digest\": \"xyz\", \"description\": \"a\"}]");
  s = Appraise(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(),
                               "event_catalogue: event digest catalogue: "
                               "entry 0: digest"))
      << s.error_message();
  req = Request(token, H(kT2Rim), {kAction});
  req.mutable_event_logs()->SwapElements(0, 1);
  s = Appraise(req, &r);
  EXPECT_EQ(s.error_message(), "event_logs[1]: a VMM log must come first");
  req = Request(token, H(kT2Rim), {kAction});
  req.mutable_event_log_images(0)->set_sha256(std::string(32, 'x'));
  s = Appraise(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "event_log_images[0]: "))
      << s.error_message();
  // A log that does not parse is evidence that does not check out.
  req = Request(token, H(kT2Rim), {kAction});
  req.mutable_event_logs(1)->mutable_data()->resize(100);
  ASSERT_TRUE(Appraise(req, &r).ok());
  EXPECT_EQ(r.rem_policy().outcome(), "log-rejected");
  EXPECT_EQ(r.realm().executables(), 96);
  EXPECT_TRUE(absl::StrContains(r.rem_policy().problem(),
                                "event log 1: event log: event 0 "
                                "(EV_EFI_ACTION) at offset 65: truncated"))
      << r.rem_policy().problem();
}

}  // namespace
}  // namespace realm_measurements::service
