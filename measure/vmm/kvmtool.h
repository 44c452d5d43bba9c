// The kvmtool VMM model (spec-vmm §5, deviations C2): parses lkvm-style
// arguments, lays out the Realm (RAM at 0x8000_0000, DTB/initrd/log below
// the 0x9000_0000 lowmem limit) and generates, patches or takes the DTB.
#ifndef REALM_MEASUREMENTS_MEASURE_VMM_KVMTOOL_H_
#define REALM_MEASUREMENTS_MEASURE_VMM_KVMTOOL_H_

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

// The fixed kvmtool arm64 platform (spec-vmm §5.3, §5.4).
namespace kvmtool {
inline constexpr uint64_t kRamBase = 0x80000000;
// Top of the "lowmem" window where the DTB and initrd go.
inline constexpr uint64_t kLowmemLimit = 0x90000000;
// The DTB region kvmtool populates and measures (§5.8).
inline constexpr uint64_t kDtbSize = 0x10000;
inline constexpr uint64_t kDtbAlign = 0x200000;
inline constexpr uint64_t kLogSize = 0x10000;
inline constexpr uint64_t kRamAlign = 0x200000;
inline constexpr uint64_t kGicDistBase = 0x3fff0000;
inline constexpr uint64_t kGicDistSize = 0x10000;
inline constexpr uint64_t kGicRedistSizePerCpu = 0x20000;
inline constexpr uint64_t kGicItsSize = 0x20000;
inline constexpr uint64_t kUartBase = 0x1000000;
inline constexpr uint64_t kUartStride = 0x1000;
inline constexpr int kNumUarts = 4;
inline constexpr uint64_t kRtcBase = 0x1010000;
inline constexpr uint64_t kVirtioMmioBase = 0x3000000;
inline constexpr uint64_t kVirtioMmioSize = 0x200;
inline constexpr uint64_t kPciEcamBase = 0x40000000;
inline constexpr uint64_t kPciEcamSize = 0x10000000;
inline constexpr uint64_t kPciMmioBase = 0x50000000;
inline constexpr uint64_t kPciMmioSize = 0x30000000;
// Upper bound on vCPUs: keeps the redistributor region above address 0
// (R = 0x3fff0000 - n * 0x20000); real KVM allows far fewer.
inline constexpr uint64_t kMaxVcpus = 4096;

// The argument table (spec-vmm §5.1): the parser's only source of options,
// and the source of the table in docs/vmm-kvmtool.md (checked by
// kvmtool_test).
enum class ArgKind {
  kFlag,   // --opt, no value, at most once
  kValue,  // --opt <v>, --opt=<v>, -x <v>, -x<v>; at most once
  kList,   // as kValue, repeatable
};
// What a value must parse as (Rust's integer FromStr; usize is 64-bit).
enum class ArgType { kString, kUsize, kU64, kU16, kU8 };
enum class ArgUse {
  kSupported,  // changes the Realm
  kIgnored,    // accepted and type-checked; the model never sees it
  kRejected,   // accepted by the grammar, then the model fails
};
struct ArgSpec {
  const char* long_name;  // without "--"
  char short_name;        // 0 = none
  ArgKind kind;
  ArgType type;
  ArgUse use;
  const char* summary;  // one line for docs/vmm-kvmtool.md
};
// Every option the parser accepts, in documentation order; anything else
// is a usage error.
absl::Span<const ArgSpec> Arguments();
}  // namespace kvmtool

// The DTB state machine of spec-vmm §2.3 for kvmtool. Defaults are those
// the event-log module uses: RAM base 0x8000_0000, ITS off, PCI transport
// (no virtio-mmio devices), no bootargs, no initrd, no log, no PMU.
class KvmtoolDtbGenerator {
 public:
  void set_num_cpus(uint64_t n) { num_cpus_ = n; }
  void set_mem_size(uint64_t bytes) { mem_size_ = bytes; }
  void set_initrd(uint64_t base, uint64_t size) { initrd_ = {{base, size}}; }
  void set_log_location(uint64_t base, uint64_t size) { log_ = {{base, size}}; }
  void set_pmu(bool on) { pmu_ = on; }
  void set_its(bool on) { its_ = on; }
  void set_bootargs(std::optional<std::string> b) { bootargs_ = std::move(b); }
  void set_num_virtio_mmio(uint64_t n) { num_virtio_mmio_ = n; }
  void set_template(std::vector<uint8_t> dtb) { template_ = std::move(dtb); }

  // The generated (§5.7) or template-patched (§5.9) DTB, checked against
  // and zero-padded to 64 KiB (§5.8); the header keeps the real size.
  absl::StatusOr<std::vector<uint8_t>> GenDtb() const;

 private:
  struct Range {
    uint64_t base;
    uint64_t size;
  };
  friend class KvmtoolTemplateHandler;
  absl::StatusOr<std::vector<uint8_t>> Generate() const;
  uint64_t RedistBase() const;

  uint64_t ram_base_ = kvmtool::kRamBase;
  uint64_t num_cpus_ = 1;
  uint64_t mem_size_ = 0;
  std::optional<Range> initrd_;
  std::optional<Range> log_;
  bool pmu_ = false;
  bool its_ = false;
  std::optional<std::string> bootargs_;
  uint64_t num_virtio_mmio_ = 0;
  std::optional<std::vector<uint8_t>> template_;
};

// measure::VmmModel for `kvmtool` (spec-vmm §5.1-§5.6).
absl::Status BuildKvmtool(const VmmInputs& inputs,
                          absl::Span<const std::string> args,
                          RealmConfig& config);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_VMM_KVMTOOL_H_
