// The QEMU `virt` model (spec-vmm §6, QEMU 9.1 with the RME guest object):
// argument semantics, memory map and IPA width, boot scenarios (direct
// kernel, -bios firmware with kernel/initrd measured into REM0,
// deviations C1), phandles, the generated DTB and template surgery.
#ifndef REALM_MEASUREMENTS_MEASURE_VMM_QEMU_H_
#define REALM_MEASUREMENTS_MEASURE_VMM_QEMU_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "measure/realm_config.h"
#include "measure/vmm/vmm.h"

namespace realm_measurements::measure {

// The fixed low memory map of QEMU virt (spec-vmm §6.7).
namespace qemu {
inline constexpr uint64_t kRamBase = 0x40000000;
inline constexpr uint64_t kDefaultRamSize = 128ull << 20;
inline constexpr uint64_t kGicDistBase = 0x08000000;
inline constexpr uint64_t kGicDistSize = 0x10000;
inline constexpr uint64_t kGicItsBase = 0x08080000;
inline constexpr uint64_t kGicItsSize = 0x20000;
inline constexpr uint64_t kGicRedistBase = 0x080a0000;
inline constexpr uint64_t kGicRedistSize = 0xf60000;
// 0xf60000 / 128 KiB: vCPUs whose redistributors fit the low region.
inline constexpr uint64_t kLowRedistCpus = 123;
inline constexpr uint64_t kHighRedistSize = 64ull << 20;
inline constexpr uint64_t kUartBase = 0x09000000;
inline constexpr uint64_t kRtcBase = 0x09010000;
inline constexpr uint64_t kFwCfgBase = 0x09020000;
inline constexpr uint64_t kFwCfgSize = 0x18;
inline constexpr uint64_t kVirtioMmioBase = 0x0a000000;
inline constexpr uint64_t kVirtioMmioSize = 0x200;
inline constexpr int kNumVirtioMmio = 32;
inline constexpr uint64_t kPlatformBusBase = 0x0c000000;
inline constexpr uint64_t kPlatformBusSize = 0x02000000;
inline constexpr uint64_t kPciMmioBase = 0x10000000;
inline constexpr uint64_t kPciMmioSize = 0x2eff0000;
inline constexpr uint64_t kPciIoBase = 0x3eff0000;
inline constexpr uint64_t kPciIoSize = 0x10000;
inline constexpr uint64_t kEcamSize = 0x10000000;
inline constexpr uint64_t kHighMmioSize = 512ull << 30;
// High map floor: QEMU virt places the high regions at or above 256 GiB.
inline constexpr uint64_t kHighMapFloor = 0x4000000000;
inline constexpr uint64_t kDtbAlign = 2ull << 20;
// The event log sits 1 MiB after the DTB (QEMU's FDT buffer size), §6.8.
inline constexpr uint64_t kLogOffset = 1ull << 20;
inline constexpr uint64_t kLogSize = 0x10000;
// The initrd goes at least min(S/2, 128 MiB) above the RAM base.
inline constexpr uint64_t kInitrdMaxOffset = 128ull << 20;
// QEMU virt's vCPU limit with GICv3 (two redistributor regions);
// also bounds the DTB size.
inline constexpr uint64_t kMaxCpus = 512;
// Phandle allocation starts here in QEMU (spec-vmm §6.9).
inline constexpr uint32_t kFirstPhandle = 0x8000;
}  // namespace qemu

// The floating high memory map of spec-vmm §6.7.
struct QemuMemoryMap {
  uint64_t redist2 = 0;  // second redistributor region (n > 123)
  uint64_t ecam_hi = 0;  // PCIe ECAM
  uint64_t mmio_hi = 0;  // 64-bit PCIe MMIO window (512 GiB)
  uint8_t ipa_bits = 0;  // ilog2(end of the running address) + 2
};

// ram_size S, max_mem M (>= S), slots k. Errors when the map does not fit
// in 64 bits (the reference wraps).
absl::StatusOr<QemuMemoryMap> ComputeQemuMemoryMap(uint64_t ram_size,
                                                   uint64_t max_mem,
                                                   uint64_t slots);

struct QemuTopology {
  uint64_t sockets = 1;
  uint64_t clusters = 1;
  uint64_t cores = 1;
  uint64_t threads = 1;
  uint64_t num_cpus() const { return sockets * clusters * cores * threads; }
};

// -smp resolution of spec-vmm §6.3 from the explicitly given values.
struct QemuSmpSpec {
  std::optional<uint64_t> cpus, maxcpus, sockets, clusters, cores, threads;
};
absl::StatusOr<QemuTopology> ResolveQemuTopology(const QemuSmpSpec& smp);

// One -m value as QEMU takes it (spec-vmm §6.2), e.g. "1G,maxmem=4G,slots=2":
// what it sets. Errors as the QEMU parser words them ("-m maxmem: ...",
// "unsupported -m parameter <key>").
struct QemuMemoryOption {
  std::optional<uint64_t> size, max_mem, slots;
};
absl::StatusOr<QemuMemoryOption> ParseQemuMemoryOption(absl::string_view value);

// One -smp value (§6.3), e.g. "4,sockets=2": the values it gives, to
// resolve with ResolveQemuTopology. A key that is no -smp parameter goes to
// `unsupported` (the QEMU parser warns), or is an error without it.
absl::StatusOr<QemuSmpSpec> ParseQemuSmpOption(
    absl::string_view value,
    const std::function<void(absl::string_view)>& unsupported = nullptr);

// The DTB state machine of spec-vmm §2.3 for QEMU. Defaults are those the
// event-log module uses: 1 CPU, 128 MiB, ITS on, no PMU, no bootargs.
class QemuDtbGenerator {
 public:
  QemuDtbGenerator();

  void set_num_cpus(uint64_t n) { topology_ = QemuTopology{1, 1, n, 1}; }
  void set_topology(const QemuTopology& t) { topology_ = t; }
  void set_mem_size(uint64_t bytes) { mem_size_ = bytes; }
  void set_memory_map(const QemuMemoryMap& m) { map_ = m; }
  void set_initrd(uint64_t base, uint64_t size) { initrd_ = {{base, size}}; }
  void set_log_location(uint64_t base, uint64_t size) { log_ = {{base, size}}; }
  void set_pmu(bool on) { pmu_ = on; }
  void set_its(bool on) { its_ = on; }
  void set_bootargs(std::optional<std::string> b) { bootargs_ = std::move(b); }
  void set_template(std::vector<uint8_t> dtb) { template_ = std::move(dtb); }

  // The generated (§6.10, tight) or template-patched (§6.11) DTB.
  absl::StatusOr<std::vector<uint8_t>> GenDtb() const;

  // Phandles of spec-vmm §6.9.
  uint32_t gic_phandle() const;
  uint32_t its_phandle() const { return gic_phandle() + 1; }
  uint32_t gpio_phandle() const { return gic_phandle() + (its_ ? 2 : 1); }

 private:
  struct Range {
    uint64_t base;
    uint64_t size;
  };
  friend class QemuTemplateHandler;
  friend class QemuDtbWriter;
  absl::StatusOr<std::vector<uint8_t>> Generate() const;

  QemuTopology topology_;
  uint64_t mem_size_ = qemu::kDefaultRamSize;
  QemuMemoryMap map_;
  std::optional<Range> initrd_;
  std::optional<Range> log_;
  bool pmu_ = false;
  bool its_ = true;
  std::optional<std::string> bootargs_;
  std::optional<std::vector<uint8_t>> template_;
};

// measure::VmmModel for `qemu` (spec-vmm §6.1-§6.8). Warnings for ignored
// arguments go to config.Warn(); accepted arguments produce none.
absl::Status BuildQemu(const VmmInputs& inputs,
                       absl::Span<const std::string> args, RealmConfig& config);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_VMM_QEMU_H_
