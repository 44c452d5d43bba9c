#include "measure/vmm/kvmtool.h"

#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/crypto.h"
#include "gtest/gtest.h"
#include "measure/host_caps.h"
#include "measure/realm_config.h"
#include "measure/vmm/vmm.h"
#include "measure/vmm/vmm_help.h"
#include "nlohmann/json.hpp"
#include "testing/dtc.h"
#include "testing/files.h"

namespace realm_measurements::measure {
namespace {

const char kInputs[] = "testdata/golden/inputs/";
const char kDtbs[] = "testdata/golden/";
const char kRef[] = "testdata/vectors/reference-testdata/";

std::string Sha256Hex(absl::Span<const uint8_t> data) {
  auto d = crypto::HashOnce(crypto::DigestAlgorithm::kSha256, data);
  EXPECT_TRUE(d.ok()) << d.status();
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(d->data()), d->size()));
}

uint32_t Be32At(const std::vector<uint8_t>& b, size_t o) {
  return uint32_t{b[o]} << 24 | uint32_t{b[o + 1]} << 16 |
         uint32_t{b[o + 2]} << 8 | b[o + 3];
}

// The strings block of an FDT as a list of names.
std::vector<std::string> StringsBlock(const std::vector<uint8_t>& dtb) {
  const uint32_t off = Be32At(dtb, 12), size = Be32At(dtb, 32);
  std::string block(dtb.begin() + off, dtb.begin() + off + size);
  std::vector<std::string> out = absl::StrSplit(block, '\0');
  out.pop_back();  // after the final NUL
  return out;
}

// Emulates the CLI's global options that matter to a VMM model: host caps
// (config files restrict, command-line values override) and payload paths.
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
  for (; i < argv.size() && argv[i] != "kvmtool"; ++i) {
    const std::string& a = argv[i];
    auto next = [&]() { return argv[++i]; };
    int n = 0;
    if (a == "-c") {
      std::string file = path(next());
      std::vector<uint8_t> text = test::ReadFileBytes(file);
      auto c = HostCaps::FromToml(std::string(text.begin(), text.end()), file);
      EXPECT_TRUE(c.ok()) << c.status();
      EXPECT_TRUE(inv.caps.Restrict(*c).ok());
    } else if (a == "--num-wps") {
      EXPECT_TRUE(absl::SimpleAtoi(next(), &n));
      overrides.num_wps = n;
    } else if (a == "--num-bps") {
      EXPECT_TRUE(absl::SimpleAtoi(next(), &n));
      overrides.num_bps = n;
    } else if (a == "--ipa-bits") {
      EXPECT_TRUE(absl::SimpleAtoi(next(), &n));
      overrides.ipa_bits = n;
    } else if (a == "--sve-vl") {
      EXPECT_TRUE(absl::SimpleAtoi(next(), &n));
      overrides.sve_vl = n;
    } else if (a == "--pmu-num-ctrs") {
      EXPECT_TRUE(absl::SimpleAtoi(next(), &n));
      overrides.pmu_num_ctrs = n;
    } else if (a == "--pmu") {
      overrides.pmu = next() == "true";
    } else if (a == "--lpa2") {
      overrides.lpa2 = next() == "true";
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
      EXPECT_TRUE(a == "--print-b64" || a == "--no-measurements") << a;
    }
  }
  EXPECT_TRUE(inv.caps.Update(overrides).ok());
  inv.vmm_args.assign(argv.begin() + i + 1, argv.end());
  return inv;
}

struct Built {
  absl::Status status;
  RealmConfig config{HostCaps()};
};

Built Build(const std::vector<std::string>& argv,
            const std::string& dir = kInputs) {
  Invocation inv = ParseGlobal(argv, dir);
  Built b;
  b.config = RealmConfig(inv.caps);
  b.status = BuildKvmtool(inv.inputs, inv.vmm_args, b.config);
  return b;
}

std::string RimHex(const RealmConfig& config) {
  absl::StatusOr<Measurements> m = ComputeMeasurements(config);
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return "";
  return ToHex(m->rim);
}

std::vector<std::string> Split(const std::string& s) {
  return absl::StrSplit(s, ' ', absl::SkipEmpty());
}

// ---------------------------------------------------------------------------
// Golden corpus: every kvmtool case.

TEST(KvmtoolGoldenTest, AllPublicKvmtoolCases) {
  std::vector<uint8_t> text =
      test::ReadFileBytes(std::string(kDtbs) + "cases-public.json");
  nlohmann::json corpus =
      nlohmann::json::parse(std::string(text.begin(), text.end()));
  int dtb_cases = 0, rim_cases = 0;
  for (const nlohmann::json& c : corpus["cases"]) {
    const std::vector<std::string> tags = c["tags"];
    if (std::find(tags.begin(), tags.end(), "kvmtool") == tags.end()) continue;
    const std::string id = c["id"];
    SCOPED_TRACE(id);
    Built b = Build(c["argv"].get<std::vector<std::string>>());
    const int exit_code = c["expected_exit_code"];
    const std::string stderr_text = c["expected_stderr"];
    const std::string kBuildPrefix = "ERROR Cannot build parameters: ";
    if (exit_code != 0 && stderr_text.rfind(kBuildPrefix, 0) == 0) {
      ASSERT_FALSE(b.status.ok());
      std::string want = stderr_text.substr(kBuildPrefix.size());
      want.pop_back();  // newline
      std::string mode = c.value("stderr_match", "exact");
      if (mode == "exact") {
        EXPECT_EQ(std::string(b.status.message()), want);
      } else {
        std::string prefix =
            mode.substr(mode.find(':') + 1 + kBuildPrefix.size());
        // The corpus runs in the input folder; here paths carry kInputs.
        std::string got(b.status.message());
        if (size_t p = got.find(kInputs); p != std::string::npos) {
          got.erase(p, sizeof(kInputs) - 1);
        }
        EXPECT_EQ(got.rfind(prefix, 0), 0u) << b.status;
      }
      continue;
    }
    ASSERT_TRUE(b.status.ok()) << b.status;
    ASSERT_TRUE(b.config.dtb().has_value());
    const std::vector<uint8_t>& dtb = *b.config.dtb();
    if (c.contains("expected_dtb_sha256")) {
      ++dtb_cases;
      EXPECT_EQ(dtb.size(), c["expected_dtb_size"].get<size_t>());
      EXPECT_EQ(Sha256Hex(dtb), c["expected_dtb_sha256"].get<std::string>());
      std::vector<uint8_t> recorded =
          test::ReadFileBytes(std::string(kDtbs) + "dtbs/" + id + ".dtb");
      EXPECT_EQ(dtb, recorded);
      if (test::HaveDtc()) test::DtcDecompile(dtb, id + ".dtb");
    }
    // The RIM line of stdout (hex mode only) checks the whole layout.
    const std::string out = c["expected_stdout"];
    if (out.rfind("RIM: ", 0) == 0 &&
        std::find(tags.begin(), tags.end(), "b64") == tags.end()) {
      ++rim_cases;
      ASSERT_TRUE(b.config.Validate().ok()) << b.config.Validate();
      EXPECT_EQ(RimHex(b.config), out.substr(5, 128));
    }
  }
  EXPECT_EQ(dtb_cases, 5);
  EXPECT_GE(rim_cases, 10);
}

// ---------------------------------------------------------------------------
// spec-vmm §12 vectors G1-G5 (DTB sha256 / totalsize) and Appendix A.3/A.4.

struct GVector {
  const char* id;
  const char* argv;
  const char* dtb_sha256;
  uint32_t totalsize;
  const char* rim;  // "" when the value depends on C2
};

// K = linux.bin, I = "INITRD CONTENT", F = "FW CONTENT" (paths resolved in
// the test's input folder below).
const GVector kGVectors[] = {
    {"G1", "--num-wps 6 --num-bps 6 kvmtool --realm -c 1 -m 512M",
     "ab6b78f0244b8a346ed9eb8e8b7560c59cd8f93a4a9f0a1cfbb7fcd1ed3a9c13", 3415,
     "998dfdf6401d69f73ed88ac53d62d5ea2cfac6320b887ce4599aa8671791d4d0"},
    {"G2",
     "--num-wps 6 --num-bps 6 kvmtool --realm -c 1 -m 512M --measurement-log",
     "e58ec832c8d1566c3f41223efd2ebde32e209cce23f5fe247074228301b15861", 3567,
     "66d1c6923b3d61f881ee602fac9b9078bfad997f75094a2d70427f6a0180824c"},
    {"G3", "--num-wps 6 --num-bps 6 kvmtool --realm -c 2 -m 64M",
     "34bb63f577247de0f9b29298c1374110bab98b592ddc61a75e97711139f9f172", 3507,
     "4da7eb435715ea86e3869dd773c4c6df90ebd76d874f529ccf020318fc236425"},
    {"G4",
     "--num-wps 6 --num-bps 6 --pmu true --pmu-num-ctrs 4 -k K -i I -f F "
     "kvmtool --realm -c 2 -m 1G -k x -i y -f z --firmware-address "
     "2281701376 -p earlycon --irqchip gicv3 --virtio-transport mmio --rng "
     "--balloon -d disk -n mode=none --pmu",
     "1d659d447929ab84022dfbca81dd324b061ed082ae17420c187ea4b3f3e875c5", 3844,
     "d8e52ea57e073a7d796294e288379f6ed38bb292138ae1be309c4e7e537a8c5a"},
    {"G5",
     "--num-wps 6 --num-bps 6 --dtb-template G4.dtb -k K -i I kvmtool -c 4 -m "
     "256M -k x -i y -p quiet",
     "638cd184fcb78b43812092c1df8182bc32060250082631bd4d76cbc15477ec4e", 4075,
     "f14744612f2e0046fd185301f4eedcccca0b847c489d2528b3ddf2de3ee28e9c"},
};

class KvmtoolSpecVectorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::TmpPath("g/");
    mkdir(dir_.c_str(), 0755);
    test::WriteTmpFile("g/K",
                       test::ReadFileBytes(std::string(kRef) + "linux.bin"));
    test::WriteTmpFile(
        "g/I", test::ReadFileBytes(std::string(kInputs) + "initrd-tiny"));
    test::WriteTmpFile("g/F",
                       test::ReadFileBytes(std::string(kInputs) + "fw-text"));
  }
  std::string dir_;
};

TEST_F(KvmtoolSpecVectorsTest, G1ToG5) {
  for (const GVector& g : kGVectors) {
    SCOPED_TRACE(g.id);
    Built b = Build(Split(g.argv), dir_);
    ASSERT_TRUE(b.status.ok()) << b.status;
    const std::vector<uint8_t>& dtb = *b.config.dtb();
    EXPECT_EQ(dtb.size(), 65536u);
    EXPECT_EQ(Be32At(dtb, 4), g.totalsize);
    EXPECT_EQ(Sha256Hex(dtb), g.dtb_sha256);
    if (test::HaveDtc()) test::DtcDecompile(dtb, absl::StrCat(g.id, ".dtb"));
    if (*g.rim != '\0') {
      ASSERT_TRUE(b.config.Validate().ok()) << b.config.Validate();
      EXPECT_EQ(RimHex(b.config).substr(0, 64), g.rim);
    }
    // G5 patches G4's output.
    test::WriteTmpFile(absl::StrCat("g/", g.id, ".dtb"), dtb);
  }
}

TEST_F(KvmtoolSpecVectorsTest, G4PlacementAndStringOrder) {
  Built b = Build(Split(kGVectors[3].argv), dir_);
  ASSERT_TRUE(b.status.ok()) << b.status;
  const RealmConfig& c = b.config;
  // spec-vmm §12 G4 layout.
  ASSERT_EQ(c.ram().size(), 1u);
  EXPECT_EQ(c.ram().begin()->first, 0x80000000u);
  EXPECT_EQ(c.ram().begin()->second, 0x40000000u);
  std::map<std::string, uint64_t> at;
  for (const auto& [start, blob] : c.rim_blobs()) at[blob.name] = start;
  EXPECT_EQ(at["kernel"], 0x80000000u);
  EXPECT_EQ(at["firmware"], 0x88000000u);
  EXPECT_EQ(at["initrd"], 0x8fdffff0u);
  EXPECT_EQ(at["dtb"], 0x8fe00000u);
  EXPECT_EQ(c.rim_blobs().at(0x80000000).load_size, 0x2d10000u);
  EXPECT_EQ(c.dtb_address(), 0x8fe00000u);
  ASSERT_TRUE(c.rec().has_value());
  EXPECT_EQ(c.rec()->pc, 0x88000000u);  // firmware wins
  EXPECT_EQ(c.rec()->gprs[0], 0x8fe00000u);
  for (int i = 1; i < 8; ++i) EXPECT_EQ(c.rec()->gprs[i], 0u);
  EXPECT_EQ(c.caps().pmu, true);
  EXPECT_EQ(c.caps().pmu_num_ctrs, 4);
  EXPECT_EQ(c.caps().ipa_bits, 33);  // C2: bit_width(0xbfffffff) + 1
  EXPECT_EQ(c.hash_algorithm(), HashAlgorithm::kSha256);
  // spec-vmm §3.3: kernel+initrd+firmware, ITS off, PMU on, 3 virtio-mmio.
  const std::vector<std::string> want = {"compatible",
                                         "model",
                                         "#address-cells",
                                         "#size-cells",
                                         "interrupt-parent",
                                         "bootargs",
                                         "linux,initrd-start",
                                         "linux,initrd-end",
                                         "device_type",
                                         "reg",
                                         "enable-method",
                                         "cpu_on",
                                         "cpu_off",
                                         "method",
                                         "#interrupt-cells",
                                         "interrupt-controller",
                                         "phandle",
                                         "ranges",
                                         "interrupts",
                                         "always-on",
                                         "clock-frequency",
                                         "dma-coherent",
                                         "bus-range",
                                         "interrupt-map",
                                         "interrupt-map-mask"};
  EXPECT_EQ(StringsBlock(*c.dtb()), want);
  EXPECT_EQ(Be32At(*c.dtb(), 32), 304u);
  if (test::HaveDtc()) {
    std::string dts = test::DtcDecompile(*c.dtb(), "G4-strings.dtb");
    EXPECT_NE(
        dts.find("bootargs = \" console=hvc0 root=/dev/vda rw  earlycon\""),
        std::string::npos)
        << dts;
    EXPECT_NE(dts.find("virtio@3000400"), std::string::npos);
    EXPECT_EQ(dts.find("virtio@3000600"), std::string::npos);
    EXPECT_EQ(dts.find("msic"), std::string::npos);
    EXPECT_EQ(dts.find("msi-map"), std::string::npos);
    EXPECT_NE(dts.find("linux,initrd-start = <0x00 0x8fdffff0>"),
              std::string::npos);
    EXPECT_NE(dts.find("linux,initrd-end = <0x00 0x8fdffffe>"),
              std::string::npos);
  }
}

TEST_F(KvmtoolSpecVectorsTest, AppendixA3AndA4) {
  {
    Built b = Build(Split("--num-wps 6 --num-bps 6 kvmtool --realm -c 1 -m "
                          "512M --debug --debug-single-step --debug-mmio "
                          "--force-pci --no-pvtime --vcpu-affinity AFF "
                          "--disable-mte"),
                    dir_);
    ASSERT_TRUE(b.status.ok()) << b.status;
    EXPECT_EQ(b.config.rec()->pc, 0u);
    EXPECT_EQ(b.config.rec()->gprs[0], 0x8fe00000u);
    EXPECT_EQ(
        Sha256Hex(*b.config.dtb()),
        "ab6b78f0244b8a346ed9eb8e8b7560c59cd8f93a4a9f0a1cfbb7fcd1ed3a9c13");
    EXPECT_EQ(
        RimHex(b.config).substr(0, 64),
        "998dfdf6401d69f73ed88ac53d62d5ea2cfac6320b887ce4599aa8671791d4d0");
  }
  {
    Built b = Build(Split("--num-wps 6 --num-bps 6 -f F kvmtool --realm "
                          "--firmware firmware -c 1 -m 512M"),
                    dir_);
    ASSERT_TRUE(b.status.ok()) << b.status;
    EXPECT_EQ(b.config.rec()->pc, 0x80000000u);
    EXPECT_EQ(b.config.rim_blobs().count(0x80000000), 1u);
    EXPECT_EQ(
        RimHex(b.config).substr(0, 64),
        "cf37146fce0ad50e1be1a04580c1024e5449b430b0dd96b6ef5c9a2b73767bf5");
    EXPECT_EQ(b.config.warnings(),
              (std::vector<std::string>{
                  "kvmtool --firmware: the REMs the firmware extends as it "
                  "boots are not modelled; REM0-REM3 are their values before "
                  "it runs (zero): take them from the realm's event log "
                  "(eventlog replay)"}));
  }
}

TEST_F(KvmtoolSpecVectorsTest, TextOffsetMovesTheBlobNotThePc) {
  // Image-b-textoff: text_offset 0x80000, image_size 0x2000000 (gen_inputs).
  test::WriteTmpFile(
      "g/Kb", test::ReadFileBytes(std::string(kInputs) + "Image-b-textoff"));
  Built b = Build(Split("-k Kb kvmtool -c 1 -m 256M -k x"), dir_);
  ASSERT_TRUE(b.status.ok()) << b.status;
  ASSERT_EQ(b.config.rim_blobs().count(0x80080000), 1u);
  EXPECT_EQ(b.config.rim_blobs().at(0x80080000).load_size, 0x2000000u);
  EXPECT_EQ(b.config.rec()->pc, 0x80000000u);  // spec-vmm §5.5
  // A gzip kernel is measured decompressed, streamed from the file (never
  // held in memory, issue 14).
  test::WriteTmpFile("g/Kc",
                     test::ReadFileBytes(std::string(kInputs) + "Image-c.gz"));
  b = Build(Split("-k Kc kvmtool -c 1 -m 256M -k x"), dir_);
  ASSERT_TRUE(b.status.ok()) << b.status;
  const Payload& k = b.config.rim_blobs().at(0x80000000).payload;
  EXPECT_EQ(k.bytes(), nullptr);
  EXPECT_EQ(*k.Size(), 150003u);
  EXPECT_EQ(k.Open()->file_identity().rfind("gzip:", 0), 0u);
}

TEST_F(KvmtoolSpecVectorsTest, EmptyInitrdHasNoDtbProperties) {
  test::WriteTmpFile("g/empty", absl::string_view());
  Built b = Build(Split("-i empty kvmtool -c 1 -m 256M -i x"), dir_);
  ASSERT_TRUE(b.status.ok()) << b.status;
  // align_up(0x8fe00000 - 4, 4)
  EXPECT_EQ(b.config.rim_blobs().count(0x8fdffffc), 1u);
  std::vector<std::string> names = StringsBlock(*b.config.dtb());
  EXPECT_EQ(std::find(names.begin(), names.end(), "linux,initrd-start"),
            names.end());
  // initrd-small.cpio (12345 bytes): align_up(0x8fe00000 - 12349, 4).
  test::WriteTmpFile(
      "g/Is", test::ReadFileBytes(std::string(kInputs) + "initrd-small.cpio"));
  b = Build(Split("-i Is kvmtool -c 1 -m 256M -i x"), dir_);
  ASSERT_TRUE(b.status.ok()) << b.status;
  EXPECT_EQ(b.config.rim_blobs().count(0x8fdfcfc4), 1u);
  if (test::HaveDtc()) {
    std::string dts = test::DtcDecompile(*b.config.dtb(), "initrd.dtb");
    EXPECT_NE(dts.find("linux,initrd-start = <0x00 0x8fdfcfc4>"),
              std::string::npos);
    EXPECT_NE(dts.find("linux,initrd-end = <0x00 0x8fdffffd>"),
              std::string::npos);
  }
}

TEST_F(KvmtoolSpecVectorsTest, MeasurementLogPlacement) {
  Built b = Build(Split("--num-wps 6 --num-bps 6 kvmtool -c 1 -m 512M "
                        "--measurement-log"),
                  dir_);
  ASSERT_TRUE(b.status.ok()) << b.status;
  ASSERT_EQ(b.config.rim_unmeasured().size(), 1u);
  EXPECT_EQ(b.config.rim_unmeasured()[0].base, 0x8fff0000u);
  EXPECT_EQ(b.config.rim_unmeasured()[0].size, 0x10000u);
  EXPECT_EQ(b.config.dtb_address(), 0x8fe00000u);
  if (test::HaveDtc()) {
    std::string dts = test::DtcDecompile(*b.config.dtb(), "log.dtb");
    EXPECT_NE(dts.find("event-log@8fff0000"), std::string::npos) << dts;
  }
  // 64 MiB: the lowmem top is the RAM end; the log then the DTB below it.
  b = Build(Split("--num-wps 6 --num-bps 6 kvmtool -c 1 -m 64M "
                  "--measurement-log"),
            dir_);
  ASSERT_TRUE(b.status.ok()) << b.status;
  EXPECT_EQ(b.config.rim_unmeasured()[0].base, 0x83ff0000u);
  EXPECT_EQ(b.config.dtb_address(), 0x83e00000u);
}

TEST_F(KvmtoolSpecVectorsTest, IpaWidthC2) {
  struct {
    const char* mem;
    uint8_t ipa;
  } cases[] = {{"64M", 33},   {"2G", 33},  {"2050M", 34}, {"6G", 34},
               {"6146M", 35}, {"14G", 35}, {"16G", 36}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.mem);
    Built b = Build(Split(absl::StrCat("kvmtool -c 1 -m ", c.mem)), dir_);
    ASSERT_TRUE(b.status.ok()) << b.status;
    EXPECT_EQ(b.config.caps().ipa_bits, c.ipa);
    EXPECT_EQ(b.config.required_ipa_bits(), c.ipa);
  }
  // A smaller platform value wins the restriction (spec-vmm §14.3).
  Built b = Build(Split("--ipa-bits 40 kvmtool -c 1 -m 512M"), dir_);
  EXPECT_EQ(b.config.caps().ipa_bits, 33);
  b = Build(Split("--ipa-bits 30 kvmtool -c 1 -m 512M"), dir_);
  EXPECT_EQ(b.config.caps().ipa_bits, 30);
}

TEST_F(KvmtoolSpecVectorsTest, VirtioMmioCounting) {
  struct {
    const char* args;
    int devices;
  } cases[] = {
      {"--virtio-transport mmio", 1},  // the default NIC
      {"--virtio-transport mmio -n mode=none", 0},
      {"--virtio-transport mmio -n mode=user", 2},
      {"--virtio-transport mmio -n mode=user -n mode=none", 0},
      {"--virtio-transport mmio --console virtio --console-x", -1},
      {"--virtio-transport mmio --console serial", 1},
      {"--virtio-transport=mmio --disk a -d b --9p x --9p y --vsock 3 "
       "--balloon --rng --console virtio",
       9},
      {"--virtio-transport pci --disk a --rng", 0},
      {"--disk a --rng -n mode=user", 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args);
    Built b = Build(Split(absl::StrCat("kvmtool -c 1 -m 256M ", c.args)), dir_);
    if (c.devices < 0) {
      EXPECT_TRUE(IsUsageError(b.status)) << b.status;
      continue;
    }
    ASSERT_TRUE(b.status.ok()) << b.status;
    if (!test::HaveDtc()) continue;
    std::string dts = test::DtcDecompile(*b.config.dtb(), "virtio.dtb");
    int found = 0;
    for (size_t p = dts.find("virtio@"); p != std::string::npos;
         p = dts.find("virtio@", p + 1)) {
      ++found;
    }
    EXPECT_EQ(found, c.devices);
  }
}

TEST_F(KvmtoolSpecVectorsTest, ItsAndBootargs) {
  Built b = Build(Split("kvmtool -c 2 -m 256M"), dir_);
  ASSERT_TRUE(b.status.ok()) << b.status;
  if (test::HaveDtc()) {
    std::string dts = test::DtcDecompile(*b.config.dtb(), "its.dtb");
    EXPECT_NE(dts.find("msic {"), std::string::npos) << dts;
    // R = 0x3fff0000 - 2 * 0x20000; ITS just below it.
    EXPECT_NE(dts.find("reg = <0x00 0x3fff0000 0x00 0x10000 0x00 0x3ffb0000 "
                       "0x00 0x40000>"),
              std::string::npos);
    EXPECT_NE(dts.find("reg = <0x00 0x3ff90000 0x00 0x20000>"),
              std::string::npos);
    EXPECT_NE(dts.find("msi-map = <0x00 0x02 0x00 0x10000>"),
              std::string::npos);
    EXPECT_NE(dts.find("bootargs = \" console=hvc0 root=/dev/vda rw \";"),
              std::string::npos);
    EXPECT_EQ(dts.find("linux,initrd-start"), std::string::npos);
    EXPECT_EQ(dts.find("pmu {"), std::string::npos);
  }
  // A platform PMU enables the node without --pmu (spec-vmm §14.5).
  b = Build(Split("--pmu true kvmtool -c 1 -m 256M -p a=b"), dir_);
  ASSERT_TRUE(b.status.ok()) << b.status;
  if (test::HaveDtc()) {
    std::string dts = test::DtcDecompile(*b.config.dtb(), "pmu.dtb");
    EXPECT_NE(dts.find("pmu {"), std::string::npos);
    EXPECT_NE(dts.find("bootargs = \" console=hvc0 root=/dev/vda rw  a=b\";"),
              std::string::npos);
  }
}

TEST_F(KvmtoolSpecVectorsTest, VerbatimDtbAndTemplate) {
  // --dtb: measured verbatim at its own length (here a golden DTB of
  // another VM: it is not patched).
  std::vector<uint8_t> blob =
      test::ReadFileBytes("testdata/golden/dtbs/kvm-k-i-4cpu-512M.dtb");
  ASSERT_GT(blob.size(), 40u);
  test::WriteTmpFile("g/blob", blob);
  Built b = Build(Split("--dtb blob kvmtool -c 1 -m 256M"), dir_);
  ASSERT_TRUE(b.status.ok()) << b.status;
  EXPECT_EQ(*b.config.dtb(), blob);
  EXPECT_EQ(b.config.rim_blobs().at(0x8fe00000).payload.bytes()->size(),
            blob.size());
  // ... but it must be a device tree (random bytes are refused).
  test::WriteTmpFile("g/random", test::ReadFileBytes(std::string(kInputs) +
                                                     "random-blob.dtb"));
  b = Build(Split("--dtb random kvmtool -c 1 -m 256M"), dir_);
  EXPECT_EQ(b.status.message(),
            absl::StrCat("--dtb ", dir_,
                         "random is not a device tree: bad magic 0xc67c6869 "
                         "at offset 0 (expected 0xd00dfeed)"));

  // --dtb-template of the kvmtool-like template: nodes rewritten.
  test::WriteTmpFile("g/t.dtb", test::ReadFileBytes(std::string(kInputs) +
                                                    "template-kvmtool.dtb"));
  b = Build(Split("--dtb-template t.dtb kvmtool -c 3 -m 256M --irqchip gicv3 "
                  "--measurement-log"),
            dir_);
  ASSERT_TRUE(b.status.ok()) << b.status;
  EXPECT_EQ(b.config.dtb()->size(), 65536u);
  if (test::HaveDtc()) {
    std::string dts = test::DtcDecompile(*b.config.dtb(), "tmpl.dtb");
    EXPECT_NE(dts.find("cpu@2"), std::string::npos) << dts;
    EXPECT_NE(dts.find("\"arm,arm-v8\""), std::string::npos);
    EXPECT_EQ(dts.find("msic"), std::string::npos);
    EXPECT_NE(dts.find("event-log@8fff0000"), std::string::npos);
    EXPECT_EQ(dts.find("pmu {"), std::string::npos);
    EXPECT_NE(dts.find("linux,initrd-start = <0x00 0x00>"), std::string::npos);
    EXPECT_NE(dts.find("reg = <0x00 0x80000000 0x00 0x10000000>"),
              std::string::npos);
    EXPECT_NE(dts.find("/memreserve/\t0x0000000080000000 0x0000000000001000;"),
              std::string::npos);
  }
  // Not a DTB.
  b = Build(Split("--dtb-template random kvmtool -c 1 -m 256M"), dir_);
  EXPECT_EQ(b.status.message().substr(0, 41),
            "while generating DTB: parsing: invalid ma");
}

// ---------------------------------------------------------------------------
// Errors.

TEST_F(KvmtoolSpecVectorsTest, BuildErrors) {
  struct {
    const char* argv;
    const char* message;
  } cases[] = {
      {"kvmtool --realm",
       "number of vCPUs is not known: give kvmtool's -c/--cpus, e.g. kvmtool "
       "--realm -c 2 -m 512M"},
      {"kvmtool --realm -c 1",
       "default guest RAM size is not known: give kvmtool's -m/--mem, e.g. "
       "kvmtool --realm -c 2 -m 512M"},
      {"kvmtool -c 1 -m 255", "RAM size must be aligned on 2MB"},
      {"kvmtool -c 1 -m 1g", "-m: invalid digit found in string"},
      {"kvmtool -c 1 -m G", "-m: cannot parse integer from empty string"},
      {"kvmtool -c 1 -m 512M@0x80000000", "unsupported RAM base change"},
      {"kvmtool -c 1 -m 99999999999999999999",
       "-m: number too large to fit in target type"},
      {"kvmtool -c 1 -m 256M --irqchip gicv2", "unsupported irqchip gicv2"},
      {"kvmtool -c 1 -m 256M --virtio-transport x",
       "unsupported virtio transport x"},
      {"kvmtool -c 1 -m 256M -n user", "malformed -n param user"},
      {"kvmtool -c 1 -m 256M -n mode=tap,trans=mmio",
       "unsupported virtio transport mismatch"},
      {"kvmtool -c 1 -m 256M -n trans=usb", "invalid transport usb"},
      {"kvmtool -c 1 -m 256M -k x",
       "need kernel image: kvmtool --kernel loads the kernel image; give its "
       "file with the global -k FILE before the VMM name (e.g. -k Image)"},
      {"kvmtool -c 1 -m 256M -i x",
       "need initrd image: kvmtool --initrd loads the initrd image; give its "
       "file with the global -i FILE before the VMM name (e.g. -i "
       "initrd.cpio)"},
      {"kvmtool -c 1 -m 256M -f x",
       "need firmware image: kvmtool --firmware loads the firmware image; give "
       "its file with the global -f FILE before the VMM name (e.g. -f "
       "QEMU_EFI.fd)"},
      {"-k K -f F kvmtool -c 1 -m 256M -k x -f y",
       "invalid VM configuration: duplicate blob at 2147483648"},
      {"-k missing kvmtool -c 1 -m 256M -k x",
       "file DIR/missing error: No such file or directory (os error 2)"},
      {"-i missing kvmtool -c 1 -m 256M -i x",
       "file DIR/missing error: No such file or directory (os error 2)"},
      {"kvmtool -c 1 -m 256M --measurement-algo sha385",
       "RMM: unknown hash algorithm `sha385`: unknown hash algorithm `sha385`"},
      {"kvmtool -c 1 -m 256M --pmu-counters 32",
       "invalid parameter PMU counters '32'"},
      {"kvmtool -c 1 -m 256M --sve-max-vl 100",
       "invalid parameter SVE vector length '100'"},
      {"kvmtool -c 1 -m 256M --realm-pv "
       "01234567890123456789012345678901234567890123456789012345678901234",
       "Realm Personalization Value is too large"},
      {"--dtb missing kvmtool -c 1 -m 256M",
       "while generating DTB: file DIR/missing error: No such file or "
       "directory (os error 2)"},
      {"kvmtool -c 0 -m 256M",
       "invalid VM configuration: 0 vCPUs (expected 1 to 4096)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.argv);
    Built b = Build(Split(c.argv), dir_);
    ASSERT_FALSE(b.status.ok());
    EXPECT_FALSE(IsUsageError(b.status)) << b.status;
    std::string want = c.message;
    if (size_t p = want.find("DIR/"); p != std::string::npos) {
      want.replace(p, 4, dir_);
    }
    EXPECT_EQ(std::string(b.status.message()), want);
  }
}

TEST_F(KvmtoolSpecVectorsTest, FlashIsACleanError) {
  Built b = Build(Split("kvmtool -c 1 -m 256M -F flash.img"), dir_);
  ASSERT_FALSE(b.status.ok());
  EXPECT_EQ(b.status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(std::string(b.status.message()).find("-F/--flash"),
            std::string::npos);
}

// spec-rmm2 §2: --measurement-algo sha384 selects SHA-384; only an RMM 2.0
// realm accepts it.
TEST_F(KvmtoolSpecVectorsTest, Sha384NeedsRmm2) {
  Built b =
      Build(Split("kvmtool -c 1 -m 256M --measurement-algo sha384"), dir_);
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

TEST_F(KvmtoolSpecVectorsTest, TooManyCpusForTheDtb) {
  Built b = Build(Split("kvmtool -c 1000 -m 256M"), dir_);
  ASSERT_FALSE(b.status.ok());
  EXPECT_EQ(std::string(b.status.message())
                .rfind("while generating DTB: generated DTB is too large (", 0),
            0u)
      << b.status;
  EXPECT_NE(std::string(b.status.message()).find(" > 65536)"),
            std::string::npos);
}

TEST_F(KvmtoolSpecVectorsTest, UsageErrors) {
  for (const char* argv :
       {"kvmtool --aarch32 -c 1 -m 256M", "kvmtool --restricted-mem -c 1",
        "kvmtool -c 1 -m 256M extra", "kvmtool --pmu --pmu -c 1 -m 256M",
        "kvmtool -c 1 -c 2 -m 256M", "kvmtool -c x -m 256M",
        "kvmtool -c -1 -m 256M", "kvmtool -c 1 -m",
        "kvmtool -c 1 -m 256M --pmu=true",
        "kvmtool -c 1 -m 256M --pmu-counters 300", "kvmtool -c 1 -m 256M -x",
        "kvmtool -c 1 -m 256M --firmware-address 0x1000",
        "kvmtool -c 1 -m 256M --sve-max-vl 70000", "kvmtool -c 1 -- -m 256M",
        "kvmtool -c 1 -m 256M --vsock -3"}) {
    SCOPED_TRACE(argv);
    Built b = Build(Split(argv), dir_);
    EXPECT_TRUE(IsUsageError(b.status)) << b.status;
  }
  // Accepted spellings.
  for (const char* argv :
       {"kvmtool -c1 -m256M", "kvmtool --cpus=1 --mem=256M",
        "kvmtool -c=1 -m 256M --restricted_mem --nodefaults --name x",
        "kvmtool -c +2 -m +256M --dtb x --tty 1 --dev d --hugetlbfs h "
        "--loglevel 3 --no-dhcp --vfio-pci a --vfio-pci b --debug-ioport "
        "--debug-iodelay 5 --realm --disable-sve --sve-max-vl 128"}) {
    SCOPED_TRACE(argv);
    Built b = Build(Split(argv), dir_);
    EXPECT_TRUE(b.status.ok()) << b.status;
  }
}

// ---------------------------------------------------------------------------
// The parser behaves as docs/vmm-kvmtool.md's table says (the table itself
// is rendered from the parser's table, checked by vmm_help_test).

// A valid command line (global options, then kvmtool's) without the
// option `skip`, plus `extra`.
std::vector<std::string> BaseArgs(absl::string_view skip,
                                  const std::vector<std::string>& extra) {
  // The host capabilities a measurement needs (as in G1-G5).
  std::vector<std::string> argv = {"--num-wps", "6", "--num-bps", "6",
                                   "kvmtool"};
  if (skip != "cpus") argv.insert(argv.end(), {"-c", "2"});
  if (skip != "mem") argv.insert(argv.end(), {"-m", "256M"});
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

std::string ValueFor(const kvmtool::ArgSpec& o) {
  return o.type == kvmtool::ArgType::kString ? "x" : "1";
}

TEST(KvmtoolDocsTest, EveryTableOptionIsAcceptedInEverySpelling) {
  for (const kvmtool::ArgSpec& o : kvmtool::Arguments()) {
    SCOPED_TRACE(o.long_name);
    const std::string long_opt = absl::StrCat("--", o.long_name);
    std::vector<std::vector<std::string>> spellings;
    if (o.kind == kvmtool::ArgKind::kFlag) {
      spellings.push_back({long_opt});
    } else {
      spellings.push_back({long_opt, ValueFor(o)});
      spellings.push_back({absl::StrCat(long_opt, "=", ValueFor(o))});
      if (o.short_name != 0) {
        const std::string s = absl::StrCat("-", std::string(1, o.short_name));
        spellings.push_back({s, ValueFor(o)});
        spellings.push_back({absl::StrCat(s, ValueFor(o))});
      }
    }
    for (const std::vector<std::string>& extra : spellings) {
      Built b = Build(BaseArgs(o.long_name, extra));
      // Model errors (a missing payload, an unsupported value) are fine
      // here; the grammar must accept the option.
      EXPECT_FALSE(IsUsageError(b.status))
          << absl::StrJoin(extra, " ") << ": " << b.status;
    }
    // At most once, except lists.
    std::vector<std::string> twice = spellings.front();
    twice.insert(twice.end(), spellings.front().begin(),
                 spellings.front().end());
    Built b = Build(BaseArgs(o.long_name, twice));
    EXPECT_EQ(IsUsageError(b.status), o.kind != kvmtool::ArgKind::kList)
        << b.status;
  }
}

TEST(KvmtoolDocsTest, IgnoredOptionsDoNotChangeTheRealm) {
  Built base = Build(BaseArgs("", {}));
  ASSERT_TRUE(base.status.ok()) << base.status;
  const std::string want = RimHex(base.config);
  ASSERT_FALSE(want.empty());
  int ignored = 0;
  for (const kvmtool::ArgSpec& o : kvmtool::Arguments()) {
    if (o.use != kvmtool::ArgUse::kIgnored) continue;
    SCOPED_TRACE(o.long_name);
    ++ignored;
    std::vector<std::string> extra = {absl::StrCat("--", o.long_name)};
    if (o.kind != kvmtool::ArgKind::kFlag) extra.push_back(ValueFor(o));
    Built b = Build(BaseArgs("", extra));
    ASSERT_TRUE(b.status.ok()) << b.status;
    EXPECT_EQ(RimHex(b.config), want);
    EXPECT_EQ(b.config.dtb(), base.config.dtb());
    // Type-checked all the same.
    if (o.type != kvmtool::ArgType::kString) {
      extra.back() = "x";
      EXPECT_TRUE(IsUsageError(Build(BaseArgs("", extra)).status));
    }
  }
  EXPECT_GT(ignored, 10);
}

TEST(KvmtoolDocsTest, RejectedOptionsFail) {
  int rejected = 0;
  for (const kvmtool::ArgSpec& o : kvmtool::Arguments()) {
    if (o.use != kvmtool::ArgUse::kRejected) continue;
    SCOPED_TRACE(o.long_name);
    ++rejected;
    Built b = Build(BaseArgs("", {absl::StrCat("--", o.long_name), "x"}));
    EXPECT_EQ(b.status.code(), absl::StatusCode::kUnimplemented) << b.status;
  }
  EXPECT_EQ(rejected, 1);  // -F/--flash
  for (const char* name : KvmtoolRejectedExamples()) {
    SCOPED_TRACE(name);
    for (const kvmtool::ArgSpec& o : kvmtool::Arguments()) {
      EXPECT_NE(absl::StrCat("--", o.long_name), name);
    }
    Built b = Build(BaseArgs("", {name}));
    EXPECT_TRUE(IsUsageError(b.status)) << b.status;
    EXPECT_TRUE(absl::StartsWith(b.status.message(), "unexpected argument '"))
        << b.status;
  }
}

TEST(KvmtoolDtbGeneratorTest, EventLogModuleDefaults) {
  // spec-vmm §2.3: RAM base 0x8000_0000, ITS off, PCI, no bootargs.
  KvmtoolDtbGenerator g;
  g.set_mem_size(0x20000000);
  absl::StatusOr<std::vector<uint8_t>> dtb = g.GenDtb();
  ASSERT_TRUE(dtb.ok()) << dtb.status();
  std::vector<std::string> names = StringsBlock(*dtb);
  EXPECT_EQ(std::find(names.begin(), names.end(), "bootargs"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "msi-map"), names.end());
  if (test::HaveDtc()) {
    std::string dts = test::DtcDecompile(*dtb, "defaults.dtb");
    EXPECT_NE(dts.find("memory@80000000"), std::string::npos);
    EXPECT_EQ(dts.find("msic"), std::string::npos);
  }
}

TEST(KvmtoolDtcTest, DtcPresent) {
  if (!test::HaveDtc())
    GTEST_SKIP() << "/usr/bin/dtc not installed: DTBs not "
                    "cross-checked with dtc";
  SUCCEED();
}

}  // namespace
}  // namespace realm_measurements::measure
