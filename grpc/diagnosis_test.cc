// ComputeMeasurements with compare_log (eventlog/compare.h) and find_rim
// (measure/rim_search.h), on a real server over a real SQLite store: the
// golden case qemu-bios-measurement-log against the log QEMU would write for
// it (testdata/eventlog/README.md), and spec-core A.5's PMU vectors. Oracles:
// the golden RIMs and DTB size, the log's own fields, and which steps a
// changed input must move.
#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/internal/test_util.h"
#include "gtest/gtest.h"
#include "testing/golden.h"
#include "testing/vectors.h"

namespace realm_measurements::service {
namespace {

using ::realm_measurements::service::testing::MakeTempDir;
using ::realm_measurements::service::testing::ReadFileOrDie;
using ::realm_measurements::service::testing::SetDeadline;
using ::realm_measurements::service::testing::TestServer;
using ::realm_measurements::service::testing::Upload;

constexpr char kInputs[] = "testdata/golden/inputs/";
constexpr char kLog[] = "testdata/eventlog/qemu-bios-measurement-log.bin";

class DiagnosisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ts_.Start(MakeTempDir());
    const test::GoldenCase g =
        test::LoadGoldenCase("qemu-bios-measurement-log");
    argv_ = g.argv;
    rim_ = g.rim;
    dtb_size_ = g.dtb_size;
    ASSERT_FALSE(argv_.empty());
  }

  std::string UploadBytes(const std::string& content) {
    auto stub = ts_.Stub();
    v1::UploadPayloadResponse up;
    ::grpc::Status s = Upload(*stub, content, &up);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return up.sha256();
  }

  // The golden argv as a request: its two config files, its firmware and
  // the QEMU arguments, `-m` replaced by `mem`.
  v1::ComputeMeasurementsRequest Request(const std::string& mem = "512M") {
    v1::ComputeMeasurementsRequest req;
    req.add_host_caps_toml(
        ReadFileOrDie(absl::StrCat(kInputs, "host-max.conf")));
    req.add_host_caps_toml(ReadFileOrDie(absl::StrCat(kInputs, "rmm.conf")));
    req.mutable_firmware()->set_sha256(
        UploadBytes(ReadFileOrDie(absl::StrCat(kInputs, "fw-777.bin"))));
    req.set_vmm(v1::VMM_QEMU);
    bool vmm = false;
    for (size_t i = 0; i < argv_.size(); ++i) {
      if (argv_[i] == "qemu") {
        vmm = true;
      } else if (vmm) {
        req.add_vmm_args(argv_[i] == "512M" ? mem : argv_[i]);
      }
    }
    req.set_compare_log(ReadFileOrDie(kLog));
    return req;
  }

  ::grpc::Status Compute(const v1::ComputeMeasurementsRequest& req,
                         v1::ComputeMeasurementsResponse* r) {
    auto stub = ts_.Stub();
    ::grpc::ClientContext ctx;
    SetDeadline(ctx, 60);
    return stub->ComputeMeasurements(&ctx, req, r);
  }

  // SweepMeasurements of `base` over one placeholder value.
  ::grpc::Status SweepOf(const v1::ComputeMeasurementsRequest& base) {
    v1::SweepMeasurementsRequest sweep;
    *sweep.mutable_base() = base;
    v1::SweepAxis* axis = sweep.add_axes();
    axis->set_key("n");
    axis->add_values("2");
    auto stub = ts_.Stub();
    ::grpc::ClientContext ctx;
    SetDeadline(ctx, 60);
    v1::SweepMeasurementsResponse r;
    return stub->SweepMeasurements(&ctx, sweep, &r);
  }

  TestServer ts_;
  std::vector<std::string> argv_;
  std::string rim_;
  size_t dtb_size_ = 0;
};

TEST_F(DiagnosisTest, TheGoldenCaseMatchesItsLog) {
  v1::ComputeMeasurementsResponse r;
  ::grpc::Status s = Compute(Request(), &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(absl::BytesToHexString(r.rim()), rim_);
  const v1::LogComparison& c = r.log_comparison();
  EXPECT_EQ(c.vmm(), "QEMU 9.1.0");
  EXPECT_EQ(c.algorithm(), "sha512");
  EXPECT_TRUE(c.same());
  EXPECT_EQ(c.first_difference(), 0u);
  std::vector<std::string> steps;
  for (const v1::LogComparisonStep& st : c.steps()) {
    steps.push_back(st.step());
    EXPECT_TRUE(st.same()) << st.step();
    EXPECT_TRUE(st.has_event());
    EXPECT_EQ(st.event(), steps.size() - 1);
  }
  EXPECT_EQ(steps,
            (std::vector<std::string>{"VM VERSION", "REALM_CREATE",
                                      "INIT_RIPAS", "DATA firmware", "DATA dtb",
                                      "REC_CREATE", "DATA unmeasured"}));
  EXPECT_TRUE(absl::StartsWith(
      c.steps(4).logged(),
      absl::StrCat("DATA dtb 0x40000000, ", dtb_size_, " bytes, sha512:")));
  // Without compare_log there is no comparison.
  v1::ComputeMeasurementsRequest plain = Request();
  plain.clear_compare_log();
  v1::ComputeMeasurementsResponse p;
  ASSERT_TRUE(Compute(plain, &p).ok());
  EXPECT_FALSE(p.has_log_comparison());
  EXPECT_EQ(p.rim(), r.rim());
}

TEST_F(DiagnosisTest, DifferencesNameStepsAndPayloadsByDigest) {
  v1::ComputeMeasurementsRequest req = Request("1G");
  // Another firmware: one byte changed.
  std::string fw = ReadFileOrDie(absl::StrCat(kInputs, "fw-777.bin"));
  fw[100] ^= 1;
  const std::string fw_sha = UploadBytes(fw);
  req.mutable_firmware()->set_sha256(fw_sha);
  v1::ComputeMeasurementsResponse r;
  ::grpc::Status s = Compute(req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::LogComparison& c = r.log_comparison();
  EXPECT_FALSE(c.same());
  EXPECT_EQ(c.first_difference(), 1u);  // VM VERSION: the RAM size
  ASSERT_EQ(c.steps_size(), 7);
  EXPECT_EQ(c.steps(0).differences(0),
            "RAM size: computed 1073741824, logged 536870912");
  EXPECT_EQ(c.steps(2).differences(0),
            "range: computed [0x40000000, 0x80000000), logged [0x40000000, "
            "0x60000000)");
  EXPECT_TRUE(c.steps(1).same());
  EXPECT_TRUE(c.steps(1).decided_by().empty());
  // The firmware's hint names the payload by digest, never a server path.
  const v1::LogComparisonStep& firmware = c.steps(3);
  EXPECT_FALSE(firmware.same());
  EXPECT_EQ(firmware.decided_by(),
            absl::StrCat("the firmware image (computed from payload sha256:",
                         absl::BytesToHexString(fw_sha),
                         ") and where the VMM loads it"));
  EXPECT_FALSE(absl::StrContains(firmware.decided_by(), "/"));
  EXPECT_TRUE(absl::StartsWith(firmware.differences(0), "sha512: computed "));
}

TEST_F(DiagnosisTest, BadLogsAndSweepsAreRefused) {
  v1::ComputeMeasurementsRequest req = Request();
  req.set_compare_log(ReadFileOrDie(kLog).substr(0, 100));
  v1::ComputeMeasurementsResponse r;
  ::grpc::Status s = Compute(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "compare_log: event log: "))
      << s.error_message();

  req.set_compare_log(std::string((1 << 20) + 1, '\0'));
  s = Compute(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "compare_log: expected at most 1048576 bytes, found 1048577");

  // A log of a SHA-256 realm for this SHA-512 one.
  req.set_compare_log(ReadFileOrDie("testdata/eventlog/t2-qemu-sha256.bin"));
  s = Compute(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(),
                                "compare_log: event log: expected sha512 "
                                "digests"))
      << s.error_message();

  s = SweepOf(Request());
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(
      absl::StartsWith(s.error_message(), "base.compare_log: expected empty"))
      << s.error_message();
}

v1::ComputeMeasurementsRequest A5Request() {
  v1::ComputeMeasurementsRequest req;
  req.set_vmm(v1::VMM_QEMU);
  req.add_vmm_args("-cpu");
  req.add_vmm_args("pmu=on");
  v1::HostCapsOverrides* o = req.mutable_overrides();
  o->set_num_wps(6);
  o->set_num_bps(6);
  o->set_ipa_bits(52);
  o->set_pmu_num_ctrs(6);
  return req;
}

TEST_F(DiagnosisTest, FindRimNamesTheHostCapability) {
  v1::ComputeMeasurementsRequest req = A5Request();
  req.set_find_rim(absl::HexStringToBytes(test::kSpecCoreA5No10Rim));
  v1::ComputeMeasurementsResponse r;
  ::grpc::Status s = Compute(req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(absl::BytesToHexString(r.rim()), test::kSpecCoreA5No8Rim);
  EXPECT_FALSE(r.has_log_comparison());
  const v1::RimSearch& search = r.rim_search();
  EXPECT_EQ(search.result(), v1::RIM_SEARCH_RESULT_FOUND);
  EXPECT_GT(search.tried(), 100u);
  ASSERT_EQ(search.matches_size(), 1);
  const v1::RimSearchMatch& match = search.matches(0);
  EXPECT_EQ(match.option(), "--pmu true --pmu-num-ctrs 2");
  EXPECT_EQ(match.rmm_version(), v1::RMM_VERSION_UNSPECIFIED);
  EXPECT_TRUE(match.overrides().has_pmu() && match.overrides().pmu());
  EXPECT_EQ(match.overrides().pmu_num_ctrs(), 2u);
  EXPECT_FALSE(match.overrides().has_ipa_bits());
  EXPECT_FALSE(match.overrides().has_num_bps());

  // The match applied to the request gives the searched RIM.
  req.clear_find_rim();
  req.mutable_overrides()->MergeFrom(match.overrides());
  ASSERT_TRUE(Compute(req, &r).ok());
  EXPECT_EQ(absl::BytesToHexString(r.rim()), test::kSpecCoreA5No10Rim);
  EXPECT_FALSE(r.has_rim_search());

  // Its own RIM needs no change; a SHA-256 RIM is another algorithm's.
  req = A5Request();
  req.set_find_rim(absl::HexStringToBytes(test::kSpecCoreA5No8Rim));
  ASSERT_TRUE(Compute(req, &r).ok());
  EXPECT_EQ(r.rim_search().result(), v1::RIM_SEARCH_RESULT_SAME);
  EXPECT_EQ(r.rim_search().tried(), 0u);
  req.set_find_rim(std::string(32, '\x5a'));
  ASSERT_TRUE(Compute(req, &r).ok());
  EXPECT_EQ(r.rim_search().result(), v1::RIM_SEARCH_RESULT_OTHER_ALGORITHM);

  // The golden qemu-bios case is another realm altogether.
  req = Request();
  req.clear_compare_log();
  req.set_find_rim(absl::HexStringToBytes(test::kSpecCoreA5No8Rim));
  s = Compute(req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.rim_search().result(), v1::RIM_SEARCH_RESULT_NONE);
  EXPECT_EQ(r.rim_search().matches_size(), 0);
  EXPECT_EQ(absl::BytesToHexString(r.rim()), rim_);
}

TEST_F(DiagnosisTest, FindRimPairsNameTwoSettings) {
  // The A.3 #4 realm (testing::KvmMin) with 4 breakpoints and 4
  // watchpoints: two settings away, so one change is not enough and a pair
  // is.
  v1::ComputeMeasurementsRequest req = testing::KvmMin();
  req.mutable_overrides()->set_num_bps(4);
  req.mutable_overrides()->set_num_wps(4);
  req.set_find_rim(absl::HexStringToBytes(test::kSpecCoreA3No4Rim));
  v1::ComputeMeasurementsResponse r;
  ::grpc::Status s = Compute(req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.rim_search().result(), v1::RIM_SEARCH_RESULT_NONE);
  EXPECT_EQ(r.rim_search().tried_pairs(), 0u);

  req.set_find_rim_pairs(true);
  s = Compute(req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::RimSearch& search = r.rim_search();
  EXPECT_EQ(search.result(), v1::RIM_SEARCH_RESULT_FOUND);
  EXPECT_GT(search.tried_pairs(), 1000u);
  ASSERT_EQ(search.matches_size(), 1);
  EXPECT_EQ(search.matches(0).option(), "--num-bps 6 --num-wps 6");
  EXPECT_EQ(search.matches(0).overrides().num_bps(), 6u);
  EXPECT_EQ(search.matches(0).overrides().num_wps(), 6u);
  // The match applied gives the vector.
  req.clear_find_rim();
  req.clear_find_rim_pairs();
  req.mutable_overrides()->MergeFrom(search.matches(0).overrides());
  ASSERT_TRUE(Compute(req, &r).ok());
  EXPECT_EQ(absl::BytesToHexString(r.rim()), test::kSpecCoreA3No4Rim);
}

TEST_F(DiagnosisTest, FindRimRefusals) {
  v1::ComputeMeasurementsRequest req = A5Request();
  req.set_find_rim(std::string(31, '\x01'));
  v1::ComputeMeasurementsResponse r;
  ::grpc::Status s = Compute(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "find_rim: expected 32, 48 or 64 bytes (the token's RIM), found "
            "31");

  // find_rim_pairs only with find_rim.
  req = A5Request();
  req.set_find_rim_pairs(true);
  s = Compute(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "find_rim_pairs: expected find_rim with it");

  req = Request();  // with compare_log
  req.set_find_rim(absl::HexStringToBytes(test::kSpecCoreA5No8Rim));
  s = Compute(req, &r);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(
      s.error_message(), "find_rim and compare_log: expected at most one"))
      << s.error_message();

  req = A5Request();
  req.set_find_rim(absl::HexStringToBytes(test::kSpecCoreA5No8Rim));
  s = SweepOf(req);
  EXPECT_EQ(s.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(
      absl::StartsWith(s.error_message(), "base.find_rim: expected empty"))
      << s.error_message();
}

}  // namespace
}  // namespace realm_measurements::service
