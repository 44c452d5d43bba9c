// The reusable DTB fragments of spec-vmm §4 (the reference's src/fdt.rs),
// written once for the kvmtool, QEMU and cloud-hypervisor models, plus the
// few nodes the QEMU and cloud-hv generators share. Property order inside
// each fragment is significant: it fixes both the structure block and the
// string table (spec-vmm §3.3), so it must not be "tidied".
#ifndef REALM_MEASUREMENTS_MEASURE_FDT_FDT_FRAGMENTS_H_
#define REALM_MEASUREMENTS_MEASURE_FDT_FDT_FRAGMENTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "measure/fdt/fdt_writer.h"

namespace realm_measurements::measure::fdt {

// Interrupt specifier cells (spec-vmm §4): <type, number, trigger>.
inline constexpr uint32_t kIrqSpi = 0;
inline constexpr uint32_t kIrqPpi = 1;
inline constexpr uint32_t kIrqEdgeRising = 1;
inline constexpr uint32_t kIrqEdgeFalling = 2;
inline constexpr uint32_t kIrqLevelHigh = 4;
inline constexpr uint32_t kIrqLevelLow = 8;

// PCI `ranges` space codes (spec-vmm §4).
inline constexpr uint32_t kPciSpaceConfig = 0x00000000;
inline constexpr uint32_t kPciSpaceIo = 0x01000000;
inline constexpr uint32_t kPciSpaceMmio32 = 0x02000000;
inline constexpr uint32_t kPciSpaceMmio64 = 0x03000000;

// PSCI 0.2 function IDs of the psci node (spec-vmm §4): SMC64 CPU_ON,
// SMC32 CPU_OFF.
inline constexpr uint32_t kPsciCpuOn = 0xc4000003;
inline constexpr uint32_t kPsciCpuOff = 0x84000002;

// The arch timer PPIs every caller of the timer fragment uses (spec-vmm §4)
// and the PMU PPI of all three models (§5.7, §6.10, §7.5).
inline constexpr uint32_t kTimerPpis[] = {13, 14, 11};
inline constexpr uint32_t kPmuPpi = 7;

// "<name>@<address in lower-case hex>", the unit-name form of every node.
std::string UnitName(absl::string_view name, uint64_t address);

// Parameters of the root prologue (spec-vmm §4).
struct RootPrologue {
  uint64_t mem_base = 0;
  uint64_t mem_size = 0;
  uint64_t num_cpus = 0;
  uint32_t intc_phandle = 0;
  // Emitted when present, even if empty.
  std::optional<std::string> bootargs;
  struct Initrd {
    uint64_t start = 0;
    uint64_t size = 0;
  };
  // linux,initrd-start = start, linux,initrd-end = start + size.
  std::optional<Initrd> initrd;
};

// Begins the root node and writes its properties, `chosen`, then the
// memory, cpus and psci fragments. The root node is returned open.
absl::StatusOr<FdtNode> BeginRootWithPrologue(FdtWriter& w,
                                              const RootPrologue& p);

// `memory@<base>`: device_type, reg {base, size}.
absl::Status WriteMemoryNode(FdtWriter& w, uint64_t base, uint64_t size);

// `cpus` with `cpu@0` .. `cpu@<n-1>` (compatible "arm,armv8").
absl::Status WriteCpusNode(FdtWriter& w, uint64_t num_cpus);

// `psci`: cpu_on, cpu_off, method "smc", compatible list.
absl::Status WritePsciNode(FdtWriter& w);

// The ITS child of the gic fragment.
struct GicIts {
  uint64_t base = 0;
  uint64_t size = 0;
  uint32_t phandle = 0;
};

// `intc@<regs[0]>` (GICv3) with #redistributor-regions (len(regs) - 2) / 2
// and, if `its` is given, the child `its@<its->base>`.
absl::Status WriteGicNode(FdtWriter& w, absl::Span<const uint64_t> regs,
                          uint32_t gic_phandle,
                          const std::optional<GicIts>& its);

// `timer`: {PPI, ppi, trigger} for each of kTimerPpis, always-on.
absl::Status WriteTimerNode(FdtWriter& w, uint32_t trigger);

// `pmu`: interrupts {PPI, ppi, level-high}.
absl::Status WritePmuNode(FdtWriter& w, uint32_t ppi);

// --- Nodes shared by the QEMU virt and cloud-hv generators (§6.10, §7.5).

// `apb-pclk`: the 24 MHz fixed clock of the PrimeCell devices.
absl::Status WriteApbClockNode(FdtWriter& w, uint32_t phandle);

// `<name>@<base>`: a PrimeCell device with the single clock `apb_pclk`
// (`clocks` = clock_phandle), interrupts {SPI, spi, trigger} and compatible
// [compatible, "arm,primecell"].
absl::Status WritePrimeCellNode(FdtWriter& w, absl::string_view name,
                                uint64_t base, uint64_t size,
                                uint32_t clock_phandle, uint32_t spi,
                                uint32_t trigger, absl::string_view compatible);

// A `pci-host-ecam-generic` host bridge in QEMU's property order. The
// interrupt-map trio (map, mask, #interrupt-cells 1) is written only when
// `interrupt_map` is non-empty, msi-map only when given.
struct EcamPcieHost {
  uint64_t unit_address = 0;  // of the node name `pcie@<unit_address>`
  std::vector<uint32_t> interrupt_map;
  std::vector<uint32_t> interrupt_map_mask;
  std::vector<uint32_t> ranges;
  std::vector<uint64_t> reg;
  std::optional<std::vector<uint32_t>> msi_map;
  uint32_t last_bus = 0;  // bus-range {0, last_bus}
};
absl::Status WriteEcamPcieNode(FdtWriter& w, const EcamPcieHost& p);

}  // namespace realm_measurements::measure::fdt

#endif  // REALM_MEASUREMENTS_MEASURE_FDT_FDT_FRAGMENTS_H_
