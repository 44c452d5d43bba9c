// Abuse on loopback: oversized messages, truncated and cancelled uploads,
// wrong digests, oversized chunks, 64 concurrent clients and a deadline
// that expires mid-computation. After each, the server keeps serving and
// the store passes its consistency check with no upload leftovers.
#include <dirent.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/internal/test_util.h"
#include "grpc/service.h"
#include "gtest/gtest.h"
#include "testing/vectors.h"

namespace realm_measurements::service {
namespace {

using ::realm_measurements::service::testing::DraftTokenVectors;
using ::realm_measurements::service::testing::KvmMin;
using ::realm_measurements::service::testing::LoopbackChannel;
using ::realm_measurements::service::testing::MakeTempDir;
using ::realm_measurements::service::testing::ReadFileOrDie;
using ::realm_measurements::service::testing::SetDeadline;
using ::realm_measurements::service::testing::Sha256;
using ::realm_measurements::service::testing::TestServer;
using ::realm_measurements::service::testing::Upload;

absl::Span<const uint8_t> U8(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

size_t CountFiles(const std::string& dir) {
  size_t n = 0;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  while (struct dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") ++n;
  }
  closedir(d);
  return n;
}

// Deterministic filler (content only needs to be distinct).
std::string Filler(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

class AbuseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.allow_unsigned_corim = true;  // provisions unsigned CoRIMs
    o.limits.max_payload_bytes = 128 << 20;
    o.limits.max_concurrent_calls = 8;
    ts_.Start(MakeTempDir(), o);
    stub_ = ts_.Stub();
  }

  // The server answers and the store is consistent, with no upload
  // leftovers (waits for handlers of cancelled calls to finish).
  void ExpectHealthy() {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx, 10);
    v1::ComputeMeasurementsResponse r;
    ::grpc::Status s = stub_->ComputeMeasurements(&ctx, KvmMin(), &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(absl::BytesToHexString(r.rim()), test::kSpecCoreA3No4Rim);
    for (int i = 0; i < 100 && CountFiles(ts_.dir + "/tmp") != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(CountFiles(ts_.dir + "/tmp"), 0u);
    absl::Status c = ts_.store->CheckConsistency();
    EXPECT_TRUE(c.ok()) << c;
    absl::StatusOr<std::vector<PayloadRecord>> all = ts_.store->ListPayloads();
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(CountFiles(ts_.dir + "/payloads"), all->size());
  }

  TestServer ts_;
  std::unique_ptr<v1::RealmMeasurementsService::Stub> stub_;
};

TEST_F(AbuseTest, OversizedMessageIsResourceExhausted) {
  v1::ProvisionReferenceValuesRequest req;
  req.set_name("big");
  req.set_corim(std::string(5 << 20, '\xa1'));
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ProvisionReferenceValuesResponse r;
  ::grpc::Status s = stub_->ProvisionReferenceValues(&ctx, req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::RESOURCE_EXHAUSTED)
      << s.error_message();
  ExpectHealthy();
}

TEST_F(AbuseTest, MalformedCorimIsInvalidArgument) {
  v1::ProvisionReferenceValuesRequest req;
  req.set_name("bad");
  req.set_corim("\xd9\x01\xf5\xa0");  // 501({}) without the mandatory keys
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ProvisionReferenceValuesResponse r;
  ::grpc::Status s = stub_->ProvisionReferenceValues(&ctx, req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "corim: "))
      << s.error_message();
  ExpectHealthy();
}

TEST_F(AbuseTest, TruncatedUploadStoresNothing) {
  const std::string content = Filler(3 << 20, 1);
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::UploadPayloadResponse r;
  auto w = stub_->UploadPayload(&ctx, &r);
  v1::UploadPayloadRequest m;
  m.set_sha256(Sha256(content));
  m.set_size(content.size());
  m.set_chunk(content.substr(0, 1 << 20));
  ASSERT_TRUE(w->Write(m));
  w->WritesDone();  // two of three MiB never sent
  ::grpc::Status s = w->Finish();
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "truncated"))
      << s.error_message();
  EXPECT_EQ(ts_.store->GetPayload(U8(Sha256(content))).status().code(),
            absl::StatusCode::kNotFound);
  ExpectHealthy();
}

TEST_F(AbuseTest, CancelledUploadStoresNothing) {
  const std::string content = Filler(4 << 20, 2);
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::UploadPayloadResponse r;
  auto w = stub_->UploadPayload(&ctx, &r);
  v1::UploadPayloadRequest m;
  m.set_sha256(Sha256(content));
  m.set_size(content.size());
  m.set_chunk(content.substr(0, 1 << 20));
  ASSERT_TRUE(w->Write(m));
  m.Clear();
  m.set_chunk(content.substr(1 << 20, 1 << 20));
  ASSERT_TRUE(w->Write(m));
  ctx.TryCancel();  // the client goes away mid-stream
  EXPECT_EQ(w->Finish().error_code(), ::grpc::StatusCode::CANCELLED);
  ExpectHealthy();
  EXPECT_EQ(ts_.store->GetPayload(U8(Sha256(content))).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AbuseTest, WrongDigestRejectedAndNotStored) {
  const std::string content = Filler(100000, 3);
  std::string wrong = Sha256(content);
  wrong[0] ^= 1;
  v1::UploadPayloadResponse r;
  ::grpc::Status s = Upload(*stub_, content, &r, wrong);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(
      s.error_message(),
      absl::StrCat("found ", absl::BytesToHexString(Sha256(content)))))
      << s.error_message();
  EXPECT_EQ(ts_.store->GetPayload(U8(wrong)).status().code(),
            absl::StatusCode::kNotFound);
  // Bad first messages.
  s = Upload(*stub_, content, &r, "short");
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  ExpectHealthy();
}

TEST_F(AbuseTest, OversizedChunkAndPayloadRejected) {
  const std::string content = Filler(2 << 20, 4);
  v1::UploadPayloadResponse r;
  ::grpc::Status s = Upload(*stub_, content, &r, "", /*chunk=*/2 << 20);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "at most 1048576"))
      << s.error_message();

  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  auto w = stub_->UploadPayload(&ctx, &r);
  v1::UploadPayloadRequest m;
  m.set_sha256(std::string(32, '\x01'));
  m.set_size(uint64_t{1} << 40);
  w->Write(m);
  w->WritesDone();
  EXPECT_EQ(w->Finish().error_code(), ::grpc::StatusCode::RESOURCE_EXHAUSTED);
  ExpectHealthy();
}

TEST_F(AbuseTest, SixtyFourConcurrentClients) {
  constexpr int kClients = 64;
  const auto [token, cpak, corim] = DraftTokenVectors();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      // One connection per client.
      ::grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      auto stub = v1::RealmMeasurementsService::NewStub(
          LoopbackChannel(ts_.target(), args));
      v1::UploadPayloadResponse up;
      // Half the clients upload the same payload (deduplication races).
      const std::string content = Filler(300000, i % 2 == 0 ? 1000 : 2000 + i);
      if (!Upload(*stub, content, &up).ok()) return;
      ::grpc::ClientContext c1;
      SetDeadline(c1, 60);
      v1::ComputeMeasurementsResponse m;
      if (!stub->ComputeMeasurements(&c1, KvmMin(), &m).ok()) return;
      if (absl::BytesToHexString(m.rim()) != test::kSpecCoreA3No4Rim) return;
      ::grpc::ClientContext c2;
      SetDeadline(c2, 60);
      v1::VerifyTokenRequest vr;
      vr.set_token(token);
      vr.set_cpak(cpak);
      v1::VerifyTokenResponse v;
      if (!stub->VerifyToken(&c2, vr, &v).ok() || !v.ok()) return;
      ++ok;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients);
  absl::StatusOr<std::vector<PayloadRecord>> all = ts_.store->ListPayloads();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u + kClients / 2);
  ExpectHealthy();
}

TEST_F(AbuseTest, DeadlineExpiringMidComputation) {
  // A 96 MiB initrd: measuring it takes far longer than the deadline.
  const std::string kernel = ReadFileOrDie("testdata/golden/inputs/Image-a");
  const std::string initrd = Filler(96 << 20, 5);
  v1::UploadPayloadResponse up;
  ASSERT_TRUE(Upload(*stub_, kernel, &up).ok());
  ASSERT_TRUE(Upload(*stub_, initrd, &up).ok());
  v1::ComputeMeasurementsRequest req;
  req.set_vmm(v1::VMM_KVMTOOL);
  for (const char* a :
       {"--realm", "-c", "1", "-m", "1G", "-k", "Image", "-i", "initrd"}) {
    req.add_vmm_args(a);
  }
  req.mutable_overrides()->set_num_bps(6);
  req.mutable_overrides()->set_num_wps(6);
  req.mutable_kernel()->set_sha256(Sha256(kernel));
  req.mutable_initrd()->set_sha256(Sha256(initrd));
  {
    ::grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(20));
    v1::ComputeMeasurementsResponse r;
    ::grpc::Status s = stub_->ComputeMeasurements(&ctx, req, &r);
    EXPECT_EQ(s.error_code(), ::grpc::StatusCode::DEADLINE_EXCEEDED)
        << s.error_message();
  }
  // The same call with time to finish succeeds.
  ::grpc::ClientContext ctx;
  SetDeadline(ctx, 120);
  v1::ComputeMeasurementsResponse r;
  ::grpc::Status s = stub_->ComputeMeasurements(&ctx, req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.rim().size(), 32u);
  ExpectHealthy();
}

// Server reflection answers list_services (grpc.reflection.v1alpha, driven
// through the generic stub with hand-encoded messages: field 7 of
// ServerReflectionRequest is list_services).
TEST_F(AbuseTest, ReflectionListsTheService) {
  ::grpc::GenericStub generic(ts_.Channel());
  ::grpc::ClientContext ctx;
  SetDeadline(ctx, 10);
  ::grpc::CompletionQueue cq;
  auto call = generic.PrepareCall(
      &ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      &cq);
  void* tag;
  bool ok;
  int t = 0;
  auto step = [&]() {
    EXPECT_TRUE(cq.Next(&tag, &ok));
    return ok;
  };
  call->StartCall(&t);
  ASSERT_TRUE(step());
  ::grpc::Slice req(std::string("\x3a\x00", 2));  // list_services: ""
  ::grpc::ByteBuffer out(&req, 1);
  call->Write(out, &t);
  ASSERT_TRUE(step());
  call->WritesDone(&t);
  ASSERT_TRUE(step());
  ::grpc::ByteBuffer in;
  call->Read(&in, &t);
  ASSERT_TRUE(step());
  std::vector<::grpc::Slice> slices;
  ASSERT_TRUE(in.Dump(&slices).ok());
  std::string bytes;
  for (const auto& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  EXPECT_TRUE(absl::StrContains(
      bytes, "realm_measurements.v1.RealmMeasurementsService"));
  EXPECT_TRUE(absl::StrContains(bytes, "grpc.health.v1.Health"));
  ::grpc::Status status;
  call->Finish(&status, &t);
  step();
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

}  // namespace
}  // namespace realm_measurements::service
