// DTB synthesis for event-log replay (spec-eventlog §E.5, decision K9):
// rebuilds the DTB a VMM generated from what its TCG log records, with the
// VMM models' generators (measure/vmm/qemu.h, measure/vmm/kvmtool.h, spec-vmm
// §2.3).
//
// The VM VERSION name picks the generator (§C.2 step 2: "QEMU" or "kvmtool",
// exact). The log gives the vCPU count and RAM size (VM VERSION), the initrd
// and log placements (INITRD / LOG events) and the PMU flag (REALM_CREATE).
// It does not give the kernel command line, the GIC ITS setting or (QEMU)
// the -m maxmem/slots and -smp topology: those come from
// DtbSynthesisOptions, defaulting to what the VMM models do without
// arguments. The replay checks the result against the logged digest (K9), so
// a wrong option makes replay fail naming the DTB event rather than produce
// wrong values.
#ifndef REALM_MEASUREMENTS_EVENTLOG_DTB_SYNTHESIS_H_
#define REALM_MEASUREMENTS_EVENTLOG_DTB_SYNTHESIS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eventlog/replay.h"
#include "measure/vmm/qemu.h"

namespace realm_measurements::eventlog {

// The generators a VM VERSION name selects (§C.2, §H.1, §H.2).
enum class VmmKind { kQemu, kKvmtool };

// "QEMU" -> kQemu, "kvmtool" -> kKvmtool (case-sensitive, as REF);
// anything else is kInvalidArgument naming the VMM.
absl::StatusOr<VmmKind> VmmKindFromName(absl::string_view name);

// What the DTB depends on that the log does not record.
struct DtbSynthesisOptions {
  // /chosen/bootargs exactly as the VMM passed it. Unset: the model's
  // default without kernel parameters - QEMU none (no -append), kvmtool
  // kKvmtoolDefaultBootargs. REF instead always uses "console=hvc0".
  std::optional<std::string> bootargs;
  // Set: no bootargs property at all (overrides `bootargs`).
  bool no_bootargs = false;
  // GIC ITS node: both models' command-line default is on (QEMU its=on,
  // kvmtool --irqchip gicv3-its); REF turns it on too.
  bool its = true;
  // kvmtool only: virtio-mmio device nodes (0 with the PCI transport, the
  // default; spec-vmm §5.2 step 9).
  uint64_t kvmtool_virtio_mmio = 0;
  // QEMU only: -m maxmem (unset: the RAM size) and slots, which move the
  // high memory map (spec-vmm §6.7).
  std::optional<uint64_t> qemu_max_mem;
  uint64_t qemu_slots = 0;
  // QEMU only: the -m size as given (the RAM comes from the log; set, the
  // two must agree).
  std::optional<uint64_t> qemu_ram_size;
  // QEMU only: -smp topology (only template mode writes the cpu-map). Its
  // CPU count must equal the logged one. Unset: 1 socket of n cores.
  std::optional<measure::QemuTopology> qemu_topology;
  // DTB templates (§E.3) keyed "NAME VERSION" (the VM VERSION fields joined
  // by one space); a match is patched instead of generating (spec-vmm §5.9,
  // §6.11).
  std::map<std::string, std::vector<uint8_t>> templates;
};

// kvmtool's bootargs without -p (spec-vmm §5.2 step 3: leading and trailing
// space included).
inline constexpr char kKvmtoolDefaultBootargs[] =
    " console=hvc0 root=/dev/vda rw ";

// Caps on what a log may ask the generators for, so a hostile log cannot
// make the DTB (one node per vCPU) or a template read unbounded.
inline constexpr uint32_t kMaxSynthesisCpus = 4096;  // kvmtool::kMaxVcpus
inline constexpr size_t kMaxDtbTemplateSize = size_t{16} << 20;
inline constexpr size_t kMaxDtbTemplates = 256;

// The DTB the VMM named in `request` would have generated. Errors
// (kInvalidArgument) name the parameter, what was expected and what the log
// gave.
absl::StatusOr<std::vector<uint8_t>> SynthesizeDtb(
    const DtbRequest& request, const DtbSynthesisOptions& options);

// A ReplayOptions::dtb_synthesizer calling SynthesizeDtb with `options`.
DtbSynthesizer MakeDtbSynthesizer(DtbSynthesisOptions options);

// Reads a §E.3 templates list: lines "NAME<TAB>VERSION<TAB>PATH" (exactly
// three fields; blank lines skipped), PATH relative to the list's directory
// unless absolute; adds each file under "NAME VERSION". Errors name the file
// and line.
absl::Status LoadDtbTemplates(const std::string& list_path,
                              DtbSynthesisOptions& options);

}  // namespace realm_measurements::eventlog

#endif  // REALM_MEASUREMENTS_EVENTLOG_DTB_SYNTHESIS_H_
