#include "measure/measure.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/crypto.h"
#include "gtest/gtest.h"
#include "measure/payload.h"
#include "measure/realm_config.h"
#include "measure/vmm/vmm.h"
#include "testing/vectors.h"

namespace realm_measurements::measure {
namespace {

std::string Hex(absl::Span<const uint8_t> b) {
  std::string s;
  for (uint8_t c : b) absl::StrAppend(&s, absl::Hex(c, absl::kZeroPad2));
  return s;
}

MeasureRequest A3Request() {
  MeasureRequest r;
  r.overrides.num_wps = 6;
  r.overrides.num_bps = 6;
  r.vmm_name = "kvmtool";
  r.model = ModelOf(VmmKind::kKvmtool);
  r.vmm_args = absl::StrSplit("--realm -c 1 -m 512M", ' ');
  return r;
}

TEST(Measure, SpecVectorA3) {
  absl::StatusOr<MeasureResult> r = Measure(A3Request());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->measurements.has_value());
  EXPECT_EQ(Hex(absl::MakeConstSpan(r->measurements->rim).first(32)),
            test::kSpecCoreA3No4Rim);
  for (const Measurement& rem : r->measurements->rem) {
    EXPECT_EQ(rem, Measurement{});
  }
  EXPECT_EQ(r->measurements->hash_algorithm, HashAlgorithm::kSha256);
  EXPECT_EQ(r->parameters.num_bps, 6);
  EXPECT_EQ(r->parameters.num_wps, 6);
  EXPECT_TRUE(r->warnings.empty());
  // kvmtool generates a DTB and measures it into the RIM at its address.
  ASSERT_TRUE(r->dtb.has_value());
  ASSERT_TRUE(r->layout.dtb_address.has_value());
  bool found = false;
  for (const MeasureLayout::Blob& b : r->layout.blobs) {
    if (b.name != "dtb") continue;
    found = true;
    EXPECT_EQ(b.ipa, *r->layout.dtb_address);
    EXPECT_EQ(b.size, r->dtb->size());
    EXPECT_EQ(b.rem, -1);
    EXPECT_FALSE(b.sha256.has_value());  // not asked for
  }
  EXPECT_TRUE(found);
  ASSERT_EQ(r->layout.ram.size(), 1u);
  EXPECT_EQ(r->layout.ram[0].size, uint64_t{512} << 20);
  ASSERT_TRUE(r->layout.rec.has_value());
  EXPECT_EQ(r->layout.rec->gprs.size(), 8u);
  EXPECT_EQ(r->layout.rec->gprs[0], *r->layout.dtb_address);
}

TEST(Measure, HostCapsDocumentsRestrictAndOverridesUpdate) {
  // The documents only lower (num_bps 4 wins over 8); the override sets.
  MeasureRequest req = A3Request();
  req.overrides = HostCaps();
  req.overrides.num_wps = 6;
  req.host_caps.push_back({"first", std::nullopt, "num_bps = 8\n"});
  req.host_caps.push_back({"second", std::nullopt, "num_bps = 4\n"});
  absl::StatusOr<MeasureResult> r = Measure(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->host_caps.num_bps, 4);
  EXPECT_EQ(r->parameters.num_bps, 4);
  EXPECT_EQ(r->parameters.num_wps, 6);
  // The spec vector needs num_bps 6: a different realm, a different RIM.
  EXPECT_NE(Hex(absl::MakeConstSpan(r->measurements->rim).first(32)),
            test::kSpecCoreA3No4Rim);
}

TEST(Measure, ConfigHashAlgoThatDisagreesWarns) {
  MeasureRequest req = A3Request();
  req.host_caps.push_back(
      {"host.conf", std::nullopt, "hash_algo = \"RmiHashSha512\"\n"});
  req.hash_algo_option = "sha384";
  std::vector<std::string> seen;
  req.on_warnings = [&](const std::vector<std::string>& w) { seen = w; };
  absl::StatusOr<MeasureResult> r = Measure(req);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::vector<std::string> expected = {
      "--hash-algo sha384 is ignored: the VMM arguments select sha256",
      "config hash_algo RmiHashSha512 is ignored: the VMM arguments select "
      "sha256"};
  EXPECT_EQ(r->warnings, expected);
  EXPECT_EQ(seen, expected);
  // The algorithm is the VMM's: the values are the spec vector's.
  EXPECT_EQ(Hex(absl::MakeConstSpan(r->measurements->rim).first(32)),
            test::kSpecCoreA3No4Rim);
}

TEST(Measure, EachStepNamesItsStage) {
  struct Case {
    const char* what;
    MeasureRequest request;
    MeasureStage stage;
    std::string document;
  };
  std::vector<Case> cases;
  {
    MeasureRequest r = A3Request();
    r.host_caps.push_back({"bad.conf", std::nullopt, "num_bps = \n"});
    cases.push_back(
        {"unparsable document", r, MeasureStage::kHostCaps, "bad.conf"});
  }
  {
    MeasureRequest r = A3Request();
    r.host_caps.push_back({"missing", "/nonexistent/host.conf", ""});
    cases.push_back(
        {"unreadable document", r, MeasureStage::kHostCaps, "missing"});
  }
  {
    MeasureRequest r = A3Request();
    r.overrides.sve_vl = 100;  // not a multiple of 128
    cases.push_back({"bad override", r, MeasureStage::kOverrides, ""});
  }
  {
    MeasureRequest r = A3Request();
    r.model = nullptr;
    cases.push_back({"no model", r, MeasureStage::kBuild, ""});
  }
  {
    MeasureRequest r = A3Request();
    r.vmm_args.push_back("--no-such-option");
    cases.push_back({"model usage error", r, MeasureStage::kBuild, ""});
  }
  {
    // A payload that the model does not open itself fails when hashed.
    MeasureRequest r = A3Request();
    r.model = [](const VmmInputs&, absl::Span<const std::string>,
                 RealmConfig& config) -> absl::Status {
      config.set_hash_algorithm(HashAlgorithm::kSha256);
      HostCaps vm;
      vm.ipa_bits = 33;
      if (absl::Status s = config.caps().Restrict(vm); !s.ok()) return s;
      if (absl::Status s = config.AddRam(0x80000000, 1 << 20); !s.ok()) {
        return s;
      }
      return config.AddRimBlob(Blob{"firmware", 0x80000000, 0,
                                    Payload::FromFile("/nonexistent/fw")});
    };
    cases.push_back({"missing payload", r, MeasureStage::kMeasure, ""});
  }
  for (const Case& c : cases) {
    absl::StatusOr<MeasureResult> r = Measure(c.request);
    ASSERT_FALSE(r.ok()) << c.what;
    std::optional<MeasureFailure> f = MeasureFailureOf(r.status());
    ASSERT_TRUE(f.has_value()) << c.what << ": " << r.status();
    EXPECT_EQ(f->stage, c.stage) << c.what << ": " << r.status();
    EXPECT_EQ(f->document, c.document) << c.what;
  }
  // The model's syntax errors stay usage errors (exit status 2 in the CLI).
  MeasureRequest r = A3Request();
  r.vmm_args.push_back("--no-such-option");
  EXPECT_TRUE(IsUsageError(Measure(r).status()));
  r.model = nullptr;
  EXPECT_EQ(Measure(r).status().message(),
            "the kvmtool model is not implemented yet");
  EXPECT_FALSE(MeasureFailureOf(absl::OkStatus()).has_value());
  EXPECT_FALSE(MeasureFailureOf(absl::InternalError("x")).has_value());
}

TEST(Measure, HooksRunInOrderAndTheirErrorsComeBackUnchanged) {
  MeasureRequest req = A3Request();
  std::vector<std::string> order;
  req.debug = [&](absl::string_view text) {
    order.push_back(std::string(text.substr(0, text.find(':'))));
  };
  req.before_build = [&](VmmInputs& inputs) {
    order.push_back("before_build");
    EXPECT_FALSE(inputs.kernel.has_value());
    return absl::OkStatus();
  };
  req.on_warnings = [&](const std::vector<std::string>&) {
    order.push_back("on_warnings");
  };
  req.after_build = [&](const RealmConfig& config) {
    order.push_back("after_build");
    EXPECT_TRUE(config.dtb().has_value());
    return absl::OkStatus();
  };
  ASSERT_TRUE(Measure(req).ok());
  EXPECT_EQ(order, (std::vector<std::string>{"Host config", "before_build",
                                             "on_warnings", "after_build"}));

  req.after_build = [](const RealmConfig&) {
    return absl::AbortedError("stop here");
  };
  absl::StatusOr<MeasureResult> r = Measure(req);
  EXPECT_EQ(r.status(), absl::AbortedError("stop here"));
  EXPECT_FALSE(MeasureFailureOf(r.status()).has_value());

  // The server resolves its payloads in before_build: the model sees them.
  req = A3Request();
  req.vmm_args = {"--realm", "-c", "1", "-m", "512M", "-k", "Image"};
  req.before_build = [](VmmInputs& inputs) {
    inputs.kernel = "/nonexistent/from-hook";
    return absl::OkStatus();
  };
  r = Measure(req);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/from-hook"),
            std::string::npos)
      << r.status();
}

TEST(Measure, NoMeasurementsStopsAfterTheBuild) {
  MeasureRequest req = A3Request();
  req.no_measurements = true;
  absl::StatusOr<MeasureResult> r = Measure(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->measurements.has_value());
  EXPECT_TRUE(r->dtb.has_value());
}

class CountingProgress : public MeasureProgress {
 public:
  void Start(uint64_t total) override { total_ = total, ++starts_; }
  void Add(uint64_t bytes) override { added_ += bytes; }
  void Finish() override { ++finishes_; }
  uint64_t total_ = 0, added_ = 0;
  int starts_ = 0, finishes_ = 0;
};

// The fixture VMM's realm: SHA-256, 1 MiB of RAM at 0x8000_0000.
absl::Status FixtureRealm(RealmConfig& config) {
  config.set_hash_algorithm(HashAlgorithm::kSha256);
  HostCaps vm;
  vm.ipa_bits = 33;
  if (absl::Status s = config.caps().Restrict(vm); !s.ok()) return s;
  return config.AddRam(0x80000000, 1 << 20);
}

// A request of the fixture VMM `model` with layout digests.
MeasureRequest FixtureRequest(VmmModel model) {
  MeasureRequest req;
  req.overrides.num_wps = 6;
  req.overrides.num_bps = 6;
  req.vmm_name = "fixture";
  req.model = model;
  req.layout_digests = true;
  return req;
}

TEST(Measure, LayoutDigestsAndProgress) {
  // A payload of our own bytes: its SHA-256 in the layout is OpenSSL's.
  const std::vector<uint8_t> firmware(3 * 4096 + 5, 0xa5);
  MeasureRequest req = FixtureRequest([](const VmmInputs&,
                                         absl::Span<const std::string>,
                                         RealmConfig& config) -> absl::Status {
    if (absl::Status s = FixtureRealm(config); !s.ok()) return s;
    config.AddRemBlob(
        2, Blob{"extra", 0x80000000, 0,
                Payload::FromBytes("extra", std::vector<uint8_t>(100, 1))});
    return config.AddRimBlob(Blob{
        "firmware", 0x80000000, 0,
        Payload::FromBytes("fw", std::vector<uint8_t>(3 * 4096 + 5, 0xa5))});
  });
  CountingProgress progress;
  req.progress = &progress;
  absl::StatusOr<MeasureResult> r = Measure(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->layout.blobs.size(), 2u);
  const MeasureLayout::Blob& fw = r->layout.blobs[0];
  EXPECT_EQ(fw.name, "firmware");
  EXPECT_EQ(fw.source, "fw");
  EXPECT_EQ(fw.size, firmware.size());
  EXPECT_EQ(fw.rem, -1);
  absl::StatusOr<std::vector<uint8_t>> want =
      crypto::HashOnce(crypto::DigestAlgorithm::kSha256, firmware);
  ASSERT_TRUE(want.ok());
  ASSERT_TRUE(fw.sha256.has_value());
  EXPECT_EQ(std::vector<uint8_t>(fw.sha256->begin(), fw.sha256->end()), *want);
  EXPECT_EQ(r->layout.blobs[1].rem, 2);
  EXPECT_EQ(progress.starts_, 1);
  EXPECT_EQ(progress.finishes_, 1);
  EXPECT_EQ(progress.total_, firmware.size() + 100);
  EXPECT_GT(progress.added_, 0u);

  // A cancelled request stops while hashing.
  req.progress = nullptr;
  req.options.cancel = [] { return absl::CancelledError("call cancelled"); };
  r = Measure(req);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
}

// A payload whose every pass fails on its first read.
class FailingStream : public Payload::Stream {
 public:
  absl::StatusOr<size_t> Read(absl::Span<uint8_t>) override {
    return absl::DataLossError("disk on fire");
  }
  std::string identity() const override { return "failing"; }
};

// The fixture realm with a firmware that cannot be read.
absl::Status FailingFirmwareRealm(const VmmInputs&,
                                  absl::Span<const std::string>,
                                  RealmConfig& config) {
  if (absl::Status s = FixtureRealm(config); !s.ok()) return s;
  return config.AddRimBlob(Blob{
      "firmware", 0x80000000, 0,
      Payload::FromStream(
          "fw", 8192, []() -> absl::StatusOr<std::unique_ptr<Payload::Stream>> {
            return std::make_unique<FailingStream>();
          })});
}

TEST(Measure, LayoutDigestsRunBesideAFailingMeasurement) {
  // The digest pass runs on its own thread beside the measurement; when the
  // measurement fails, its error is the result and the pass is stopped and
  // joined (no hang, no use of the freed config: ASan/TSan runs).
  MeasureRequest req = FixtureRequest(&FailingFirmwareRealm);
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<MeasureResult> r = Measure(req);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("disk on fire"),
              absl::string_view::npos)
        << r.status();
  }
}

// MeasureRequest::beside runs once, with the built realm, beside the
// measurement: its error is the result when the measurement succeeded; when
// the measurement fails, the measurement's error wins and the work is
// stopped (its cancel check turns non-OK) and joined.
TEST(Measure, BesideWorkIsJoinedAndItsErrorReported) {
  MeasureRequest req =
      FixtureRequest([](const VmmInputs&, absl::Span<const std::string>,
                        RealmConfig& config) -> absl::Status {
        if (absl::Status s = FixtureRealm(config); !s.ok()) return s;
        return config.AddRimBlob(
            Blob{"firmware", 0x80000000, 0,
                 Payload::FromBytes("fw", std::vector<uint8_t>(5 * 4096, 1))});
      });
  std::atomic<int> runs{0};
  size_t blobs_seen = 0;
  req.beside = [&](const RealmConfig& config,
                   const CancelCheck& cancel) -> absl::Status {
    ++runs;
    blobs_seen = config.rim_blobs().size();
    return cancel();
  };
  absl::StatusOr<MeasureResult> ok = Measure(req);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(blobs_seen, 1u);  // the firmware

  req.beside = [](const RealmConfig&, const CancelCheck&) {
    return absl::DataLossError("log side failed");
  };
  absl::StatusOr<MeasureResult> failed = Measure(req);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(failed.status().message(), "log side failed");
  EXPECT_EQ(MeasureFailureOf(failed.status())->stage, MeasureStage::kMeasure);

  // The measurement fails: its error wins, and the work sees its cancel
  // check turn non-OK (else this would never end).
  MeasureRequest broken = FixtureRequest(&FailingFirmwareRealm);
  broken.layout_digests = false;
  std::atomic<bool> stopped{false};
  broken.beside = [&](const RealmConfig&,
                      const CancelCheck& cancel) -> absl::Status {
    while (cancel().ok()) std::this_thread::yield();
    stopped = true;
    return cancel();
  };
  absl::StatusOr<MeasureResult> r = Measure(broken);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("disk on fire"), absl::string_view::npos)
      << r.status();
  EXPECT_TRUE(stopped.load());
}

}  // namespace
}  // namespace realm_measurements::measure
