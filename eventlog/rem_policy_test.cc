#include "eventlog/rem_policy.h"

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eventlog/internal/log_builder.h"
#include "gtest/gtest.h"

namespace realm_measurements::eventlog {
namespace {

using internal::Bytes;
using internal::Concat;
using internal::Event2;
using internal::SpecIdHeader;

// Expected values: the §J.4 RIM and REM2 (spec-eventlog), and Python hashlib
// over the logged digests for the firmware log's REMs (TF-RMM formula).
constexpr char kT2Rim[] =
    "84855690bb1a5bb0381cf10bb6f73f568f7dcaaec0aa81510285d81f85900244";
// §J.4: RIM after E7 (REC_CREATE), i.e. another realm's RIM.
constexpr char kOtherRim[] =
    "7e9f6612bb9bce7f424ff2d9e14c232662488764ba23558262563490a70f09f2";
constexpr char kKernel[] =
    "7e84159705320753b645ebad998561f93b4a80c94e1a8791e280894aebbb4ebb";
constexpr char kInitrd[] =
    "38a84cb302ef9d057b5e636a86fc15f7b260f54e0285f3c8313db4186d09a736";
constexpr char kAction[] =  // SHA-256("Calling EFI Application ...")
    "3d6772b4f84ed47595d72a2c4c5ffd15f5bb72c7507fe26f2aaee2c69d5633ba";
constexpr char kSeparator[] =  // SHA-256(00 00 00 00)
    "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119";
// H(§J.4 TF-RMM REM2 || kAction) and H(0^32 || kSeparator).
constexpr char kRem2[] =
    "2b96f31ecdab098a5456a84b7d6e73b3ada606dd255129c182ba6e7573b9fda1";
constexpr char kRem3[] =
    "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969";

Bytes ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return Bytes((std::istreambuf_iterator<char>(in)),
               std::istreambuf_iterator<char>());
}

Bytes FromHex(absl::string_view hex) {
  std::string s = absl::HexStringToBytes(hex);
  return Bytes(s.begin(), s.end());
}

// EDK2-shaped CC event log: an EFI action on MR 3 (REM2), a separator on
// MR 4 (REM3), the 0xFF tail.
Bytes FirmwareLog() {
  std::string action = "Calling EFI Application from Boot Option";
  return Concat({SpecIdHeader(),
                 Event2(3, 0x80000007, {{0x0B, FromHex(kAction)}},
                        Bytes(action.begin(), action.end())),
                 Event2(4, 0x4, {{0x0B, FromHex(kSeparator)}}, Bytes(4, 0)),
                 Bytes(32, 0xFF)});
}

std::string AllowList(const std::vector<std::string>& digests) {
  std::string out = "[";
  for (size_t i = 0; i < digests.size(); ++i) {
    absl::StrAppend(&out, i ? "," : "", "{\"digest\": \"sha256:", digests[i],
                    "\", \"description\": \"entry ", i, "\"}");
  }
  return out + "]";
}

EventDigestCatalogue CatalogueOrDie(const std::string& json) {
  absl::StatusOr<EventDigestCatalogue> c = EventDigestCatalogue::FromJson(json);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : EventDigestCatalogue();
}

class RemPolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        images_.AddChecksumFile("testdata/eventlog/images/SHA256SUMS").ok());
    logs_ = {{ReadFileOrDie("testdata/eventlog/t2-qemu-sha256.bin"),
              LogSource::kVmm},
             {FirmwareLog(), LogSource::kFirmware}};
    absl::StatusOr<ReplayedValues> v =
        ReplayForPolicy(logs_, measure::HashAlgorithm::kSha256,
                        measure::RmmVersion::k1_0, images_);
    ASSERT_TRUE(v.ok()) << v.status();
    replayed_ = *std::move(v);
    // A token for the realm the logs describe.
    token_.rim = FromHex(kT2Rim);
    token_.rems = {Bytes(32, 0), Bytes(32, 0), FromHex(kRem2), FromHex(kRem3)};
    token_.rim_is_known_reference = true;
  }

  ImageCatalogue images_;
  std::vector<PolicyLog> logs_;
  ReplayedValues replayed_;
  TokenValues token_;
};

TEST_F(RemPolicy, ReplayGivesTheRealmsValuesAndItsRemEvents) {
  ASSERT_TRUE(replayed_.rim.has_value());
  EXPECT_EQ(absl::BytesToHexString(
                std::string(replayed_.rim->begin(), replayed_.rim->end())),
            kT2Rim);
  EXPECT_EQ(replayed_.rems[2], FromHex(kRem2));
  EXPECT_EQ(replayed_.rems[3], FromHex(kRem3));
  ASSERT_EQ(replayed_.rem_events.size(), 4u);
  const RemEvent& kernel = replayed_.rem_events[0];
  EXPECT_EQ(kernel.log, 0u);
  EXPECT_EQ(kernel.event, 8u);  // E9
  EXPECT_EQ(kernel.offset, 0x299u);
  EXPECT_EQ(kernel.rem, 2);
  EXPECT_EQ(kernel.description, "KERNEL");
  EXPECT_EQ(kernel.digest, kKernel);
  EXPECT_EQ(replayed_.rem_events[1].digest, kInitrd);
  const RemEvent& action = replayed_.rem_events[2];
  EXPECT_EQ(action.log, 1u);
  EXPECT_EQ(action.event, 0u);
  EXPECT_EQ(action.offset, 65u);
  EXPECT_EQ(action.type, "EV_EFI_ACTION");
  EXPECT_EQ(action.description, "Calling EFI Application from Boot Option");
  EXPECT_EQ(replayed_.rem_events[3].rem, 3);
}

// Acceptance: every REM event in the catalogue -> executables 2.
TEST_F(RemPolicy, AllEventsCataloguedIsApprovedRuntime) {
  RemPolicyResult r = CheckRemPolicy(
      replayed_, token_,
      CatalogueOrDie(AllowList({kKernel, kInitrd, kAction, kSeparator})));
  EXPECT_EQ(r.outcome, RemPolicyOutcome::kApprovedRuntime) << r.problem;
  EXPECT_TRUE(r.applies);
  EXPECT_EQ(r.executables, 2);
  EXPECT_TRUE(r.unknown_events.empty());
  EXPECT_EQ(r.approved_events.size(), 4u);
  EXPECT_EQ(r.problem, "");
}

// Acceptance: one unknown event -> executables 3, and it is named.
TEST_F(RemPolicy, OneUnknownEventIsApprovedBootAndNamed) {
  RemPolicyResult r =
      CheckRemPolicy(replayed_, token_,
                     CatalogueOrDie(AllowList({kKernel, kInitrd, kSeparator})));
  EXPECT_EQ(r.outcome, RemPolicyOutcome::kUnknownEvents);
  EXPECT_TRUE(r.applies);
  EXPECT_EQ(r.executables, 3);
  ASSERT_EQ(r.unknown_events.size(), 1u);
  EXPECT_EQ(r.unknown_events[0].log, 1u);
  EXPECT_EQ(r.unknown_events[0].event, 0u);
  EXPECT_EQ(r.unknown_events[0].digest, kAction);
  EXPECT_EQ(r.problem,
            absl::StrCat("1 event(s) not in the catalogue, first: log 1 event "
                         "0 at offset 65 (EV_EFI_ACTION \"Calling EFI "
                         "Application from Boot Option\", REM2) digest ",
                         kAction));
}

// Acceptance: a log that does not replay to the token's RIM fails.
TEST_F(RemPolicy, LogThatDoesNotReplayToTheTokensRimIsContraindicated) {
  token_.rim = FromHex(kOtherRim);
  RemPolicyResult r = CheckRemPolicy(
      replayed_, token_,
      CatalogueOrDie(AllowList({kKernel, kInitrd, kAction, kSeparator})));
  EXPECT_EQ(r.outcome, RemPolicyOutcome::kRimNotReplayed);
  EXPECT_TRUE(r.applies);
  EXPECT_EQ(r.executables, 96);
  EXPECT_EQ(r.problem, absl::StrCat("event log replays to RIM ", kT2Rim,
                                    ", the token's RIM is ", kOtherRim));
}

TEST_F(RemPolicy, OtherRemsOrUnknownRimOrPerRemEntries) {
  EventDigestCatalogue all =
      CatalogueOrDie(AllowList({kKernel, kInitrd, kAction, kSeparator}));
  TokenValues t = token_;
  t.rems[3] = Bytes(32, 0);
  RemPolicyResult r = CheckRemPolicy(replayed_, t, all);
  EXPECT_EQ(r.outcome, RemPolicyOutcome::kRemsNotReplayed);
  EXPECT_EQ(r.executables, 96);
  EXPECT_TRUE(absl::StrContains(r.problem, absl::StrCat("REM3 ", kRem3)));
  t = token_;
  t.rems.resize(3);
  EXPECT_TRUE(absl::StrContains(CheckRemPolicy(replayed_, t, all).problem,
                                "the token's REM3 is missing"));

  t = token_;
  t.rim_is_known_reference = false;
  r = CheckRemPolicy(replayed_, t, all);
  EXPECT_EQ(r.outcome, RemPolicyOutcome::kUnknownReference);
  EXPECT_FALSE(r.applies);

  // The separator approved for REM2 only does not approve it in REM3.
  EventDigestCatalogue per_rem = CatalogueOrDie(absl::StrCat(
      "[{\"digest\": \"", kKernel, "\", \"description\": \"k\"},",
      "{\"digest\": \"", kInitrd, "\", \"description\": \"i\"},",
      "{\"digest\": \"", kAction, "\", \"description\": \"a\", \"rem\": 2},",
      "{\"digest\": \"SHA256:", absl::AsciiStrToUpper(kSeparator),
      "\", \"description\": \"s\", \"rem\": 2}]"));
  r = CheckRemPolicy(replayed_, token_, per_rem);
  EXPECT_EQ(r.outcome, RemPolicyOutcome::kUnknownEvents);
  ASSERT_EQ(r.unknown_events.size(), 1u);
  EXPECT_EQ(r.unknown_events[0].digest, kSeparator);
}

// A firmware log alone: REMs from zero, RIM unknown (only the reference
// vouches for it); the VMM log's REM2 events are then missing.
TEST_F(RemPolicy, FirmwareLogAlone) {
  absl::StatusOr<ReplayedValues> v =
      ReplayForPolicy({logs_[1]}, measure::HashAlgorithm::kSha256,
                      measure::RmmVersion::k1_0, ImageCatalogue());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_FALSE(v->rim.has_value());
  EXPECT_EQ(v->rems[3], FromHex(kRem3));
  RemPolicyResult r = CheckRemPolicy(
      *v, token_, CatalogueOrDie(AllowList({kAction, kSeparator})));
  EXPECT_EQ(r.outcome, RemPolicyOutcome::kRemsNotReplayed);
  EXPECT_TRUE(absl::StrContains(r.problem, "REM2")) << r.problem;
  TokenValues fw_only = token_;
  fw_only.rems[2] = v->rems[2];
  r = CheckRemPolicy(*v, fw_only,
                     CatalogueOrDie(AllowList({kAction, kSeparator})));
  EXPECT_EQ(r.outcome, RemPolicyOutcome::kApprovedRuntime) << r.problem;
}

TEST_F(RemPolicy, LogsThatDoNotReplay) {
  // The token says SHA-512; the VMM log's realm is SHA-256.
  absl::StatusOr<ReplayedValues> v =
      ReplayForPolicy(logs_, measure::HashAlgorithm::kSha512,
                      measure::RmmVersion::k1_0, images_);
  ASSERT_FALSE(v.ok());
  EXPECT_TRUE(absl::StartsWith(
      v.status().message(),
      "event log 0: replay: event 1 (EV_EVENT_TAG) at offset 227: "
      "REALM_CREATE hash_algo is sha256, expected the realm's sha512"))
      << v.status();
  RemPolicyResult r = RejectedLogPolicy(v.status(), token_);
  EXPECT_EQ(r.outcome, RemPolicyOutcome::kLogRejected);
  EXPECT_TRUE(r.applies);
  EXPECT_EQ(r.executables, 96);
  EXPECT_TRUE(absl::StartsWith(r.problem, "event log rejected: event log 0"));
  // VMM log second; a truncated firmware log; no images for the VMM log.
  v = ReplayForPolicy({logs_[1], logs_[0]}, measure::HashAlgorithm::kSha256,
                      measure::RmmVersion::k1_0, images_);
  EXPECT_EQ(v.status().message(),
            "event log 1: a VMM log must come first (K11)");
  PolicyLog cut = logs_[1];
  cut.bytes.resize(100);
  v = ReplayForPolicy({logs_[0], cut}, measure::HashAlgorithm::kSha256,
                      measure::RmmVersion::k1_0, images_);
  EXPECT_TRUE(absl::StartsWith(v.status().message(),
                               "event log 1: event log: event 0 "
                               "(EV_EFI_ACTION) at offset 65: truncated"))
      << v.status();
  v = ReplayForPolicy(logs_, measure::HashAlgorithm::kSha256,
                      measure::RmmVersion::k1_0, ImageCatalogue());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RemPolicy, EvaluateRunsTheWholePolicy) {
  EventDigestCatalogue all =
      CatalogueOrDie(AllowList({kKernel, kInitrd, kAction, kSeparator}));
  measure::HashAlgorithm used = measure::HashAlgorithm::kSha384;
  RemPolicyResult r = EvaluateRemPolicy(
      logs_, "sha-256", token_, measure::RmmVersion::k1_0, images_, all, &used);
  EXPECT_EQ(r.outcome, RemPolicyOutcome::kApprovedRuntime) << r.problem;
  EXPECT_EQ(used, measure::HashAlgorithm::kSha256);
  r = EvaluateRemPolicy(logs_, "sha-512", token_, measure::RmmVersion::k1_0,
                        images_, all);
  EXPECT_EQ(r.outcome, RemPolicyOutcome::kLogRejected);
  EXPECT_EQ(r.executables, 96);
  r = EvaluateRemPolicy(logs_, "md5", token_, measure::RmmVersion::k1_0,
                        images_, all);
  EXPECT_EQ(r.outcome, RemPolicyOutcome::kLogRejected);
  EXPECT_TRUE(absl::StrContains(r.problem, "realm hash algorithm claim"));
  // The JSON report names the same things.
  std::string json = RemPolicyToJson(
      CheckRemPolicy(replayed_, token_,
                     CatalogueOrDie(AllowList({kKernel, kInitrd, kSeparator}))),
      measure::HashAlgorithm::kSha256);
  EXPECT_TRUE(absl::StrContains(
      json, absl::StrCat("\"unknown-events\":[{\"description\":\"Calling EFI "
                         "Application from Boot Option\",\"digest\":\"",
                         kAction,
                         "\",\"event\":0,\"log\":1,\"offset\":65,"
                         "\"rem\":2,\"type\":\"EV_EFI_ACTION\"}]")))
      << json;
}

// The policy on an appraisal (cca-token appraise, gRPC AppraiseToken): it
// sets the realm's executables claim and policy id only when the token's RIM
// matched a reference.
TEST_F(RemPolicy, ApplyOnAnAppraisalSetsTheRealmClaimWhenTheRimMatched) {
  corim::CcaToken token;
  token.realm.hash_algorithm = "sha-256";
  token.realm.initial_measurement = token_.rim;
  token.realm.extensible_measurements = token_.rems;
  const EventDigestCatalogue catalogue =
      CatalogueOrDie(AllowList({kKernel, kInitrd, kSeparator}));

  corim::AppraisalResult matched;
  matched.matched = 0;
  matched.realm.vector.executables = 2;
  RemPolicyResult r = ApplyRemPolicy(logs_, token, measure::RmmVersion::k1_0,
                                     images_, catalogue, matched);
  EXPECT_EQ(r.outcome, RemPolicyOutcome::kUnknownEvents) << r.problem;
  EXPECT_EQ(matched.realm.vector.executables, 3);
  EXPECT_EQ(matched.realm.policy_id, "policy:ARM_CCA/rem-event-log");
  ASSERT_TRUE(matched.realm.problem.has_value());
  EXPECT_EQ(*matched.realm.problem, r.problem);

  corim::AppraisalResult unmatched;  // no reference for the RIM
  unmatched.realm.vector.executables = 33;
  r = ApplyRemPolicy(logs_, token, measure::RmmVersion::k1_0, images_,
                     catalogue, unmatched);
  EXPECT_FALSE(r.applies);
  EXPECT_EQ(unmatched.realm.vector.executables, 33);
  EXPECT_EQ(unmatched.realm.policy_id, "policy:ARM_CCA");
  EXPECT_FALSE(unmatched.realm.problem.has_value());
}

TEST(EventDigestCatalogue, RejectsMalformedEntries) {
  std::string d(64, 'a');
  struct Case {
    std::string json;
    const char* message;
  } cases[] = {
      {"{}", "expected a JSON array of entries, found object"},
      {"[1]", "entry 0: expected an object, found number"},
      {"[{\"description\": \"x\"}]", "entry 0: expected \"digest\""},
      {absl::StrCat("[{\"digest\": \"", d, "\"}]"),
       "entry 0: expected \"description\": a non-empty string"},
      {absl::StrCat("[{\"digest\": \"", d, "\", \"description\": \"x\", ",
                    "\"pcr\": 1}]"),
       "entry 0: unknown key \"pcr\""},
      {absl::StrCat("[{\"digest\": \"sha512:", d,
                    "\", \"description\": \"x\"}]"),
       "is not 128 hex digits after its prefix"},
      {"[{\"digest\": \"abcd\", \"description\": \"x\"}]",
       "is not 64, 96 or 128 hex digits"},
      {absl::StrCat("[{\"digest\": \"", d,
                    "\", \"description\": \"x\", \"rem\": 4}]"),
       "\"rem\" is 4, expected 0, 1, 2 or 3"},
      {"[[[]]]", "nesting deeper than 2 levels"},
      {"[", "not valid JSON"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    absl::StatusOr<EventDigestCatalogue> r =
        EventDigestCatalogue::FromJson(c.json);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(
        absl::StartsWith(r.status().message(), "event digest catalogue: "));
    EXPECT_TRUE(absl::StrContains(r.status().message(), c.message))
        << r.status();
  }
  absl::StatusOr<EventDigestCatalogue> ok = EventDigestCatalogue::FromJson(
      absl::StrCat("[{\"digest\": \"", d, "\", \"description\": \"x\"},",
                   "{\"digest\": \"", std::string(96, 'B'),
                   "\", \"description\": \"y\", \"rem\": 0}]"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->size(), 2u);
  EXPECT_NE(ok->Find(d, 1), nullptr);
  EXPECT_NE(ok->Find(std::string(96, 'b'), 0), nullptr);
  EXPECT_EQ(ok->Find(std::string(96, 'b'), 1), nullptr);
}

TEST(TokenHashAlgorithm, ClaimSpellings) {
  EXPECT_EQ(*TokenHashAlgorithm("sha-256"), measure::HashAlgorithm::kSha256);
  EXPECT_EQ(*TokenHashAlgorithm("sha-384"), measure::HashAlgorithm::kSha384);
  EXPECT_EQ(*TokenHashAlgorithm("sha-512"), measure::HashAlgorithm::kSha512);
  EXPECT_FALSE(TokenHashAlgorithm("sha256").ok());
}

}  // namespace
}  // namespace realm_measurements::eventlog
