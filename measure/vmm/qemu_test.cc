#include "measure/vmm/qemu.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "base/crypto.h"
#include "gtest/gtest.h"
#include "measure/engine.h"
#include "measure/gzip_bomb_testing.h"
#include "measure/host_caps.h"
#include "measure/realm_config.h"
#include "measure/vmm/qemu_args.h"
#include "measure/vmm/vmm.h"
#include "nlohmann/json.hpp"
#include "testing/dtc.h"
#include "testing/files.h"

namespace realm_measurements::measure {
namespace {

const char kInputs[] = "testdata/golden/inputs/";
const char kGolden[] = "testdata/golden/";
const char kLinuxBin[] = "testdata/vectors/reference-testdata/linux.bin";

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string Sha256Hex(absl::Span<const uint8_t> data) {
  auto d = crypto::HashOnce(crypto::DigestAlgorithm::kSha256, data);
  EXPECT_TRUE(d.ok()) << d.status();
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(d->data()), d->size()));
}

// The real dtc must accept the blob.
void ExpectDtcParses(const std::vector<uint8_t>& dtb, const std::string& name) {
  test::DtcDecompile(dtb, name + ".dtb");
}

// The CLI's global options that reach a VMM model (config files restrict,
// command-line values then override; payload paths).
struct ModelRun {
  absl::Status status;
  RealmConfig config{HostCaps()};
  bool skip = false;  // uses CLI features outside the model
};

ModelRun Build(const std::vector<std::string>& argv,
               const std::string& dir = kInputs) {
  ModelRun r;
  HostCaps caps, cli;
  VmmInputs inputs;
  size_t i = 0;
  for (; i < argv.size() && argv[i] != "qemu"; ++i) {
    const std::string& a = argv[i];
    auto next = [&]() -> std::string {
      return i + 1 < argv.size() ? argv[++i] : std::string();
    };
    auto num = [&]() {
      int n = -1;
      EXPECT_TRUE(absl::SimpleAtoi(next(), &n)) << a;
      return n;
    };
    if (a == "-c") {
      const std::string file = dir + next();
      std::vector<uint8_t> text = ReadFile(file);
      auto c = HostCaps::FromToml(std::string(text.begin(), text.end()), file);
      EXPECT_TRUE(c.ok()) << c.status();
      if (c.ok()) {
        EXPECT_TRUE(caps.Restrict(*c).ok());
      }
    } else if (a == "--num-wps") {
      cli.num_wps = num();
    } else if (a == "--num-bps") {
      cli.num_bps = num();
    } else if (a == "--ipa-bits") {
      cli.ipa_bits = num();
    } else if (a == "--sve-vl") {
      cli.sve_vl = num();
    } else if (a == "--pmu-num-ctrs") {
      cli.pmu_num_ctrs = num();
    } else if (a == "--pmu") {
      cli.pmu = next() == "true";
    } else if (a == "--rmm-version") {
      absl::StatusOr<RmmVersion> v = ParseRmmVersion(next());
      EXPECT_TRUE(v.ok()) << v.status();
      if (v.ok()) cli.rmm_version = *v;
    } else if (a == "-k") {
      inputs.kernel = dir + next();
    } else if (a == "-i") {
      inputs.initrd = dir + next();
    } else if (a == "-f") {
      inputs.firmware = dir + next();
    } else if (a == "--dtb") {
      inputs.dtb = dir + next();
    } else if (a == "--dtb-template") {
      inputs.dtb_template = dir + next();
    } else if (a == "--output-dtb") {
      next();
    } else {
      r.skip = true;
      if (a != "--print-b64" && a != "--no-measurements") next();
    }
  }
  EXPECT_TRUE(caps.Update(cli).ok());
  r.config = RealmConfig(caps);
  std::vector<std::string> vmm(argv.begin() + std::min(i + 1, argv.size()),
                               argv.end());
  r.status = BuildQemu(inputs, vmm, r.config);
  if (r.status.ok()) r.status = r.config.Validate();
  return r;
}

std::vector<std::string> Words(const std::string& s) {
  return absl::StrSplit(s, ' ', absl::SkipEmpty());
}

ModelRun BuildWords(const std::string& s, const std::string& dir = kInputs) {
  return Build(Words(s), dir);
}

std::string Hex(const Measurement& m, HashAlgorithm a) {
  return ToHex(m).substr(0, 2 * HashSize(a));
}

struct Result {
  std::string rim;
  std::string rem0;
};

Result Measure(const ModelRun& r) {
  EXPECT_TRUE(r.status.ok()) << r.status;
  if (!r.status.ok()) return {};
  absl::StatusOr<Measurements> m = ComputeMeasurements(r.config);
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return {};
  EXPECT_TRUE(r.config.warnings().empty())
      << "unexpected warning: " << r.config.warnings()[0];
  return {Hex(m->rim, m->hash_algorithm), Hex(m->rem[0], m->hash_algorithm)};
}

std::string DtbSha(const ModelRun& r) {
  if (!r.config.dtb().has_value()) return "";
  return Sha256Hex(*r.config.dtb());
}

// ---------------------------------------------------------------------------
// Memory map and topology (spec-vmm §6.7, §6.3, §11 unit tests).

TEST(QemuMemoryMap, ReferenceCases) {
  auto m = ComputeQemuMemoryMap(128ull << 20, 128ull << 20, 0);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->redist2, 0x4000000000u);
  EXPECT_EQ(m->ecam_hi, 0x4010000000u);
  EXPECT_EQ(m->mmio_hi, 0x8000000000u);
  EXPECT_EQ(m->ipa_bits, 41);

  m = ComputeQemuMemoryMap(2ull << 20, 1ull << 40, 0);  // size=2,maxmem=1T
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->redist2, 0x10080000000u);
  EXPECT_EQ(m->ecam_hi, 0x10090000000u);
  EXPECT_EQ(m->mmio_hi, 0x18000000000u);
  EXPECT_EQ(m->ipa_bits, 42);

  m = ComputeQemuMemoryMap(2ull << 20, 256ull << 40, 12);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->redist2, 0x1000380000000u);
  EXPECT_EQ(m->ecam_hi, 0x1000390000000u);
  EXPECT_EQ(m->mmio_hi, 0x1008000000000u);
  EXPECT_EQ(m->ipa_bits, 50);

  // RAM up to 255 GiB keeps the default high map.
  m = ComputeQemuMemoryMap(255ull << 30, 255ull << 30, 0);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->ipa_bits, 41);
}

TEST(QemuMemoryMap, RejectsOverflowAndShrinkingMaxmem) {
  EXPECT_EQ(ComputeQemuMemoryMap(2ull << 30, 1ull << 30, 0).status().message(),
            "-m: maxmem (1073741824) is smaller than the RAM size "
            "(2147483648)");
  EXPECT_FALSE(ComputeQemuMemoryMap(1ull << 63, 1ull << 63, 0).ok());
  EXPECT_FALSE(ComputeQemuMemoryMap(1 << 20, 1 << 20, ~0ull).ok());
  EXPECT_FALSE(ComputeQemuMemoryMap(1 << 20, ~0ull - (1ull << 40), 0).ok());
}

// The -m / -smp value parsers on their own (eventlog --dtb-qemu-m/-smp):
// the values the QEMU model takes, and its error texts.
TEST(QemuOptionValues, MemoryAndSmpParseAsTheModelDoes) {
  absl::StatusOr<QemuMemoryOption> m =
      ParseQemuMemoryOption("1G,maxmem=4G,slots=2");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->size, 1ull << 30);
  EXPECT_EQ(m->max_mem, 4ull << 30);
  EXPECT_EQ(m->slots, 2u);
  m = ParseQemuMemoryOption("maxmem=3G");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->size.has_value());
  EXPECT_FALSE(m->slots.has_value());
  EXPECT_EQ(ParseQemuMemoryOption("1G,share=on").status().message(),
            "unsupported -m parameter share");
  EXPECT_TRUE(absl::StartsWith(
      ParseQemuMemoryOption("1G,maxmem=x").status().message(), "-m maxmem: "));

  absl::StatusOr<QemuSmpSpec> smp = ParseQemuSmpOption("4,sockets=2");
  ASSERT_TRUE(smp.ok()) << smp.status();
  EXPECT_EQ(smp->cpus, 4u);
  EXPECT_EQ(smp->sockets, 2u);
  absl::StatusOr<QemuTopology> t = ResolveQemuTopology(*smp);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->num_cpus(), 4u);
  EXPECT_EQ(t->cores, 2u);
  // Without a callback an unknown key is an error; with one it is reported
  // and skipped, as the model warns.
  EXPECT_EQ(ParseQemuSmpOption("2,dies=1").status().message(),
            "unsupported -smp parameter dies");
  std::vector<std::string> unknown;
  smp = ParseQemuSmpOption(
      "2,dies=1", [&](absl::string_view k) { unknown.emplace_back(k); });
  ASSERT_TRUE(smp.ok()) << smp.status();
  EXPECT_EQ(unknown, std::vector<std::string>{"dies"});
  EXPECT_EQ(ParseQemuSmpOption("x").status().message(),
            "-smp cpus: invalid digit found in string");
}

std::string Topo(std::vector<std::string> smp) {
  // Through the model, as the options arrive.
  std::vector<std::string> args;
  for (const std::string& s : smp) args.insert(args.end(), {"-smp", s});
  HostCaps caps;
  RealmConfig config(caps);
  absl::Status s = BuildQemu(VmmInputs(), args, config);
  if (!s.ok()) return std::string(s.message());
  // The generated DTB has one cpu@ node per vCPU.
  const std::vector<uint8_t>& dtb = *config.dtb();
  std::string text(dtb.begin(), dtb.end());
  int n = 0;
  for (size_t p = 0; (p = text.find("cpu@", p)) != std::string::npos; ++p) ++n;
  return absl::StrCat(n);
}

TEST(QemuTopology, ReferenceCases) {
  EXPECT_EQ(Topo({}), "1");
  EXPECT_EQ(Topo({"4"}), "4");
  EXPECT_EQ(Topo({"cpus=4"}), "4");
  EXPECT_EQ(Topo({"cores=4"}), "4");
  EXPECT_EQ(Topo({"0"}), "1");
  EXPECT_EQ(Topo({"5,sockets=2"}), "4");  // no check n == cpus (14.10)
  EXPECT_EQ(Topo({"2,sockets=4"}), "invalid number of CPUs");
  EXPECT_EQ(Topo({"cpus=2,maxcpus=4"}), "-smp: expecting cpus == maxcpus");
  EXPECT_EQ(Topo({"sockets=0"}), "invalid number of CPUs");
  EXPECT_EQ(Topo({"sockets=4294967296,cores=4294967296"}),
            "invalid number of cores");
  EXPECT_EQ(Topo({"x"}), "-smp cpus: invalid digit found in string");
  // Rust's usize::from_str: an overflow before a bad digit is reported.
  EXPECT_EQ(Topo({"99999999999999999999x"}),
            "-smp cpus: number too large to fit in target type");
  EXPECT_EQ(Topo({"513"}),
            "invalid VM configuration: 513 vCPUs (QEMU virt supports at most "
            "512)");

  auto resolve = [](QemuSmpSpec s) {
    absl::StatusOr<QemuTopology> t = ResolveQemuTopology(s);
    EXPECT_TRUE(t.ok()) << t.status();
    return absl::StrCat(t->sockets, "/", t->clusters, "/", t->cores, "/",
                        t->threads);
  };
  QemuSmpSpec s;
  s.maxcpus = 4;
  EXPECT_EQ(resolve(s), "1/1/4/1");
  s = {};
  s.cores = 2;
  s.maxcpus = 8;
  EXPECT_EQ(resolve(s), "4/1/2/1");
  s = {};
  s.cores = 2;
  s.sockets = 2;
  s.maxcpus = 16;
  EXPECT_EQ(resolve(s), "2/1/2/4");
  s = {};
  s.threads = s.cores = s.sockets = s.clusters = 2;
  EXPECT_EQ(resolve(s), "2/2/2/2");
  // Cumulative: "-smp 12 -smp clusters=2,threads=2".
  s = {};
  s.cpus = 12;
  s.clusters = 2;
  s.threads = 2;
  EXPECT_EQ(resolve(s), "1/2/3/2");
  EXPECT_EQ(Topo({"12", "clusters=2,threads=2"}), "12");
}

std::string RamOf(const std::vector<std::string>& args) {
  RealmConfig config{HostCaps()};
  absl::Status s = BuildQemu(VmmInputs(), args, config);
  if (!s.ok()) return std::string(s.message());
  EXPECT_EQ(config.ram().size(), 1u);
  EXPECT_EQ(config.ram().begin()->first, qemu::kRamBase);
  return absl::StrCat(config.ram().begin()->second);
}

TEST(QemuMemoryOption, Parsing) {
  EXPECT_EQ(RamOf({}), absl::StrCat(128 << 20));
  EXPECT_EQ(RamOf({"-m", "1"}), absl::StrCat(1 << 20));
  EXPECT_EQ(RamOf({"-m", "512G"}), absl::StrCat(512ull << 30));
  EXPECT_EQ(RamOf({"-m", "size=2,slots=2"}), absl::StrCat(2 << 20));
  EXPECT_EQ(RamOf({"-m", "size=2,maxmem=1T"}), absl::StrCat(2 << 20));
  // Cumulative: later options update only their keys.
  EXPECT_EQ(RamOf({"-m", "size=4G,maxmem=8G", "-m", "slots=2"}),
            absl::StrCat(4ull << 30));
  EXPECT_EQ(RamOf({"-m", "1G", "-m", "maxmem=512M"}),
            "-m: maxmem (536870912) is smaller than the RAM size "
            "(1073741824)");
  EXPECT_EQ(RamOf({"-m", "1g"}), "-m: invalid digit found in string");
  EXPECT_EQ(RamOf({"-m", "size=1G,share=on"}),
            "unsupported -m parameter share");
  EXPECT_EQ(RamOf({"-m", "0"}), "invalid VM configuration: RAM size 0 (-m)");
  EXPECT_EQ(RamOf({"-m", "1G,slots=x"}),
            "-m slots: invalid digit found in string");
}

TEST(QemuModel, IpaRestrictFollowsTheMap) {
  RealmConfig config{HostCaps()};
  ASSERT_TRUE(
      BuildQemu(VmmInputs(), Words("-m size=2,maxmem=1T"), config).ok());
  EXPECT_EQ(config.caps().ipa_bits, std::optional<uint8_t>(42));
  EXPECT_EQ(config.required_ipa_bits(), std::optional<uint8_t>(42));
  HostCaps small;
  small.ipa_bits = 40;
  RealmConfig c2(small);
  ASSERT_TRUE(BuildQemu(VmmInputs(), {}, c2).ok());
  EXPECT_EQ(c2.caps().ipa_bits, std::optional<uint8_t>(40));  // 14.3
  EXPECT_FALSE(c2.Validate().ok());                           // deviations
}

// ---------------------------------------------------------------------------
// Argument semantics, errors and warnings (spec-vmm §6.1-§6.6).

std::string BuildError(const std::string& vmm_args, HostCaps caps = {}) {
  RealmConfig config(caps);
  absl::Status s = BuildQemu(VmmInputs(), Words(vmm_args), config);
  return s.ok() ? "ok" : std::string(s.message());
}

std::vector<std::string> Warnings(const std::string& vmm_args) {
  RealmConfig config{HostCaps()};
  absl::Status s = BuildQemu(VmmInputs(), Words(vmm_args), config);
  EXPECT_TRUE(s.ok()) << s;
  return config.warnings();
}

using Strs = std::vector<std::string>;

// spec-rmm2 §2: rme-guest measurement-algorithm=sha384 selects SHA-384; only
// an RMM 2.0 realm accepts it.
TEST(QemuModel, Sha384NeedsRmm2) {
  RealmConfig config{HostCaps()};
  ASSERT_TRUE(BuildQemu(VmmInputs(),
                        Words("-object rme-guest,measurement-algorithm=sha384"),
                        config)
                  .ok());
  EXPECT_EQ(config.hash_algorithm(), HashAlgorithm::kSha384);
  absl::Status v = config.Validate();
  EXPECT_EQ(v.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      v.message(),
      "hash algorithm sha384 is not available in RMM 1.0 (RMI_HASH_SHA_384 "
      "exists from RMM 2.0 on: --rmm-version 2.0)");
  config.caps().rmm_version = RmmVersion::k2_0;
  EXPECT_TRUE(config.Validate().ok());
}

TEST(QemuModel, Errors) {
  EXPECT_EQ(BuildError("-M virt,gic-version=2"), "unsupport GIC version 2");
  EXPECT_EQ(BuildError("-M virt,gic-version=4"), "unsupport GIC version 4");
  EXPECT_EQ(BuildError("-M virt-9.1"), "cannot parse virt-9.1");
  EXPECT_EQ(BuildError("-M virt,highmem=off"),
            "disabling highmem is not supported");
  EXPECT_EQ(BuildError("-M its=maybe"), "expected on/off/auto, got 'maybe'");
  EXPECT_EQ(BuildError("-cpu max"), "unsupported CPU max");
  EXPECT_EQ(BuildError("-cpu host,num-breakpoints=x"),
            "invalid digit found in string");
  EXPECT_EQ(BuildError("-cpu host,num-breakpoints=1"),
            "invalid parameter breakpoints '1'");
  EXPECT_EQ(BuildError("-cpu host,num-pmu-counters=32"),
            "invalid parameter PMU counters '32'");
  EXPECT_EQ(BuildError("-cpu sve-default-vector-length=64"),
            "invalid digit found in string");
  EXPECT_EQ(BuildError("-object rme-guest,shared-mec=on"),
            "unsupported rme-guest property 'shared-mec'");
  EXPECT_EQ(BuildError("-object rme-guest,measurement-log"),
            "cannot parse measurement-log");
  EXPECT_EQ(BuildError("-object rme-guest,measurement-algorithm=sha385"),
            "RMM: unknown hash algorithm `sha385`: unknown hash algorithm "
            "`sha385`");
  EXPECT_EQ(BuildError("-kernel Image"),
            "need kernel image: qemu -kernel loads the kernel image; give its "
            "file with the global -k FILE before the VMM name (e.g. -k Image)");
  EXPECT_EQ(
      BuildError("-bios fw"),
      "need firmware image: qemu -bios loads the firmware image; give its file "
      "with the global -f FILE before the VMM name (e.g. -f QEMU_EFI.fd)");
  EXPECT_EQ(BuildError("-smp"), "-smp needs a value");
  EXPECT_EQ(BuildError("-M"), "-machine needs a value");
  // -initrd without -kernel is ignored, even without a global -i.
  EXPECT_EQ(BuildError("-initrd x"), "ok");
  EXPECT_EQ(BuildError("-M virt,gic-version=host -M gic-version=max,virt"),
            "ok");
}

TEST(QemuModel, WarningsOnlyForIgnoredArguments) {
  EXPECT_EQ(Warnings("-M virt,confidential-guest-support=rme0 -enable-kvm "
                     "-nographic -nodefaults -drive file=x,,y,if=none "
                     "-netdev user,id=n0 -device virtio-net-pci,netdev=n0 "
                     "-chardev stdio,id=c -mon c -fsdev local,id=f -dtb x "
                     "-device virtconsole -object rme-guest,id=r"),
            Strs());
  EXPECT_EQ(
      Warnings("-device pc-dimm,id=d -object memory-backend-ram,id=m "
               "-M mte=on -cpu host,aarch64=on -smp 2,dies=1"),
      Strs({"ignored -device pc-dimm,id=d",
            "ignored -object memory-backend-ram",
            "ignored machine parameter mte", "ignored cpu parameter aarch64",
            "unsupported -smp parameter dies"}));
  // Unknown options do not consume their value (14.14).
  EXPECT_EQ(Warnings("-serial mon:stdio -m=1G --kernel=x"),
            Strs({"Parameter -serial ignored", "Parameter mon:stdio ignored",
                  "Parameter --kernel ignored", "Parameter x ignored"}));
}

// Every table entry behaves as docs/vmm-qemu.md says.
TEST(QemuModel, TableEntriesBehaveAsDocumented) {
  using qemu::OptionUse;
  for (const qemu::OptionInfo& o : qemu::QemuOptionTable()) {
    if (o.use == OptionUse::kSupported) continue;
    Strs args = {o.name};
    // A -device type that is not on the quiet list warns.
    if (o.takes_value) args.push_back("pc-dimm");
    RealmConfig config{HostCaps()};
    ASSERT_TRUE(BuildQemu(VmmInputs(), args, config).ok()) << o.name;
    EXPECT_EQ(config.warnings().empty(), o.use == OptionUse::kIgnored)
        << o.name;
  }
  const std::map<std::string, std::string> sample = {{"-m", "1G"},
                                                     {"-smp", "2"},
                                                     {"-object", "rme-guest"},
                                                     {"-machine", "virt"},
                                                     {"-cpu", "host"}};
  for (const qemu::SubOptionInfo& s : qemu::QemuSubOptionTable()) {
    if (*s.key == '\0' || s.use == OptionUse::kSupported) continue;
    const std::string key = std::string(s.key) == "*" ? "unknown-key" : s.key;
    const std::string value =
        absl::StrCat(sample.at(s.option), ",", key, "=off");
    RealmConfig config{HostCaps()};
    absl::Status st = BuildQemu(VmmInputs(), {s.option, value}, config);
    EXPECT_EQ(st.ok(), s.use != OptionUse::kRejected) << s.option << " " << key;
    if (st.ok()) {
      EXPECT_EQ(config.warnings().empty(), s.use == OptionUse::kIgnored)
          << s.option << " " << key;
    }
  }
}

TEST(QemuModel, CpuSveAndPmu) {
  auto caps_after = [](const std::string& args, HostCaps caps) {
    RealmConfig config(caps);
    absl::Status s = BuildQemu(VmmInputs(), Words(args), config);
    EXPECT_TRUE(s.ok()) << s;
    return config.caps();
  };
  HostCaps max;
  max.sve_vl = 2048;
  EXPECT_EQ(
      caps_after("-cpu host,sve=on,sve128=on,sve256=on,sve512=off", max).sve_vl,
      std::optional<uint16_t>(256));
  EXPECT_EQ(caps_after("-cpu host,sve=off", max).sve_vl,
            std::optional<uint16_t>(0));
  EXPECT_EQ(caps_after("-cpu host,sve=off,sve512=on", max).sve_vl,
            std::optional<uint16_t>(512));
  EXPECT_EQ(caps_after("-cpu host", max).sve_vl, std::optional<uint16_t>(2048));
  // Unset platform SVE: sve<N>=on sets it, restrict then takes it.
  EXPECT_EQ(caps_after("-cpu host,sve256=on", HostCaps()).sve_vl,
            std::optional<uint16_t>(256));
  EXPECT_EQ(caps_after("-cpu host", HostCaps()).sve_vl, std::nullopt);

  HostCaps pmu_off;
  pmu_off.pmu = false;
  EXPECT_EQ(caps_after("-cpu pmu=on", pmu_off).pmu, std::optional<bool>(false));
  EXPECT_EQ(caps_after("-cpu pmu=on", HostCaps()).pmu,
            std::optional<bool>(true));
  HostCaps pmu_on;
  pmu_on.pmu = true;
  EXPECT_EQ(caps_after("-cpu pmu=off", pmu_on).pmu, std::optional<bool>(false));
  EXPECT_EQ(caps_after("-cpu pmu=auto", pmu_on).pmu, std::optional<bool>(true));
}

TEST(QemuModel, MeasurementAlgorithmAndRpv) {
  RealmConfig config{HostCaps()};
  ASSERT_TRUE(BuildQemu(VmmInputs(), {}, config).ok());
  EXPECT_EQ(config.hash_algorithm(), HashAlgorithm::kSha512);
  RealmConfig c2{HostCaps()};
  ASSERT_TRUE(BuildQemu(VmmInputs(),
                        Words("-object rme-guest,measurement-algorithm=sha256,"
                              "personalization-value=AQID"),
                        c2)
                  .ok());
  EXPECT_EQ(c2.hash_algorithm(), HashAlgorithm::kSha256);
  EXPECT_EQ(c2.personalization_value()[0], 1);
  EXPECT_EQ(c2.personalization_value()[2], 3);
  EXPECT_EQ(c2.personalization_value()[3], 0);
}

TEST(QemuModel, BlobPlacementAndRec) {
  // Direct boot with initrd (spec-vmm §6.8 (a)), 128 MiB: the initrd goes
  // at RAM base + 64 MiB, past the kernel's image_size.
  const std::string initrd = test::WriteTmpFile("initrd14", "INITRD CONTENT");
  VmmInputs in;
  in.kernel = kLinuxBin;
  in.initrd = initrd;
  RealmConfig config{HostCaps()};
  ASSERT_TRUE(BuildQemu(in, Words("-kernel a -initrd b"), config).ok());
  ASSERT_EQ(config.rim_blobs().size(), 3u);
  auto it = config.rim_blobs().begin();
  EXPECT_EQ(it->first, 0x40000000u);  // kernel, text_offset 0
  EXPECT_EQ((++it)->first, 0x44000000u);
  EXPECT_EQ(it->second.name, "initrd");
  EXPECT_EQ((++it)->first, 0x44200000u);
  EXPECT_EQ(config.dtb_address(), std::optional<uint64_t>(0x44200000u));
  EXPECT_EQ(config.rec()->pc, 0x40000000u);
  EXPECT_EQ(config.rec()->gprs[0], 0x44200000u);

  // Firmware boot with log (§6.8 (b)): firmware in flash at 0, DTB at the
  // RAM base, log 1 MiB above it; kernel then initrd into REM0.
  in.firmware = test::WriteTmpFile("fw10", "FW CONTENT");
  RealmConfig fb{HostCaps()};
  ASSERT_TRUE(BuildQemu(in,
                        Words("-bios f -kernel a -initrd b -object "
                              "rme-guest,measurement-log=on"),
                        fb)
                  .ok());
  ASSERT_EQ(fb.rim_blobs().size(), 2u);
  EXPECT_EQ(fb.rim_blobs().begin()->first, 0u);
  EXPECT_TRUE(fb.rim_blobs().begin()->second.in_flash);
  EXPECT_EQ(fb.dtb_address(), std::optional<uint64_t>(0x40000000u));
  ASSERT_EQ(fb.rem_blobs().size(), 2u);
  EXPECT_EQ(fb.rem_blobs()[0].second.name, "kernel");
  EXPECT_EQ(fb.rem_blobs()[1].second.name, "initrd");
  ASSERT_EQ(fb.rim_unmeasured().size(), 1u);
  EXPECT_EQ(fb.rim_unmeasured()[0].base, 0x40100000u);
  EXPECT_EQ(fb.rim_unmeasured()[0].size, 0x10000u);
  EXPECT_EQ(fb.rec()->pc, 0u);
  EXPECT_EQ(fb.rec()->gprs[0], 0u);
  // The DTB still names the direct-boot initrd (14.6).
  const std::string text(fb.dtb()->begin(), fb.dtb()->end());
  EXPECT_NE(text.find("linux,initrd-start"), std::string::npos);
  EXPECT_NE(text.find("event-log@40100000"), std::string::npos);

  // Nothing: DTB at the RAM base, PC there too (§6.8 (d)).
  RealmConfig none{HostCaps()};
  ASSERT_TRUE(BuildQemu(VmmInputs(), {}, none).ok());
  EXPECT_EQ(none.rec()->pc, 0x40000000u);
  EXPECT_EQ(none.rec()->gprs[0], 0x40000000u);
}

TEST(QemuDtbGenerator, PhandlesAndDefaults) {
  QemuDtbGenerator g;
  EXPECT_EQ(g.gic_phandle(), 0x8002u);
  EXPECT_EQ(g.its_phandle(), 0x8003u);
  EXPECT_EQ(g.gpio_phandle(), 0x8004u);
  g.set_num_cpus(8);
  EXPECT_EQ(g.gic_phandle(), 0x8009u);
  g.set_its(false);
  EXPECT_EQ(g.gpio_phandle(), 0x800au);
  absl::StatusOr<std::vector<uint8_t>> dtb = g.GenDtb();
  ASSERT_TRUE(dtb.ok()) << dtb.status();
  ExpectDtcParses(*dtb, "defaults");
}

TEST(QemuDtbGenerator, TwoRedistributorRegions) {
  RealmConfig config{HostCaps()};
  ASSERT_TRUE(BuildQemu(VmmInputs(), Words("-smp 124"), config).ok());
  ExpectDtcParses(*config.dtb(), "smp124");
  const std::string text(config.dtb()->begin(), config.dtb()->end());
  EXPECT_NE(text.find("cpu@123"), std::string::npos);
}

// ---------------------------------------------------------------------------
// spec-core Appendix A.5-A.7: end to end through RealmConfig and the engine.

const char kP[] = "--num-wps 6 --num-bps 6 --ipa-bits 52 --pmu-num-ctrs 6 ";

TEST(QemuAppendixA5, QemuParams) {
  const std::string rim1 =
      "cf409055d866eea6c8d5e7862b540ff1cac9b11f125d088587d5ae97a0e33416"
      "67cf8fb3983e7377bca5c01d037bd97081ebf3b4dcb648442149749f4d65eeb0";
  ModelRun r = BuildWords(absl::StrCat(kP, "qemu"));
  EXPECT_EQ(Measure(r).rim, rim1);
  EXPECT_EQ(r.config.dtb()->size(), 6740u);
  EXPECT_EQ(DtbSha(r),
            "1ec14ed1af3f3cfb61789e49d019dd83653e30ac068945aa54afd884cbd25491");
  ExpectDtcParses(*r.config.dtb(), "a5-1");

  for (const char* v : {"2", "4"}) {
    r = BuildWords(absl::StrCat(kP, "qemu -M virt,gic-version=", v));
    EXPECT_EQ(r.status.message(), absl::StrCat("unsupport GIC version ", v));
  }
  for (const char* v : {"host", "max", "3"}) {
    r = BuildWords(absl::StrCat(kP, "qemu -M virt,gic-version=", v));
    EXPECT_EQ(Measure(r).rim, rim1) << v;
  }
  EXPECT_EQ(Measure(BuildWords(absl::StrCat(kP, "qemu -cpu pmu=off"))).rim,
            rim1);
  EXPECT_EQ(
      Measure(BuildWords(absl::StrCat("--pmu true ", kP, "qemu -cpu pmu=off")))
          .rim,
      rim1);

  r = BuildWords(absl::StrCat(kP, "qemu -cpu pmu=on"));
  EXPECT_EQ(Measure(r).rim,
            "8120ef921a987a3f8b9d4bb5e40f8489e2b4fc69c5e1b17b1a9b040884a1211d"
            "99b2bddc3fddcc99ec99f4244743fe3dcd3d9020583b47f7b66a2ec66bb897b9");
  EXPECT_EQ(r.config.dtb()->size(), 6804u);
  EXPECT_EQ(DtbSha(r),
            "fdf5b5ded86333bd28c84d48d85ee34e0d3fec155424fcadecac5ccb23e597d9");

  r = BuildWords(absl::StrCat(kP, "qemu -cpu pmu=on,num-pmu-counters=2"));
  EXPECT_EQ(Measure(r).rim,
            "ef4e6f78ea9630f66146b33a405a07b669ef94dd9aca6935d4fd23fea32f98f9"
            "64241a2f9a9c20c9fcd74e20031c51c4beb8e577873e0348e891ee2d727e2807");
}

class QemuAppendixA6 : public ::testing::Test {
 protected:
  void SetUp() override {
    fw_ = test::WriteTmpFile("a6-firmware", "FW CONTENT");
    initrd_ = test::WriteTmpFile("a6-initrd", "INITRD CONTENT");
  }
  ModelRun Q(const std::string& extra, const std::string& kernel = kLinuxBin) {
    return BuildWords(
        absl::StrCat(kP, "-f ", fw_, " -k ", kernel, " -i ", initrd_,
                     " qemu -M confidential-guest-support=rme0 -object "
                     "rme-guest,id=rme0,measurement-algorithm=sha256 -cpu "
                     "host -M virt -enable-kvm -smp 2 -m 1G -nographic ",
                     extra),
        "");
  }
  std::string fw_, initrd_;
};

// spec-rmm2 §2: firmware boot under RMM 2.0 with SHA-384 predicts REM0 as
// the TF-RMM chain of 48-byte SHA-384 digests of the kernel, then the
// initrd (deviations C1), computed here from the file bytes.
TEST(QemuModel, FirmwareBootRemUsesTheRealmAlgorithmSha384) {
  ModelRun r = BuildWords(
      "--rmm-version 2.0 -c host-max.conf -f fw-4097.bin -k Image-a -i "
      "initrd-small.cpio qemu -M virt,confidential-guest-support=rme0 "
      "-object rme-guest,id=rme0,measurement-algorithm=sha384 -cpu "
      "host,pmu=off -smp 2 -m 1G -bios fw -kernel Image -initrd initrd");
  auto h = [](const std::vector<uint8_t>& d) {
    return *crypto::HashOnce(crypto::DigestAlgorithm::kSha384, d);
  };
  const std::vector<uint8_t> k = h(ReadFile(std::string(kInputs) + "Image-a"));
  const std::vector<uint8_t> i =
      h(ReadFile(std::string(kInputs) + "initrd-small.cpio"));
  std::vector<uint8_t> rem(48, 0);
  rem.insert(rem.end(), k.begin(), k.end());
  rem = h(rem);
  rem.insert(rem.end(), i.begin(), i.end());
  rem = h(rem);
  Result m = Measure(r);
  EXPECT_EQ(m.rem0,
            absl::BytesToHexString(absl::string_view(
                reinterpret_cast<const char*>(rem.data()), rem.size())));
  EXPECT_EQ(m.rim.size(), 96u);
}

// QEMU 9.1 unpacks an EFI zboot kernel (gzip payload) for direct boot and
// then loads it exactly like the plain Image: linux.bin.gz in a zboot
// container gives spec-core A.6's RIM and DTB for linux.bin. With -bios,
// QEMU hands the firmware the file itself: refused, not modelled.
TEST_F(QemuAppendixA6, EfiZbootKernelMeasuresAsItsImage) {
  const std::string zboot = test::WriteTmpFile(
      "a6-zboot.efi", testing::EfiZboot(ReadFile(
                          "testdata/vectors/reference-testdata/linux.bin.gz")));
  ModelRun r = Q("-kernel Image -initrd initrd", zboot);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(Measure(r).rim,
            "9af47a8e4d6ac775e05f8a8893f9e383694688719d1bbb4281ed1c25056e0911");
  EXPECT_EQ(DtbSha(r),
            "e3f5c47905630f7c9d75d80ba0d2c25ca5da3fb3ce355d460ecf27d0d3bfd5a6");
  r = Q("-bios firmware -kernel Image", zboot);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(r.status.message(),
            "file " + zboot +
                " error: an EFI zboot kernel with -bios is not modelled (QEMU "
                "gives the firmware the file itself); boot it directly, or "
                "give the unpacked Image");
}

TEST_F(QemuAppendixA6, QemuMeasurements) {
  const std::string zero(64, '0');
  // REM0 with -bios -kernel: the Rust tool prints
  // sha256(sha256(linux.bin) || 0^32) (spec-core A.6); deviations C1 uses
  // the TF-RMM extension sha256(REM_old[0:32] || sha256(linux.bin)) with
  // REM_old = 0. Both are computed here from the kernel bytes.
  const std::vector<uint8_t> kernel = ReadFile(kLinuxBin);
  auto h = [](const std::vector<uint8_t>& d) {
    return *crypto::HashOnce(crypto::DigestAlgorithm::kSha256, d);
  };
  std::vector<uint8_t> reference = h(kernel), chained(32, 0);
  reference.resize(64, 0);
  const std::vector<uint8_t> hk = h(kernel);
  chained.insert(chained.end(), hk.begin(), hk.end());
  ASSERT_EQ(Sha256Hex(reference),
            "d6d479e9e9822b527ef3137f42c0102690e362bc6528e025b8ed1ac4859fee78");
  const std::string rem_kernel = Sha256Hex(chained);
  ModelRun r = Q("-bios firmware");
  Result m = Measure(r);
  EXPECT_EQ(m.rim,
            "cbf533a94009dfa6b83016a89b428d1d910fb3593856bb386d7b2bd07a1bc834");
  EXPECT_EQ(m.rem0, zero);
  EXPECT_EQ(r.config.dtb()->size(), 6832u);
  EXPECT_EQ(DtbSha(r),
            "6b53b1a356039e7836cc4eb585689f0e8fc44dd63e4697e169a066f42b9477b8");

  m = Measure(Q("-bios firmware -kernel Image"));
  EXPECT_EQ(m.rim,
            "cbf533a94009dfa6b83016a89b428d1d910fb3593856bb386d7b2bd07a1bc834");
  EXPECT_EQ(m.rem0, rem_kernel);

  r = Q("-bios firmware -kernel Image -append root=/dev/vda2");
  m = Measure(r);
  EXPECT_EQ(m.rim,
            "fd3ce1072c3e95cd3a4d1a07729756564f260f9f7e95014418b416673a268b7a");
  EXPECT_EQ(m.rem0, rem_kernel);
  EXPECT_EQ(r.config.dtb()->size(), 6869u);
  EXPECT_EQ(DtbSha(r),
            "73d4a3697087b81c8b22d58d25bd105aad2581c889fb1be5714271336306b834");

  r = Q("-kernel Image");
  m = Measure(r);
  EXPECT_EQ(m.rim,
            "e8862e21b8eb6b4bdeeff244dc59d2935c26d92c52d346f06e224fe712267a60");
  EXPECT_EQ(m.rem0, zero);
  EXPECT_EQ(r.config.dtb_address(), std::optional<uint64_t>(0x48000000));

  r = Q("-kernel Image -initrd initrd");
  EXPECT_EQ(Measure(r).rim,
            "9af47a8e4d6ac775e05f8a8893f9e383694688719d1bbb4281ed1c25056e0911");
  EXPECT_EQ(r.config.dtb()->size(), 6908u);
  EXPECT_EQ(DtbSha(r),
            "e3f5c47905630f7c9d75d80ba0d2c25ca5da3fb3ce355d460ecf27d0d3bfd5a6");

  r = Q("-kernel Image -initrd initrd -append root=/dev/vda2");
  EXPECT_EQ(Measure(r).rim,
            "22d398e695e776385bc268454587b418dde16e34bc69d9a24fc96abb3050a24e");
  EXPECT_EQ(r.config.dtb()->size(), 6945u);
  EXPECT_EQ(DtbSha(r),
            "47f668cfaf0b0fbf9eff3217a2da9aea33127f14bf95a12b3d93181aad51c435");
  ExpectDtcParses(*r.config.dtb(), "a6-6");
}

TEST(QemuAppendixA7, QemuDtb) {
  const std::string fw = test::WriteTmpFile("a7-firmware", "FW CONTENT");
  auto c = [&](const std::string& global, int n) {
    return BuildWords(
        absl::StrCat(kP, global, " -f ", fw,
                     " qemu -M confidential-guest-support=rme0 -object "
                     "rme-guest,id=rme0,measurement-algorithm=sha512 -cpu host "
                     "-M virt -enable-kvm -smp ",
                     n, " -m 1G -nographic -dtb output.dtb -bios firmware"),
        "");
  };
  const std::string rim1 =
      "3175b3c0c201081ad410defe6c32e145fd77ff03e63518a9f00831b12b6ec207"
      "0f743f43f0ff3290902ecebd4e6bea8d5926dca19dc1a06fb8d51d551a4a2b79";
  ModelRun r = c("", 2);
  EXPECT_EQ(Measure(r).rim, rim1);
  ASSERT_TRUE(r.config.dtb().has_value());
  const std::string dtb = test::WriteTmpFile("a7.dtb", *r.config.dtb());

  // #2: the DTB measured verbatim; -smp 8 is then irrelevant.
  ModelRun verbatim = c(absl::StrCat("--dtb ", dtb), 8);
  EXPECT_EQ(Measure(verbatim).rim, rim1);
  EXPECT_EQ(*verbatim.config.dtb(), *r.config.dtb());

  // #5: the same DTB as a template, patched for 8 vCPUs.
  ModelRun patched = c(absl::StrCat("--dtb-template ", dtb), 8);
  EXPECT_EQ(Measure(patched).rim,
            "68308d30762b7aa26f749d512864c0e0ad112e9626b8bf1c5486efe32b94b8d8"
            "ce8d736089ebf0850a91fda5422852294b679795202ed429fd8512b20b000728");
  EXPECT_EQ(patched.config.dtb()->size(), 7824u);
  EXPECT_EQ(DtbSha(patched),
            "b8d59435851129aa601c568e26e1ee071ce8a9e77a46a35d61f9654ff0efd344");
  ExpectDtcParses(*patched.config.dtb(), "a7-5");

  // Errors reading the files are build errors with the file's name.
  ModelRun missing = c("--dtb-template /nonexistent/t.dtb", 2);
  EXPECT_EQ(missing.status.message(),
            "file /nonexistent/t.dtb error: No such file or directory (os "
            "error 2)");
  ModelRun missing_dtb = c("--dtb /nonexistent/d.dtb", 2);
  EXPECT_EQ(missing_dtb.status.message(),
            "while generating DTB: file /nonexistent/d.dtb error: No such "
            "file or directory (os error 2)");
}

TEST(QemuTemplate, QemuDumpTemplate) {
  // A template as QEMU itself dumps it (testdata/golden/inputs): the
  // surgeon keeps its total size and rewrites the CPU nodes and phandles.
  const std::string tmpl = absl::StrCat(kInputs, "template-qemu.dtb");
  const std::vector<uint8_t> in = ReadFile(tmpl);
  ASSERT_GE(in.size(), 8u);
  for (const char* args :
       {"-smp 4 -m 1G", "-smp 8,threads=2 -M its=off -m 2G",
        "-smp 2 -cpu pmu=on -object rme-guest,measurement-log=on"}) {
    VmmInputs inputs;
    inputs.dtb_template = tmpl;
    HostCaps caps;
    caps.pmu = true;
    RealmConfig config(caps);
    absl::Status s = BuildQemu(inputs, Words(args), config);
    ASSERT_TRUE(s.ok()) << args << ": " << s;
    const std::vector<uint8_t>& out = *config.dtb();
    const uint32_t total = uint32_t{in[4]} << 24 | uint32_t{in[5]} << 16 |
                           uint32_t{in[6]} << 8 | in[7];
    EXPECT_EQ(out.size(), std::max<size_t>(total, out.size())) << args;
    ExpectDtcParses(out, "qemu-template");
  }
}

// ---------------------------------------------------------------------------
// The golden corpus (testdata/golden/cases-public.json, tag "qemu"): DTBs
// byte for byte and the printed measurements.

TEST(QemuGolden, PublicCases) {
  std::ifstream in(absl::StrCat(kGolden, "cases-public.json"));
  ASSERT_TRUE(in.good());
  nlohmann::json doc = nlohmann::json::parse(in);
  int cases = 0, dtbs = 0;
  for (const nlohmann::json& c : doc["cases"]) {
    const std::vector<std::string> tags = c["tags"];
    if (std::find(tags.begin(), tags.end(), "qemu") == tags.end()) continue;
    const std::string id = c["id"];
    const std::vector<std::string> argv = c["argv"];
    ModelRun r = Build(argv);
    if (r.skip) continue;  // endorsements: CLI output, checked elsewhere
    SCOPED_TRACE(id);
    ++cases;
    const int exit_code = c["expected_exit_code"];
    const bool may_reject =
        std::find(tags.begin(), tags.end(), "may-reject") != tags.end();
    if (exit_code != 0) {
      const std::string err = c["expected_stderr"];
      std::string got;
      if (!r.status.ok()) {
        got = absl::StrCat(
            "ERROR Cannot build parameters: ", r.status.message(), "\n");
      } else {
        absl::StatusOr<Measurements> m = ComputeMeasurements(r.config);
        ASSERT_FALSE(m.ok());
        got = absl::StrCat("ERROR Failed to compute measurements: ",
                           m.status().message(), "\n");
      }
      // The model sees the input directory's path; the CLI prints the
      // argument as given.
      got = absl::StrReplaceAll(got, {{kInputs, ""}});
      EXPECT_EQ(got, err);
      continue;
    }
    if (may_reject && !r.status.ok()) {
      // deviations.md: a clean error is accepted; the DTB must still match.
      EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
    } else {
      ASSERT_TRUE(r.status.ok()) << r.status;
      absl::StatusOr<Measurements> m = ComputeMeasurements(r.config);
      ASSERT_TRUE(m.ok()) << m.status();
      std::string out = absl::StrCat("RIM: ", ToHex(m->rim), "\n");
      for (int i = 0; i < 4; ++i) {
        absl::StrAppend(&out, "REM", i, ": ", ToHex(m->rem[i]), "\n");
      }
      EXPECT_EQ(out, c["expected_stdout"].get<std::string>());
      EXPECT_TRUE(r.config.warnings().empty());
    }
    if (c.contains("expected_dtb_sha256") && r.config.dtb().has_value()) {
      ++dtbs;
      const std::vector<uint8_t>& dtb = *r.config.dtb();
      EXPECT_EQ(dtb.size(), c["expected_dtb_size"].get<size_t>());
      EXPECT_EQ(Sha256Hex(dtb), c["expected_dtb_sha256"].get<std::string>());
      const std::vector<uint8_t> golden =
          ReadFile(absl::StrCat(kGolden, "dtbs/", id, ".dtb"));
      EXPECT_TRUE(dtb == golden) << "DTB differs from dtbs/" << id << ".dtb";
      ExpectDtcParses(dtb, id);
    }
  }
  EXPECT_GE(cases, 12);
  EXPECT_EQ(dtbs, 6);
}

}  // namespace
}  // namespace realm_measurements::measure
