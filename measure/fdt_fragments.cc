#include "measure/fdt_fragments.h"

#include "absl/strings/str_cat.h"
#include "measure/internal/status_macros.h"

namespace realm_measurements::measure::fdt {
namespace {

std::vector<std::string> Strings(std::initializer_list<absl::string_view> l) {
  std::vector<std::string> out;
  for (absl::string_view s : l) out.emplace_back(s);
  return out;
}

}  // namespace

std::string UnitName(absl::string_view name, uint64_t address) {
  return absl::StrCat(name, "@", absl::Hex(address));
}

absl::StatusOr<FdtNode> BeginRootWithPrologue(FdtWriter& w,
                                              const RootPrologue& p) {
  absl::StatusOr<FdtNode> root = w.BeginNode("");
  if (!root.ok()) return root.status();
  MEASURE_RETURN_IF_ERROR(w.PropertyString("compatible", "linux,dummy-virt"));
  MEASURE_RETURN_IF_ERROR(w.PropertyString("model", "linux,dummy-virt-realm"));
  MEASURE_RETURN_IF_ERROR(w.PropertyU32("#address-cells", 2));
  MEASURE_RETURN_IF_ERROR(w.PropertyU32("#size-cells", 2));
  MEASURE_RETURN_IF_ERROR(w.PropertyU32("interrupt-parent", p.intc_phandle));
  absl::StatusOr<FdtNode> chosen = w.BeginNode("chosen");
  if (!chosen.ok()) return chosen.status();
  if (p.bootargs.has_value()) {
    MEASURE_RETURN_IF_ERROR(w.PropertyString("bootargs", *p.bootargs));
  }
  if (p.initrd.has_value()) {
    MEASURE_RETURN_IF_ERROR(w.PropertyU64("linux,initrd-start", p.initrd->start));
    MEASURE_RETURN_IF_ERROR(
        w.PropertyU64("linux,initrd-end", p.initrd->start + p.initrd->size));
  }
  MEASURE_RETURN_IF_ERROR(w.EndNode(*chosen));
  MEASURE_RETURN_IF_ERROR(WriteMemoryNode(w, p.mem_base, p.mem_size));
  MEASURE_RETURN_IF_ERROR(WriteCpusNode(w, p.num_cpus));
  MEASURE_RETURN_IF_ERROR(WritePsciNode(w));
  return root;
}

absl::Status WriteMemoryNode(FdtWriter& w, uint64_t base, uint64_t size) {
  absl::StatusOr<FdtNode> mem = w.BeginNode(UnitName("memory", base));
  if (!mem.ok()) return mem.status();
  MEASURE_RETURN_IF_ERROR(w.PropertyString("device_type", "memory"));
  const uint64_t reg[] = {base, size};
  MEASURE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", reg));
  return w.EndNode(*mem);
}

absl::Status WriteCpusNode(FdtWriter& w, uint64_t num_cpus) {
  absl::StatusOr<FdtNode> cpus = w.BeginNode("cpus");
  if (!cpus.ok()) return cpus.status();
  MEASURE_RETURN_IF_ERROR(w.PropertyU32("#size-cells", 0));
  MEASURE_RETURN_IF_ERROR(w.PropertyU32("#address-cells", 1));
  for (uint64_t i = 0; i < num_cpus; ++i) {
    absl::StatusOr<FdtNode> cpu = w.BeginNode(absl::StrCat("cpu@", i));
    if (!cpu.ok()) return cpu.status();
    MEASURE_RETURN_IF_ERROR(w.PropertyU32("reg", static_cast<uint32_t>(i)));
    MEASURE_RETURN_IF_ERROR(w.PropertyString("enable-method", "psci"));
    MEASURE_RETURN_IF_ERROR(w.PropertyString("compatible", "arm,armv8"));
    MEASURE_RETURN_IF_ERROR(w.PropertyString("device_type", "cpu"));
    MEASURE_RETURN_IF_ERROR(w.EndNode(*cpu));
  }
  return w.EndNode(*cpus);
}

absl::Status WritePsciNode(FdtWriter& w) {
  absl::StatusOr<FdtNode> psci = w.BeginNode("psci");
  if (!psci.ok()) return psci.status();
  MEASURE_RETURN_IF_ERROR(w.PropertyU32("cpu_on", kPsciCpuOn));
  MEASURE_RETURN_IF_ERROR(w.PropertyU32("cpu_off", kPsciCpuOff));
  MEASURE_RETURN_IF_ERROR(w.PropertyString("method", "smc"));
  MEASURE_RETURN_IF_ERROR(w.PropertyStringList(
      "compatible", Strings({"arm,psci-1.0", "arm,psci-0.2", "arm,psci"})));
  return w.EndNode(*psci);
}

absl::Status WriteGicNode(FdtWriter& w, absl::Span<const uint64_t> regs,
                          uint32_t gic_phandle,
                          const std::optional<GicIts>& its) {
  if (regs.size() < 4 || regs.size() % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("GIC reg: expected distributor and redistributor "
                     "<base, size> pairs, found ",
                     regs.size(), " cells"));
  }
  absl::StatusOr<FdtNode> intc = w.BeginNode(UnitName("intc", regs[0]));
  if (!intc.ok()) return intc.status();
  MEASURE_RETURN_IF_ERROR(w.PropertyPhandle(gic_phandle));
  MEASURE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", regs));
  MEASURE_RETURN_IF_ERROR(w.PropertyU32(
      "#redistributor-regions", static_cast<uint32_t>((regs.size() - 2) / 2)));
  MEASURE_RETURN_IF_ERROR(w.PropertyString("compatible", "arm,gic-v3"));
  MEASURE_RETURN_IF_ERROR(w.PropertyNull("ranges"));
  MEASURE_RETURN_IF_ERROR(w.PropertyU32("#size-cells", 2));
  MEASURE_RETURN_IF_ERROR(w.PropertyU32("#address-cells", 2));
  MEASURE_RETURN_IF_ERROR(w.PropertyNull("interrupt-controller"));
  MEASURE_RETURN_IF_ERROR(w.PropertyU32("#interrupt-cells", 3));
  if (its.has_value()) {
    absl::StatusOr<FdtNode> node = w.BeginNode(UnitName("its", its->base));
    if (!node.ok()) return node.status();
    MEASURE_RETURN_IF_ERROR(w.PropertyPhandle(its->phandle));
    const uint64_t reg[] = {its->base, its->size};
    MEASURE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", reg));
    MEASURE_RETURN_IF_ERROR(w.PropertyU32("#msi-cells", 1));
    MEASURE_RETURN_IF_ERROR(w.PropertyNull("msi-controller"));
    MEASURE_RETURN_IF_ERROR(w.PropertyString("compatible", "arm,gic-v3-its"));
    MEASURE_RETURN_IF_ERROR(w.EndNode(*node));
  }
  return w.EndNode(*intc);
}

absl::Status WriteTimerNode(FdtWriter& w, uint32_t trigger) {
  absl::StatusOr<FdtNode> timer = w.BeginNode("timer");
  if (!timer.ok()) return timer.status();
  std::vector<uint32_t> irqs;
  for (uint32_t ppi : kTimerPpis) irqs.insert(irqs.end(), {kIrqPpi, ppi, trigger});
  MEASURE_RETURN_IF_ERROR(w.PropertyArrayU32("interrupts", irqs));
  MEASURE_RETURN_IF_ERROR(w.PropertyNull("always-on"));
  MEASURE_RETURN_IF_ERROR(w.PropertyStringList(
      "compatible", Strings({"arm,armv8-timer", "arm,armv7-timer"})));
  return w.EndNode(*timer);
}

absl::Status WritePmuNode(FdtWriter& w, uint32_t ppi) {
  absl::StatusOr<FdtNode> pmu = w.BeginNode("pmu");
  if (!pmu.ok()) return pmu.status();
  const uint32_t irq[] = {kIrqPpi, ppi, kIrqLevelHigh};
  MEASURE_RETURN_IF_ERROR(w.PropertyArrayU32("interrupts", irq));
  MEASURE_RETURN_IF_ERROR(w.PropertyString("compatible", "arm,armv8-pmuv3"));
  return w.EndNode(*pmu);
}

absl::Status WriteApbClockNode(FdtWriter& w, uint32_t phandle) {
  // 24 MHz, the APB clock of QEMU virt (spec-vmm §6.10 item 11).
  constexpr uint32_t kApbClockHz = 24000000;
  absl::StatusOr<FdtNode> clk = w.BeginNode("apb-pclk");
  if (!clk.ok()) return clk.status();
  MEASURE_RETURN_IF_ERROR(w.PropertyPhandle(phandle));
  MEASURE_RETURN_IF_ERROR(w.PropertyString("clock-output-names", "clk24mhz"));
  MEASURE_RETURN_IF_ERROR(w.PropertyU32("clock-frequency", kApbClockHz));
  MEASURE_RETURN_IF_ERROR(w.PropertyU32("#clock-cells", 0));
  MEASURE_RETURN_IF_ERROR(w.PropertyString("compatible", "fixed-clock"));
  return w.EndNode(*clk);
}

absl::Status WritePrimeCellNode(FdtWriter& w, absl::string_view name,
                                uint64_t base, uint64_t size,
                                uint32_t clock_phandle, uint32_t spi,
                                uint32_t trigger,
                                absl::string_view compatible) {
  absl::StatusOr<FdtNode> node = w.BeginNode(UnitName(name, base));
  if (!node.ok()) return node.status();
  MEASURE_RETURN_IF_ERROR(w.PropertyString("clock-names", "apb_pclk"));
  const uint64_t reg[] = {base, size};
  MEASURE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", reg));
  MEASURE_RETURN_IF_ERROR(w.PropertyU32("clocks", clock_phandle));
  const uint32_t irq[] = {kIrqSpi, spi, trigger};
  MEASURE_RETURN_IF_ERROR(w.PropertyArrayU32("interrupts", irq));
  MEASURE_RETURN_IF_ERROR(w.PropertyStringList(
      "compatible", Strings({compatible, "arm,primecell"})));
  return w.EndNode(*node);
}

absl::Status WriteEcamPcieNode(FdtWriter& w, const EcamPcieHost& p) {
  absl::StatusOr<FdtNode> pcie = w.BeginNode(UnitName("pcie", p.unit_address));
  if (!pcie.ok()) return pcie.status();
  if (!p.interrupt_map.empty()) {
    MEASURE_RETURN_IF_ERROR(w.PropertyArrayU32("interrupt-map", p.interrupt_map));
    MEASURE_RETURN_IF_ERROR(
        w.PropertyArrayU32("interrupt-map-mask", p.interrupt_map_mask));
    MEASURE_RETURN_IF_ERROR(w.PropertyU32("#interrupt-cells", 1));
  }
  MEASURE_RETURN_IF_ERROR(w.PropertyArrayU32("ranges", p.ranges));
  MEASURE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", p.reg));
  if (p.msi_map.has_value()) {
    MEASURE_RETURN_IF_ERROR(w.PropertyArrayU32("msi-map", *p.msi_map));
  }
  MEASURE_RETURN_IF_ERROR(w.PropertyNull("dma-coherent"));
  const uint32_t bus_range[] = {0, p.last_bus};
  MEASURE_RETURN_IF_ERROR(w.PropertyArrayU32("bus-range", bus_range));
  MEASURE_RETURN_IF_ERROR(w.PropertyU32("linux,pci-domain", 0));
  MEASURE_RETURN_IF_ERROR(w.PropertyU32("#size-cells", 2));
  MEASURE_RETURN_IF_ERROR(w.PropertyU32("#address-cells", 3));
  MEASURE_RETURN_IF_ERROR(w.PropertyString("device_type", "pci"));
  MEASURE_RETURN_IF_ERROR(
      w.PropertyString("compatible", "pci-host-ecam-generic"));
  return w.EndNode(*pcie);
}

}  // namespace realm_measurements::measure::fdt
