#include "measure/vmm/qemu.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "measure/engine.h"
#include "measure/fdt/dtb_template.h"
#include "measure/fdt/fdt_fragments.h"
#include "measure/fdt/fdt_writer.h"
#include "measure/host_caps.h"
#include "measure/linux_image.h"
#include "measure/memory_size.h"
#include "measure/payload.h"
#include "measure/vmm/qemu_args.h"

namespace realm_measurements::measure {
namespace {

using namespace qemu;  // NOLINT: platform constants of this model

using fdt::kIrqEdgeRising;
using fdt::kIrqLevelHigh;
using fdt::kIrqSpi;
using fdt::kPciSpaceIo;
using fdt::kPciSpaceMmio32;
using fdt::kPciSpaceMmio64;
using fdt::UnitName;

// QEMU virt interrupts (spec-vmm §6.7).
constexpr uint32_t kUartSpi = 1;
constexpr uint32_t kRtcSpi = 2;
constexpr uint32_t kPciFirstSpi = 3;
constexpr uint32_t kVirtioFirstSpi = 16;
constexpr int kPciIntxDevices = 4;
constexpr int kPciIntxPins = 4;
constexpr uint32_t kPciIntxMask = 0x1800;
// gpio-keys/poweroff uses GPIO line 3 of the PL061.
constexpr uint32_t kPoweroffGpio = 3;
constexpr uint64_t kGiB = 1ull << 30;
constexpr uint64_t kPageSize = 4096;
// Bound on --dtb / --dtb-template files read into memory.
constexpr uint64_t kMaxDtbFileSize = 16 << 20;

// -device types that QEMU CCA guests commonly use and that do not change
// the DTB; no warning for them (spec-vmm §6.1).
constexpr const char* kQuietDevices[] = {"virtconsole",       "virtio-blk-pci",
                                         "virtio-serial-pci", "virtio-net-pci",
                                         "virtio-9p-pci",     "virtio-fs-pci"};

#define QEMU_BEGIN(var, w, name)                     \
  absl::StatusOr<FdtNode> var = (w).BeginNode(name); \
  if (!var.ok()) return var.status()

// Checked align_up; false on overflow.
bool AlignUpChecked(uint64_t x, uint64_t a, uint64_t* out) {
  uint64_t t;
  if (__builtin_add_overflow(x, a - 1, &t)) return false;
  *out = t & ~(a - 1);
  return true;
}

int Ilog2(uint64_t v) { return 63 - __builtin_clzll(v); }

uint32_t Hi(uint64_t v) { return static_cast<uint32_t>(v >> 32); }
uint32_t Lo(uint64_t v) { return static_cast<uint32_t>(v); }

absl::Status Error(absl::string_view msg) {
  return absl::InvalidArgumentError(msg);
}

std::vector<std::string> Strings(std::initializer_list<const char*> list) {
  return std::vector<std::string>(list.begin(), list.end());
}

absl::StatusOr<std::vector<uint8_t>> ReadBoundedFile(const std::string& path) {
  Payload p = Payload::FromFile(path);
  absl::StatusOr<uint64_t> size = p.Size();
  if (!size.ok()) return size.status();
  if (*size > kMaxDtbFileSize) {
    return Error(absl::StrCat("file ", path, " error: ", *size,
                              " bytes is larger than the ", kMaxDtbFileSize,
                              "-byte DTB limit"));
  }
  std::vector<uint8_t> out;
  BASE_RETURN_IF_ERROR(p.Read([&](absl::Span<const uint8_t> chunk) {
    if (out.size() + chunk.size() > kMaxDtbFileSize) {
      return Error(absl::StrCat("file ", path, " error: grew past the ",
                                kMaxDtbFileSize, "-byte DTB limit"));
    }
    out.insert(out.end(), chunk.begin(), chunk.end());
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// Memory map (spec-vmm §6.7) and topology (§6.3).

absl::StatusOr<QemuMemoryMap> ComputeQemuMemoryMap(uint64_t ram_size,
                                                   uint64_t max_mem,
                                                   uint64_t slots) {
  auto overflow = [&]() {
    return Error(absl::StrCat(
        "invalid VM configuration: memory map for -m size=", ram_size,
        ",maxmem=", max_mem, ",slots=", slots,
        " does not fit in the 64-bit address space"));
  };
  if (max_mem < ram_size) {
    return Error(absl::StrCat("-m: maxmem (", max_mem,
                              ") is smaller than the RAM size (", ram_size,
                              ")"));
  }
  uint64_t ram_end, hp_base, hotplug, hp_size, hp_size_aligned, a0;
  if (__builtin_add_overflow(kRamBase, ram_size, &ram_end) ||
      !AlignUpChecked(ram_end, kGiB, &hp_base) ||
      __builtin_mul_overflow(slots, kGiB, &hotplug) ||
      __builtin_add_overflow(max_mem - ram_size, hotplug, &hp_size) ||
      !AlignUpChecked(hp_size, kGiB, &hp_size_aligned) ||
      __builtin_add_overflow(hp_base, hp_size_aligned, &a0)) {
    return overflow();
  }
  a0 = std::max(a0, kHighMapFloor);
  // The running address advances from the unaligned value (§6.7).
  QemuMemoryMap m;
  uint64_t a1, a2, a3;
  if (!AlignUpChecked(a0, kHighRedistSize, &m.redist2) ||
      __builtin_add_overflow(a0, kHighRedistSize, &a1) ||
      !AlignUpChecked(a1, kEcamSize, &m.ecam_hi) ||
      __builtin_add_overflow(a1, kEcamSize, &a2) ||
      !AlignUpChecked(a2, kHighMmioSize, &m.mmio_hi) ||
      __builtin_add_overflow(a2, kHighMmioSize, &a3) ||
      m.mmio_hi > std::numeric_limits<uint64_t>::max() - kHighMmioSize) {
    return overflow();
  }
  // An IPA space wider than 64 bits cannot be described (the reference
  // would still print a number).
  if (Ilog2(a3) + 2 > 64) return overflow();
  m.ipa_bits = static_cast<uint8_t>(Ilog2(a3) + 2);
  return m;
}

absl::StatusOr<QemuTopology> ResolveQemuTopology(const QemuSmpSpec& smp) {
  uint64_t c = 0;
  if (smp.maxcpus.has_value()) {
    if (smp.cpus.has_value() && *smp.cpus != *smp.maxcpus) {
      return Error("-smp: expecting cpus == maxcpus");
    }
    c = *smp.maxcpus;
  } else if (smp.cpus.has_value()) {
    c = *smp.cpus;
  }
  QemuTopology t;
  uint64_t* const fields[] = {&t.sockets, &t.clusters, &t.cores, &t.threads};
  const char* const names[] = {"sockets", "clusters", "cores", "threads"};
  auto check = [&](int which) -> absl::Status {
    uint64_t p = 1;
    for (uint64_t* f : fields) {
      if (__builtin_mul_overflow(p, *f, &p)) {
        return Error(absl::StrCat("invalid number of ", names[which]));
      }
    }
    if (p == 0) return Error("invalid number of CPUs");
    return absl::OkStatus();
  };
  const std::optional<uint64_t>* const given[] = {&smp.sockets, &smp.clusters,
                                                  &smp.cores, &smp.threads};
  for (int i = 0; i < 4; ++i) {
    if (given[i]->has_value()) {
      *fields[i] = **given[i];
      BASE_RETURN_IF_ERROR(check(i));
    }
  }
  if (c == 0) return t;
  // Fill order of the reference: cores, sockets, threads (§6.3); the
  // products are non-zero and do not overflow after check().
  if (!smp.cores.has_value()) {
    t.cores = c / (t.sockets * t.clusters * t.threads);
    BASE_RETURN_IF_ERROR(check(2));
  }
  if (!smp.sockets.has_value()) {
    t.sockets = c / (t.clusters * t.cores * t.threads);
    BASE_RETURN_IF_ERROR(check(0));
  }
  if (!smp.threads.has_value()) {
    t.threads = c / (t.sockets * t.clusters * t.cores);
    BASE_RETURN_IF_ERROR(check(3));
  }
  return t;
}

// ---------------------------------------------------------------------------
// DTB (spec-vmm §4, §6.9-§6.11).

QemuDtbGenerator::QemuDtbGenerator() {
  absl::StatusOr<QemuMemoryMap> m =
      ComputeQemuMemoryMap(kDefaultRamSize, kDefaultRamSize, 0);
  if (m.ok()) map_ = *m;
}

uint32_t QemuDtbGenerator::gic_phandle() const {
  // QEMU allocates the clock, then one phandle per CPU, then the GIC.
  return kFirstPhandle + static_cast<uint32_t>(topology_.num_cpus()) + 1;
}

// Node writers shared by the generator and the template handler.
class QemuDtbWriter {
 public:
  explicit QemuDtbWriter(const QemuDtbGenerator& g) : g_(g) {}

  uint64_t ncpus() const { return g_.topology_.num_cpus(); }

  std::vector<uint64_t> GicRegs() const {
    std::vector<uint64_t> regs = {kGicDistBase, kGicDistSize, kGicRedistBase,
                                  kGicRedistSize};
    if (ncpus() > kLowRedistCpus) {
      regs.insert(regs.end(), {g_.map_.redist2, kHighRedistSize});
    }
    return regs;
  }

  std::vector<uint32_t> PciInterruptMap() const {
    std::vector<uint32_t> map;
    for (uint32_t dev = 0; dev < kPciIntxDevices; ++dev) {
      for (uint32_t pin = 0; pin < kPciIntxPins; ++pin) {
        map.insert(map.end(),
                   {dev << 11, 0, 0, pin + 1, g_.gic_phandle(), 0, 0, kIrqSpi,
                    kPciFirstSpi + (pin + dev) % kPciIntxPins, kIrqLevelHigh});
      }
    }
    return map;
  }

  std::vector<uint32_t> PciRanges() const {
    const uint64_t mmio = g_.map_.mmio_hi;
    return {kPciSpaceIo,
            0,
            0,
            0,
            Lo(kPciIoBase),
            0,
            Lo(kPciIoSize),
            kPciSpaceMmio32,
            0,
            Lo(kPciMmioBase),
            0,
            Lo(kPciMmioBase),
            0,
            Lo(kPciMmioSize),
            kPciSpaceMmio64,
            Hi(mmio),
            Lo(mmio),
            Hi(mmio),
            Lo(mmio),
            Hi(kHighMmioSize),
            Lo(kHighMmioSize)};
  }

  std::vector<uint64_t> PciReg() const { return {g_.map_.ecam_hi, kEcamSize}; }

  std::vector<uint32_t> MsiMap() const {
    return {0, g_.its_phandle(), 0, 0x10000};
  }

  absl::Status ReservedMemory(FdtWriter& w) const {
    QEMU_BEGIN(rm, w, "reserved-memory");
    BASE_RETURN_IF_ERROR(w.PropertyNull("ranges"));
    BASE_RETURN_IF_ERROR(w.PropertyU32("#size-cells", 2));
    BASE_RETURN_IF_ERROR(w.PropertyU32("#address-cells", 2));
    QEMU_BEGIN(log, w, UnitName("event-log", g_.log_->base));
    const uint64_t reg[] = {g_.log_->base, g_.log_->size};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", reg));
    BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "cc-event-log"));
    BASE_RETURN_IF_ERROR(w.EndNode(*log));
    return w.EndNode(*rm);
  }

  // The cpus node QEMU writes (template mode, §6.11), with the cpu-map.
  absl::Status TemplateCpus(FdtWriter& w) const {
    const QemuTopology& t = g_.topology_;
    const uint64_t n = ncpus();
    QEMU_BEGIN(cpus, w, "cpus");
    BASE_RETURN_IF_ERROR(w.PropertyU32("#size-cells", 0));
    BASE_RETURN_IF_ERROR(w.PropertyU32("#address-cells", 1));
    {
      QEMU_BEGIN(map, w, "cpu-map");
      // Leaf l refers to cpu@l, whose phandle is 0x8000 + n - l.
      uint32_t p = kFirstPhandle + static_cast<uint32_t>(n);
      for (uint64_t s = 0; s < t.sockets; ++s) {
        QEMU_BEGIN(sn, w, absl::StrCat("socket", s));
        for (uint64_t c = 0; c < t.clusters; ++c) {
          QEMU_BEGIN(cn, w, absl::StrCat("cluster", c));
          for (uint64_t k = 0; k < t.cores; ++k) {
            QEMU_BEGIN(kn, w, absl::StrCat("core", k));
            if (t.threads > 1) {
              for (uint64_t th = 0; th < t.threads; ++th) {
                QEMU_BEGIN(tn, w, absl::StrCat("thread", th));
                BASE_RETURN_IF_ERROR(w.PropertyU32("cpu", p--));
                BASE_RETURN_IF_ERROR(w.EndNode(*tn));
              }
            } else {
              BASE_RETURN_IF_ERROR(w.PropertyU32("cpu", p--));
            }
            BASE_RETURN_IF_ERROR(w.EndNode(*kn));
          }
          BASE_RETURN_IF_ERROR(w.EndNode(*cn));
        }
        BASE_RETURN_IF_ERROR(w.EndNode(*sn));
      }
      BASE_RETURN_IF_ERROR(w.EndNode(*map));
    }
    for (uint64_t i = 0; i < n; ++i) {
      QEMU_BEGIN(cpu, w, absl::StrCat("cpu@", i));
      BASE_RETURN_IF_ERROR(
          w.PropertyPhandle(kFirstPhandle + static_cast<uint32_t>(n - i)));
      BASE_RETURN_IF_ERROR(w.PropertyU32("reg", static_cast<uint32_t>(i)));
      BASE_RETURN_IF_ERROR(w.PropertyString("enable-method", "psci"));
      BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "arm,arm-v8"));
      BASE_RETURN_IF_ERROR(w.PropertyString("device_type", "cpu"));
      BASE_RETURN_IF_ERROR(w.EndNode(*cpu));
    }
    return w.EndNode(*cpus);
  }

  absl::StatusOr<std::vector<uint8_t>> Generate() const;

 private:
  const QemuDtbGenerator& g_;
};

absl::StatusOr<std::vector<uint8_t>> QemuDtbWriter::Generate() const {
  const uint32_t gic = g_.gic_phandle();
  FdtWriter w;
  // Root prologue (spec-vmm §4): plain cpus, no cpu-map or CPU phandles.
  fdt::RootPrologue prologue;
  prologue.mem_base = kRamBase;
  prologue.mem_size = g_.mem_size_;
  prologue.num_cpus = ncpus();
  prologue.intc_phandle = gic;
  prologue.bootargs = g_.bootargs_;
  if (g_.initrd_.has_value()) {
    prologue.initrd =
        fdt::RootPrologue::Initrd{g_.initrd_->base, g_.initrd_->size};
  }
  absl::StatusOr<FdtNode> root = fdt::BeginRootWithPrologue(w, prologue);
  if (!root.ok()) return root.status();

  // 1. Platform bus.
  {
    QEMU_BEGIN(pb, w, UnitName("platform-bus", kPlatformBusBase));
    BASE_RETURN_IF_ERROR(w.PropertyU32("interrupt-parent", gic));
    const uint32_t ranges[] = {0, 0, Lo(kPlatformBusBase),
                               Lo(kPlatformBusSize)};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU32("ranges", ranges));
    BASE_RETURN_IF_ERROR(w.PropertyU32("#address-cells", 1));
    BASE_RETURN_IF_ERROR(w.PropertyU32("#size-cells", 1));
    BASE_RETURN_IF_ERROR(w.PropertyStringList(
        "compatible", Strings({"qemu,platform", "simple-bus"})));
    BASE_RETURN_IF_ERROR(w.EndNode(*pb));
  }
  // 2. Event log.
  if (g_.log_.has_value()) BASE_RETURN_IF_ERROR(ReservedMemory(w));
  // 3. fw-cfg.
  {
    QEMU_BEGIN(fw, w, UnitName("fw-cfg", kFwCfgBase));
    BASE_RETURN_IF_ERROR(w.PropertyNull("dma-coherent"));
    const uint64_t reg[] = {kFwCfgBase, kFwCfgSize};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", reg));
    BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "qemu,fw-cfg-mmio"));
    BASE_RETURN_IF_ERROR(w.EndNode(*fw));
  }
  // 4. virtio-mmio transports.
  for (int i = 0; i < kNumVirtioMmio; ++i) {
    const uint64_t addr = kVirtioMmioBase + i * kVirtioMmioSize;
    QEMU_BEGIN(dev, w, UnitName("virtio_mmio", addr));
    BASE_RETURN_IF_ERROR(w.PropertyNull("dma-coherent"));
    const uint32_t irq[] = {kIrqSpi, kVirtioFirstSpi + i, kIrqEdgeRising};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU32("interrupts", irq));
    const uint64_t reg[] = {addr, kVirtioMmioSize};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", reg));
    BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "virtio,mmio"));
    BASE_RETURN_IF_ERROR(w.EndNode(*dev));
  }
  // 5. PCIe host bridge.
  {
    fdt::EcamPcieHost host;
    host.unit_address = kPciMmioBase;
    host.interrupt_map = PciInterruptMap();
    host.interrupt_map_mask = {kPciIntxMask, 0, 0, 7};
    host.ranges = PciRanges();
    host.reg = PciReg();
    if (g_.its_) host.msi_map = MsiMap();
    host.last_bus = 0xff;
    BASE_RETURN_IF_ERROR(fdt::WriteEcamPcieNode(w, host));
  }
  // 6. PL031 RTC.
  BASE_RETURN_IF_ERROR(fdt::WritePrimeCellNode(w, "pl031", kRtcBase, 0x1000,
                                               kFirstPhandle, kRtcSpi,
                                               kIrqLevelHigh, "arm,pl031"));
  // 7. PL011 UART.
  {
    QEMU_BEGIN(uart, w, UnitName("pl011", kUartBase));
    BASE_RETURN_IF_ERROR(
        w.PropertyStringList("clock-names", Strings({"uartclk", "apb_pclk"})));
    const uint64_t reg[] = {kUartBase, 0x1000};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", reg));
    const uint32_t clocks[] = {kFirstPhandle, kFirstPhandle};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU32("clocks", clocks));
    const uint32_t irq[] = {kIrqSpi, kUartSpi, kIrqLevelHigh};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU32("interrupts", irq));
    BASE_RETURN_IF_ERROR(w.PropertyStringList(
        "compatible", Strings({"arm,pl011", "arm,primecell"})));
    BASE_RETURN_IF_ERROR(w.EndNode(*uart));
  }
  // 8. PMU.
  if (g_.pmu_) BASE_RETURN_IF_ERROR(fdt::WritePmuNode(w, fdt::kPmuPpi));
  // 9. GICv3 (+ ITS).
  std::optional<fdt::GicIts> its;
  if (g_.its_) its = fdt::GicIts{kGicItsBase, kGicItsSize, g_.its_phandle()};
  BASE_RETURN_IF_ERROR(fdt::WriteGicNode(w, GicRegs(), gic, its));
  // 10. Timer, level-high PPIs.
  BASE_RETURN_IF_ERROR(fdt::WriteTimerNode(w, kIrqLevelHigh));
  // 11. The APB clock (first phandle).
  BASE_RETURN_IF_ERROR(fdt::WriteApbClockNode(w, kFirstPhandle));
  BASE_RETURN_IF_ERROR(w.EndNode(*root));
  return w.Finish();
}

absl::StatusOr<std::vector<uint8_t>> QemuDtbGenerator::Generate() const {
  return QemuDtbWriter(*this).Generate();
}

// Template surgery handlers of spec-vmm §6.11.
class QemuTemplateHandler : public DtbTemplateHandler {
 public:
  explicit QemuTemplateHandler(const QemuDtbGenerator& g) : g_(g), dw_(g) {
    rules_.ram_base = kRamBase;
    rules_.ram_size = g.mem_size_;
    if (g.initrd_.has_value()) {
      rules_.initrd = CommonDtbRules::Initrd{g.initrd_->base, g.initrd_->size};
    }
    rules_.bootargs = g.bootargs_;
  }

  absl::StatusOr<bool> HandleNode(absl::string_view name,
                                  FdtWriter& w) override {
    if (name == "cpus") {
      BASE_RETURN_IF_ERROR(dw_.TemplateCpus(w));
      return true;
    }
    if (name == "reserved-memory") {
      if (g_.log_.has_value()) BASE_RETURN_IF_ERROR(dw_.ReservedMemory(w));
      return true;
    }
    // Kept or dropped, never added.
    if (name == ItsNode()) return !g_.its_;
    if (name == "pmu") return !g_.pmu_;
    return false;
  }

  absl::StatusOr<bool> HandleProperty(absl::string_view node,
                                      absl::string_view name,
                                      absl::Span<const uint8_t>,
                                      FdtWriter& w) override {
    if (name == "interrupt-parent") {
      BASE_RETURN_IF_ERROR(w.PropertyU32(name, g_.gic_phandle()));
      return true;
    }
    if (node == UnitName("intc", kGicDistBase)) {
      const std::vector<uint64_t> regs = dw_.GicRegs();
      if (name == "reg") {
        BASE_RETURN_IF_ERROR(w.PropertyArrayU64(name, regs));
        return true;
      }
      if (name == "phandle") {
        BASE_RETURN_IF_ERROR(w.PropertyPhandle(g_.gic_phandle()));
        return true;
      }
      if (name == "#redistributor-regions") {
        BASE_RETURN_IF_ERROR(
            w.PropertyU32(name, static_cast<uint32_t>((regs.size() - 2) / 2)));
        return true;
      }
    } else if (node == ItsNode()) {
      if (name == "phandle") {
        BASE_RETURN_IF_ERROR(w.PropertyPhandle(g_.its_phandle()));
        return true;
      }
    } else if (node == UnitName("pcie", kPciMmioBase)) {
      if (name == "interrupt-map") {
        BASE_RETURN_IF_ERROR(w.PropertyArrayU32(name, dw_.PciInterruptMap()));
        return true;
      }
      if (name == "ranges") {
        BASE_RETURN_IF_ERROR(w.PropertyArrayU32(name, dw_.PciRanges()));
        return true;
      }
      if (name == "reg") {
        BASE_RETURN_IF_ERROR(w.PropertyArrayU64(name, dw_.PciReg()));
        return true;
      }
      if (name == "msi-map") {
        if (g_.its_)
          BASE_RETURN_IF_ERROR(w.PropertyArrayU32(name, dw_.MsiMap()));
        return true;
      }
    } else if (node == "pl061@9030000") {
      if (name == "phandle") {
        BASE_RETURN_IF_ERROR(w.PropertyPhandle(g_.gpio_phandle()));
        return true;
      }
    } else if (node == "poweroff") {
      if (name == "gpios") {
        const uint32_t gpios[] = {g_.gpio_phandle(), kPoweroffGpio, 0};
        BASE_RETURN_IF_ERROR(w.PropertyArrayU32(name, gpios));
        return true;
      }
    }
    return rules_.Apply(node, name, w);
  }

 private:
  static std::string ItsNode() { return UnitName("its", kGicItsBase); }

  const QemuDtbGenerator& g_;
  QemuDtbWriter dw_;
  CommonDtbRules rules_;
};

absl::StatusOr<std::vector<uint8_t>> QemuDtbGenerator::GenDtb() const {
  if (template_.has_value()) {
    QemuTemplateHandler handler(*this);
    return PatchDtbTemplate(*template_, handler);
  }
  return Generate();
}

// ---------------------------------------------------------------------------
// The model (spec-vmm §6.1-§6.8).

namespace {

struct QemuState {
  uint64_t ram_size = kDefaultRamSize;
  std::optional<uint64_t> max_mem;
  uint64_t slots = 0;
  QemuSmpSpec smp;
  bool its = true;
  std::optional<bool> acpi;  // stored, unused (as in the reference)
  bool measurement_log = false;
  std::optional<std::string> bootargs;
  bool kernel = false;
  bool initrd = false;
  bool bios = false;
};

std::string ItemText(const QemuListItem& item) {
  return item.has_value ? absl::StrCat(item.key, "=", item.value) : item.key;
}

// Rust's usize::from_str (64-bit).
absl::StatusOr<uint64_t> ParseUsize(absl::string_view s) {
  return ParseDecimalUnsigned(s, std::numeric_limits<uint64_t>::max());
}

absl::Status WithContext(absl::string_view context, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

// §6.2
absl::Status ParseMemoryOption(const std::string& value, QemuState& st) {
  BASE_ASSIGN_OR_RETURN(QemuMemoryOption m, ParseQemuMemoryOption(value));
  if (m.size.has_value()) st.ram_size = *m.size;
  if (m.slots.has_value()) st.slots = *m.slots;
  if (m.max_mem.has_value()) st.max_mem = *m.max_mem;
  return absl::OkStatus();
}

// §6.3
absl::Status ParseSmpOption(const std::string& value, QemuState& st,
                            RealmConfig& config) {
  BASE_ASSIGN_OR_RETURN(
      QemuSmpSpec smp,
      ParseQemuSmpOption(value, [&config](absl::string_view key) {
        config.Warn(absl::StrCat("unsupported -smp parameter ", key));
      }));
  for (auto [from, to] : {std::pair{&smp.cpus, &st.smp.cpus},
                          {&smp.maxcpus, &st.smp.maxcpus},
                          {&smp.sockets, &st.smp.sockets},
                          {&smp.clusters, &st.smp.clusters},
                          {&smp.cores, &st.smp.cores},
                          {&smp.threads, &st.smp.threads}}) {
    if (from->has_value()) *to = *from;
  }
  return absl::OkStatus();
}

// §6.4
absl::Status ParseObjectOption(const std::string& value, QemuState& st,
                               RealmConfig& config) {
  std::vector<QemuListItem> items = SplitQemuList(value);
  const std::string type = ItemText(items[0]);
  if (type != "rme-guest") {
    config.Warn(absl::StrCat("ignored -object ", type));
    return absl::OkStatus();
  }
  for (size_t i = 1; i < items.size(); ++i) {
    const QemuListItem& item = items[i];
    if (!item.has_value) {
      return Error(absl::StrCat("cannot parse ", item.key));
    }
    if (item.key == "measurement-algorithm") {
      absl::StatusOr<HashAlgorithm> a = ParseHashAlgorithm(item.value);
      if (!a.ok()) {
        // The reference's error chain.
        return Error(absl::StrCat("RMM: unknown hash algorithm `", item.value,
                                  "`: unknown hash algorithm `", item.value,
                                  "`"));
      }
      config.set_hash_algorithm(*a);
    } else if (item.key == "personalization-value") {
      BASE_RETURN_IF_ERROR(config.SetPersonalizationValueBase64(item.value));
    } else if (item.key == "measurement-log") {
      absl::StatusOr<std::optional<bool>> b = ParseQemuBool(item.value);
      if (!b.ok()) return b.status();
      if (b->has_value()) st.measurement_log = **b;
    } else if (item.key == "id") {
      // ignored
    } else {
      return Error(
          absl::StrCat("unsupported rme-guest property '", item.key, "'"));
    }
  }
  return absl::OkStatus();
}

// §6.5
absl::Status ParseMachineOption(const std::string& value, QemuState& st,
                                RealmConfig& config) {
  for (const QemuListItem& item : SplitQemuList(value)) {
    if (!item.has_value) {
      if (item.key == "virt") continue;
      return Error(absl::StrCat("cannot parse ", item.key));
    }
    if (item.key == "gic-version") {
      if (item.value != "3" && item.value != "host" && item.value != "max") {
        return Error(absl::StrCat("unsupport GIC version ", item.value));
      }
    } else if (item.key == "its" || item.key == "acpi") {
      absl::StatusOr<std::optional<bool>> b = ParseQemuBool(item.value);
      if (!b.ok()) return b.status();
      if (b->has_value()) {
        if (item.key == "its") {
          st.its = **b;
        } else {
          st.acpi = **b;
        }
      }
    } else if (item.key == "highmem") {
      return Error("disabling highmem is not supported");
    } else if (item.key == "confidential-guest-support") {
      // ignored
    } else {
      config.Warn(absl::StrCat("ignored machine parameter ", item.key));
    }
  }
  return absl::OkStatus();
}

// §6.6
absl::Status ParseCpuOption(const std::string& value, RealmConfig& config) {
  std::optional<uint16_t> vl = config.caps().sve_vl;
  for (const QemuListItem& item : SplitQemuList(value)) {
    if (!item.has_value) {
      if (item.key == "host") continue;
      return Error(absl::StrCat("unsupported CPU ", item.key));
    }
    const std::string& key = item.key;
    if (key == "num-breakpoints" || key == "num-watchpoints" ||
        key == "num-pmu-counters") {
      absl::StatusOr<uint64_t> v = ParseDecimalUnsigned(item.value, 0xff);
      if (!v.ok()) return v.status();
      HostCaps c;
      const uint8_t n = static_cast<uint8_t>(*v);
      if (key == "num-breakpoints") c.num_bps = n;
      if (key == "num-watchpoints") c.num_wps = n;
      if (key == "num-pmu-counters") c.pmu_num_ctrs = n;
      BASE_RETURN_IF_ERROR(config.caps().Restrict(c));
    } else if (key == "pmu") {
      absl::StatusOr<std::optional<bool>> b = ParseQemuBool(item.value);
      if (!b.ok()) return b.status();
      HostCaps c;
      c.pmu = b->value_or(config.caps().pmu == std::optional<bool>(true));
      BASE_RETURN_IF_ERROR(config.caps().Restrict(c));
    } else if (key == "sve") {
      if (item.value == "off") vl = 0;
    } else if (key.rfind("sve", 0) == 0) {
      absl::StatusOr<uint64_t> n = ParseDecimalUnsigned(key.substr(3), 0xffff);
      if (!n.ok()) return n.status();
      const uint16_t cur = vl.value_or(0);
      if (item.value == "off" && cur >= *n) {
        vl = static_cast<uint16_t>(*n / 2);
      } else if (item.value == "on" && cur < *n) {
        vl = static_cast<uint16_t>(*n);
      }
    } else {
      config.Warn(absl::StrCat("ignored cpu parameter ", key));
    }
  }
  if (vl.has_value()) {
    HostCaps c;
    c.sve_vl = *vl;
    BASE_RETURN_IF_ERROR(config.caps().Restrict(c));
  }
  return absl::OkStatus();
}

absl::Status WrapDtb(const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(),
                      absl::StrCat("while generating DTB: ", s.message()));
}

bool QuietDevice(absl::string_view value) {
  absl::string_view type = value.substr(0, value.find(','));
  for (const char* d : kQuietDevices) {
    if (type == d) return true;
  }
  return false;
}

}  // namespace

absl::Status BuildQemu(const VmmInputs& inputs,
                       absl::Span<const std::string> args,
                       RealmConfig& config) {
  config.set_hash_algorithm(HashAlgorithm::kSha512);  // before parsing

  absl::StatusOr<std::vector<QemuArg>> parsed = TokenizeQemuArgs(args);
  if (!parsed.ok()) return parsed.status();
  QemuState st;
  for (const QemuArg& a : *parsed) {
    if (!a.known) {
      config.Warn(absl::StrCat("Parameter ", a.name, " ignored"));
      continue;
    }
    const std::string& v = a.value.has_value() ? *a.value : std::string();
    if (a.name == "-m") {
      BASE_RETURN_IF_ERROR(ParseMemoryOption(v, st));
    } else if (a.name == "-smp") {
      BASE_RETURN_IF_ERROR(ParseSmpOption(v, st, config));
    } else if (a.name == "-object") {
      BASE_RETURN_IF_ERROR(ParseObjectOption(v, st, config));
    } else if (a.name == "-append") {
      st.bootargs = v;
    } else if (a.name == "-machine" || a.name == "-M") {
      BASE_RETURN_IF_ERROR(ParseMachineOption(v, st, config));
    } else if (a.name == "-cpu") {
      BASE_RETURN_IF_ERROR(ParseCpuOption(v, config));
    } else if (a.name == "-device") {
      if (!QuietDevice(v)) config.Warn(absl::StrCat("ignored -device ", v));
    } else if (a.name == "-kernel") {
      st.kernel = true;
    } else if (a.name == "-initrd") {
      st.initrd = true;
    } else if (a.name == "-bios") {
      st.bios = true;
    }
    // Everything else in the table is accepted and ignored silently.
  }

  absl::StatusOr<QemuTopology> topo = ResolveQemuTopology(st.smp);
  if (!topo.ok()) return topo.status();
  const uint64_t ncpus = topo->num_cpus();
  if (ncpus > kMaxCpus) {
    return Error(absl::StrCat("invalid VM configuration: ", ncpus,
                              " vCPUs (QEMU virt supports at most ", kMaxCpus,
                              ")"));
  }
  const bool pmu = config.caps().pmu == std::optional<bool>(true);

  // Memory map and IPA width (§6.7).
  const uint64_t ram_size = st.ram_size;
  if (ram_size == 0) {
    return Error("invalid VM configuration: RAM size 0 (-m)");
  }
  absl::StatusOr<QemuMemoryMap> map =
      ComputeQemuMemoryMap(ram_size, st.max_mem.value_or(ram_size), st.slots);
  if (!map.ok()) return map.status();
  {
    HostCaps c;
    c.ipa_bits = map->ipa_bits;
    BASE_RETURN_IF_ERROR(config.caps().Restrict(c));
    config.RequireIpaBits(map->ipa_bits);
  }
  BASE_RETURN_IF_ERROR(config.AddRam(kRamBase, ram_size));

  QemuDtbGenerator gen;
  gen.set_topology(*topo);
  gen.set_mem_size(ram_size);
  gen.set_memory_map(*map);
  gen.set_its(st.its);
  gen.set_pmu(pmu);
  gen.set_bootargs(st.bootargs);

  // Blob placement (§6.8).
  uint64_t dtb_start = kRamBase;
  if (st.kernel) {
    if (!inputs.kernel.has_value())
      return Error(NeedImage("kernel", "-k", "qemu -kernel"));
    absl::StatusOr<LinuxImage> image =
        LoadLinuxImage(*inputs.kernel, kMaxDecompressedKernelSize,
                       inputs.cancel, KernelFormats::kQemu);
    if (!image.ok()) return image.status();
    if (image->efi_zboot && st.bios) {
      // QEMU unpacks zboot only for direct boot; fw_cfg hands the firmware
      // the file as it is, and what the firmware then measures is not
      // modelled.
      return absl::UnimplementedError(absl::StrCat(
          "file ", *inputs.kernel,
          " error: an EFI zboot kernel with -bios is not modelled (QEMU "
          "gives the firmware the file itself); boot it directly, or give "
          "the unpacked Image"));
    }
    uint64_t ks, kend;
    if (__builtin_add_overflow(kRamBase, image->header.text_offset, &ks) ||
        __builtin_add_overflow(ks, image->header.image_size, &kend)) {
      return Error(absl::StrCat("invalid Linux header: text_offset ",
                                image->header.text_offset, " and image_size ",
                                image->header.image_size,
                                " overflow the 64-bit address space"));
    }
    Blob kernel;
    kernel.name = "kernel";
    kernel.guest_start = ks;
    kernel.load_size = image->header.image_size;
    kernel.payload = std::move(image->payload);

    const uint64_t low = kRamBase + std::min(ram_size / 2, kInitrdMaxOffset);
    uint64_t initrd_start;
    if (!AlignUpChecked(std::max(low, kend), kPageSize, &initrd_start)) {
      return Error(
          "invalid VM configuration: kernel image ends past the "
          "64-bit address space");
    }
    std::optional<Blob> initrd;
    uint64_t initrd_len = 0;
    if (st.initrd) {
      if (!inputs.initrd.has_value())
        return Error(NeedImage("initrd", "-i", "qemu -initrd"));
      Payload p = Payload::FromFile(*inputs.initrd);
      absl::StatusOr<uint64_t> size = p.Size();
      if (!size.ok()) return size.status();
      initrd_len = *size;
      initrd = Blob{};
      initrd->name = "initrd";
      initrd->guest_start = initrd_start;
      initrd->payload = std::move(p);
      gen.set_initrd(initrd_start, initrd_len);
    }
    uint64_t initrd_end;
    if (__builtin_add_overflow(initrd_start, initrd_len, &initrd_end) ||
        !AlignUpChecked(initrd_end, kDtbAlign, &dtb_start)) {
      return Error(
          "invalid VM configuration: initrd ends past the 64-bit "
          "address space");
    }
    if (st.bios) {
      // Firmware boot: the firmware loads kernel and initrd and measures
      // them into REM0 (spec-vmm §6.8 (b), deviations C1).
      config.AddRemBlob(0, std::move(kernel));
      if (initrd.has_value()) config.AddRemBlob(0, *std::move(initrd));
    } else {
      BASE_RETURN_IF_ERROR(config.AddRimBlob(std::move(kernel)));
      if (initrd.has_value()) {
        BASE_RETURN_IF_ERROR(config.AddRimBlob(*std::move(initrd)));
      }
    }
  }
  if (st.bios) {
    if (!inputs.firmware.has_value())
      return Error(NeedImage("firmware", "-f", "qemu -bios"));
    Blob fw;
    fw.name = "firmware";
    fw.guest_start = 0;
    fw.in_flash = true;  // QEMU virt flash, below kFlashLimit
    fw.payload = Payload::FromFile(*inputs.firmware);  // sized lazily
    BASE_RETURN_IF_ERROR(config.AddRimBlob(std::move(fw)));
    dtb_start = kRamBase;
  }
  std::optional<uint64_t> log_base;
  if (st.measurement_log) {
    log_base = dtb_start + kLogOffset;
    gen.set_log_location(*log_base, kLogSize);
  }

  RecParams rec;
  if (!st.bios) {
    rec.pc = kRamBase;
    rec.gprs[0] = dtb_start;
  }
  BASE_RETURN_IF_ERROR(config.AddRec(rec));
  if (log_base.has_value()) config.AddRimUnmeasured(*log_base, kLogSize);

  if (inputs.dtb_template.has_value()) {
    absl::StatusOr<std::vector<uint8_t>> t =
        ReadBoundedFile(*inputs.dtb_template);
    if (!t.ok()) return t.status();
    gen.set_template(*std::move(t));
  }

  // add_dtb (spec-vmm §2.3).
  absl::StatusOr<std::vector<uint8_t>> dtb =
      inputs.dtb.has_value() ? ReadBoundedFile(*inputs.dtb) : gen.GenDtb();
  if (!dtb.ok()) return WrapDtb(dtb.status());
  if (inputs.dtb.has_value()) {
    BASE_RETURN_IF_ERROR(CheckDtbOption(*inputs.dtb, *dtb));
  }
  return WrapDtb(config.AddDtb(dtb_start, *std::move(dtb)));
}

// §6.2: one -m value. Items: a bare size or size=, slots=, maxmem=.
absl::StatusOr<QemuMemoryOption> ParseQemuMemoryOption(
    absl::string_view value) {
  QemuMemoryOption m;
  for (const QemuListItem& item : SplitQemuList(std::string(value))) {
    if (!item.has_value || item.key == "size") {
      absl::StatusOr<uint64_t> v =
          ParseMemorySize(item.has_value ? item.value : item.key);
      if (!v.ok()) return WithContext("-m", v.status());
      m.size = *v;
    } else if (item.key == "slots") {
      absl::StatusOr<uint64_t> v = ParseUsize(item.value);
      if (!v.ok()) return WithContext("-m slots", v.status());
      m.slots = *v;
    } else if (item.key == "maxmem") {
      absl::StatusOr<uint64_t> v = ParseMemorySize(item.value);
      if (!v.ok()) return WithContext("-m maxmem", v.status());
      m.max_mem = *v;
    } else {
      return Error(absl::StrCat("unsupported -m parameter ", item.key));
    }
  }
  return m;
}

// §6.3: one -smp value; a bare item is the implied key (cpus).
absl::StatusOr<QemuSmpSpec> ParseQemuSmpOption(
    absl::string_view value,
    const std::function<void(absl::string_view)>& unsupported) {
  QemuSmpSpec smp;
  for (const QemuListItem& item : SplitQemuList(std::string(value))) {
    const std::string key = item.has_value ? item.key : std::string("cpus");
    std::optional<uint64_t>* field = nullptr;
    if (key == "cpus")
      field = &smp.cpus;
    else if (key == "maxcpus")
      field = &smp.maxcpus;
    else if (key == "sockets")
      field = &smp.sockets;
    else if (key == "clusters")
      field = &smp.clusters;
    else if (key == "cores")
      field = &smp.cores;
    else if (key == "threads")
      field = &smp.threads;
    if (field == nullptr) {
      if (unsupported == nullptr) {
        return Error(absl::StrCat("unsupported -smp parameter ", item.key));
      }
      unsupported(item.key);
      continue;
    }
    absl::StatusOr<uint64_t> v =
        ParseUsize(item.has_value ? item.value : item.key);
    if (!v.ok()) return WithContext(absl::StrCat("-smp ", key), v.status());
    *field = *v;
  }
  return smp;
}

}  // namespace realm_measurements::measure
