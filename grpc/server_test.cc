// Real server on loopback, real channel, generated clients (no mocks).
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/internal/test_util.h"
#include "grpc/service.h"
#include "gtest/gtest.h"
#include "proto/grpc/health/v1/health.grpc.pb.h"
#include "proto/realm_measurements/v1/service.grpc.pb.h"

namespace realm_measurements::service {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

constexpr char kServiceName[] =
    "realm_measurements.v1.RealmMeasurementsService";

void SetDeadline(::grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartWith(DefaultServiceInfo()); }

  void StartWith(ServiceInfo info) {
    server_.reset();
    absl::StatusOr<std::unique_ptr<Server>> s =
        Server::Start("127.0.0.1:0", std::move(info));
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    ASSERT_GT(server_->port(), 0);
    channel_ = testing::LoopbackChannel(server_->port());
  }

  ::grpc::Status Check(const std::string& service, HealthCheckResponse* r) {
    auto stub = Health::NewStub(channel_);
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    HealthCheckRequest req;
    req.set_service(service);
    return stub->Check(&ctx, req, r);
  }

  std::unique_ptr<Server> server_;
  std::shared_ptr<::grpc::Channel> channel_;
};

TEST_F(ServerTest, GetServiceInfoReportsThisBuild) {
  auto stub = v1::RealmMeasurementsService::NewStub(channel_);
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::GetServiceInfoResponse r;
  ::grpc::Status s = stub->GetServiceInfo(&ctx, {}, &r);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  EXPECT_EQ(r.version(), "0.1.0");
  ASSERT_EQ(r.hash_algorithms_size(), 3);
  EXPECT_EQ(r.hash_algorithms(0), v1::HASH_ALGORITHM_SHA256);
  EXPECT_EQ(r.hash_algorithms(1), v1::HASH_ALGORITHM_SHA512);
  EXPECT_EQ(r.hash_algorithms(2), v1::HASH_ALGORITHM_SHA384);  // RMM 2.0
  ASSERT_EQ(r.vmms_size(), 3);
  EXPECT_EQ(r.vmms(0), v1::VMM_KVMTOOL);
  EXPECT_EQ(r.vmms(1), v1::VMM_QEMU);
  EXPECT_EQ(r.vmms(2), v1::VMM_CLOUD_HYPERVISOR);
  EXPECT_EQ(r.crypto_backend(), v1::CRYPTO_BACKEND_OPENSSL);
  EXPECT_TRUE(absl::StartsWith(r.crypto_backend_name(), "OpenSSL 3."))
      << r.crypto_backend_name();
}

TEST_F(ServerTest, GetServiceInfoReturnsConfiguredInfo) {
  ServiceInfo info;
  info.version = "9.9.9-test";
  info.vmms = {v1::VMM_QEMU};
  StartWith(info);
  auto stub = v1::RealmMeasurementsService::NewStub(channel_);
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::GetServiceInfoResponse r;
  ASSERT_TRUE(stub->GetServiceInfo(&ctx, {}, &r).ok());
  EXPECT_EQ(r.version(), "9.9.9-test");
  EXPECT_EQ(r.hash_algorithms_size(), 0);
  ASSERT_EQ(r.vmms_size(), 1);
  EXPECT_EQ(r.vmms(0), v1::VMM_QEMU);
  EXPECT_EQ(r.crypto_backend(), v1::CRYPTO_BACKEND_UNSPECIFIED);
}

TEST_F(ServerTest, HealthCheckServing) {
  for (const char* service : {"", kServiceName}) {
    SCOPED_TRACE(service);
    HealthCheckResponse r;
    ::grpc::Status s = Check(service, &r);
    ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
    EXPECT_EQ(r.status(), HealthCheckResponse::SERVING);
  }
}

TEST_F(ServerTest, HealthCheckUnknownServiceIsNotFound) {
  HealthCheckResponse r;
  ::grpc::Status s = Check("no.such.v1.Service", &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServerTest, HealthWatchStreamsCurrentStatus) {
  auto stub = Health::NewStub(channel_);
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  HealthCheckRequest req;
  req.set_service(kServiceName);
  auto reader = stub->Watch(&ctx, req);
  HealthCheckResponse r;
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.status(), HealthCheckResponse::SERVING);
  ctx.TryCancel();
  reader->Finish();
}

TEST_F(ServerTest, UnknownMethodIsUnimplemented) {
  ::grpc::GenericStub stub(channel_);
  ::grpc::CompletionQueue cq;
  ::grpc::Slice empty("");
  ::grpc::ByteBuffer request(&empty, 1);
  for (const char* method :
       {"/realm_measurements.v1.RealmMeasurementsService/NoSuchMethod",
        "/realm_measurements.v1.NoSuchService/GetServiceInfo"}) {
    SCOPED_TRACE(method);
    ::grpc::ClientContext call_ctx;
    SetDeadline(call_ctx);
    auto call = stub.PrepareUnaryCall(&call_ctx, method, request, &cq);
    call->StartCall();
    ::grpc::ByteBuffer response;
    ::grpc::Status status;
    int tag = 1;
    call->Finish(&response, &status, &tag);
    void* got_tag = nullptr;
    bool ok = false;
    ASSERT_TRUE(cq.Next(&got_tag, &ok));
    EXPECT_EQ(got_tag, &tag);
    EXPECT_TRUE(ok);
    EXPECT_EQ(status.error_code(), ::grpc::StatusCode::UNIMPLEMENTED);
  }
  cq.Shutdown();
  void* t;
  bool ok;
  while (cq.Next(&t, &ok)) {
  }
}

TEST_F(ServerTest, CallsFailAfterShutdown) {
  server_->Shutdown();
  server_->Shutdown();  // idempotent
  HealthCheckResponse r;
  auto stub = Health::NewStub(channel_);
  ::grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  EXPECT_FALSE(stub->Check(&ctx, HealthCheckRequest(), &r).ok());
}

TEST(ServerStart, UnbindableAddressFails) {
  for (const char* address :
       {"256.0.0.1:0", "not an address", "127.0.0.1:-5"}) {
    SCOPED_TRACE(address);
    absl::StatusOr<std::unique_ptr<Server>> s =
        Server::Start(address, DefaultServiceInfo());
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_TRUE(absl::StrContains(s.status().message(), address)) << s.status();
  }
}

}  // namespace
}  // namespace realm_measurements::service
