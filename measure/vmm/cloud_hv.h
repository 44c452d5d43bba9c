// The cloud-hypervisor VMM model (spec-vmm §7): parses cloud-hypervisor's
// long options, lays out the Realm (RAM and DTB at 0x4000_0000, kernel at
// 0x4040_0000, initrd at the end of RAM) and generates the DTB. There is no
// template or --dtb mode: the generated DTB is always the one measured.
#ifndef REALM_MEASUREMENTS_MEASURE_VMM_CLOUD_HV_H_
#define REALM_MEASUREMENTS_MEASURE_VMM_CLOUD_HV_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "measure/realm_config.h"
#include "measure/vmm/vmm.h"

namespace realm_measurements::measure {

// The fixed cloud-hypervisor arm64 platform (spec-vmm §7.3).
namespace cloud_hv {
inline constexpr uint64_t kRamBase = 0x40000000;
inline constexpr uint64_t kDefaultRamSize = uint64_t{512} << 20;
inline constexpr uint64_t kDtbBase = kRamBase;
// After the FDT and ACPI areas at the start of RAM (spec-vmm §13).
inline constexpr uint64_t kKernelBase = kRamBase + 0x400000;
// The initrd start is page aligned at the end of RAM.
inline constexpr uint64_t kInitrdAlign = 0x1000;
inline constexpr uint64_t kGicDistBase = 0x08ff0000;
inline constexpr uint64_t kGicDistSize = 0x10000;
inline constexpr uint64_t kGicRedistSizePerCpu = 0x20000;
inline constexpr uint64_t kGicItsSize = 0x20000;
inline constexpr uint64_t kUartBase = 0x09000000;
inline constexpr uint64_t kUartSize = 0x1000;
inline constexpr uint64_t kRtcBase = 0x09010000;
inline constexpr uint64_t kRtcSize = 0x1000;
inline constexpr uint64_t kPciEcamBase = 0x30000000;
inline constexpr uint64_t kPciEcamSize = 0x100000;  // one bus
inline constexpr uint64_t kPciIoBase = 0x09050000;
inline constexpr uint64_t kPciIoSize = 0x10000;
inline constexpr uint64_t kPciMmio32Base = 0x10000000;
inline constexpr uint64_t kPciMmio32Size = 0x20000000;
inline constexpr uint64_t kPciMmio64Base = 0x200000000;
inline constexpr uint64_t kPciMmio64End = 0x3fff00000000;
// The reference restricts the IPA width to 48 bits (spec-vmm §7.2).
inline constexpr uint8_t kIpaBits = 48;
// KVM_MAX_VCPUS on arm64 (= VGIC_V3_MAX_CPUS); also keeps the
// redistributors and ITS inside the GIC window below 0x08ff_0000.
inline constexpr uint64_t kMaxVcpus = 512;

// The argument table (spec-vmm §7.1). docs/vmm-cloud-hv.md is checked
// against it by cloud_hv_test.
enum class ArgKind {
  kValue,  // --opt <v> / --opt=<v>, at most once
  kList,   // --opt <v>, repeatable
  kFlag,   // --opt, no value, at most once
  kCount,  // -v, repeatable, short only
};
enum class ArgUse {
  kSupported,  // changes the model
  kIgnored,    // accepted (and type-checked) but has no effect
};
struct ArgSpec {
  const char* name;  // "--cpus", "-v"
  ArgKind kind;
  ArgUse use;
  const char* summary;  // one line for docs/vmm-cloud-hv.md and --help
};
// Every option the model accepts; anything else is a usage error.
absl::Span<const ArgSpec> Arguments();
}  // namespace cloud_hv

// What the generated DTB depends on (spec-vmm §7.5).
struct CloudHvDtbParams {
  uint64_t num_cpus = 1;
  uint64_t mem_size = cloud_hv::kDefaultRamSize;
  std::optional<std::string> bootargs;  // --cmdline; none: no property
  struct Initrd {
    uint64_t start;
    uint64_t size;  // the file size (not page aligned)
  };
  std::optional<Initrd> initrd;
  bool serial = true;  // --serial off drops the PL011 node
};

// The tight (unpadded) DTB of spec-vmm §7.5, byte for byte.
absl::StatusOr<std::vector<uint8_t>> GenerateCloudHvDtb(
    const CloudHvDtbParams& params);

// measure::VmmModel for `cloud-hv` (spec-vmm §7). The global --dtb and
// --dtb-template are ignored (with a warning), as is --firmware.
absl::Status BuildCloudHv(const VmmInputs& inputs,
                          absl::Span<const std::string> args,
                          RealmConfig& config);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_VMM_CLOUD_HV_H_
