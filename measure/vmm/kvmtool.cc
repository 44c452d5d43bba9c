#include "measure/vmm/kvmtool.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "measure/fdt/dtb_template.h"
#include "measure/fdt/fdt_fragments.h"
#include "measure/fdt/fdt_writer.h"
#include "measure/memory_size.h"
#include "measure/vmm/kernel_blob.h"

namespace realm_measurements::measure {
namespace {

using namespace kvmtool;  // NOLINT: platform constants of this model

using fdt::kIrqEdgeRising;
using fdt::kIrqLevelHigh;
using fdt::kIrqLevelLow;
using fdt::kIrqSpi;
using fdt::kPciSpaceIo;
using fdt::kPciSpaceMmio32;
using fdt::UnitName;

// SPIs of the kvmtool platform (spec-vmm §5.3).
constexpr uint32_t kVirtioFirstSpi = 4;
constexpr uint32_t kPciFirstSpi = 64;
constexpr uint32_t kUartClock = 1843200;
constexpr uint32_t kGicPhandle = 1;
constexpr uint32_t kItsPhandle = 2;
constexpr uint64_t kPciIoSize = 0x10000;
// Reading a --dtb file into memory is bounded.
constexpr uint64_t kMaxDtbFileSize = 16 << 20;

constexpr char kBootargsPrefix[] = " console=hvc0 root=/dev/vda rw ";

// User text inside a one-line error message: control characters escaped.
std::string Shown(absl::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::CHexEscape(s);
    }
  }
  return std::string(s);
}

uint64_t AlignUp(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }

// ---------------------------------------------------------------------------
// The kvmtool nodes (§5.7) that are not fragments of spec-vmm §4.

absl::Status WriteIntc(FdtWriter& w, uint64_t redist_base, uint64_t ncpus,
                       bool its) {
  absl::StatusOr<FdtNode> intc = w.BeginNode("intc");
  if (!intc.ok()) return intc.status();
  BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "arm,gic-v3"));
  BASE_RETURN_IF_ERROR(w.PropertyU32("#interrupt-cells", 3));
  BASE_RETURN_IF_ERROR(w.PropertyNull("interrupt-controller"));
  const uint64_t reg[] = {kGicDistBase, kGicDistSize, redist_base,
                          ncpus * kGicRedistSizePerCpu};
  BASE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", reg));
  BASE_RETURN_IF_ERROR(w.PropertyPhandle(kGicPhandle));
  BASE_RETURN_IF_ERROR(w.PropertyU32("#address-cells", 2));
  BASE_RETURN_IF_ERROR(w.PropertyU32("#size-cells", 2));
  BASE_RETURN_IF_ERROR(w.PropertyNull("ranges"));
  if (its) {
    absl::StatusOr<FdtNode> msic = w.BeginNode("msic");
    if (!msic.ok()) return msic.status();
    BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "arm,gic-v3-its"));
    BASE_RETURN_IF_ERROR(w.PropertyNull("msi-controller"));
    BASE_RETURN_IF_ERROR(w.PropertyPhandle(kItsPhandle));
    const uint64_t its_reg[] = {redist_base - kGicItsSize, kGicItsSize};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", its_reg));
    BASE_RETURN_IF_ERROR(w.EndNode(*msic));
  }
  return w.EndNode(*intc);
}

absl::Status WriteReservedMemory(FdtWriter& w, uint64_t log_base,
                                 uint64_t log_size) {
  absl::StatusOr<FdtNode> rm = w.BeginNode("reserved-memory");
  if (!rm.ok()) return rm.status();
  BASE_RETURN_IF_ERROR(w.PropertyU32("#address-cells", 2));
  BASE_RETURN_IF_ERROR(w.PropertyU32("#size-cells", 2));
  BASE_RETURN_IF_ERROR(w.PropertyNull("ranges"));
  absl::StatusOr<FdtNode> log = w.BeginNode(UnitName("event-log", log_base));
  if (!log.ok()) return log.status();
  BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "cc-event-log"));
  const uint64_t reg[] = {log_base, log_size};
  BASE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", reg));
  BASE_RETURN_IF_ERROR(w.EndNode(*log));
  return w.EndNode(*rm);
}

// The cpus node kvmtool itself writes (template mode, §5.9): its own
// property order and "arm,arm-v8".
absl::Status WriteTemplateCpus(FdtWriter& w, uint64_t ncpus) {
  absl::StatusOr<FdtNode> cpus = w.BeginNode("cpus");
  if (!cpus.ok()) return cpus.status();
  BASE_RETURN_IF_ERROR(w.PropertyU32("#address-cells", 1));
  BASE_RETURN_IF_ERROR(w.PropertyU32("#size-cells", 0));
  for (uint64_t i = 0; i < ncpus; ++i) {
    absl::StatusOr<FdtNode> cpu = w.BeginNode(absl::StrCat("cpu@", i));
    if (!cpu.ok()) return cpu.status();
    BASE_RETURN_IF_ERROR(w.PropertyString("device_type", "cpu"));
    BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "arm,arm-v8"));
    BASE_RETURN_IF_ERROR(w.PropertyString("enable-method", "psci"));
    BASE_RETURN_IF_ERROR(w.PropertyU32("reg", static_cast<uint32_t>(i)));
    BASE_RETURN_IF_ERROR(w.EndNode(*cpu));
  }
  return w.EndNode(*cpus);
}

}  // namespace

// ---------------------------------------------------------------------------
// KvmtoolDtbGenerator

uint64_t KvmtoolDtbGenerator::RedistBase() const {
  return kGicDistBase - num_cpus_ * kGicRedistSizePerCpu;
}

absl::StatusOr<std::vector<uint8_t>> KvmtoolDtbGenerator::Generate() const {
  FdtWriter w;
  // Root prologue (spec-vmm §4); kvmtool lists the initrd only when it has
  // a size.
  fdt::RootPrologue prologue;
  prologue.mem_base = ram_base_;
  prologue.mem_size = mem_size_;
  prologue.num_cpus = num_cpus_;
  prologue.intc_phandle = kGicPhandle;
  prologue.bootargs = bootargs_;
  if (initrd_.has_value() && initrd_->size != 0) {
    prologue.initrd = fdt::RootPrologue::Initrd{initrd_->base, initrd_->size};
  }
  absl::StatusOr<FdtNode> root = fdt::BeginRootWithPrologue(w, prologue);
  if (!root.ok()) return root.status();

  // kvmtool nodes (spec-vmm §5.7).
  BASE_RETURN_IF_ERROR(WriteIntc(w, RedistBase(), num_cpus_, its_));
  if (log_.has_value()) {
    BASE_RETURN_IF_ERROR(WriteReservedMemory(w, log_->base, log_->size));
  }
  BASE_RETURN_IF_ERROR(fdt::WriteTimerNode(w, kIrqLevelLow));
  if (pmu_) BASE_RETURN_IF_ERROR(fdt::WritePmuNode(w, fdt::kPmuPpi));
  for (int k = 0; k < kNumUarts; ++k) {
    const uint64_t addr = kUartBase + k * kUartStride;
    absl::StatusOr<FdtNode> uart = w.BeginNode(UnitName("U6_16550A", addr));
    if (!uart.ok()) return uart.status();
    BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "ns16550a"));
    const uint64_t reg[] = {addr, 8};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", reg));
    const uint32_t irq[] = {kIrqSpi, static_cast<uint32_t>(k), kIrqLevelHigh};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU32("interrupts", irq));
    BASE_RETURN_IF_ERROR(w.PropertyU32("clock-frequency", kUartClock));
    BASE_RETURN_IF_ERROR(w.EndNode(*uart));
  }
  for (uint64_t j = 0; j < num_virtio_mmio_; ++j) {
    const uint64_t addr = kVirtioMmioBase + j * kVirtioMmioSize;
    absl::StatusOr<FdtNode> dev = w.BeginNode(UnitName("virtio", addr));
    if (!dev.ok()) return dev.status();
    BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "virtio,mmio"));
    const uint64_t reg[] = {addr, kVirtioMmioSize};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", reg));
    BASE_RETURN_IF_ERROR(w.PropertyNull("dma-coherent"));
    const uint32_t irq[] = {kIrqSpi, static_cast<uint32_t>(kVirtioFirstSpi + j),
                            kIrqEdgeRising};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU32("interrupts", irq));
    BASE_RETURN_IF_ERROR(w.EndNode(*dev));
  }
  {
    absl::StatusOr<FdtNode> rtc = w.BeginNode(UnitName("rtc", kRtcBase));
    if (!rtc.ok()) return rtc.status();
    BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "motorola,mc146818"));
    const uint64_t reg[] = {kRtcBase, 2};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", reg));
    BASE_RETURN_IF_ERROR(w.EndNode(*rtc));
  }
  {
    absl::StatusOr<FdtNode> pci = w.BeginNode(UnitName("pci", kPciEcamBase));
    if (!pci.ok()) return pci.status();
    BASE_RETURN_IF_ERROR(w.PropertyString("device_type", "pci"));
    BASE_RETURN_IF_ERROR(w.PropertyU32("#address-cells", 3));
    BASE_RETURN_IF_ERROR(w.PropertyU32("#size-cells", 2));
    BASE_RETURN_IF_ERROR(w.PropertyNull("dma-coherent"));
    const uint32_t bus_range[] = {0, 0};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU32("bus-range", bus_range));
    BASE_RETURN_IF_ERROR(
        w.PropertyString("compatible", "pci-host-ecam-generic"));
    const uint64_t reg[] = {kPciEcamBase, kPciEcamSize};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", reg));
    // <space, pci addr hi/lo, cpu addr hi/lo, size hi/lo> per window.
    const uint32_t ranges[] = {kPciSpaceIo,
                               0,
                               0,
                               0,
                               0,
                               0,
                               static_cast<uint32_t>(kPciIoSize),
                               kPciSpaceMmio32,
                               0,
                               static_cast<uint32_t>(kPciMmioBase),
                               0,
                               static_cast<uint32_t>(kPciMmioBase),
                               0,
                               static_cast<uint32_t>(kPciMmioSize)};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU32("ranges", ranges));
    // INTA of each of the 32 slots -> SPI 64 + slot, level-high.
    std::vector<uint32_t> map;
    for (uint32_t s = 0; s < 32; ++s) {
      map.insert(map.end(), {s << 11, 0, 0, 1, kGicPhandle, 0, 0, kIrqSpi,
                             kPciFirstSpi + s, kIrqLevelHigh});
    }
    BASE_RETURN_IF_ERROR(w.PropertyArrayU32("interrupt-map", map));
    const uint32_t mask[] = {0xf800, 0, 0, 7};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU32("interrupt-map-mask", mask));
    BASE_RETURN_IF_ERROR(w.PropertyU32("#interrupt-cells", 1));
    if (its_) {
      const uint32_t msi_map[] = {0, kItsPhandle, 0, 0x10000};
      BASE_RETURN_IF_ERROR(w.PropertyArrayU32("msi-map", msi_map));
    }
    BASE_RETURN_IF_ERROR(w.EndNode(*pci));
  }
  BASE_RETURN_IF_ERROR(w.EndNode(*root));
  return w.Finish();
}

// Template surgery handlers of spec-vmm §5.9.
class KvmtoolTemplateHandler : public DtbTemplateHandler {
 public:
  explicit KvmtoolTemplateHandler(const KvmtoolDtbGenerator& g) : g_(g) {
    rules_.ram_base = g.ram_base_;
    rules_.ram_size = g.mem_size_;
    if (g.initrd_.has_value()) {
      rules_.initrd = CommonDtbRules::Initrd{g.initrd_->base, g.initrd_->size};
    }
    rules_.bootargs = g.bootargs_;
  }

  absl::StatusOr<bool> HandleNode(absl::string_view name,
                                  FdtWriter& w) override {
    if (name == "cpus") {
      BASE_RETURN_IF_ERROR(WriteTemplateCpus(w, g_.num_cpus_));
      return true;
    }
    if (name == "intc") {
      BASE_RETURN_IF_ERROR(
          WriteIntc(w, g_.RedistBase(), g_.num_cpus_, g_.its_));
      return true;
    }
    if (name == "reserved-memory") {
      if (g_.log_.has_value()) {
        BASE_RETURN_IF_ERROR(
            WriteReservedMemory(w, g_.log_->base, g_.log_->size));
      }
      return true;
    }
    if (name == "pmu") return !g_.pmu_;  // kept or dropped, never added
    return false;
  }

  absl::StatusOr<bool> HandleProperty(absl::string_view node,
                                      absl::string_view name,
                                      absl::Span<const uint8_t>,
                                      FdtWriter& w) override {
    return rules_.Apply(node, name, w);
  }

 private:
  const KvmtoolDtbGenerator& g_;
  CommonDtbRules rules_;
};

absl::StatusOr<std::vector<uint8_t>> KvmtoolDtbGenerator::GenDtb() const {
  absl::StatusOr<std::vector<uint8_t>> dtb;
  if (template_.has_value()) {
    KvmtoolTemplateHandler handler(*this);
    dtb = PatchDtbTemplate(*template_, handler);
  } else {
    dtb = Generate();
  }
  if (!dtb.ok()) return dtb.status();
  if (dtb->size() > kDtbSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "generated DTB is too large (", dtb->size(), " > ", kDtbSize, ")"));
  }
  dtb->resize(kDtbSize, 0);  // header totalsize keeps the real size
  return dtb;
}

// ---------------------------------------------------------------------------
// Argument parsing (spec-vmm §5.1): clap-like long/short grammar.

namespace {

constexpr ArgUse kSup = ArgUse::kSupported;
constexpr ArgUse kIgn = ArgUse::kIgnored;
constexpr ArgKind kFlag = ArgKind::kFlag;
constexpr ArgKind kValue = ArgKind::kValue;
constexpr ArgKind kList = ArgKind::kList;
constexpr ArgType kStr = ArgType::kString;

// Every lkvm option the reference accepts (spec-vmm §5.1); anything else is
// a usage error. `restricted_mem` is spelt with an underscore there.
constexpr ArgSpec kOptions[] = {
    {"name", 0, kValue, kStr, kIgn, ""},
    {"cpus", 'c', kValue, ArgType::kUsize, kSup,
     "vCPU count (1 to 4096); required (`number of vCPUs is not known`)"},
    {"mem", 'm', kValue, kStr, kSup,
     "RAM size (`512M`, `1G`, no suffix = MiB; a multiple of 2 MiB); "
     "required (`default guest RAM size is not known`); `<size>@<base>` is "
     "rejected"},
    {"disk", 'd', kList, kStr, kSup, "each is one virtio device"},
    {"balloon", 0, kFlag, kStr, kSup, "one virtio device"},
    {"rng", 0, kFlag, kStr, kSup, "one virtio device"},
    {"nodefaults", 0, kFlag, kStr, kIgn, ""},
    {"9p", 0, kList, kStr, kSup, "each is one virtio device"},
    {"console", 0, kValue, kStr, kSup,
     "`virtio` is one virtio device; other values have no effect"},
    {"vsock", 0, kValue, ArgType::kU64, kSup, "one virtio device"},
    {"dev", 0, kValue, kStr, kIgn, ""},
    {"tty", 0, kValue, kStr, kIgn, ""},
    {"hugetlbfs", 0, kValue, kStr, kIgn, ""},
    {"loglevel", 0, kValue, kStr, kIgn, ""},
    {"virtio-transport", 0, kValue, kStr, kSup,
     "`pci` (default) or `mmio`; with `mmio` the virtio devices get "
     "`virtio@` DTB nodes; else `unsupported virtio transport <v>`"},
    {"kernel", 'k', kValue, kStr, kSup,
     "direct kernel boot; the file is the global `-k` (the value is not "
     "read)"},
    {"initrd", 'i', kValue, kStr, kSup,
     "initrd below the DTB; the file is the global `-i`"},
    {"params", 'p', kValue, kStr, kSup,
     "appended to the fixed bootargs ` console=hvc0 root=/dev/vda rw `"},
    {"firmware", 'f', kValue, kStr, kSup,
     "firmware at `--firmware-address`; the file is the global `-f`. The "
     "REMs the firmware extends as it boots are not modelled: they are "
     "printed as zero, with a warning"},
    {"flash", 'F', kValue, kStr, ArgUse::kRejected,
     "CFI flash is not modelled (the reference aborts)"},
    {"network", 'n', kList, kStr, kSup,
     "`key=value,...` netdevs: the implicit NIC is one virtio device, each "
     "`mode=` adds one, `mode=none` sets the count to 0; `trans=` must "
     "match the transport"},
    {"no-dhcp", 0, kFlag, kStr, kIgn, ""},
    {"vfio-pci", 0, kList, kStr, kIgn, ""},
    {"debug", 0, kFlag, kStr, kIgn, ""},
    {"debug-single-step", 0, kFlag, kStr, kIgn, ""},
    {"debug-ioport", 0, kFlag, kStr, kIgn, ""},
    {"debug-mmio", 0, kFlag, kStr, kIgn, ""},
    {"debug-iodelay", 0, kValue, ArgType::kUsize, kIgn, ""},
    {"pmu", 0, kFlag, kStr, kSup, "restricts the PMU to enabled"},
    {"disable-sve", 0, kFlag, kStr, kSup,
     "restricts the SVE vector length to 0 (wins over `--sve-max-vl`)"},
    {"realm", 0, kFlag, kStr, kIgn, "a Realm is always assumed"},
    {"measurement-algo", 0, kValue, kStr, kSup,
     "`sha256` (default), `sha512`, or `sha384` (needs `--rmm-version 2.0`)"},
    {"measurement-log", 0, kFlag, kStr, kSup,
     "reserves a 64 KiB event log at the top of lowmem (not measured)"},
    {"realm-pv", 0, kValue, kStr, kSup,
     "RPV: the value's bytes (at most 64), zero padded"},
    {"no-pvtime", 0, kFlag, kStr, kIgn, ""},
    {"disable-mte", 0, kFlag, kStr, kIgn, ""},
    {"force-pci", 0, kFlag, kStr, kIgn, ""},
    {"sve-max-vl", 0, kValue, ArgType::kU16, kSup,
     "restricts the SVE vector length (checked against the host)"},
    {"pmu-counters", 0, kValue, ArgType::kU8, kSup,
     "restricts the PMU counter count (checked against the host)"},
    {"vcpu-affinity", 0, kValue, kStr, kIgn, ""},
    {"irqchip", 0, kValue, kStr, kSup,
     "`gicv3` (no ITS) or `gicv3-its` (default); else `unsupported irqchip "
     "<v>`"},
    {"firmware-address", 0, kValue, ArgType::kU64, kSup,
     "firmware load address, decimal (default the RAM base)"},
    {"dtb", 0, kValue, kStr, kIgn,
     "kvmtool's own option; use the global `--dtb`"},
    {"restricted_mem", 0, kFlag, kStr, kIgn,
     "note the underscore: `--restricted-mem` is rejected"},
};

std::string Display(const ArgSpec& o) {
  std::string s = absl::StrCat("--", o.long_name);
  if (o.kind != ArgKind::kFlag) {
    std::string upper;
    for (const char* p = o.long_name; *p != '\0'; ++p) {
      upper += *p == '-' ? '_' : static_cast<char>(std::toupper(*p));
    }
    absl::StrAppend(&s, " <", upper, ">");
  }
  return s;
}

class ParsedArgs {
 public:
  bool Has(absl::string_view name) const { return values_.count(name) > 0; }
  const std::vector<std::string>& All(absl::string_view name) const {
    static const std::vector<std::string>* const kEmpty =
        new std::vector<std::string>();
    auto it = values_.find(name);
    return it == values_.end() ? *kEmpty : it->second;
  }
  std::optional<std::string> Get(absl::string_view name) const {
    auto it = values_.find(name);
    if (it == values_.end() || it->second.empty()) return std::nullopt;
    return it->second.front();
  }
  // Values of the kSupported and kRejected options only: what the table
  // calls ignored cannot reach the model.
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
  // How often each option was given (for the at-most-once rule).
  std::map<std::string, size_t, std::less<>> counts_;
};

absl::Status CheckType(const ArgSpec& o, const std::string& v) {
  uint64_t max = 0;
  switch (o.type) {
    case ArgType::kString:
      return absl::OkStatus();
    case ArgType::kUsize:
    case ArgType::kU64:
      max = std::numeric_limits<uint64_t>::max();
      break;
    case ArgType::kU16:
      max = std::numeric_limits<uint16_t>::max();
      break;
    case ArgType::kU8:
      max = std::numeric_limits<uint8_t>::max();
      break;
  }
  absl::StatusOr<uint64_t> n = ParseDecimalUnsigned(v, max);
  if (!n.ok()) {
    return UsageError(absl::StrCat("invalid value '", Shown(v), "' for '",
                                   Display(o), "': ", n.status().message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<ParsedArgs> ParseArgs(absl::Span<const std::string> args) {
  ParsedArgs out;
  auto add = [&](const ArgSpec& o,
                 std::optional<std::string> value) -> absl::Status {
    size_t& count = out.counts_[o.long_name];
    if (o.kind != ArgKind::kList && count > 0) {
      return UsageError(absl::StrCat("the argument '", Display(o),
                                     "' cannot be used multiple times"));
    }
    ++count;
    if (o.kind == ArgKind::kFlag) {
      if (value.has_value()) {
        return UsageError(absl::StrCat("unexpected value '", Shown(*value),
                                       "' for '", Display(o),
                                       "' found; no more were expected"));
      }
      value = "";
    } else {
      BASE_RETURN_IF_ERROR(CheckType(o, *value));
    }
    if (o.use != ArgUse::kIgnored) {
      out.values_[o.long_name].push_back(*std::move(value));
    }
    return absl::OkStatus();
  };
  auto missing = [](const ArgSpec& o) {
    return UsageError(absl::StrCat("a value is required for '", Display(o),
                                   "' but none was supplied"));
  };
  // A following argument can be a value unless it looks like an option.
  auto looks_like_option = [](const std::string& a) {
    return a.size() > 1 && a[0] == '-';
  };

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const ArgSpec* spec = nullptr;
    std::optional<std::string> attached;
    if (a == "--") {
      if (i + 1 < args.size()) {
        return UsageError(absl::StrCat("unexpected argument '",
                                       Shown(args[i + 1]), "' found"));
      }
      break;
    }
    if (a.size() > 2 && a[0] == '-' && a[1] == '-') {
      absl::string_view body = absl::string_view(a).substr(2);
      size_t eq = body.find('=');
      absl::string_view name = body.substr(0, eq);
      if (eq != absl::string_view::npos) {
        attached = std::string(body.substr(eq + 1));
      }
      for (const ArgSpec& o : kOptions) {
        if (name == o.long_name) spec = &o;
      }
      if (spec == nullptr) {
        return UsageError(
            absl::StrCat("unexpected argument '--", Shown(name), "' found"));
      }
    } else if (a.size() > 1 && a[0] == '-') {
      for (const ArgSpec& o : kOptions) {
        if (o.short_name != 0 && a[1] == o.short_name) spec = &o;
      }
      if (spec == nullptr) {
        return UsageError(absl::StrCat("unexpected argument '-",
                                       Shown(std::string(1, a[1])), "' found"));
      }
      if (a.size() > 2) {
        absl::string_view rest = absl::string_view(a).substr(2);
        if (rest[0] == '=') rest.remove_prefix(1);
        attached = std::string(rest);
      }
    } else {
      return UsageError(
          absl::StrCat("unexpected argument '", Shown(a), "' found"));
    }
    if (spec->kind != ArgKind::kFlag && !attached.has_value()) {
      if (i + 1 >= args.size() || looks_like_option(args[i + 1])) {
        return missing(*spec);
      }
      attached = args[++i];
    }
    BASE_RETURN_IF_ERROR(add(*spec, std::move(attached)));
  }
  return out;
}

uint64_t ParsedU64(const std::string& v) {
  // Already type-checked by ParseArgs.
  absl::StatusOr<uint64_t> n =
      ParseDecimalUnsigned(v, std::numeric_limits<uint64_t>::max());
  return n.ok() ? *n : 0;
}

uint8_t BitWidth(uint64_t v) {
  uint8_t w = 0;
  while (v != 0) {
    ++w;
    v >>= 1;
  }
  return w;
}

absl::StatusOr<std::vector<uint8_t>> ReadWholeFile(const std::string& path,
                                                   uint64_t limit) {
  auto os_error = [&](int err) {
    return absl::InvalidArgumentError(
        absl::StrCat("file ", path, " error: ", std::strerror(err),
                     " (os error ", err, ")"));
  };
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return os_error(errno);
  std::vector<uint8_t> out;
  uint8_t buf[64 * 1024];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof(buf));
    if (r < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return os_error(err);
    }
    if (r == 0) break;
    if (out.size() + r > limit) {
      close(fd);
      return absl::InvalidArgumentError(absl::StrCat(
          "file ", path, " error: larger than the ", limit, "-byte limit"));
    }
    out.insert(out.end(), buf, buf + r);
  }
  close(fd);
  return out;
}

absl::Status WrapDtb(const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(),
                      absl::StrCat("while generating DTB: ", s.message()));
}

}  // namespace

absl::Span<const ArgSpec> kvmtool::Arguments() { return kOptions; }

// ---------------------------------------------------------------------------
// The model (spec-vmm §5.2-§5.6).

absl::Status BuildKvmtool(const VmmInputs& inputs,
                          absl::Span<const std::string> args,
                          RealmConfig& config) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args);
  if (!parsed.ok()) return parsed.status();
  const ParsedArgs& a = *parsed;

  // 1. vCPUs.
  std::optional<std::string> cpus = a.Get("cpus");
  if (!cpus.has_value()) {
    return absl::InvalidArgumentError(
        "number of vCPUs is not known: give kvmtool's -c/--cpus, e.g. "
        "kvmtool --realm -c 2 -m 512M");
  }
  const uint64_t ncpus = ParsedU64(*cpus);
  if (ncpus == 0 || ncpus > kMaxVcpus) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid VM configuration: ", ncpus,
                     " vCPUs (expected 1 to ", kMaxVcpus, ")"));
  }

  // 2. RAM.
  std::optional<std::string> mem = a.Get("mem");
  if (!mem.has_value()) {
    return absl::InvalidArgumentError(
        "default guest RAM size is not known: give kvmtool's -m/--mem, e.g. "
        "kvmtool --realm -c 2 -m 512M");
  }
  std::vector<absl::string_view> mem_parts =
      absl::StrSplit(*mem, absl::MaxSplits('@', 1));
  absl::StatusOr<uint64_t> ram_size = ParseMemorySize(mem_parts[0]);
  if (!ram_size.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("-m: ", ram_size.status().message()));
  }
  if (*ram_size % kRamAlign != 0) {
    return absl::InvalidArgumentError("RAM size must be aligned on 2MB");
  }
  if (mem_parts.size() > 1) {
    return absl::InvalidArgumentError("unsupported RAM base change");
  }
  const uint64_t ram_base = kRamBase;
  const uint64_t ram_top = ram_base + *ram_size;
  if (ram_top < ram_base) {
    return absl::InvalidArgumentError(
        absl::StrCat("-m: RAM size ", *ram_size,
                     " at base 0x80000000 exceeds the 64-bit address space"));
  }

  // 3. Bootargs (always present).
  std::string bootargs = kBootargsPrefix;
  if (std::optional<std::string> p = a.Get("params"); p && !p->empty()) {
    absl::StrAppend(&bootargs, " ", *p);
  }

  // 4. Hash algorithm.
  const std::string algo = a.Get("measurement-algo").value_or("sha256");
  absl::StatusOr<HashAlgorithm> hash = ParseHashAlgorithm(algo);
  if (!hash.ok()) {
    // The reference's error chain.
    return absl::InvalidArgumentError(
        absl::StrCat("RMM: unknown hash algorithm `", Shown(algo),
                     "`: unknown hash algorithm `", Shown(algo), "`"));
  }
  config.set_hash_algorithm(*hash);

  // 5. PMU.
  if (a.Has("pmu")) {
    HostCaps c;
    c.pmu = true;
    BASE_RETURN_IF_ERROR(config.caps().Restrict(c));
  }
  if (std::optional<std::string> n = a.Get("pmu-counters")) {
    HostCaps c;
    c.pmu_num_ctrs = static_cast<uint8_t>(ParsedU64(*n));
    BASE_RETURN_IF_ERROR(config.caps().Restrict(c));
  }

  // 6. SVE.
  if (a.Has("disable-sve")) {
    HostCaps c;
    c.sve_vl = 0;
    BASE_RETURN_IF_ERROR(config.caps().Restrict(c));
  } else if (std::optional<std::string> vl = a.Get("sve-max-vl")) {
    HostCaps c;
    c.sve_vl = static_cast<uint16_t>(ParsedU64(*vl));
    BASE_RETURN_IF_ERROR(config.caps().Restrict(c));
  }

  // 7. RPV: the raw bytes of the string.
  if (std::optional<std::string> pv = a.Get("realm-pv")) {
    BASE_RETURN_IF_ERROR(config.SetPersonalizationValue(absl::MakeConstSpan(
        reinterpret_cast<const uint8_t*>(pv->data()), pv->size())));
  }

  // 8. IPA width, kvmtool's formula (deviations C2): one bit more than
  // the RAM's last address needs (at least 32), for the shared half.
  const uint8_t ipa_bits = std::max<uint8_t>(32, BitWidth(ram_top - 1)) + 1;
  {
    HostCaps c;
    c.ipa_bits = ipa_bits;
    BASE_RETURN_IF_ERROR(config.caps().Restrict(c));
    config.RequireIpaBits(ipa_bits);
  }

  // 9. Devices.
  bool its = true;
  if (std::optional<std::string> irqchip = a.Get("irqchip")) {
    if (*irqchip == "gicv3") {
      its = false;
    } else if (*irqchip == "gicv3-its") {
      its = true;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported irqchip ", Shown(*irqchip)));
    }
  }
  bool mmio = false;
  if (std::optional<std::string> t = a.Get("virtio-transport")) {
    if (*t == "mmio") {
      mmio = true;
    } else if (*t != "pci") {
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported virtio transport ", Shown(*t)));
    }
  }
  uint64_t netdevs = 1;  // kvmtool's implicit default NIC
  for (const std::string& n : a.All("network")) {
    for (absl::string_view item : absl::StrSplit(n, ',')) {
      size_t eq = item.find('=');
      if (eq == absl::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("malformed -n param ", Shown(item)));
      }
      absl::string_view key = item.substr(0, eq);
      absl::string_view value = item.substr(eq + 1);
      if (key == "mode") {
        netdevs = value == "none" ? 0 : netdevs + 1;
      } else if (key == "trans") {
        if (value != "pci" && value != "mmio") {
          return absl::InvalidArgumentError(
              absl::StrCat("invalid transport ", Shown(value)));
        }
        if ((value == "mmio") != mmio) {
          return absl::InvalidArgumentError(
              "unsupported virtio transport mismatch");
        }
      }
    }
  }
  uint64_t num_mmio = 0;
  if (mmio) {
    num_mmio =
        (a.Has("balloon") ? 1 : 0) + (a.Has("rng") ? 1 : 0) +
        a.All("9p").size() + (a.Has("vsock") ? 1 : 0) +
        (a.Get("console") == std::optional<std::string>("virtio") ? 1 : 0) +
        a.All("disk").size() + netdevs;
  }

  // 10. Firmware base.
  const uint64_t fw_base = a.Has("firmware-address")
                               ? ParsedU64(*a.Get("firmware-address"))
                               : ram_base;

  // 11. PMU in the DTB follows the platform after restriction.
  const bool pmu = config.caps().pmu.value_or(false);

  // Placement (spec-vmm §5.4); wrapping arithmetic as in the reference,
  // RealmConfig::Validate() rejects what lands outside RAM.
  uint64_t lowmem_top = std::min(ram_top, kLowmemLimit);
  std::optional<uint64_t> log_base;
  if (a.Has("measurement-log")) {
    log_base = lowmem_top - kLogSize;
    lowmem_top -= kLogSize;
  }
  const uint64_t dtb_base =
      AlignUp(lowmem_top - (kDtbAlign + kDtbSize), kDtbAlign);

  KvmtoolDtbGenerator gen;
  gen.set_num_cpus(ncpus);
  gen.set_mem_size(*ram_size);
  gen.set_bootargs(bootargs);
  gen.set_its(its);
  gen.set_num_virtio_mmio(num_mmio);
  if (log_base.has_value()) gen.set_log_location(*log_base, kLogSize);

  // Order of operations (spec-vmm §5.6).
  BASE_RETURN_IF_ERROR(config.AddRam(ram_base, *ram_size));
  gen.set_pmu(pmu);

  const bool has_kernel = a.Has("kernel");
  if (has_kernel) {
    BASE_ASSIGN_OR_RETURN(Blob kernel,
                          LoadKernelBlob(inputs, ram_base, "kvmtool --kernel"));
    BASE_RETURN_IF_ERROR(config.AddRimBlob(std::move(kernel)));
  }

  uint64_t initrd_base = 0, initrd_size = 0;
  if (a.Has("initrd")) {
    if (!inputs.initrd.has_value()) {
      return absl::InvalidArgumentError(
          NeedImage("initrd", "-i", "kvmtool --initrd"));
    }
    Payload p = Payload::FromFile(*inputs.initrd);
    absl::StatusOr<uint64_t> size = p.Size();
    if (!size.ok()) return size.status();
    initrd_size = *size;
    // kvmtool puts the initrd right below the DTB, both below
    // min(RAM end, kLowmemLimit): with the 4-byte gap and the 4-byte
    // alignment, at most dtb_base - ram_base - 1 bytes fit.
    const uint64_t room = dtb_base > ram_base ? dtb_base - ram_base - 1 : 0;
    if (initrd_size > room) {
      return absl::InvalidArgumentError(absl::StrCat(
          "initrd does not fit: kvmtool places the initrd and the DTB in the "
          "first 256 MiB of RAM (below ",
          "0x", absl::Hex(kLowmemLimit), "); the initrd needs ", initrd_size,
          " bytes, at most ", room, " are free between the RAM base 0x",
          absl::Hex(ram_base), " and the DTB at 0x", absl::Hex(dtb_base)));
    }
    initrd_base = AlignUp(dtb_base - (initrd_size + 4), 4);
    Blob blob;
    blob.name = "initrd";
    blob.guest_start = initrd_base;
    blob.payload = std::move(p);
    BASE_RETURN_IF_ERROR(config.AddRimBlob(std::move(blob)));
  }
  // kvmtool always reports an initrd range (0/0 without one), §5.9.
  gen.set_initrd(initrd_base, initrd_size);

  const bool has_firmware = a.Has("firmware");
  if (has_firmware) {
    if (!inputs.firmware.has_value()) {
      return absl::InvalidArgumentError(
          NeedImage("firmware", "-f", "kvmtool --firmware"));
    }
    Blob blob;
    blob.name = "firmware";
    blob.guest_start = fw_base;
    blob.payload = Payload::FromFile(*inputs.firmware);  // sized lazily
    BASE_RETURN_IF_ERROR(config.AddRimBlob(std::move(blob)));
    // The reference prints all-zero REMs here and says nothing; a firmware
    // with measured boot extends them before the token is taken.
    config.Warn(
        "kvmtool --firmware: the REMs the firmware extends as it boots are "
        "not modelled; REM0-REM3 are their values before it runs (zero): "
        "take them from the realm's event log (eventlog replay)");
  }

  // Options the table rejects fail here, where the reference panics
  // ("not yet implemented: cfi-flash not supported"), after the blobs.
  for (const ArgSpec& o : kOptions) {
    if (o.use == ArgUse::kRejected && a.Has(o.long_name)) {
      std::string names = o.short_name != 0
                              ? absl::StrCat("-", std::string(1, o.short_name),
                                             "/--", o.long_name)
                              : absl::StrCat("--", o.long_name);
      return absl::UnimplementedError(absl::StrCat(
          names, ": not supported by the kvmtool model: ", o.summary));
    }
  }

  // Boot vCPU (spec-vmm §5.5): PC excludes text_offset.
  RecParams rec;
  rec.pc = has_firmware ? fw_base : (has_kernel ? ram_base : 0);
  rec.gprs[0] = dtb_base;
  BASE_RETURN_IF_ERROR(config.AddRec(rec));

  if (log_base.has_value()) config.AddRimUnmeasured(*log_base, kLogSize);

  if (inputs.dtb_template.has_value()) {
    absl::StatusOr<std::vector<uint8_t>> t =
        ReadWholeFile(*inputs.dtb_template, kMaxDtbFileSize);
    if (!t.ok()) return t.status();
    gen.set_template(*std::move(t));
  }

  // add_dtb (spec-vmm §2.3).
  absl::StatusOr<std::vector<uint8_t>> dtb;
  if (inputs.dtb.has_value()) {
    dtb = ReadWholeFile(*inputs.dtb, kMaxDtbFileSize);  // verbatim
    if (dtb.ok()) BASE_RETURN_IF_ERROR(CheckDtbOption(*inputs.dtb, *dtb));
  } else {
    dtb = gen.GenDtb();
  }
  if (!dtb.ok()) return WrapDtb(dtb.status());
  return WrapDtb(config.AddDtb(dtb_base, *std::move(dtb)));
}

}  // namespace realm_measurements::measure
