// SweepMeasurements and the server's long-lived digest cache, end to end: a
// real server on 127.0.0.1:0 over a real store. Every sweep entry must equal
// an individual ComputeMeasurements call of the same arguments (itself
// checked against the golden corpus in integration_test.cc); the cache is
// checked through its counters (GetMeasurementCacheStats), not timing.
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/internal/test_util.h"
#include "grpc/service.h"
#include "gtest/gtest.h"

namespace realm_measurements::service {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::realm_measurements::service::testing::MakeTempDir;
using ::realm_measurements::service::testing::SetDeadline;
using ::realm_measurements::service::testing::TestServer;
using ::realm_measurements::service::testing::Upload;

// An arm64 Image (booting.rst: image_size at 16, magic "ARM\x64" at 56)
// followed by patterned bytes.
std::string MakeImage(size_t size, uint32_t seed) {
  std::string d(size, '\0');
  uint32_t x = seed;
  for (size_t i = 64; i < size; ++i) {
    x = x * 1103515245 + 12345;
    d[i] = static_cast<char>(x >> 16);
  }
  const uint64_t image_size = 8 << 20;
  for (int i = 0; i < 8; ++i)
    d[16 + i] = static_cast<char>(image_size >> (8 * i));
  d.replace(56, 4, "ARM\x64", 4);
  return d;
}

class SweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ts_.Start(MakeTempDir());
    stub_ = ts_.Stub();
    v1::UploadPayloadResponse up;
    ASSERT_TRUE(Upload(*stub_, MakeImage(3 * 1024 * 1024 + 77, 7), &up).ok());
    kernel_ = up.sha256();
    ASSERT_TRUE(Upload(*stub_, MakeImage(1024 * 1024 + 5, 9), &up).ok());
    initrd_ = up.sha256();
  }

  v1::ComputeMeasurementsRequest Base(const std::vector<std::string>& args) {
    v1::ComputeMeasurementsRequest r;
    r.set_vmm(v1::VMM_KVMTOOL);
    r.mutable_overrides()->set_num_bps(6);
    r.mutable_overrides()->set_num_wps(6);
    r.mutable_kernel()->set_sha256(kernel_);
    r.mutable_initrd()->set_sha256(initrd_);
    for (const std::string& a : args) r.add_vmm_args(a);
    return r;
  }

  v1::GetMeasurementCacheStatsResponse Stats() {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::GetMeasurementCacheStatsResponse r;
    EXPECT_TRUE(stub_->GetMeasurementCacheStats(&ctx, {}, &r).ok());
    return r;
  }

  ::grpc::Status Sweep(const v1::SweepMeasurementsRequest& req,
                       v1::SweepMeasurementsResponse* r) {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx, 120);
    return stub_->SweepMeasurements(&ctx, req, r);
  }

  TestServer ts_;
  std::unique_ptr<v1::RealmMeasurementsService::Stub> stub_;
  std::string kernel_, initrd_;
};

const std::vector<std::string> kArgs = {"--realm", "-c",         "{cpus}", "-m",
                                        "{mem}",   "-k",         "Image",  "-i",
                                        "initrd",  "--realm-pv", "{pv}"};

TEST_F(SweepTest, EveryEntryEqualsAnIndividualCall) {
  v1::SweepMeasurementsRequest req;
  *req.mutable_base() = Base(kArgs);
  auto axis = [&](const char* key, std::vector<std::string> values) {
    v1::SweepAxis* a = req.add_axes();
    a->set_key(key);
    for (const std::string& v : values) a->add_values(v);
  };
  axis("cpus", {"1", "2", "4"});
  axis("mem", {"256M", "1G"});
  axis("pv", {"alpha", "beta"});
  v1::SweepMeasurementsResponse r;
  ::grpc::Status s = Sweep(req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(r.entries_size(), 12);
  int i = 0;
  std::vector<std::string> rims;
  for (const char* cpus : {"1", "2", "4"}) {
    for (const char* mem : {"256M", "1G"}) {
      for (const char* pv : {"alpha", "beta"}) {
        SCOPED_TRACE(absl::StrCat("cpus=", cpus, " mem=", mem, " pv=", pv));
        const v1::SweepEntry& e = r.entries(i);
        EXPECT_EQ(e.shape(), static_cast<uint32_t>(i + 1));
        ASSERT_EQ(e.parameters_size(), 3);
        EXPECT_EQ(e.parameters(0).key(), "cpus");
        EXPECT_EQ(e.parameters(0).value(), cpus);
        EXPECT_EQ(e.parameters(2).value(), pv);
        const std::vector<std::string> args = {
            "--realm", "-c", cpus,     "-m",         mem, "-k",
            "Image",   "-i", "initrd", "--realm-pv", pv};
        ASSERT_EQ(e.vmm_args_size(), static_cast<int>(args.size()));
        for (size_t k = 0; k < args.size(); ++k)
          EXPECT_EQ(e.vmm_args(k), args[k]);
        ::grpc::ClientContext ctx;
        SetDeadline(ctx, 60);
        v1::ComputeMeasurementsResponse one;
        ASSERT_TRUE(stub_->ComputeMeasurements(&ctx, Base(args), &one).ok());
        EXPECT_TRUE(MessageDifferencer::Equals(e.result(), one))
            << e.result().DebugString() << "\nvs\n"
            << one.DebugString();
        EXPECT_EQ(one.rim().size(), 32u);
        rims.push_back(one.rim() + one.personalization_value());
        ++i;
      }
    }
  }
  // Shapes are really different realms (the RPV is not part of the RIM).
  std::sort(rims.begin(), rims.end());
  EXPECT_EQ(std::unique(rims.begin(), rims.end()), rims.end());

  // Explicit shapes give the same entries as the matching axis values.
  v1::SweepMeasurementsRequest shapes;
  *shapes.mutable_base() = Base(kArgs);
  v1::SweepShape* sh = shapes.add_shapes();
  for (auto [k, v] : {std::pair<const char*, const char*>{"cpus", "4"},
                      {"mem", "1G"},
                      {"pv", "beta"}}) {
    v1::SweepParameter* p = sh->add_parameters();
    p->set_key(k);
    p->set_value(v);
  }
  v1::SweepMeasurementsResponse r2;
  ASSERT_TRUE(Sweep(shapes, &r2).ok());
  ASSERT_EQ(r2.entries_size(), 1);
  EXPECT_TRUE(MessageDifferencer::Equals(r2.entries(0).result(),
                                         r.entries(11).result()));
}

TEST_F(SweepTest, DigestCacheIsSharedAcrossRequests) {
  v1::GetMeasurementCacheStatsResponse s0 = Stats();
  EXPECT_EQ(s0.max_bytes(), uint64_t{64} << 20);
  EXPECT_EQ(s0.hits(), 0u);
  EXPECT_EQ(s0.misses(), 0u);
  EXPECT_EQ(s0.entries(), 0u);

  const std::vector<std::string> args = {
      "--realm", "-c", "2", "-m", "512M", "-k", "Image", "-i", "initrd"};
  v1::ComputeMeasurementsResponse first, second;
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx, 60);
    ASSERT_TRUE(stub_->ComputeMeasurements(&ctx, Base(args), &first).ok());
  }
  v1::GetMeasurementCacheStatsResponse s1 = Stats();
  // kernel, initrd and the DTB: granule digests computed and kept; kernel
  // and initrd also their whole-content SHA-256 of the layout (the DTB is
  // bytes, not a file).
  EXPECT_EQ(s1.hits(), 0u);
  EXPECT_EQ(s1.misses(), 5u);
  EXPECT_EQ(s1.entries(), 5u);
  // The layout digests are the payloads' SHA-256, their names in the store.
  int layout_files = 0;
  for (const v1::LayoutBlob& b : first.layout().blobs()) {
    if (b.name() == "kernel" || b.name() == "initrd") {
      EXPECT_EQ(b.sha256(), b.name() == "kernel" ? kernel_ : initrd_);
      ++layout_files;
    }
  }
  EXPECT_EQ(layout_files, 2);
  // SHA-256: 32 bytes per granule, 3 MiB + 77 B = 769 granules (first at
  // IPA-aligned offset 0), initrd 1 MiB + 5 B = 257 granules, DTB >= 1.
  EXPECT_GE(s1.bytes(), (769u + 257u + 1u) * 32u);
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx, 60);
    ASSERT_TRUE(stub_->ComputeMeasurements(&ctx, Base(args), &second).ok());
  }
  EXPECT_TRUE(MessageDifferencer::Equals(first, second));
  v1::GetMeasurementCacheStatsResponse s2 = Stats();
  // The second request found every blob's digests (or the whole chain
  // segment after it) in the server's cache and hashed nothing new.
  EXPECT_EQ(s2.misses(), s1.misses());
  EXPECT_GE(s2.hits() + s2.chain_hits(), s1.hits() + s1.chain_hits() + 1);
  EXPECT_EQ(s2.entries(), s1.entries());

  // A sweep over the same payloads reuses them as well.
  v1::SweepMeasurementsRequest req;
  *req.mutable_base() = Base(
      {"--realm", "-c", "{cpus}", "-m", "512M", "-k", "Image", "-i", "initrd"});
  v1::SweepAxis* a = req.add_axes();
  a->set_key("cpus");
  a->add_values("1");
  a->add_values("2");
  a->add_values("3");
  v1::SweepMeasurementsResponse r;
  ASSERT_TRUE(Sweep(req, &r).ok());
  ASSERT_EQ(r.entries_size(), 3);
  EXPECT_TRUE(MessageDifferencer::Equals(r.entries(1).result(), first));
  v1::GetMeasurementCacheStatsResponse s3 = Stats();
  EXPECT_GT(s3.hits() + s3.chain_hits(), s2.hits() + s2.chain_hits());
  // Only the DTBs of the other vCPU counts are new content.
  EXPECT_LE(s3.misses(), s2.misses() + 2);
}

TEST_F(SweepTest, ErrorsNameTheFieldOrShape) {
  auto expect_invalid = [&](const v1::SweepMeasurementsRequest& req,
                            absl::string_view text) {
    v1::SweepMeasurementsResponse r;
    ::grpc::Status s = Sweep(req, &r);
    EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT)
        << s.error_message();
    EXPECT_TRUE(absl::StrContains(s.error_message(), text))
        << s.error_message();
  };
  v1::SweepMeasurementsRequest req;
  *req.mutable_base() = Base({"--realm", "-c", "{cpus}", "-m", "512M"});
  v1::SweepAxis* a = req.add_axes();
  a->set_key("cpus");
  a->add_values("1,2");  // would re-split
  expect_invalid(req, "axes[0]: expected a key without '=' and values");
  a->set_values(0, "");
  expect_invalid(req, "empty value for key 'cpus'");
  a->set_values(0, "1");
  a->set_key("mem");
  expect_invalid(req, "key 'mem' is not used");
  a->set_key("cpus");
  v1::SweepShape* sh = req.add_shapes();
  v1::SweepParameter* p = sh->add_parameters();
  p->set_key("cpus");
  p->set_value("2");
  expect_invalid(req, "--sweep and --sweep-shape can not be combined");
  req.clear_shapes();
  // 17 x 17 = 289 shapes > 256.
  a->clear_values();
  v1::SweepAxis* b = req.add_axes();
  b->set_key("mem");
  for (int i = 1; i <= 17; ++i) {
    a->add_values(absl::StrCat(i));
    b->add_values(absl::StrCat(i, "G"));
  }
  req.mutable_base()->set_vmm_args(3, "{mem}");
  expect_invalid(req, "sweep: expected at most 256 shapes, found 289");

  // A failing shape: the call fails naming it (memory "17" is too small).
  v1::SweepMeasurementsRequest bad;
  *bad.mutable_base() =
      Base({"--realm", "-c", "1", "-m", "{mem}", "-k", "Image"});
  v1::SweepAxis* m = bad.add_axes();
  m->set_key("mem");
  m->add_values("256M");
  m->add_values("17");
  v1::SweepMeasurementsResponse r;
  ::grpc::Status s = Sweep(bad, &r);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(
      absl::StartsWith(s.error_message(), "sweep: shape 2/2 (mem=17): "))
      << s.error_message();
}

// Shapes run concurrently, yet a response over max_message_bytes fails
// naming the shape after which the entries, in order, cross the limit.
TEST(SweepLimitTest, ResponseOverTheLimitNamesTheShape) {
  const std::string image = MakeImage(64 * 1024 + 3, 5);
  constexpr int kShapes = 12;
  auto request = [](const std::string& kernel) {
    v1::SweepMeasurementsRequest req;
    v1::ComputeMeasurementsRequest& base = *req.mutable_base();
    base.set_vmm(v1::VMM_KVMTOOL);
    base.mutable_overrides()->set_num_bps(6);
    base.mutable_overrides()->set_num_wps(6);
    base.mutable_kernel()->set_sha256(kernel);
    for (const char* a :
         {"--realm", "-c", "{cpus}", "-m", "256M", "-k", "Image"}) {
      base.add_vmm_args(a);
    }
    v1::SweepAxis* cpus = req.add_axes();
    cpus->set_key("cpus");
    for (int i = 1; i <= kShapes; ++i) cpus->add_values(absl::StrCat(i));
    return req;
  };
  // The whole sweep, from a server without a tight limit; `prefix[i]` is
  // the size of a response holding its first i + 1 entries.
  std::vector<size_t> prefix;
  {
    TestServer ts;
    ts.Start(MakeTempDir());
    auto stub = ts.Stub();
    v1::UploadPayloadResponse up;
    ASSERT_TRUE(Upload(*stub, image, &up).ok());
    v1::SweepMeasurementsResponse r;
    ::grpc::ClientContext ctx;
    SetDeadline(ctx, 120);
    ASSERT_TRUE(stub->SweepMeasurements(&ctx, request(up.sha256()), &r).ok());
    v1::SweepMeasurementsResponse part;
    for (const v1::SweepEntry& e : r.entries()) {
      *part.add_entries() = e;
      prefix.push_back(part.ByteSizeLong());
    }
  }
  ASSERT_EQ(prefix.size(), static_cast<size_t>(kShapes));
  // A limit that the response passes with its third entry.
  const int limit = static_cast<int>((prefix[1] + prefix[2]) / 2);
  TestServer ts;
  ServerOptions o;
  o.limits.max_message_bytes = limit;
  ts.Start(MakeTempDir(), o);
  auto stub = ts.Stub();
  v1::UploadPayloadResponse up;
  ASSERT_TRUE(Upload(*stub, image, &up, "", 8 << 10).ok());
  v1::SweepMeasurementsResponse r;
  ::grpc::ClientContext ctx;
  SetDeadline(ctx, 120);
  ::grpc::Status s = stub->SweepMeasurements(&ctx, request(up.sha256()), &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(s.error_message(), absl::StrCat("sweep: the response exceeds ",
                                            limit, " bytes after shape 3/",
                                            kShapes, "; split the sweep"));
}

}  // namespace
}  // namespace realm_measurements::service
