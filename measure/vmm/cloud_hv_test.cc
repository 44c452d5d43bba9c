#include "measure/vmm/cloud_hv.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/crypto.h"
#include "gtest/gtest.h"
#include "measure/engine.h"
#include "measure/host_caps.h"
#include "measure/realm_config.h"
#include "measure/vmm/vmm.h"
#include "nlohmann/json.hpp"
#include "testing/dtc.h"
#include "testing/files.h"

// Vectors: the golden corpus recorded from the reference tool
// (testdata/golden: cases tagged "cloud-hv" and dtbs/chv-*.dtb) and the
// additional vectors G9/G10 of spec-vmm §12. Nothing here was produced by
// this code.

namespace realm_measurements::measure {
namespace {

const char kGolden[] = "testdata/golden/";
const char kInputs[] = "testdata/golden/inputs/";
const char kLinuxBin[] = "testdata/vectors/reference-testdata/linux.bin";

std::string Sha256Hex(absl::Span<const uint8_t> data) {
  auto d = crypto::HashOnce(crypto::DigestAlgorithm::kSha256, data);
  EXPECT_TRUE(d.ok()) << d.status();
  if (!d.ok()) return "";
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(d->data()), d->size()));
}

// The CLI's global options that matter to a VMM model: host caps (config
// files restrict, command-line values override) and payload paths.
struct Invocation {
  HostCaps caps;
  VmmInputs inputs;
  std::vector<std::string> vmm_args;
};

Invocation ParseGlobal(const std::vector<std::string>& argv,
                       const std::string& dir) {
  Invocation inv;
  HostCaps overrides;
  size_t i = 0;
  auto path = [&](const std::string& p) { return dir + p; };
  for (; i < argv.size() && argv[i] != "cloud-hv"; ++i) {
    const std::string& a = argv[i];
    auto next = [&]() { return argv[++i]; };
    int n = 0;
    if (a == "-c") {
      std::string file = path(next());
      auto c = HostCaps::FromToml(test::ReadFileText(file), file);
      EXPECT_TRUE(c.ok()) << c.status();
      if (c.ok()) {
        EXPECT_TRUE(inv.caps.Restrict(*c).ok());
      }
    } else if (a == "--num-wps") {
      EXPECT_TRUE(absl::SimpleAtoi(next(), &n));
      overrides.num_wps = n;
    } else if (a == "--num-bps") {
      EXPECT_TRUE(absl::SimpleAtoi(next(), &n));
      overrides.num_bps = n;
    } else if (a == "--ipa-bits") {
      EXPECT_TRUE(absl::SimpleAtoi(next(), &n));
      overrides.ipa_bits = n;
    } else if (a == "--pmu-num-ctrs") {
      EXPECT_TRUE(absl::SimpleAtoi(next(), &n));
      overrides.pmu_num_ctrs = n;
    } else if (a == "-k") {
      inv.inputs.kernel = path(next());
    } else if (a == "-i") {
      inv.inputs.initrd = path(next());
    } else if (a == "-f") {
      inv.inputs.firmware = path(next());
    } else if (a == "--dtb") {
      inv.inputs.dtb = path(next());
    } else if (a == "--dtb-template") {
      inv.inputs.dtb_template = path(next());
    } else if (a == "--output-dtb" || a == "--endorsements-template" ||
               a == "--endorsements-output") {
      next();
    } else {
      ADD_FAILURE() << "global option not handled by the test: " << a;
    }
  }
  EXPECT_TRUE(inv.caps.Update(overrides).ok());
  if (i < argv.size()) inv.vmm_args.assign(argv.begin() + i + 1, argv.end());
  return inv;
}

struct Built {
  absl::Status status;
  RealmConfig config{HostCaps()};
};

Built BuildFrom(const Invocation& inv) {
  Built b;
  b.config = RealmConfig(inv.caps);
  b.status = BuildCloudHv(inv.inputs, inv.vmm_args, b.config);
  return b;
}

Built Build(const std::vector<std::string>& argv,
            const std::string& dir = kInputs) {
  return BuildFrom(ParseGlobal(argv, dir));
}

std::vector<std::string> Split(const std::string& s) {
  return absl::StrSplit(s, ' ', absl::SkipEmpty());
}

// The host capabilities of spec-vmm §12's "W52".
const char kW52[] = "--num-wps 6 --num-bps 6 --ipa-bits 52 --pmu-num-ctrs 6";

// Builds "W52 cloud-hv <vmm_args>" without payloads.
Built BuildW52(const std::vector<std::string>& vmm_args,
               VmmInputs inputs = {}) {
  std::vector<std::string> argv = Split(kW52);
  argv.push_back("cloud-hv");
  Invocation inv = ParseGlobal(argv, "");
  inv.inputs = std::move(inputs);
  inv.vmm_args = vmm_args;
  return BuildFrom(inv);
}

absl::StatusOr<Measurements> Measure(const Built& b) {
  if (!b.status.ok()) return b.status;
  if (absl::Status s = b.config.Validate(); !s.ok()) return s;
  return ComputeMeasurements(b.config);
}

std::string RimHex(const Built& b) {
  absl::StatusOr<Measurements> m = Measure(b);
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return "";
  return ToHex(m->rim);
}

// ---------------------------------------------------------------------------
// Generated DTB, byte for byte (spec-vmm §7.5).

TEST(CloudHvDtbTest, DefaultsEqualGoldenBytes) {
  // chv-kernel-default: 1 vCPU, 512 MiB, no cmdline, no initrd, UART.
  absl::StatusOr<std::vector<uint8_t>> dtb =
      GenerateCloudHvDtb(CloudHvDtbParams());
  ASSERT_TRUE(dtb.ok()) << dtb.status();
  EXPECT_EQ(*dtb, test::ReadFileBytes(std::string(kGolden) +
                                      "dtbs/chv-kernel-default.dtb"));
  // spec-vmm §12 G9: sha256 / length / totalsize.
  EXPECT_EQ(Sha256Hex(*dtb),
            "79bd020b7d26fae27508e61b698ad6a876b13db651e33f0f43680662434b1a8c");
  EXPECT_EQ(dtb->size(), 2107u);
  const std::string dts = test::DtcDecompile(*dtb, "chv-default.dtb");
  EXPECT_NE(dts.find("pl011@9000000"), std::string::npos) << dts;
  EXPECT_EQ(dts.find("bootargs"), std::string::npos) << dts;
}

TEST(CloudHvDtbTest, CpusInitrdCmdlineEqualGoldenBytes) {
  // chv-4cpu-1G-initrd-sha256: initrd-small.cpio is 12345 bytes, placed at
  // the end of 1 GiB of RAM on a page boundary.
  CloudHvDtbParams p;
  p.num_cpus = 4;
  p.mem_size = uint64_t{1} << 30;
  p.bootargs = "console=hvc0 root=/dev/vda1";
  p.initrd = CloudHvDtbParams::Initrd{0x7fffc000, 12345};
  absl::StatusOr<std::vector<uint8_t>> dtb = GenerateCloudHvDtb(p);
  ASSERT_TRUE(dtb.ok()) << dtb.status();
  EXPECT_EQ(*dtb, test::ReadFileBytes(std::string(kGolden) +
                                      "dtbs/chv-4cpu-1G-initrd-sha256.dtb"));
  const std::string dts = test::DtcDecompile(*dtb, "chv-4cpu.dtb");
  EXPECT_NE(dts.find("linux,initrd-end = <0x00 0x7ffff039>"), std::string::npos)
      << dts;
  EXPECT_NE(dts.find("its@8f50000"), std::string::npos) << dts;
}

TEST(CloudHvDtbTest, SerialOffMatchesSpecG10) {
  // spec-vmm §12 G10: 2 vCPUs, 1 GiB, "console=hvc0", the 14-byte initrd at
  // 0x7fff_f000, --serial off.
  CloudHvDtbParams p;
  p.num_cpus = 2;
  p.mem_size = uint64_t{1} << 30;
  p.bootargs = "console=hvc0";
  p.initrd = CloudHvDtbParams::Initrd{0x7ffff000, 14};
  p.serial = false;
  absl::StatusOr<std::vector<uint8_t>> dtb = GenerateCloudHvDtb(p);
  ASSERT_TRUE(dtb.ok()) << dtb.status();
  EXPECT_EQ(dtb->size(), 2160u);
  EXPECT_EQ(Sha256Hex(*dtb),
            "eec3f23cddd38b89276dd87149939bbed69c356f8a99e4cab00e0c2d66133685");
  const std::string dts = test::DtcDecompile(*dtb, "chv-g10.dtb");
  EXPECT_EQ(dts.find("pl011"), std::string::npos) << dts;
  EXPECT_NE(dts.find("pl031@9010000"), std::string::npos) << dts;
}

TEST(CloudHvDtbTest, EmptyCmdlineStillEmitsBootargs) {
  CloudHvDtbParams p;
  p.bootargs = "";
  absl::StatusOr<std::vector<uint8_t>> dtb = GenerateCloudHvDtb(p);
  ASSERT_TRUE(dtb.ok()) << dtb.status();
  EXPECT_NE(test::DtcDecompile(*dtb, "chv-empty-cmdline.dtb")
                .find("bootargs = [00];"),
            std::string::npos);
}

TEST(CloudHvDtbTest, MaxVcpusParsesWithDtcAndBeyondIsRejected) {
  CloudHvDtbParams p;
  p.num_cpus = cloud_hv::kMaxVcpus;
  absl::StatusOr<std::vector<uint8_t>> dtb = GenerateCloudHvDtb(p);
  ASSERT_TRUE(dtb.ok()) << dtb.status();
  // Redistributors 512 * 0x20000 below 0x08ff0000 (0x04ff0000), ITS below.
  EXPECT_NE(test::DtcDecompile(*dtb, "chv-512.dtb").find("its@4fd0000"),
            std::string::npos);
  p.num_cpus = cloud_hv::kMaxVcpus + 1;
  EXPECT_EQ(GenerateCloudHvDtb(p).status().message(),
            "invalid VM configuration: 513 vCPUs (expected 1 to 512)");
  p.num_cpus = 0;
  EXPECT_FALSE(GenerateCloudHvDtb(p).ok());
}

TEST(CloudHvDtbTest, BootargsWithNulIsAnError) {
  CloudHvDtbParams p;
  p.bootargs = std::string("a\0b", 3);
  EXPECT_EQ(GenerateCloudHvDtb(p).status().message(),
            "Strings cannot contain NUL");
}

// ---------------------------------------------------------------------------
// Golden corpus: every public cloud-hv case, end to end through RealmConfig
// and ComputeMeasurements.

TEST(CloudHvGoldenTest, AllPublicCloudHvCases) {
  const nlohmann::json corpus = nlohmann::json::parse(
      test::ReadFileText(std::string(kGolden) + "cases-public.json"));
  int cases = 0, dtb_cases = 0, rim_cases = 0, endorsement_cases = 0;
  for (const nlohmann::json& c : corpus["cases"]) {
    const std::vector<std::string> tags = c["tags"];
    if (std::find(tags.begin(), tags.end(), "cloud-hv") == tags.end()) {
      continue;
    }
    ++cases;
    const std::string id = c["id"];
    SCOPED_TRACE(id);
    Built b = Build(c["argv"].get<std::vector<std::string>>());
    const int exit_code = c["expected_exit_code"];
    const std::string stderr_text = c["expected_stderr"];
    if (exit_code != 0) {
      const std::string kBuildPrefix = "ERROR Cannot build parameters: ";
      ASSERT_EQ(stderr_text.rfind(kBuildPrefix, 0), 0u) << stderr_text;
      ASSERT_EQ(c["stderr_match"], "exact");
      ASSERT_FALSE(b.status.ok());
      // Our messages keep the reference's text and may add how to fix the
      // problem after ": " (docs/deviations.md).
      const std::string ours = absl::StrCat(
          "ERROR Cannot build parameters: ", b.status.message(), "\n");
      const std::string reference(absl::StripSuffix(stderr_text, "\n"));
      if (ours != stderr_text) {
        EXPECT_TRUE(absl::StartsWith(ours, absl::StrCat(reference, ": ")))
            << ours << " does not extend " << stderr_text;
      }
      continue;
    }
    ASSERT_TRUE(b.status.ok()) << b.status;
    // The golden cases expect an empty stderr: no warnings.
    EXPECT_EQ(stderr_text, "");
    EXPECT_TRUE(b.config.warnings().empty());
    ASSERT_TRUE(b.config.dtb().has_value());
    if (c.contains("expected_dtb_sha256")) {
      ++dtb_cases;
      const std::vector<uint8_t>& dtb = *b.config.dtb();
      EXPECT_EQ(dtb.size(), c["expected_dtb_size"].get<size_t>());
      EXPECT_EQ(Sha256Hex(dtb), c["expected_dtb_sha256"].get<std::string>());
      EXPECT_EQ(dtb, test::ReadFileBytes(std::string(kGolden) + "dtbs/" + id +
                                         ".dtb"));
    }
    absl::StatusOr<Measurements> m = Measure(b);
    ASSERT_TRUE(m.ok()) << m.status();
    const std::string out = c["expected_stdout"];
    if (out.rfind("RIM: ", 0) == 0) {
      ++rim_cases;
      const std::string line = out.substr(0, out.find('\n'));
      EXPECT_EQ(line, "RIM: " + ToHex(m->rim));
    }
    if (c.contains("expected_endorsements_json")) {
      // The RIM and RPV as the reference wrote them into the CoMID JSON.
      ++endorsement_cases;
      const nlohmann::json e = nlohmann::json::parse(
          c["expected_endorsements_json"].get<std::string>());
      const nlohmann::json& mv =
          e["triples"]["reference-values"][0]["measurements"][0]["value"];
      EXPECT_EQ(mv["integrity-registers"]["rim"]["value"][0],
                "sha-512;" + ToBase64(m->rim));
      EXPECT_EQ(mv["raw-value"]["value"],
                ToBase64(b.config.personalization_value()));
    }
  }
  EXPECT_EQ(cases, 5);
  EXPECT_EQ(dtb_cases, 2);
  EXPECT_EQ(rim_cases, 3);
  EXPECT_EQ(endorsement_cases, 1);
}

// ---------------------------------------------------------------------------
// spec-vmm §12 G9 and G10.

TEST(CloudHvSpecVectorsTest, G9NoKernel) {
  Built b = BuildW52({});
  ASSERT_TRUE(b.status.ok()) << b.status;
  EXPECT_EQ(RimHex(b),
            "68997ae9ffe810a2ff76a0394830bd08d8aeec84849fb6e3a27e811fd42b06f3"
            "7ba1932b5b6b71f7eb2707780802123374011f77265e21638ac1a8c6304b4264");
  // Layout: RIPAS 0x4000_0000-0x5fff_ffff, DTB only, PC 0x4040_0000.
  EXPECT_EQ(b.config.ram(),
            (std::map<uint64_t, uint64_t>{{0x40000000, 0x20000000}}));
  ASSERT_EQ(b.config.rim_blobs().size(), 1u);
  EXPECT_EQ(b.config.rim_blobs().begin()->first, 0x40000000u);
  EXPECT_EQ(b.config.dtb_address(), std::optional<uint64_t>(0x40000000));
  ASSERT_TRUE(b.config.rec().has_value());
  EXPECT_EQ(b.config.rec()->pc, 0x40400000u);
  EXPECT_EQ(b.config.rec()->gprs,
            (std::array<uint64_t, 8>{0x40000000, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(b.config.caps().ipa_bits, std::optional<uint8_t>(48));
  EXPECT_EQ(b.config.hash_algorithm(),
            std::optional<HashAlgorithm>(HashAlgorithm::kSha512));
  EXPECT_TRUE(b.config.rim_unmeasured().empty());
  EXPECT_TRUE(b.config.rem_blobs().empty());
}

TEST(CloudHvSpecVectorsTest, G10EverythingAtOnce) {
  VmmInputs in;
  in.kernel = kLinuxBin;
  in.initrd = test::WriteTmpFile("initrd-g10", "INITRD CONTENT");
  Built b = BuildW52(
      {"--kernel", "x", "--initramfs", "y", "--cmdline", "console=hvc0",
       "--cpus", "boot=2,max=4", "--memory", "size=1G,shared=on", "--serial",
       "off", "--platform", "arm_rme=on,measurement_algo=sha256", "-v", "--net",
       "fd=3,mac=", "--console", "tty"},
      in);
  ASSERT_TRUE(b.status.ok()) << b.status;
  EXPECT_EQ(RimHex(b),
            "b598e688a4734adde4fb4281728e8c2af2d5e424a34820fa1e7a5638f66c4d54" +
                std::string(64, '0'));
  EXPECT_EQ(b.config.warnings(),
            (std::vector<std::string>{"ignored --cpus parameter max",
                                      "ignored --memory parameter shared"}));
  std::vector<uint64_t> starts;
  for (const auto& [start, blob] : b.config.rim_blobs())
    starts.push_back(start);
  // DTB, kernel (linux.bin has text_offset 0), initrd at the last page.
  EXPECT_EQ(starts,
            (std::vector<uint64_t>{0x40000000, 0x40400000, 0x7ffff000}));
  ASSERT_TRUE(b.config.dtb().has_value());
  EXPECT_EQ(Sha256Hex(*b.config.dtb()),
            "eec3f23cddd38b89276dd87149939bbed69c356f8a99e4cab00e0c2d66133685");
}

// ---------------------------------------------------------------------------
// Arguments: accepted, ignored, rejected.

TEST(CloudHvArgsTest, IgnoredArgumentsDoNotChangeTheRealm) {
  const std::string plain = RimHex(BuildW52({}));
  Built b = BuildW52({"--memory-zone",
                      "id=a",
                      "--memory-zone=id=b",
                      "--rate-limit-group",
                      "x",
                      "--disk",
                      "path=a",
                      "--disk",
                      "path=b",
                      "--net",
                      "tap=",
                      "--rng",
                      "src=/dev/urandom",
                      "--balloon",
                      "size=0",
                      "--fs",
                      "tag=x",
                      "--pmem",
                      "file=x",
                      "--console",
                      "off",
                      "--device",
                      "path=x",
                      "--user-device",
                      "socket=x",
                      "--vdpa",
                      "path=x",
                      "--vsock",
                      "cid=3",
                      "--pvpanic",
                      "--numa",
                      "guest_numa_id=0",
                      "--pci-segment",
                      "pci_segment=1",
                      "--watchdog",
                      "--log-file",
                      "l",
                      "--api-socket",
                      "s",
                      "--event-monitor",
                      "e",
                      "--restore",
                      "r",
                      "--seccomp",
                      "false",
                      "--tpm",
                      "socket=t",
                      "-vv",
                      "-v",
                      "--dtb",
                      "x.dtb",
                      "--serial",
                      "tty",
                      "--platform",
                      "arm_rme=on,num_pci_segments=1"});
  ASSERT_TRUE(b.status.ok()) << b.status;
  EXPECT_TRUE(b.config.warnings().empty());
  EXPECT_EQ(RimHex(b), plain);
}

TEST(CloudHvArgsTest, FirmwareAndGlobalDtbAreIgnoredWithAWarning) {
  const std::string plain = RimHex(BuildW52({}));
  VmmInputs in;
  in.dtb = "/nonexistent/a.dtb";
  in.dtb_template = "/nonexistent/b.dtb";
  in.firmware = "/nonexistent/fw";
  Built b = BuildW52({"--firmware", "CLOUDHV_EFI.fd"}, in);
  ASSERT_TRUE(b.status.ok()) << b.status;
  EXPECT_EQ(RimHex(b), plain);
  EXPECT_EQ(
      b.config.warnings(),
      (std::vector<std::string>{
          "--dtb is ignored by cloud-hv: the generated DTB is measured",
          "--dtb-template is ignored by cloud-hv: the generated DTB is "
          "measured",
          "cloud-hv --firmware is ignored: UEFI boot is not modelled, the "
          "measurements are those of a direct kernel boot"}));
}

TEST(CloudHvArgsTest, PlatformPersonalizationValue) {
  Built b = BuildW52({"--platform", "personalization_value=AQID"});
  ASSERT_TRUE(b.status.ok()) << b.status;
  Measurement want = {};
  want[0] = 1;
  want[1] = 2;
  want[2] = 3;
  EXPECT_EQ(b.config.personalization_value(), want);
  // The RPV is not measured (spec-vmm §1.2).
  EXPECT_EQ(RimHex(b), RimHex(BuildW52({})));
}

TEST(CloudHvArgsTest, LaterItemsWin) {
  Built b =
      BuildW52({"--platform", "measurement_algo=sha256,measurement_algo=sha512",
                "--cpus", "boot=3,boot=2", "--memory", "size=64M,size=1G"});
  ASSERT_TRUE(b.status.ok()) << b.status;
  EXPECT_EQ(b.config.hash_algorithm(),
            std::optional<HashAlgorithm>(HashAlgorithm::kSha512));
  EXPECT_EQ(b.config.ram(),
            (std::map<uint64_t, uint64_t>{{0x40000000, uint64_t{1} << 30}}));
}

TEST(CloudHvArgsTest, GzipKernelIsDecompressed) {
  VmmInputs in;
  in.kernel = std::string(kInputs) + "Image-c.gz";
  Built b = BuildW52({"--kernel", "Image.gz"}, in);
  ASSERT_TRUE(b.status.ok()) << b.status;
  auto it = b.config.rim_blobs().find(0x40400000);
  ASSERT_NE(it, b.config.rim_blobs().end());
  // Decompressed on the fly from the file, never held in memory (issue 14).
  EXPECT_EQ(it->second.payload.bytes(), nullptr);
  EXPECT_EQ(*it->second.payload.Size(), 150003u);  // gen_inputs.py
  EXPECT_EQ(it->second.payload.Open()->file_identity().rfind("gzip:", 0), 0u);
}

struct ErrorCase {
  std::vector<std::string> args;
  const char* message;
};

TEST(CloudHvArgsTest, ModelErrorsHaveExactTexts) {
  const ErrorCase kCases[] = {
      {{"--cpus", "4"}, "malformed --cpu param 4"},
      {{"--cpus", "boot=x"}, "--cpus: invalid digit found in string"},
      {{"--cpus", "boot="}, "--cpus: cannot parse integer from empty string"},
      {{"--cpus", "boot=99999999999999999999"},
       "--cpus: number too large to fit in target type"},
      // Rust's usize::from_str: a lone '+' is a bad digit, and an overflow
      // before a bad digit is reported first.
      {{"--cpus", "boot=+"}, "--cpus: invalid digit found in string"},
      {{"--cpus", "boot=99999999999999999999x"},
       "--cpus: number too large to fit in target type"},
      {{"--cpus", "boot=0"},
       "invalid VM configuration: 0 vCPUs (expected 1 to 512)"},
      {{"--cpus", "boot=513"},
       "invalid VM configuration: 513 vCPUs (expected 1 to 512)"},
      {{"--memory", "1G"}, "malformed --memory param 1G"},
      {{"--memory", "size=1g"}, "--memory: invalid digit found in string"},
      {{"--memory", "size="},
       "--memory: cannot parse integer from empty string"},
      {{"--platform", ""}, "malformed --platform param "},
      {{"--platform", "arm_rme"}, "malformed --platform param arm_rme"},
      {{"--platform", "x\ty"}, "malformed --platform param x\\x09y"},
      {{"--platform", "measurement_algo=sha385"},
       "RMM: unknown hash algorithm `sha385`: unknown hash algorithm "
       "`sha385`"},
      {{"--platform", "personalization_value=!!!!"},
       "invalid Realm Personalization Value: Invalid symbol 33, offset 0."},
      {{"--platform", "personalization_value=" + std::string(88, 'A')},
       "Realm Personalization Value is too large"},
      // --platform is parsed before --cpus and --memory.
      {{"--memory", "x", "--cpus", "y", "--platform", "z"},
       "malformed --platform param z"},
      {{"--memory", "x", "--cpus", "y"}, "malformed --cpu param y"},
      {{"--kernel", "Image"},
       "need kernel image: cloud-hv --kernel loads the kernel image; give its "
       "file with the global -k FILE before the VMM name (e.g. -k Image)"},
      {{"--initramfs", "initrd"},
       "need initrd image: cloud-hv --initramfs loads the initrd image; give "
       "its file with the global -i FILE before the VMM name (e.g. -i "
       "initrd.cpio)"},
  };
  for (const ErrorCase& c : kCases) {
    SCOPED_TRACE(absl::StrJoin(c.args, " "));
    Built b = BuildW52(c.args);
    EXPECT_FALSE(IsUsageError(b.status));
    EXPECT_EQ(b.status.message(), c.message);
  }
}

// spec-rmm2 §2: --platform measurement_algo=sha384 selects SHA-384; only an
// RMM 2.0 realm accepts it.
TEST(CloudHvArgsTest, Sha384NeedsRmm2) {
  Built b = BuildW52({"--platform", "measurement_algo=sha384"});
  ASSERT_TRUE(b.status.ok()) << b.status;
  EXPECT_EQ(b.config.hash_algorithm(), HashAlgorithm::kSha384);
  absl::Status v = b.config.Validate();
  EXPECT_EQ(v.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      v.message(),
      "hash algorithm sha384 is not available in RMM 1.0 (RMI_HASH_SHA_384 "
      "exists from RMM 2.0 on: --rmm-version 2.0)");
  b.config.caps().rmm_version = RmmVersion::k2_0;
  EXPECT_TRUE(b.config.Validate().ok());
}

TEST(CloudHvArgsTest, PayloadFileErrors) {
  VmmInputs in;
  in.kernel = std::string(kInputs) + "notakernel.bin";
  in.initrd = "/nonexistent/initrd";
  Built b = BuildW52({"--kernel", "k"}, in);
  EXPECT_EQ(b.status.message(),
            absl::StrCat("file ", kInputs,
                         "notakernel.bin error: neither an arm64 Image (no "
                         "ARM\\x64 magic at 0x38) nor gzip (no 1f 8b magic "
                         "at 0)"));
  in.kernel = kLinuxBin;
  b = BuildW52({"--kernel", "k", "--initramfs", "i"}, in);
  EXPECT_EQ(b.status.message(),
            "file /nonexistent/initrd error: No such file or directory (os "
            "error 2)");
}

TEST(CloudHvArgsTest, UsageErrors) {
  const ErrorCase kCases[] = {
      {{"--verbose"}, "unexpected argument '--verbose' found"},
      {{"--landlock"}, "unexpected argument '--landlock' found"},
      {{"--debug-console", "x"}, "unexpected argument '--debug-console' found"},
      {{"--platform-config", "x"},
       "unexpected argument '--platform-config' found"},
      {{"-bios", "fw"}, "unexpected argument '-b' found"},
      {{"-vx"}, "unexpected argument '-x' found"},
      {{"Image"}, "unexpected argument 'Image' found"},
      // Echoed text stays on one line.
      {{"--a\nb"}, "unexpected argument '--a\\x0ab' found"},
      {{"-"}, "unexpected argument '-' found"},
      {{"--", "x"}, "unexpected argument 'x' found"},
      {{"--cpus", "boot=1", "--cpus", "boot=2"},
       "the argument '--cpus <CPUS>' cannot be used multiple times"},
      {{"--pvpanic", "--pvpanic"},
       "the argument '--pvpanic' cannot be used multiple times"},
      {{"--watchdog=yes"},
       "unexpected value 'yes' for '--watchdog' found; no more were "
       "expected"},
      {{"--memory"},
       "a value is required for '--memory <MEMORY>' but none was supplied"},
      {{"--cmdline", "-x"},
       "a value is required for '--cmdline <CMDLINE>' but none was supplied"},
      {{"--log-file", "--pvpanic"},
       "a value is required for '--log-file <LOG_FILE>' but none was "
       "supplied"},
  };
  for (const ErrorCase& c : kCases) {
    SCOPED_TRACE(absl::StrJoin(c.args, " "));
    Built b = BuildW52(c.args);
    EXPECT_TRUE(IsUsageError(b.status)) << b.status;
    EXPECT_EQ(b.status.message(), c.message);
  }
  // Attached values may start with '-'; a lone "-" is a value.
  Built b = BuildW52({"--cmdline=-x", "--console", "-"});
  EXPECT_TRUE(b.status.ok()) << b.status;
  // A trailing "--" ends the options.
  EXPECT_TRUE(BuildW52({"--"}).status.ok());
}

// ---------------------------------------------------------------------------
// Layouts the reference computes but no VMM would start (deviations.md).

TEST(CloudHvValidationTest, RejectedLayouts) {
  VmmInputs in;
  in.kernel = kLinuxBin;
  // RAM size 0.
  Built b = BuildW52({"--memory", "size=0"});
  ASSERT_TRUE(b.status.ok()) << b.status;
  EXPECT_EQ(b.config.Validate().message(),
            "invalid VM configuration: RAM range at 0x40000000 has size 0");
  // 4 MiB of RAM: the kernel at 0x4040_0000 is outside it.
  b = BuildW52({"--memory", "size=4M", "--kernel", "k"}, in);
  ASSERT_TRUE(b.status.ok()) << b.status;
  EXPECT_FALSE(b.config.Validate().ok());
  // An initrd larger than RAM wraps below the RAM base.
  in.initrd = kLinuxBin;  // 256 bytes
  b = BuildW52({"--memory", "size=0B", "--initramfs", "i"}, in);
  ASSERT_TRUE(b.status.ok()) << b.status;
  EXPECT_FALSE(b.config.Validate().ok());
  // Host IPA capability below the 48 bits the model needs.
  std::vector<std::string> argv =
      Split("--num-wps 6 --num-bps 6 --ipa-bits 40 --pmu-num-ctrs 6 cloud-hv");
  b = Build(argv, "");
  ASSERT_TRUE(b.status.ok()) << b.status;
  EXPECT_EQ(b.config.caps().ipa_bits, std::optional<uint8_t>(40));
  EXPECT_EQ(b.config.Validate().message(),
            "invalid VM configuration: IPA width 40 bits (after host "
            "capabilities) is too small: the VMM memory map needs 48 bits");
}

// ---------------------------------------------------------------------------
// docs/vmm-cloud-hv.md's argument table is the code's table.

TEST(CloudHvDocsTest, ArgumentTableMatchesTheCode) {
  const std::string doc = test::ReadFileText("docs/vmm-cloud-hv.md");
  ASSERT_FALSE(doc.empty());
  auto kind_name = [](cloud_hv::ArgKind k) {
    switch (k) {
      case cloud_hv::ArgKind::kValue:
        return "value";
      case cloud_hv::ArgKind::kList:
        return "list";
      case cloud_hv::ArgKind::kFlag:
        return "flag";
      case cloud_hv::ArgKind::kCount:
        return "count";
    }
    return "?";
  };
  auto use_name = [](cloud_hv::ArgUse u) {
    return u == cloud_hv::ArgUse::kSupported ? "supported" : "ignored";
  };
  std::map<std::string, std::pair<std::string, std::string>> documented;
  std::vector<std::string> rejected;
  for (absl::string_view line : absl::StrSplit(doc, '\n')) {
    if (!absl::StartsWith(line, "| `-")) continue;
    std::vector<std::string> cells = absl::StrSplit(line, " | ");
    ASSERT_GE(cells.size(), 3u) << line;
    std::string name(absl::StripPrefix(cells[0], "| `"));
    name = std::string(absl::StripSuffix(name, "`"));
    if (cells[2] == "rejected") {
      rejected.push_back(name);
      continue;
    }
    EXPECT_TRUE(
        documented.emplace(name, std::make_pair(cells[1], cells[2])).second)
        << "documented twice: " << name;
  }
  std::map<std::string, std::pair<std::string, std::string>> code;
  for (const cloud_hv::ArgSpec& a : cloud_hv::Arguments()) {
    code.emplace(a.name, std::make_pair(kind_name(a.kind), use_name(a.use)));
    EXPECT_NE(a.summary, nullptr) << a.name;
  }
  EXPECT_EQ(documented, code);
  EXPECT_GE(rejected.size(), 3u);
  for (const std::string& name : rejected) {
    SCOPED_TRACE(name);
    Built b = BuildW52({name, "x"});
    EXPECT_TRUE(IsUsageError(b.status)) << b.status;
  }
  // And every option the code accepts is accepted (with a value if needed).
  for (const cloud_hv::ArgSpec& a : cloud_hv::Arguments()) {
    SCOPED_TRACE(a.name);
    std::vector<std::string> args = {a.name};
    if (a.kind == cloud_hv::ArgKind::kValue ||
        a.kind == cloud_hv::ArgKind::kList) {
      args.push_back(a.use == cloud_hv::ArgUse::kSupported ? "boot=1" : "x");
    }
    if (std::string(a.name) == "--memory") args.back() = "size=1G";
    if (std::string(a.name) == "--platform") args.back() = "arm_rme=on";
    if (std::string(a.name) == "--kernel" ||
        std::string(a.name) == "--initramfs") {
      continue;  // need payloads; covered above
    }
    EXPECT_TRUE(BuildW52(args).status.ok()) << BuildW52(args).status;
  }
}

}  // namespace
}  // namespace realm_measurements::measure
