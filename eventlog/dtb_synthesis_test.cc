#include "eventlog/dtb_synthesis.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/crypto.h"
#include "eventlog/internal/log_builder.h"
#include "eventlog/parser.h"
#include "eventlog/replay.h"
#include "gtest/gtest.h"
#include "measure/host_caps.h"
#include "measure/realm_config.h"
#include "measure/vmm/kvmtool.h"
#include "measure/vmm/qemu.h"
#include "measure/vmm/vmm.h"
#include "testing/golden.h"

namespace realm_measurements::eventlog {
namespace {

using internal::Bytes;
using measure::HashAlgorithm;

const char kInputs[] = "testdata/golden/inputs/";

// TCG event types and algorithm ids (spec-eventlog §B.7, Appendix 1).
constexpr uint32_t kEvNoAction = 0x3;
constexpr uint32_t kEvEventTag = 0x6;
constexpr uint32_t kEvPostCode2 = 0x13;
constexpr uint32_t kEvFirmwareBlob2 = 0x8000000A;
constexpr uint16_t kAlgSha256 = 0x000B;
constexpr uint16_t kAlgSha512 = 0x000D;

std::vector<uint8_t> ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string Hex(absl::Span<const uint8_t> b) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

Bytes Digest(HashAlgorithm a, absl::Span<const uint8_t> data) {
  auto d = crypto::HashOnce(
      a == HashAlgorithm::kSha512   ? crypto::DigestAlgorithm::kSha512
      : a == HashAlgorithm::kSha384 ? crypto::DigestAlgorithm::kSha384
                                    : crypto::DigestAlgorithm::kSha256,
      data);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *d : Bytes();
}

std::string Sha256Hex(absl::Span<const uint8_t> data) {
  return Hex(Digest(HashAlgorithm::kSha256, data));
}

void ExpectError(const absl::Status& s, absl::StatusCode code,
                 absl::string_view substring) {
  ASSERT_FALSE(s.ok()) << "expected an error containing: " << substring;
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), substring))
      << "message: " << s.message() << "\nexpected to contain: " << substring;
}

// --- A golden case, built with the VMM model --------------------------------

using test::GoldenCase;
using test::LoadGoldenCase;

// The model's RealmConfig for a golden argv (the CLI's global options that
// matter to a VMM model: caps files restrict, values override, payloads).
struct Built {
  measure::RealmConfig config{measure::HostCaps()};
  std::string vmm;
};

Built BuildCase(const GoldenCase& g) {
  measure::HostCaps caps, overrides;
  measure::VmmInputs inputs;
  size_t i = 0;
  const std::vector<std::string>& argv = g.argv;
  for (; i < argv.size() && argv[i] != "kvmtool" && argv[i] != "qemu"; ++i) {
    const std::string& a = argv[i];
    auto next = [&]() { return argv[++i]; };
    auto number = [&]() {
      int n = 0;
      EXPECT_TRUE(absl::SimpleAtoi(next(), &n));
      return n;
    };
    if (a == "--rmm-version") {
      auto v = measure::ParseRmmVersion(next());
      EXPECT_TRUE(v.ok()) << v.status();
      if (v.ok()) overrides.rmm_version = *v;
    } else if (a == "-c") {
      std::string file = kInputs + next();
      std::vector<uint8_t> t = ReadFileOrDie(file);
      auto c =
          measure::HostCaps::FromToml(std::string(t.begin(), t.end()), file);
      EXPECT_TRUE(c.ok()) << c.status();
      EXPECT_TRUE(caps.Restrict(*c).ok());
    } else if (a == "--num-wps") {
      overrides.num_wps = number();
    } else if (a == "--num-bps") {
      overrides.num_bps = number();
    } else if (a == "--ipa-bits") {
      overrides.ipa_bits = number();
    } else if (a == "--sve-vl") {
      overrides.sve_vl = number();
    } else if (a == "--pmu-num-ctrs") {
      overrides.pmu_num_ctrs = number();
    } else if (a == "-k") {
      inputs.kernel = kInputs + next();
    } else if (a == "-i") {
      inputs.initrd = kInputs + next();
    } else if (a == "-f") {
      inputs.firmware = kInputs + next();
    } else if (a == "--output-dtb") {
      next();
    } else {
      ADD_FAILURE() << "global option not handled here: " << a;
    }
  }
  EXPECT_TRUE(caps.Update(overrides).ok());
  Built b;
  b.config = measure::RealmConfig(caps);
  EXPECT_LT(i, argv.size());
  if (i >= argv.size()) return b;
  b.vmm = argv[i];
  std::vector<std::string> args(argv.begin() + i + 1, argv.end());
  absl::Status s = b.vmm == "qemu"
                       ? measure::BuildQemu(inputs, args, b.config)
                       : measure::BuildKvmtool(inputs, args, b.config);
  EXPECT_TRUE(s.ok()) << s;
  return b;
}

Bytes Content(const measure::Blob& blob) {
  Bytes out;
  absl::Status s = blob.payload.Read([&](absl::Span<const uint8_t> chunk) {
    out.insert(out.end(), chunk.begin(), chunk.end());
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// What the VMM logs for a configuration (spec-eventlog §H.1/§H.2), in the
// order ComputeMeasurements replays it: VM VERSION, REALM_CREATE, INIT_RIPAS
// per RAM range, the images by address, REC_CREATE, then the LOG region.
// `tweak` may change the logged VM parameters before they are written.
struct LogParams {
  std::string vmm_name;
  std::string vmm_version;
  uint64_t ram_size = 0;
  uint32_t num_cpus = 0;
  int64_t log_base_delta = 0;
};

struct MadeLog {
  Bytes bytes;
  size_t dtb_event = 0;      // index of the DTB event (the header is not one)
  ImageCatalogue catalogue;  // every image but the DTB
};

MadeLog MakeLog(const measure::RealmConfig& config, const LogParams& p) {
  MadeLog out;
  auto params = config.ResolveParams();
  EXPECT_TRUE(params.ok()) << params.status();
  const HashAlgorithm a = params->hash_algorithm;
  const bool sha512 = a == HashAlgorithm::kSha512;
  const bool sha384 = a == HashAlgorithm::kSha384;
  // TCG algorithm ids (TCG Algorithm Registry): SHA-384 is 0x000C.
  const uint16_t alg = sha512 ? kAlgSha512 : sha384 ? 0x000C : kAlgSha256;
  const uint16_t size = static_cast<uint16_t>(measure::HashSize(a));
  internal::SpecIdFields spec;
  spec.algorithms = {{alg, size}};
  std::vector<Bytes> events;
  events.push_back(
      internal::Event2(0, kEvNoAction, {{0x0000, Bytes(size, 0)}},
                       internal::VmVersionData(p.vmm_name, p.vmm_version,
                                               p.ram_size, p.num_cpus)));
  // §C.3 tag 1 encodings.
  uint64_t flags = (params->lpa2 ? 1 : 0) | (params->sve_vl != 0 ? 2 : 0) |
                   (params->pmu ? 4 : 0);
  events.push_back(
      internal::Event2(0, kEvEventTag, {},
                       internal::RealmCreateData(
                           flags, params->ipa_bits,
                           params->sve_vl != 0 ? params->sve_vl / 128 - 1 : 0,
                           params->num_bps - 1, params->num_wps - 1,
                           params->pmu ? params->pmu_num_ctrs : 0,
                           static_cast<uint8_t>(a))));  // RmiHashAlgorithm
  for (const auto& [base, size] : config.ram()) {
    events.push_back(internal::Event2(0, kEvEventTag, {},
                                      internal::InitRipasData(base, size)));
  }
  for (const auto& [base, blob] : config.rim_blobs()) {
    Bytes content = Content(blob);
    std::string desc = blob.name == "kernel"     ? "KERNEL"
                       : blob.name == "initrd"   ? "INITRD"
                       : blob.name == "firmware" ? "FIRMWARE"
                       : blob.name == "dtb"      ? "DTB"
                                                 : blob.name;
    if (desc == "DTB") {
      out.dtb_event = events.size();
    } else {
      EXPECT_TRUE(out.catalogue.AddImage(blob.name, content).ok());
    }
    events.push_back(internal::Event2(
        0, desc == "FIRMWARE" ? kEvFirmwareBlob2 : kEvPostCode2,
        {{alg, Digest(a, content)}},
        internal::Blob2(desc, base, content.size())));
  }
  EXPECT_TRUE(config.rec().has_value());
  {
    Bytes rec;
    internal::PutU64(rec, config.rec()->flags);
    internal::PutU64(rec, config.rec()->pc);
    for (uint64_t r : config.rec()->gprs) internal::PutU64(rec, r);
    events.push_back(
        internal::Event2(0, kEvEventTag, {}, internal::Tag(3, rec)));
  }
  for (const measure::MemoryRange& r : config.rim_unmeasured()) {
    events.push_back(internal::Event2(
        0, kEvPostCode2, {},
        internal::Blob2("LOG", r.base + p.log_base_delta, r.size)));
  }
  EXPECT_TRUE(config.rem_blobs().empty());  // none in the cases used here
  out.bytes = internal::SpecIdHeader(spec);
  for (const Bytes& e : events) {
    out.bytes.insert(out.bytes.end(), e.begin(), e.end());
  }
  out.bytes.resize(out.bytes.size() + 64, 0);  // zero tail, as producers
  return out;
}

struct Scenario {
  std::string id;
  std::string vmm_name;  // VM VERSION name
  uint32_t num_cpus;     // what the VMM logs (-c / -smp)
  DtbSynthesisOptions options;
};

std::vector<Scenario> Scenarios() {
  std::vector<Scenario> s;
  // The two golden cases with a measurement log (LOG event, reserved-memory
  // node), both with the models' defaults.
  s.push_back({"kvm-measurement-log", "kvmtool", 2, {}});
  s.push_back({"qemu-bios-measurement-log", "QEMU", 2, {}});
  // Initrd placement and kernel parameters (-p / -append).
  DtbSynthesisOptions kvm_p;
  kvm_p.bootargs = absl::StrCat(kKvmtoolDefaultBootargs, " earlycon quiet");
  s.push_back({"kvm-k-i-4cpu-512M", "kvmtool", 4, kvm_p});
  DtbSynthesisOptions qemu_append;
  qemu_append.bootargs = "root=/dev/vda2 console=ttyAMA0";
  s.push_back({"qemu-kernel-initrd-append-1G", "QEMU", 2, qemu_append});
  // More vCPUs, RAM above 2 GiB, SVE; odd RAM size; SHA-512 logs.
  s.push_back({"kvm-k-64cpu-3G-sve", "kvmtool", 64, {}});
  s.push_back({"kvm-k-2cpu-256M-sha512", "kvmtool", 2, {}});
  s.push_back({"qemu-ipa40-odd-ram", "QEMU", 3, {}});
  s.push_back({"qemu-kernel-4cpu-512M-gz", "QEMU", 4, {}});
  return s;
}

LogParams ParamsFor(const Scenario& s, const measure::RealmConfig& config) {
  LogParams p;
  p.vmm_name = s.vmm_name;
  p.vmm_version = s.vmm_name == "QEMU" ? "9.1.0" : "3.18";
  for (const auto& [base, size] : config.ram()) p.ram_size += size;
  p.num_cpus = s.num_cpus;
  return p;
}

absl::StatusOr<EventLog> ParseBytes(const Bytes& b) { return Parse(b); }

// Replay options synthesising with `options` and keeping the request the
// replay built in `*seen`.
ReplayOptions SynthesisRecording(const DtbSynthesisOptions& options,
                                 DtbRequest* seen) {
  ReplayOptions o;
  o.dtb_synthesizer =
      [seen, synth = MakeDtbSynthesizer(options)](const DtbRequest& r) {
        *seen = r;
        return synth(r);
      };
  return o;
}

// K9 end to end: a log of a golden configuration replays without the DTB in
// the catalogue; the synthesised DTB must hash to the logged digest (which
// is the golden DTB's), and the RIM must be the golden RIM, which is also
// what ComputeMeasurements gives for the model's configuration.
TEST(DtbSynthesis, GoldenConfigurationsReplayWithSynthesisedDtb) {
  for (const Scenario& sc : Scenarios()) {
    SCOPED_TRACE(sc.id);
    GoldenCase g = LoadGoldenCase(sc.id);
    Built b = BuildCase(g);
    ASSERT_TRUE(b.config.dtb().has_value());
    // The model's DTB is the reference's (independent golden digest).
    ASSERT_EQ(Sha256Hex(*b.config.dtb()), g.dtb_sha256);
    auto m = measure::ComputeMeasurements(b.config);
    ASSERT_TRUE(m.ok()) << m.status();
    const size_t n = measure::HashSize(m->hash_algorithm);
    ASSERT_EQ(Hex(absl::MakeConstSpan(m->rim.data(), n)),
              g.rim.substr(0, 2 * n));

    MadeLog made = MakeLog(b.config, ParamsFor(sc, b.config));
    absl::StatusOr<EventLog> log = ParseBytes(made.bytes);
    ASSERT_TRUE(log.ok()) << log.status();
    if (const char* out = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR")) {
      // For inspection (testdata/eventlog/qemu-bios-measurement-log.bin).
      std::ofstream(absl::StrCat(out, "/", sc.id, ".bin"), std::ios::binary)
          .write(reinterpret_cast<const char*>(made.bytes.data()),
                 made.bytes.size());
    }

    // The request the replay builds gives the golden DTB directly too.
    DtbRequest seen;
    const ReplayOptions o = SynthesisRecording(sc.options, &seen);
    Replayer replayer(&made.catalogue);
    absl::Status s = replayer.Replay(*log, o);
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(replayer.RegisterHex(Register::kRim), g.rim.substr(0, 2 * n));
    const ReportEntry& dtb = replayer.report().at(made.dtb_event);
    EXPECT_EQ(dtb.image,
              absl::StrCat("synthesised DTB (", sc.vmm_name, " ",
                           sc.vmm_name == "QEMU" ? "9.1.0" : "3.18", ")"));
    EXPECT_EQ(dtb.match, CatalogueMatch::kVerified);
    absl::StatusOr<std::vector<uint8_t>> direct =
        SynthesizeDtb(seen, sc.options);
    ASSERT_TRUE(direct.ok()) << direct.status();
    EXPECT_EQ(Sha256Hex(*direct), g.dtb_sha256);

    // Without synthesis the DTB is simply not catalogued.
    Replayer plain(&made.catalogue);
    ExpectError(
        plain.Replay(*log), absl::StatusCode::kNotFound,
        absl::StrCat("replay: event ", made.dtb_event, " (EV_POST_CODE2)"));
  }
}

// The QEMU -m maxmem/slots and -smp topology a log does not record, given
// as the QEMU option values (eventlog --dtb-qemu-m / --dtb-qemu-smp parse
// them with measure::ParseQemuMemoryOption / ParseQemuSmpOption): the
// synthesised DTB is the measurement model's DTB for the same command line
// and the replayed RIM is ComputeMeasurements' RIM. Without the options the
// DTB differs and the replay refuses it. (No golden DTB has these options:
// this checks the two paths agree, the generator itself is checked against
// golden DTBs above.)
TEST(DtbSynthesis, QemuMemoryAndTopologyOptionsAsQemuValues) {
  // maxmem above 255 GiB moves the high memory map (spec-vmm §6.7).
  const std::string m_value = "1G,maxmem=512G,slots=2";
  const std::string smp_value = "4,sockets=2,cores=2";
  GoldenCase g = LoadGoldenCase("qemu-kernel-initrd-append-1G");
  for (size_t i = 0; i + 1 < g.argv.size(); ++i) {
    if (g.argv[i] == "-smp") g.argv[i + 1] = smp_value;
    if (g.argv[i] == "-m") g.argv[i + 1] = m_value;
  }
  Built b = BuildCase(g);
  ASSERT_TRUE(b.config.dtb().has_value());
  auto m = measure::ComputeMeasurements(b.config);
  ASSERT_TRUE(m.ok()) << m.status();
  const size_t n = measure::HashSize(m->hash_algorithm);
  const std::string rim = Hex(absl::MakeConstSpan(m->rim.data(), n));

  DtbSynthesisOptions options;
  options.bootargs = "root=/dev/vda2 console=ttyAMA0";
  absl::StatusOr<measure::QemuMemoryOption> mem =
      measure::ParseQemuMemoryOption(m_value);
  ASSERT_TRUE(mem.ok()) << mem.status();
  options.qemu_ram_size = mem->size;
  options.qemu_max_mem = mem->max_mem;
  options.qemu_slots = mem->slots.value_or(0);
  absl::StatusOr<measure::QemuSmpSpec> smp =
      measure::ParseQemuSmpOption(smp_value);
  ASSERT_TRUE(smp.ok()) << smp.status();
  absl::StatusOr<measure::QemuTopology> topology =
      measure::ResolveQemuTopology(*smp);
  ASSERT_TRUE(topology.ok()) << topology.status();
  options.qemu_topology = *topology;

  Scenario sc{"qemu maxmem and topology", "QEMU", 4, options};
  MadeLog made = MakeLog(b.config, ParamsFor(sc, b.config));
  absl::StatusOr<EventLog> log = ParseBytes(made.bytes);
  ASSERT_TRUE(log.ok()) << log.status();
  DtbRequest seen;
  const ReplayOptions o = SynthesisRecording(options, &seen);
  Replayer replayer(&made.catalogue);
  absl::Status s = replayer.Replay(*log, o);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(replayer.RegisterHex(Register::kRim), rim);
  absl::StatusOr<std::vector<uint8_t>> direct = SynthesizeDtb(seen, options);
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_EQ(*direct, *b.config.dtb());

  // maxmem/slots matter here: without them the DTB is another one. (The
  // topology reaches the DTB only through a template's cpu-map; without one
  // only its CPU count is checked.)
  DtbSynthesisOptions less = options;
  less.qemu_max_mem.reset();
  less.qemu_slots = 0;
  ReplayOptions lo;
  lo.dtb_synthesizer = MakeDtbSynthesizer(less);
  Replayer without(&made.catalogue);
  ExpectError(without.Replay(*log, lo), absl::StatusCode::kInvalidArgument,
              "the log says");
  // A -m size other than the logged RAM is refused, naming both.
  DtbSynthesisOptions wrong = options;
  wrong.qemu_ram_size = 2ull << 30;
  ExpectError(SynthesizeDtb(seen, wrong).status(),
              absl::StatusCode::kInvalidArgument,
              "the -m size given is 2147483648 bytes, the log's VM VERSION "
              "says 1073741824");
}

// spec-rmm2: a log written for an RMM 2.0 realm (INIT_RIPAS events present,
// SHA-384 bank for the SHA-384 case) replays with --rmm-version 2.0 to the
// RIM TF-RMM 2.0 computes (testdata/golden/rmm2, independent values), which
// is also what ComputeMeasurements gives for that configuration.
TEST(DtbSynthesis, Rmm2LogsReplayToTheGoldenRmm2Rim) {
  struct Rmm2Scenario {
    const char* id;
    Scenario scenario;
  };
  DtbSynthesisOptions qemu_append;
  qemu_append.bootargs = "root=/dev/vda2 console=ttyAMA0";
  const Rmm2Scenario cases[] = {
      {"qemu-kernel-initrd-append-1G@sha384",
       {"qemu-kernel-initrd-append-1G", "QEMU", 2, qemu_append}},
      {"kvm-measurement-log@rmm2", {"kvm-measurement-log", "kvmtool", 2, {}}},
  };
  for (const Rmm2Scenario& c : cases) {
    SCOPED_TRACE(c.id);
    GoldenCase g = LoadGoldenCase(c.id, "rmm2/cases-rmm2-public.json");
    Built b = BuildCase(g);
    ASSERT_EQ(b.config.rmm_version(), measure::RmmVersion::k2_0);
    auto m = measure::ComputeMeasurements(b.config);
    ASSERT_TRUE(m.ok()) << m.status();
    const size_t n = measure::HashSize(m->hash_algorithm);
    ASSERT_EQ(Hex(absl::MakeConstSpan(m->rim.data(), n)),
              g.rim.substr(0, 2 * n));

    MadeLog made = MakeLog(b.config, ParamsFor(c.scenario, b.config));
    absl::StatusOr<EventLog> log = ParseBytes(made.bytes);
    ASSERT_TRUE(log.ok()) << log.status();
    ReplayOptions o;
    o.rmm_version = measure::RmmVersion::k2_0;
    o.dtb_synthesizer = MakeDtbSynthesizer(c.scenario.options);
    Replayer replayer(&made.catalogue);
    absl::Status s = replayer.Replay(*log, o);
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(replayer.RegisterHex(Register::kRim), g.rim.substr(0, 2 * n));
    size_t ripas = 0;
    for (const ReportEntry& e : replayer.report()) {
      if (absl::StartsWith(e.action, "INIT_RIPAS")) {
        ++ripas;
        EXPECT_TRUE(absl::EndsWith(e.action, " not measured (RMM 2.0)"))
            << e.action;
      }
    }
    EXPECT_EQ(ripas, b.config.ram().size());

    // The same log replayed as RMM 1.0: a different RIM (SHA-256), or a
    // refused SHA-384 realm.
    Replayer v1(&made.catalogue);
    ReplayOptions o1 = o;
    o1.rmm_version = measure::RmmVersion::k1_0;
    absl::Status s1 = v1.Replay(*log, o1);
    if (m->hash_algorithm == HashAlgorithm::kSha384) {
      EXPECT_FALSE(s1.ok());
    } else {
      ASSERT_TRUE(s1.ok()) << s1;
      EXPECT_NE(v1.RegisterHex(Register::kRim), g.rim.substr(0, 2 * n));
    }
  }
}

// The checked-in logs of golden cases (testdata/eventlog/README.md), replayed
// as the CLI does: the images catalogued without the DTB, synthesis on. The
// QEMU one's firmware comes from a checksum file, the kvmtool one's kernel
// is the golden input.
TEST(DtbSynthesis, CheckedInLogsReplayToTheGoldenRims) {
  for (const char* id :
       {"qemu-bios-measurement-log", "kvm-k-2cpu-256M-sha512"}) {
    SCOPED_TRACE(id);
    GoldenCase g = LoadGoldenCase(id);
    absl::StatusOr<EventLog> log = ParseBytes(
        ReadFileOrDie(absl::StrCat("testdata/eventlog/", id, ".bin")));
    ASSERT_TRUE(log.ok()) << log.status();
    ImageCatalogue cat;
    ASSERT_TRUE(
        (absl::StartsWith(id, "qemu")
             ? cat.AddChecksumFile(
                   "testdata/eventlog/images/QEMU-BIOS-SHA512SUMS")
             : cat.AddImage("Image-a",
                            ReadFileOrDie("testdata/golden/inputs/Image-a")))
            .ok());
    ReplayOptions o;
    o.dtb_synthesizer = MakeDtbSynthesizer({});
    Replayer r(&cat);
    absl::Status s = r.Replay(*log, o);
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(r.RegisterHex(Register::kRim), g.rim);
  }
}

// K9: any logged parameter, or unlogged option, that differs from what the
// VMM used makes replay fail at the DTB event, before anything is replayed.
TEST(DtbSynthesis, MismatchingParameterFailsNamingTheDtbEvent) {
  for (const char* id : {"kvm-measurement-log", "qemu-bios-measurement-log"}) {
    SCOPED_TRACE(id);
    const bool qemu = absl::StartsWith(id, "qemu");
    Scenario sc{id, qemu ? "QEMU" : "kvmtool", 2, {}};
    GoldenCase g = LoadGoldenCase(id);
    Built b = BuildCase(g);
    const LogParams good = ParamsFor(sc, b.config);

    struct Variant {
      std::string what;
      LogParams params;
      DtbSynthesisOptions options;
      std::string message;
    };
    std::vector<Variant> variants;
    LogParams p = good;
    p.num_cpus = 3;
    variants.push_back({"vCPUs", p, {}, "(3 vCPUs, "});
    p = good;
    p.ram_size += 2 << 20;
    variants.push_back({"RAM", p, {}, "synthesised DTB for "});
    p = good;
    p.log_base_delta = 0x10000;
    variants.push_back({"log location", p, {}, "synthesised DTB for "});
    DtbSynthesisOptions o;
    o.its = false;
    variants.push_back({"ITS", good, o, "synthesised DTB for "});
    o = {};
    o.bootargs = "console=hvc0";  // REF's choice
    variants.push_back({"bootargs", good, o, "synthesised DTB for "});
    p = good;
    p.vmm_name = qemu ? "kvmtool" : "QEMU";
    variants.push_back({"VMM", p, {}, "synthesised DTB for "});
    p = good;
    p.vmm_name = "qemu";
    variants.push_back({"unknown VMM",
                        p,
                        {},
                        "DTB synthesis: VM VERSION names the VMM \"qemu\", "
                        "expected \"QEMU\" or \"kvmtool\""});

    for (const Variant& v : variants) {
      SCOPED_TRACE(v.what);
      MadeLog made = MakeLog(b.config, v.params);
      absl::StatusOr<EventLog> log = ParseBytes(made.bytes);
      ASSERT_TRUE(log.ok()) << log.status();
      ReplayOptions ro;
      ro.dtb_synthesizer = MakeDtbSynthesizer(v.options);
      Replayer r(&made.catalogue);
      absl::Status s = r.Replay(*log, ro);
      ExpectError(s, absl::StatusCode::kInvalidArgument,
                  absl::StrCat("replay: event ", made.dtb_event,
                               " (EV_POST_CODE2) at offset "));
      ExpectError(s, absl::StatusCode::kInvalidArgument, v.message);
      EXPECT_EQ(r.engine(), nullptr);  // failed before pass 2
    }
  }
}

// --- SynthesizeDtb on its own ----------------------------------------------

DtbRequest Request(const std::string& vmm, uint32_t cpus, uint64_t ram) {
  DtbRequest r;
  r.vmm_name = vmm;
  r.vmm_version = "1.0";
  r.num_cpus = cpus;
  r.ram_size = ram;
  return r;
}

TEST(DtbSynthesis, VmmNames) {
  EXPECT_EQ(*VmmKindFromName("QEMU"), VmmKind::kQemu);
  EXPECT_EQ(*VmmKindFromName("kvmtool"), VmmKind::kKvmtool);
  for (absl::string_view bad : {"qemu", "KVMTOOL", "", "QEMU ", "kvmtool\n"}) {
    ExpectError(VmmKindFromName(bad).status(),
                absl::StatusCode::kInvalidArgument, "expected \"QEMU\" or");
  }
}

TEST(DtbSynthesis, RejectsImpossibleRequests) {
  struct Case {
    DtbRequest request;
    DtbSynthesisOptions options;
    std::string message;
  };
  std::vector<Case> cases;
  cases.push_back({Request("QEMU", 0, 1 << 30),
                   {},
                   "VM VERSION num_cpus is 0, expected 1..512 for QEMU"});
  cases.push_back({Request("QEMU", 513, 1 << 30),
                   {},
                   "num_cpus is 513, expected 1..512 for QEMU"});
  cases.push_back({Request("kvmtool", 4097, 1 << 30),
                   {},
                   "num_cpus is 4097, expected 1..4096 for kvmtool"});
  cases.push_back(
      {Request("kvmtool", 0xFFFFFFFF, 1 << 30), {}, "num_cpus is 4294967295"});
  cases.push_back({Request("kvmtool", 1, 0), {}, "VM VERSION ram_size is 0"});
  cases.push_back({Request("kvmtool", 1, UINT64_MAX),
                   {},
                   "does not fit above kvmtool's RAM base 0x80000000"});
  cases.push_back({Request("QEMU", 1, UINT64_MAX - 0x1000),
                   {},
                   "DTB synthesis (QEMU 1.0): invalid VM configuration: "
                   "memory map"});
  DtbSynthesisOptions topo;
  topo.qemu_topology = measure::QemuTopology{2, 1, 2, 1};
  cases.push_back({Request("QEMU", 2, 1 << 30), topo,
                   "the -smp topology given has 4 vCPUs, the log's VM "
                   "VERSION says 2"});
  DtbSynthesisOptions maxmem;
  maxmem.qemu_max_mem = 1;
  cases.push_back({Request("QEMU", 2, 1 << 30), maxmem, "maxmem"});
  DtbSynthesisOptions mmio;
  mmio.kvmtool_virtio_mmio = 1u << 20;
  cases.push_back({Request("kvmtool", 2, 1 << 30), mmio,
                   "1048576 virtio-mmio devices, expected at most 1024"});
  DtbSynthesisOptions nul;
  nul.bootargs = std::string("a\0b", 3);
  cases.push_back({Request("kvmtool", 2, 1 << 30), nul, "DTB synthesis ("});
  // A template that is not a DTB.
  DtbSynthesisOptions junk;
  junk.templates["QEMU 1.0"] = {1, 2, 3};
  cases.push_back({Request("QEMU", 2, 1 << 30), junk, "DTB synthesis ("});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    ExpectError(SynthesizeDtb(c.request, c.options).status(),
                absl::StatusCode::kInvalidArgument, c.message);
  }
}

// The options the log cannot carry change the bytes (so K9 catches a wrong
// one); no_bootargs drops the property the kvmtool default would add.
TEST(DtbSynthesis, OptionsReachTheGenerator) {
  DtbRequest r = Request("kvmtool", 2, 512 << 20);
  auto base = SynthesizeDtb(r, {});
  ASSERT_TRUE(base.ok()) << base.status();
  EXPECT_EQ(base->size(), measure::kvmtool::kDtbSize);
  DtbSynthesisOptions explicit_default;
  explicit_default.bootargs = kKvmtoolDefaultBootargs;
  EXPECT_EQ(*SynthesizeDtb(r, explicit_default), *base);
  DtbSynthesisOptions none;
  none.no_bootargs = true;
  auto no_args = SynthesizeDtb(r, none);
  ASSERT_TRUE(no_args.ok());
  EXPECT_NE(*no_args, *base);
  const std::string bootargs(kKvmtoolDefaultBootargs);
  EXPECT_NE(
      std::search(base->begin(), base->end(), bootargs.begin(), bootargs.end()),
      base->end());
  EXPECT_EQ(std::search(no_args->begin(), no_args->end(), bootargs.begin(),
                        bootargs.end()),
            no_args->end());
  r.pmu = true;
  EXPECT_NE(*SynthesizeDtb(r, {}), *base);
}

// §E.3 templates list: a listed template is used for "NAME VERSION" only.
TEST(DtbSynthesis, TemplatesList) {
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  const std::string dir = cwd;
  const std::string tmpl = dir + "/" + kInputs + "template-qemu.dtb";
  std::string list =
      WriteTemp("templates.tsv", absl::StrCat("QEMU\t9.1.0\t", tmpl, "\n\n"));
  DtbSynthesisOptions o;
  ASSERT_TRUE(LoadDtbTemplates(list, o).ok());
  ASSERT_EQ(o.templates.size(), 1u);
  EXPECT_EQ(o.templates.at("QEMU 9.1.0"), ReadFileOrDie(tmpl));

  DtbRequest r = Request("QEMU", 2, 1 << 30);
  r.vmm_version = "9.1.0";
  auto patched = SynthesizeDtb(r, o);
  ASSERT_TRUE(patched.ok()) << patched.status();
  r.vmm_version = "9.2.0";  // not listed: generated
  auto generated = SynthesizeDtb(r, o);
  ASSERT_TRUE(generated.ok()) << generated.status();
  EXPECT_NE(*patched, *generated);
  EXPECT_EQ(*generated, *SynthesizeDtb(r, {}));

  for (const auto& [text, message] :
       std::vector<std::pair<std::string, std::string>>{
           {"QEMU 9.1.0 x.dtb\n", "line 1: expected NAME<TAB>VERSION<TAB>PATH"},
           {"\nQEMU\t9.1\t\n", "line 2: expected NAME<TAB>VERSION<TAB>PATH"},
           {"QEMU\t9.1\tmissing.dtb\n",
            "missing.dtb error: No such file or directory"},
           {absl::StrCat("QEMU\t9\t", tmpl, "\nQEMU\t9\t", tmpl, "\n"),
            "line 2: second template for \"QEMU 9\""},
       }) {
    DtbSynthesisOptions bad;
    ExpectError(LoadDtbTemplates(WriteTemp("bad.tsv", text), bad),
                absl::StatusCode::kInvalidArgument, message);
  }
  DtbSynthesisOptions missing;
  ExpectError(LoadDtbTemplates("/nonexistent/list", missing),
              absl::StatusCode::kNotFound,
              "file /nonexistent/list error: No such file or directory");
}

}  // namespace
}  // namespace realm_measurements::eventlog
