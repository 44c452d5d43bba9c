// Checks the protos' conventions (house-style §15) and the wire names and
// encodings clients rely on. Expected bytes are hand-encoded from the
// protobuf wire format (tag = field << 3 | wire type).
#include <string>

#include "gtest/gtest.h"
#include "proto/grpc/health/v1/health.pb.h"
#include "proto/realm_measurements/v1/service.pb.h"

namespace realm_measurements {
namespace {

namespace pb = ::google::protobuf;
namespace v1 = ::realm_measurements::v1;
namespace health = ::grpc::health::v1;

TEST(ServiceProto, EnumsStartAtUnspecifiedZero) {
  const pb::FileDescriptor* file =
      v1::GetServiceInfoResponse::descriptor()->file();
  ASSERT_GT(file->enum_type_count(), 0);
  for (int i = 0; i < file->enum_type_count(); ++i) {
    const pb::EnumDescriptor* e = file->enum_type(i);
    SCOPED_TRACE(e->full_name());
    const pb::EnumValueDescriptor* zero = e->FindValueByNumber(0);
    ASSERT_NE(zero, nullptr);
    const std::string suffix = "_UNSPECIFIED";
    ASSERT_GT(zero->name().size(), suffix.size());
    EXPECT_EQ(zero->name().substr(zero->name().size() - suffix.size()), suffix);
  }
}

TEST(ServiceProto, PackageAndMethodNames) {
  const pb::FileDescriptor* file =
      v1::GetServiceInfoResponse::descriptor()->file();
  EXPECT_EQ(file->package(), "realm_measurements.v1");
  const pb::ServiceDescriptor* s =
      file->FindServiceByName("RealmMeasurementsService");
  ASSERT_NE(s, nullptr);
  const pb::MethodDescriptor* m = s->FindMethodByName("GetServiceInfo");
  ASSERT_NE(m, nullptr);
  EXPECT_FALSE(m->client_streaming());
  EXPECT_FALSE(m->server_streaming());
  EXPECT_EQ(m->input_type(), v1::GetServiceInfoRequest::descriptor());
  EXPECT_EQ(m->output_type(), v1::GetServiceInfoResponse::descriptor());
}

TEST(ServiceProto, GetServiceInfoResponseWireEncoding) {
  v1::GetServiceInfoResponse r;
  r.set_version("0.1.0");
  r.add_hash_algorithms(v1::HASH_ALGORITHM_SHA256);
  r.add_hash_algorithms(v1::HASH_ALGORITHM_SHA512);
  r.add_vmms(v1::VMM_KVMTOOL);
  r.add_vmms(v1::VMM_QEMU);
  r.add_vmms(v1::VMM_CLOUD_HYPERVISOR);
  r.set_crypto_backend(v1::CRYPTO_BACKEND_OPENSSL);
  r.set_crypto_backend_name("O");
  // 1:"0.1.0", 2:packed[1,2], 3:packed[1,2,3], 4:1, 5:"O".
  const std::string expected(
      "\x0a\x05"
      "0.1.0"
      "\x12\x02\x01\x02"
      "\x1a\x03\x01\x02\x03"
      "\x20\x01"
      "\x2a\x01"
      "O",
      21);
  EXPECT_EQ(r.SerializeAsString(), expected);
  v1::GetServiceInfoResponse back;
  ASSERT_TRUE(back.ParseFromString(expected));
  EXPECT_EQ(back.vmms_size(), 3);
  EXPECT_EQ(back.crypto_backend(), v1::CRYPTO_BACKEND_OPENSSL);
}

TEST(HealthProto, StandardWireContract) {
  // Names and numbers of the gRPC health-checking protocol.
  const pb::FileDescriptor* file =
      health::HealthCheckRequest::descriptor()->file();
  EXPECT_EQ(file->package(), "grpc.health.v1");
  const pb::ServiceDescriptor* s = file->FindServiceByName("Health");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->full_name(), "grpc.health.v1.Health");
  const pb::MethodDescriptor* check = s->FindMethodByName("Check");
  ASSERT_NE(check, nullptr);
  EXPECT_FALSE(check->server_streaming());
  const pb::MethodDescriptor* watch = s->FindMethodByName("Watch");
  ASSERT_NE(watch, nullptr);
  EXPECT_TRUE(watch->server_streaming());
  EXPECT_EQ(health::HealthCheckResponse::UNKNOWN, 0);
  EXPECT_EQ(health::HealthCheckResponse::SERVING, 1);
  EXPECT_EQ(health::HealthCheckResponse::NOT_SERVING, 2);
  EXPECT_EQ(health::HealthCheckResponse::SERVICE_UNKNOWN, 3);

  health::HealthCheckRequest req;
  req.set_service("x");
  EXPECT_EQ(req.SerializeAsString(), std::string("\x0a\x01x", 3));
  health::HealthCheckResponse resp;
  resp.set_status(health::HealthCheckResponse::SERVING);
  EXPECT_EQ(resp.SerializeAsString(), std::string("\x08\x01", 2));
}

TEST(ServiceProto, AllMethodsAndStreaming) {
  const pb::ServiceDescriptor* s =
      v1::GetServiceInfoResponse::descriptor()->file()->FindServiceByName(
          "RealmMeasurementsService");
  ASSERT_NE(s, nullptr);
  for (const char* name :
       {"GetServiceInfo", "ComputeMeasurements", "UploadPayload",
        "ReplayEventLog", "ExportEndorsements", "ProvisionReferenceValues",
        "ListReferenceValues", "DeleteReferenceValues", "VerifyToken",
        "AppraiseToken", "SweepMeasurements", "GetMeasurementCacheStats",
        "DeletePayload", "ListAuditEvents"}) {
    SCOPED_TRACE(name);
    const pb::MethodDescriptor* m = s->FindMethodByName(name);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->client_streaming(), std::string(name) == "UploadPayload");
    EXPECT_FALSE(m->server_streaming());
  }
  EXPECT_EQ(s->method_count(), 14);
}

TEST(ServiceProto, UploadPayloadRequestWireEncoding) {
  // Raw bytes, no base64: 1:bytes(2) 2:varint 3:string 4:bytes.
  v1::UploadPayloadRequest r;
  r.set_sha256(std::string("\xab\xcd", 2));
  r.set_size(300);
  r.set_name("k");
  r.set_chunk(std::string("\x00\xff", 2));
  const std::string expected(
      "\x0a\x02\xab\xcd"
      "\x10\xac\x02"
      "\x1a\x01k"
      "\x22\x02\x00\xff",
      14);
  EXPECT_EQ(r.SerializeAsString(), expected);
}

TEST(ServiceProto, TrustVectorUsesZigZag) {
  // AR4SI values can be -1 (verifier malfunction): sint32, 1 byte on the
  // wire instead of 10.
  v1::TrustVector t;
  t.set_instance_identity(-1);
  t.set_executables(99);
  EXPECT_EQ(t.SerializeAsString(), std::string("\x08\x01\x18\xc6\x01", 5));
}

}  // namespace
}  // namespace realm_measurements
