#include "eventlog/dtb_synthesis.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "eventlog/internal/text_file.h"
#include "measure/vmm/kvmtool.h"
#include "measure/vmm/qemu.h"

namespace realm_measurements::eventlog {
namespace {

// §C.2 step 2: the names the producers write.
constexpr absl::string_view kQemuName = "QEMU";
constexpr absl::string_view kKvmtoolName = "kvmtool";
// A DTB node per virtio-mmio device; the model derives the count from a
// handful of options, so anything larger is a mistake.
constexpr uint64_t kMaxVirtioMmio = 1024;
// §E.3 lists are short text files.
constexpr size_t kMaxTemplateListSize = size_t{1} << 20;

absl::Status SynthesisError(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("DTB synthesis: ", what));
}

absl::Status Wrap(const absl::Status& s, const DtbRequest& r) {
  return absl::Status(
      s.code(), absl::StrCat("DTB synthesis (", r.vmm_name, " ", r.vmm_version,
                             "): ", s.message()));
}

uint32_t MaxCpus(VmmKind kind) {
  return kind == VmmKind::kQemu
             ? static_cast<uint32_t>(measure::qemu::kMaxCpus)
             : static_cast<uint32_t>(measure::kvmtool::kMaxVcpus);
}

template <typename Generator>
void SetCommon(Generator& gen, const DtbRequest& r,
               const std::optional<std::string>& bootargs,
               const std::optional<std::vector<uint8_t>>& dtb_template) {
  // §E.5 order: [template], initrd, log, PMU.
  gen.set_bootargs(bootargs);
  if (dtb_template.has_value()) gen.set_template(*dtb_template);
  if (r.initrd.has_value()) gen.set_initrd(r.initrd->first, r.initrd->second);
  if (r.log.has_value()) gen.set_log_location(r.log->first, r.log->second);
  gen.set_pmu(r.pmu);
}

}  // namespace

absl::StatusOr<VmmKind> VmmKindFromName(absl::string_view name) {
  if (name == kQemuName) return VmmKind::kQemu;
  if (name == kKvmtoolName) return VmmKind::kKvmtool;
  return SynthesisError(absl::StrCat("VM VERSION names the VMM \"",
                                     absl::CHexEscape(name),
                                     "\", expected \"QEMU\" or \"kvmtool\""));
}

absl::StatusOr<std::vector<uint8_t>> SynthesizeDtb(
    const DtbRequest& r, const DtbSynthesisOptions& options) {
  BASE_ASSIGN_OR_RETURN(VmmKind kind, VmmKindFromName(r.vmm_name));
  const uint32_t max_cpus = std::min(MaxCpus(kind), kMaxSynthesisCpus);
  if (r.num_cpus == 0 || r.num_cpus > max_cpus) {
    return SynthesisError(absl::StrCat("VM VERSION num_cpus is ", r.num_cpus,
                                       ", expected 1..", max_cpus, " for ",
                                       r.vmm_name));
  }
  if (r.ram_size == 0) {
    return SynthesisError("VM VERSION ram_size is 0, expected the RAM size");
  }
  std::optional<std::string> bootargs = options.bootargs;
  if (!bootargs.has_value() && kind == VmmKind::kKvmtool) {
    bootargs = kKvmtoolDefaultBootargs;
  }
  if (options.no_bootargs) bootargs.reset();
  std::optional<std::vector<uint8_t>> dtb_template;
  if (auto it =
          options.templates.find(absl::StrCat(r.vmm_name, " ", r.vmm_version));
      it != options.templates.end()) {
    dtb_template = it->second;
  }

  absl::StatusOr<std::vector<uint8_t>> dtb;
  if (kind == VmmKind::kQemu) {
    measure::QemuDtbGenerator gen;
    if (options.qemu_topology.has_value()) {
      if (options.qemu_topology->num_cpus() != r.num_cpus) {
        return SynthesisError(absl::StrCat(
            "the -smp topology given has ", options.qemu_topology->num_cpus(),
            " vCPUs, the log's VM VERSION says ", r.num_cpus));
      }
      gen.set_topology(*options.qemu_topology);
    } else {
      gen.set_num_cpus(r.num_cpus);
    }
    if (options.qemu_ram_size.has_value() &&
        *options.qemu_ram_size != r.ram_size) {
      return SynthesisError(absl::StrCat(
          "the -m size given is ", *options.qemu_ram_size,
          " bytes, the log's VM VERSION says ", r.ram_size));
    }
    gen.set_mem_size(r.ram_size);
    // The high memory map follows the RAM size (spec-vmm §6.7); the
    // generator does not recompute it.
    absl::StatusOr<measure::QemuMemoryMap> map = measure::ComputeQemuMemoryMap(
        r.ram_size, options.qemu_max_mem.value_or(r.ram_size),
        options.qemu_slots);
    if (!map.ok()) return Wrap(map.status(), r);
    gen.set_memory_map(*map);
    gen.set_its(options.its);
    SetCommon(gen, r, bootargs, dtb_template);
    dtb = gen.GenDtb();
  } else {
    if (r.ram_size > UINT64_MAX - measure::kvmtool::kRamBase) {
      return SynthesisError(
          absl::StrCat("VM VERSION ram_size 0x", absl::Hex(r.ram_size),
                       " does not fit above kvmtool's RAM base 0x80000000"));
    }
    if (options.kvmtool_virtio_mmio > kMaxVirtioMmio) {
      return SynthesisError(absl::StrCat(
          options.kvmtool_virtio_mmio,
          " virtio-mmio devices, expected at most ", kMaxVirtioMmio));
    }
    measure::KvmtoolDtbGenerator gen;
    gen.set_num_cpus(r.num_cpus);
    gen.set_mem_size(r.ram_size);
    gen.set_its(options.its);
    gen.set_num_virtio_mmio(options.kvmtool_virtio_mmio);
    SetCommon(gen, r, bootargs, dtb_template);
    dtb = gen.GenDtb();
  }
  if (!dtb.ok()) return Wrap(dtb.status(), r);
  return dtb;
}

DtbSynthesizer MakeDtbSynthesizer(DtbSynthesisOptions options) {
  return [options = std::move(options)](const DtbRequest& r) {
    return SynthesizeDtb(r, options);
  };
}

absl::Status LoadDtbTemplates(const std::string& list_path,
                              DtbSynthesisOptions& options) {
  BASE_ASSIGN_OR_RETURN(
      std::vector<uint8_t> text,
      internal::ReadBoundedFile(list_path, kMaxTemplateListSize));
  const std::string dir = internal::DirectoryOf(list_path);
  return internal::ForEachLine(
      text, [&](int line_no, absl::string_view line) -> absl::Status {
        auto fail = [&](absl::string_view why) {
          return absl::InvalidArgumentError(absl::StrCat(
              "DTB templates list ", list_path, " line ", line_no, ": ", why));
        };
        std::vector<absl::string_view> f = absl::StrSplit(line, '\t');
        if (f.size() != 3 || f[0].empty() || f[2].empty()) {
          return fail(absl::StrCat("expected NAME<TAB>VERSION<TAB>PATH, found ",
                                   f.size(), " tab-separated fields"));
        }
        if (options.templates.size() >= kMaxDtbTemplates) {
          return fail(
              absl::StrCat("more than ", kMaxDtbTemplates, " templates"));
        }
        std::string path(f[2]);
        if (path[0] != '/') path = absl::StrCat(dir, "/", path);
        absl::StatusOr<std::vector<uint8_t>> dtb =
            internal::ReadBoundedFile(path, kMaxDtbTemplateSize);
        if (!dtb.ok()) return fail(dtb.status().message());
        std::string key = absl::StrCat(f[0], " ", f[1]);
        if (!options.templates.emplace(key, *std::move(dtb)).second) {
          return fail(absl::StrCat("second template for \"",
                                   absl::CHexEscape(key), "\""));
        }
        return absl::OkStatus();
      });
}

}  // namespace realm_measurements::eventlog
