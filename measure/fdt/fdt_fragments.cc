#include "measure/fdt/fdt_fragments.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

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
  BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "linux,dummy-virt"));
  BASE_RETURN_IF_ERROR(w.PropertyString("model", "linux,dummy-virt-realm"));
  BASE_RETURN_IF_ERROR(w.PropertyU32("#address-cells", 2));
  BASE_RETURN_IF_ERROR(w.PropertyU32("#size-cells", 2));
  BASE_RETURN_IF_ERROR(w.PropertyU32("interrupt-parent", p.intc_phandle));
  absl::StatusOr<FdtNode> chosen = w.BeginNode("chosen");
  if (!chosen.ok()) return chosen.status();
  if (p.bootargs.has_value()) {
    BASE_RETURN_IF_ERROR(w.PropertyString("bootargs", *p.bootargs));
  }
  if (p.initrd.has_value()) {
    BASE_RETURN_IF_ERROR(w.PropertyU64("linux,initrd-start", p.initrd->start));
    BASE_RETURN_IF_ERROR(
        w.PropertyU64("linux,initrd-end", p.initrd->start + p.initrd->size));
  }
  BASE_RETURN_IF_ERROR(w.EndNode(*chosen));
  BASE_RETURN_IF_ERROR(WriteMemoryNode(w, p.mem_base, p.mem_size));
  BASE_RETURN_IF_ERROR(WriteCpusNode(w, p.num_cpus));
  BASE_RETURN_IF_ERROR(WritePsciNode(w));
  return root;
}

absl::Status WriteMemoryNode(FdtWriter& w, uint64_t base, uint64_t size) {
  absl::StatusOr<FdtNode> mem = w.BeginNode(UnitName("memory", base));
  if (!mem.ok()) return mem.status();
  BASE_RETURN_IF_ERROR(w.PropertyString("device_type", "memory"));
  const uint64_t reg[] = {base, size};
  BASE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", reg));
  return w.EndNode(*mem);
}

absl::Status WriteCpusNode(FdtWriter& w, uint64_t num_cpus) {
  absl::StatusOr<FdtNode> cpus = w.BeginNode("cpus");
  if (!cpus.ok()) return cpus.status();
  BASE_RETURN_IF_ERROR(w.PropertyU32("#size-cells", 0));
  BASE_RETURN_IF_ERROR(w.PropertyU32("#address-cells", 1));
  for (uint64_t i = 0; i < num_cpus; ++i) {
    absl::StatusOr<FdtNode> cpu = w.BeginNode(absl::StrCat("cpu@", i));
    if (!cpu.ok()) return cpu.status();
    BASE_RETURN_IF_ERROR(w.PropertyU32("reg", static_cast<uint32_t>(i)));
    BASE_RETURN_IF_ERROR(w.PropertyString("enable-method", "psci"));
    BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "arm,armv8"));
    BASE_RETURN_IF_ERROR(w.PropertyString("device_type", "cpu"));
    BASE_RETURN_IF_ERROR(w.EndNode(*cpu));
  }
  return w.EndNode(*cpus);
}

absl::Status WritePsciNode(FdtWriter& w) {
  absl::StatusOr<FdtNode> psci = w.BeginNode("psci");
  if (!psci.ok()) return psci.status();
  BASE_RETURN_IF_ERROR(w.PropertyU32("cpu_on", kPsciCpuOn));
  BASE_RETURN_IF_ERROR(w.PropertyU32("cpu_off", kPsciCpuOff));
  BASE_RETURN_IF_ERROR(w.PropertyString("method", "smc"));
  BASE_RETURN_IF_ERROR(w.PropertyStringList(
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
  BASE_RETURN_IF_ERROR(w.PropertyPhandle(gic_phandle));
  BASE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", regs));
  BASE_RETURN_IF_ERROR(w.PropertyU32(
      "#redistributor-regions", static_cast<uint32_t>((regs.size() - 2) / 2)));
  BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "arm,gic-v3"));
  BASE_RETURN_IF_ERROR(w.PropertyNull("ranges"));
  BASE_RETURN_IF_ERROR(w.PropertyU32("#size-cells", 2));
  BASE_RETURN_IF_ERROR(w.PropertyU32("#address-cells", 2));
  BASE_RETURN_IF_ERROR(w.PropertyNull("interrupt-controller"));
  BASE_RETURN_IF_ERROR(w.PropertyU32("#interrupt-cells", 3));
  if (its.has_value()) {
    absl::StatusOr<FdtNode> node = w.BeginNode(UnitName("its", its->base));
    if (!node.ok()) return node.status();
    BASE_RETURN_IF_ERROR(w.PropertyPhandle(its->phandle));
    const uint64_t reg[] = {its->base, its->size};
    BASE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", reg));
    BASE_RETURN_IF_ERROR(w.PropertyU32("#msi-cells", 1));
    BASE_RETURN_IF_ERROR(w.PropertyNull("msi-controller"));
    BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "arm,gic-v3-its"));
    BASE_RETURN_IF_ERROR(w.EndNode(*node));
  }
  return w.EndNode(*intc);
}

absl::Status WriteTimerNode(FdtWriter& w, uint32_t trigger) {
  absl::StatusOr<FdtNode> timer = w.BeginNode("timer");
  if (!timer.ok()) return timer.status();
  std::vector<uint32_t> irqs;
  for (uint32_t ppi : kTimerPpis)
    irqs.insert(irqs.end(), {kIrqPpi, ppi, trigger});
  BASE_RETURN_IF_ERROR(w.PropertyArrayU32("interrupts", irqs));
  BASE_RETURN_IF_ERROR(w.PropertyNull("always-on"));
  BASE_RETURN_IF_ERROR(w.PropertyStringList(
      "compatible", Strings({"arm,armv8-timer", "arm,armv7-timer"})));
  return w.EndNode(*timer);
}

absl::Status WritePmuNode(FdtWriter& w, uint32_t ppi) {
  absl::StatusOr<FdtNode> pmu = w.BeginNode("pmu");
  if (!pmu.ok()) return pmu.status();
  const uint32_t irq[] = {kIrqPpi, ppi, kIrqLevelHigh};
  BASE_RETURN_IF_ERROR(w.PropertyArrayU32("interrupts", irq));
  BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "arm,armv8-pmuv3"));
  return w.EndNode(*pmu);
}

absl::Status WriteApbClockNode(FdtWriter& w, uint32_t phandle) {
  // 24 MHz, the APB clock of QEMU virt (spec-vmm §6.10 item 11).
  constexpr uint32_t kApbClockHz = 24000000;
  absl::StatusOr<FdtNode> clk = w.BeginNode("apb-pclk");
  if (!clk.ok()) return clk.status();
  BASE_RETURN_IF_ERROR(w.PropertyPhandle(phandle));
  BASE_RETURN_IF_ERROR(w.PropertyString("clock-output-names", "clk24mhz"));
  BASE_RETURN_IF_ERROR(w.PropertyU32("clock-frequency", kApbClockHz));
  BASE_RETURN_IF_ERROR(w.PropertyU32("#clock-cells", 0));
  BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "fixed-clock"));
  return w.EndNode(*clk);
}

absl::Status WritePrimeCellNode(FdtWriter& w, absl::string_view name,
                                uint64_t base, uint64_t size,
                                uint32_t clock_phandle, uint32_t spi,
                                uint32_t trigger,
                                absl::string_view compatible) {
  absl::StatusOr<FdtNode> node = w.BeginNode(UnitName(name, base));
  if (!node.ok()) return node.status();
  BASE_RETURN_IF_ERROR(w.PropertyString("clock-names", "apb_pclk"));
  const uint64_t reg[] = {base, size};
  BASE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", reg));
  BASE_RETURN_IF_ERROR(w.PropertyU32("clocks", clock_phandle));
  const uint32_t irq[] = {kIrqSpi, spi, trigger};
  BASE_RETURN_IF_ERROR(w.PropertyArrayU32("interrupts", irq));
  BASE_RETURN_IF_ERROR(w.PropertyStringList(
      "compatible", Strings({compatible, "arm,primecell"})));
  return w.EndNode(*node);
}

absl::Status WriteEcamPcieNode(FdtWriter& w, const EcamPcieHost& p) {
  absl::StatusOr<FdtNode> pcie = w.BeginNode(UnitName("pcie", p.unit_address));
  if (!pcie.ok()) return pcie.status();
  if (!p.interrupt_map.empty()) {
    BASE_RETURN_IF_ERROR(w.PropertyArrayU32("interrupt-map", p.interrupt_map));
    BASE_RETURN_IF_ERROR(
        w.PropertyArrayU32("interrupt-map-mask", p.interrupt_map_mask));
    BASE_RETURN_IF_ERROR(w.PropertyU32("#interrupt-cells", 1));
  }
  BASE_RETURN_IF_ERROR(w.PropertyArrayU32("ranges", p.ranges));
  BASE_RETURN_IF_ERROR(w.PropertyArrayU64("reg", p.reg));
  if (p.msi_map.has_value()) {
    BASE_RETURN_IF_ERROR(w.PropertyArrayU32("msi-map", *p.msi_map));
  }
  BASE_RETURN_IF_ERROR(w.PropertyNull("dma-coherent"));
  const uint32_t bus_range[] = {0, p.last_bus};
  BASE_RETURN_IF_ERROR(w.PropertyArrayU32("bus-range", bus_range));
  BASE_RETURN_IF_ERROR(w.PropertyU32("linux,pci-domain", 0));
  BASE_RETURN_IF_ERROR(w.PropertyU32("#size-cells", 2));
  BASE_RETURN_IF_ERROR(w.PropertyU32("#address-cells", 3));
  BASE_RETURN_IF_ERROR(w.PropertyString("device_type", "pci"));
  BASE_RETURN_IF_ERROR(w.PropertyString("compatible", "pci-host-ecam-generic"));
  return w.EndNode(*pcie);
}

}  // namespace realm_measurements::measure::fdt
