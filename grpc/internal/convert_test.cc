#include "grpc/internal/convert.h"

#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace realm_measurements::service::internal {
namespace {

TEST(ToGrpcTest, KeepsTheCodeAndPrefixesTheField) {
  EXPECT_TRUE(ToGrpc(absl::OkStatus(), "field").ok());
  const std::pair<absl::Status, ::grpc::StatusCode> cases[] = {
      {absl::InvalidArgumentError("m"), ::grpc::StatusCode::INVALID_ARGUMENT},
      {absl::NotFoundError("m"), ::grpc::StatusCode::NOT_FOUND},
      {absl::AlreadyExistsError("m"), ::grpc::StatusCode::ALREADY_EXISTS},
      {absl::ResourceExhaustedError("m"),
       ::grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::DeadlineExceededError("m"), ::grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::CancelledError("m"), ::grpc::StatusCode::CANCELLED},
      {absl::FailedPreconditionError("m"),
       ::grpc::StatusCode::FAILED_PRECONDITION},
      {absl::DataLossError("m"), ::grpc::StatusCode::DATA_LOSS},
      {absl::InternalError("m"), ::grpc::StatusCode::INTERNAL},
      {absl::UnavailableError("m"), ::grpc::StatusCode::UNAVAILABLE},
  };
  for (const auto& [in, code] : cases) {
    const ::grpc::Status g = ToGrpc(in);
    EXPECT_EQ(g.error_code(), code) << in;
    EXPECT_EQ(g.error_message(), "m");
    EXPECT_EQ(ToGrpc(in, "stored_set").error_message(), "stored_set: m");
  }
  EXPECT_EQ(Invalid("x").error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Invalid("x").error_message(), "x");
  EXPECT_EQ(NoStore().error_code(), ::grpc::StatusCode::FAILED_PRECONDITION);
}

TEST(BytesTest, RoundTripKeepsEveryByte) {
  const std::string s("a\0\xff\x80z", 5);
  const std::vector<uint8_t> v = Vec(s);
  EXPECT_EQ(v, (std::vector<uint8_t>{'a', 0, 0xff, 0x80, 'z'}));
  EXPECT_EQ(Span(s).size(), 5u);
  EXPECT_EQ(Span(s)[2], 0xff);
  EXPECT_EQ(Bytes(v), s);
}

TEST(EnumToProtoTest, EveryLibraryValue) {
  EXPECT_EQ(ToProto(measure::HashAlgorithm::kSha256),
            v1::HASH_ALGORITHM_SHA256);
  EXPECT_EQ(ToProto(measure::HashAlgorithm::kSha384),
            v1::HASH_ALGORITHM_SHA384);
  EXPECT_EQ(ToProto(measure::HashAlgorithm::kSha512),
            v1::HASH_ALGORITHM_SHA512);
  EXPECT_EQ(ToProto(corim::RealmHashAlgorithm::kSha256),
            v1::HASH_ALGORITHM_SHA256);
  EXPECT_EQ(ToProto(corim::RealmHashAlgorithm::kSha384),
            v1::HASH_ALGORITHM_SHA384);
  EXPECT_EQ(ToProto(corim::RealmHashAlgorithm::kSha512),
            v1::HASH_ALGORITHM_SHA512);
  EXPECT_EQ(ToProto(measure::RmmVersion::k1_0), v1::RMM_VERSION_1_0);
  EXPECT_EQ(ToProto(measure::RmmVersion::k2_0), v1::RMM_VERSION_2_0);
  EXPECT_EQ(ToProto(corim::Profile::kCcaRealm2025),
            v1::CORIM_PROFILE_CCA_REALM_2025);
  EXPECT_EQ(ToProto(corim::Profile::kCcaRealmLegacy),
            v1::CORIM_PROFILE_CCA_REALM_LEGACY);
  EXPECT_EQ(ToProto(eventlog::Register::kNone), v1::REGISTER_UNSPECIFIED);
  EXPECT_EQ(ToProto(eventlog::Register::kRim), v1::REGISTER_RIM);
  EXPECT_EQ(ToProto(eventlog::Register::kRem0), v1::REGISTER_REM0);
  EXPECT_EQ(ToProto(eventlog::Register::kRem1), v1::REGISTER_REM1);
  EXPECT_EQ(ToProto(eventlog::Register::kRem2), v1::REGISTER_REM2);
  EXPECT_EQ(ToProto(eventlog::Register::kRem3), v1::REGISTER_REM3);
  EXPECT_EQ(ToProto(corim::CheckStatus::kSkipped), v1::CHECK_STATUS_SKIPPED);
  EXPECT_EQ(ToProto(corim::CheckStatus::kPass), v1::CHECK_STATUS_PASS);
  EXPECT_EQ(ToProto(corim::CheckStatus::kFail), v1::CHECK_STATUS_FAIL);
  EXPECT_EQ(ToProto(eventlog::CatalogueMatch::kNotApplicable),
            v1::CATALOGUE_MATCH_NOT_APPLICABLE);
  EXPECT_EQ(ToProto(eventlog::CatalogueMatch::kVerified),
            v1::CATALOGUE_MATCH_VERIFIED);
  EXPECT_EQ(ToProto(eventlog::CatalogueMatch::kUnverified),
            v1::CATALOGUE_MATCH_UNVERIFIED);
  EXPECT_EQ(ToProto(corim::FieldOutcome::kMatch), v1::FIELD_OUTCOME_MATCH);
  EXPECT_EQ(ToProto(corim::FieldOutcome::kMismatch),
            v1::FIELD_OUTCOME_MISMATCH);
  EXPECT_EQ(ToProto(corim::FieldOutcome::kNotSupplied),
            v1::FIELD_OUTCOME_NOT_SUPPLIED);
}

TEST(EnumFromProtoTest, HashAlgorithmNamesTheFieldWhenUnspecified) {
  EXPECT_EQ(*FromProto(v1::HASH_ALGORITHM_SHA256, "f"),
            corim::RealmHashAlgorithm::kSha256);
  EXPECT_EQ(*FromProto(v1::HASH_ALGORITHM_SHA384, "f"),
            corim::RealmHashAlgorithm::kSha384);
  EXPECT_EQ(*FromProto(v1::HASH_ALGORITHM_SHA512, "f"),
            corim::RealmHashAlgorithm::kSha512);
  absl::StatusOr<corim::RealmHashAlgorithm> bad =
      FromProto(v1::HASH_ALGORITHM_UNSPECIFIED, "realms[0].hash_algorithm");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "realms[0].hash_algorithm: expected SHA256, SHA384 or SHA512, "
            "found 0");
}

TEST(EnumFromProtoTest, RmmVersion) {
  EXPECT_EQ(FromProto(v1::RMM_VERSION_UNSPECIFIED), std::nullopt);
  EXPECT_EQ(FromProto(v1::RMM_VERSION_1_0), measure::RmmVersion::k1_0);
  EXPECT_EQ(FromProto(v1::RMM_VERSION_2_0), measure::RmmVersion::k2_0);
}

v1::RealmReferenceValue Sha256Realm() {
  v1::RealmReferenceValue r;
  r.set_hash_algorithm(v1::HASH_ALGORITHM_SHA256);
  r.set_rim(std::string(32, '\x11'));
  return r;
}

TEST(ReferenceValueSetTest, OneComidTaggedWithTheCorimId) {
  v1::ReferenceValueSet set;
  *set.add_realms() = Sha256Realm();
  v1::RealmReferenceValue* second = set.add_realms();
  *second = Sha256Realm();
  for (int k = 0; k < 4; ++k) second->add_rems(std::string(32, '0' + k));
  second->set_rpv(std::string(64, '\x22'));

  absl::StatusOr<corim::ReferenceValues> v = FromProto(set, "default-id");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(std::get<std::string>(v->corim_id), "default-id");
  ASSERT_EQ(v->comids.size(), 1u);
  EXPECT_EQ(std::get<std::string>(v->comids[0].tag_identity.id), "default-id");
  ASSERT_EQ(v->comids[0].realms.size(), 2u);
  const corim::RealmReferenceValue& a = v->comids[0].realms[0];
  EXPECT_EQ(a.rim, std::vector<uint8_t>(32, 0x11));
  EXPECT_FALSE(a.rem[0].has_value());
  EXPECT_FALSE(a.rpv.has_value());
  const corim::RealmReferenceValue& b = v->comids[0].realms[1];
  EXPECT_EQ(*b.rem[3], std::vector<uint8_t>(32, '3'));
  EXPECT_EQ(*b.rpv, std::vector<uint8_t>(64, 0x22));

  // Empty entries: those REMs are not constrained, the others are.
  second->set_rems(0, "");
  second->set_rems(2, "");
  v = FromProto(set, "default-id");
  ASSERT_TRUE(v.ok()) << v.status();
  const corim::RealmReferenceValue& c = v->comids[0].realms[1];
  EXPECT_FALSE(c.rem[0].has_value());
  EXPECT_EQ(*c.rem[1], std::vector<uint8_t>(32, '1'));
  EXPECT_FALSE(c.rem[2].has_value());
  EXPECT_EQ(*c.rem[3], std::vector<uint8_t>(32, '3'));

  set.set_corim_id("mine");
  v = FromProto(set, "default-id");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(std::get<std::string>(v->corim_id), "mine");
}

TEST(ReferenceValueSetTest, ErrorsNameTheRealm) {
  v1::ReferenceValueSet empty;
  EXPECT_EQ(FromProto(empty, "id").status().message(),
            "inline_set.realms: expected at least one realm, found none");

  v1::ReferenceValueSet set;
  *set.add_realms() = Sha256Realm();
  v1::RealmReferenceValue* r = set.add_realms();
  *r = Sha256Realm();
  r->add_rems(std::string(32, 'a'));
  EXPECT_EQ(FromProto(set, "id").status().message(),
            "inline_set.realms[1].rems: expected 0 or 4 entries, found 1");

  r->clear_rems();
  r->set_rim(std::string(31, 'a'));
  absl::Status s = FromProto(set, "id").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(s.message(), "inline_set.realms[1]: ")) << s;

  r->set_rim(std::string(32, 'a'));
  r->set_hash_algorithm(v1::HASH_ALGORITHM_UNSPECIFIED);
  EXPECT_TRUE(absl::StartsWith(FromProto(set, "id").status().message(),
                               "inline_set.realms[1].hash_algorithm: "));
}

TEST(MessageToProtoTest, ReferenceSetRecord) {
  ReferenceSetRecord r;
  r.name = "set";
  r.profile = v1::CORIM_PROFILE_CCA_REALM_LEGACY;
  r.realm_count = 3;
  r.corim_sha256 = {0xde, 0xad, 0x00};
  r.created_unix = 1700000000;
  v1::ReferenceValueSetInfo out;
  ToProto(r, &out);
  EXPECT_EQ(out.name(), "set");
  EXPECT_EQ(out.profile(), v1::CORIM_PROFILE_CCA_REALM_LEGACY);
  EXPECT_EQ(out.realm_count(), 3u);
  EXPECT_EQ(out.corim_sha256(), std::string("\xde\xad\x00", 3));
  EXPECT_EQ(out.created_unix(), 1700000000);
}

TEST(MessageToProtoTest, TrustVectorKeepsEveryClaim) {
  corim::TrustVector t;
  t.instance_identity = 2;
  t.configuration = 3;
  t.executables = 33;
  t.file_system = 4;
  t.hardware = 5;
  t.runtime_opaque = 6;
  t.storage_opaque = 7;
  t.sourced_data = 8;
  v1::TrustVector out;
  ToProto(t, &out);
  EXPECT_EQ(out.instance_identity(), 2);
  EXPECT_EQ(out.configuration(), 3);
  EXPECT_EQ(out.executables(), 33);
  EXPECT_EQ(out.file_system(), 4);
  EXPECT_EQ(out.hardware(), 5);
  EXPECT_EQ(out.runtime_opaque(), 6);
  EXPECT_EQ(out.storage_opaque(), 7);
  EXPECT_EQ(out.sourced_data(), 8);
}

TEST(MessageToProtoTest, VerificationReportChecksInSpecOrder) {
  corim::VerificationReport r;
  r.freshness = {corim::CheckStatus::kSkipped, "no nonce"};
  r.platform_signature = {corim::CheckStatus::kPass, "ok"};
  r.realm_key = {corim::CheckStatus::kPass, ""};
  r.realm_signature = {corim::CheckStatus::kFail, "bad"};
  r.binding = {corim::CheckStatus::kPass, ""};
  r.lints.push_back({"L3", true, "msg"});
  v1::VerifyTokenResponse out;
  ToProto(r, &out);
  EXPECT_FALSE(out.ok());
  ASSERT_EQ(out.checks_size(), 5);
  const char* names[] = {"freshness", "platform_signature", "realm_key",
                         "realm_signature", "binding"};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out.checks(i).name(), names[i]);
  EXPECT_EQ(out.checks(0).status(), v1::CHECK_STATUS_SKIPPED);
  EXPECT_EQ(out.checks(0).detail(), "no nonce");
  EXPECT_EQ(out.checks(3).status(), v1::CHECK_STATUS_FAIL);
  EXPECT_EQ(out.checks(3).detail(), "bad");
  ASSERT_EQ(out.lints_size(), 1);
  EXPECT_EQ(out.lints(0).id(), "L3");
  EXPECT_TRUE(out.lints(0).warning());
  EXPECT_EQ(out.lints(0).message(), "msg");
  EXPECT_FALSE(out.report_json().empty());
}

}  // namespace
}  // namespace realm_measurements::service::internal
