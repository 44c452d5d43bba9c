#include "grpc/internal/request_check.h"

#include "gtest/gtest.h"
#include "proto/realm_measurements/v1/service.pb.h"

namespace realm_measurements::service::internal {
namespace {

TEST(CheckEnumValuesTest, DefinedValuesPass) {
  v1::ReplayEventLogRequest r;
  EXPECT_TRUE(CheckEnumValues(r).ok());  // UNSPECIFIED (0) is defined
  r.set_source(v1::LOG_SOURCE_FIRMWARE);
  EXPECT_TRUE(CheckEnumValues(r).ok());
  v1::AppraiseTokenRequest a;
  a.mutable_inline_set()->add_realms()->set_hash_algorithm(
      v1::HASH_ALGORITHM_SHA384);
  EXPECT_TRUE(CheckEnumValues(a).ok());
}

TEST(CheckEnumValuesTest, UnknownNumbersNameFieldEnumAndValue) {
  v1::ReplayEventLogRequest r;
  r.set_source(static_cast<v1::LogSource>(99));
  EXPECT_EQ(CheckEnumValues(r),
            absl::InvalidArgumentError(
                "source: expected a LogSource (LOG_SOURCE_UNSPECIFIED=0, "
                "LOG_SOURCE_VMM=1, LOG_SOURCE_FIRMWARE=2), found 99"));
  r.set_source(static_cast<v1::LogSource>(-7));
  EXPECT_EQ(CheckEnumValues(r).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(CheckEnumValues(r).message().find("found -7"),
            absl::string_view::npos);
}

TEST(CheckEnumValuesTest, NestedRepeatedAndOneofPaths) {
  v1::AppraiseTokenRequest a;  // inline_set is a oneof member
  a.mutable_inline_set()->add_realms();
  a.mutable_inline_set()->add_realms()->set_hash_algorithm(
      static_cast<v1::HashAlgorithm>(4));
  absl::Status s = CheckEnumValues(a);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().substr(0, 52),
            "inline_set.realms[1].hash_algorithm: expected a Hash");
  v1::SweepMeasurementsRequest w;
  w.mutable_base()->set_vmm(static_cast<v1::Vmm>(12));
  EXPECT_EQ(CheckEnumValues(w).message().substr(0, 9), "base.vmm:");
  // A repeated enum field (in a response type: the walk is generic).
  v1::GetServiceInfoResponse info;
  info.add_vmms(v1::VMM_QEMU);
  info.add_vmms(static_cast<v1::Vmm>(77));
  EXPECT_EQ(CheckEnumValues(info).message().substr(0, 8), "vmms[1]:");
}

TEST(FieldPathTest, Spelling) {
  EXPECT_EQ(FieldPath("", "source"), "source");
  EXPECT_EQ(FieldPath("base", "vmm"), "base.vmm");
  EXPECT_EQ(FieldPath("inline_set", "realms", 3), "inline_set.realms[3]");
}

}  // namespace
}  // namespace realm_measurements::service::internal
