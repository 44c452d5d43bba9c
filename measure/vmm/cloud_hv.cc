#include "measure/vmm/cloud_hv.h"

#include <cctype>
#include <limits>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "measure/engine.h"
#include "measure/fdt/fdt_fragments.h"
#include "measure/fdt/fdt_writer.h"
#include "measure/host_caps.h"
#include "measure/memory_size.h"
#include "measure/payload.h"
#include "measure/vmm/kernel_blob.h"

namespace realm_measurements::measure {
namespace cloud_hv {

// The option set of the reference's CloudHVArgs (spec-vmm §7.1): long names
// only, except the -v counter.
constexpr ArgSpec kArguments[] = {
    {"--cpus", ArgKind::kValue, ArgUse::kSupported,
     "`key=value,...`; `boot=N` is the vCPU count (default 1, at most 512); "
     "other keys are warned about and ignored"},
    {"--memory", ArgKind::kValue, ArgUse::kSupported,
     "`key=value,...`; `size=S` is the RAM size (`512M`, `1G`, no suffix = "
     "MiB; default 512 MiB); other keys are warned about and ignored"},
    {"--platform", ArgKind::kValue, ArgUse::kSupported,
     "`key=value,...`; `measurement_algo=sha256\\|sha512\\|sha384` (default "
     "sha512; sha384 needs `--rmm-version 2.0`), "
     "`personalization_value=<base64>` (RPV, at most 64 bytes, zero padded); "
     "other keys (`arm_rme=on`, ...) are ignored silently"},
    {"--kernel", ArgKind::kValue, ArgUse::kSupported,
     "a kernel is loaded; its content comes from the global `-k` (the value is "
     "not read)"},
    {"--initramfs", ArgKind::kValue, ArgUse::kSupported,
     "an initrd is loaded; its content comes from the global `-i`"},
    {"--cmdline", ArgKind::kValue, ArgUse::kSupported,
     "the `bootargs` of `/chosen`, verbatim (absent: no `bootargs` property)"},
    {"--serial", ArgKind::kValue, ArgUse::kSupported,
     "`off` removes the PL011 UART node; any other value keeps it"},
    {"--firmware", ArgKind::kValue, ArgUse::kIgnored,
     "UEFI boot is not modelled (a warning says so); the measurements are "
     "those of the direct kernel boot"},
    {"--dtb", ArgKind::kValue, ArgUse::kIgnored,
     "cloud-hypervisor's own option; never read"},
    {"--console", ArgKind::kValue, ArgUse::kIgnored, ""},
    {"--rng", ArgKind::kValue, ArgUse::kIgnored, ""},
    {"--balloon", ArgKind::kValue, ArgUse::kIgnored, ""},
    {"--vsock", ArgKind::kValue, ArgUse::kIgnored, ""},
    {"--log-file", ArgKind::kValue, ArgUse::kIgnored, ""},
    {"--api-socket", ArgKind::kValue, ArgUse::kIgnored, ""},
    {"--event-monitor", ArgKind::kValue, ArgUse::kIgnored, ""},
    {"--restore", ArgKind::kValue, ArgUse::kIgnored, ""},
    {"--seccomp", ArgKind::kValue, ArgUse::kIgnored, ""},
    {"--tpm", ArgKind::kValue, ArgUse::kIgnored, ""},
    {"--memory-zone", ArgKind::kList, ArgUse::kIgnored, ""},
    {"--rate-limit-group", ArgKind::kList, ArgUse::kIgnored, ""},
    {"--disk", ArgKind::kList, ArgUse::kIgnored, ""},
    {"--net", ArgKind::kList, ArgUse::kIgnored, ""},
    {"--fs", ArgKind::kList, ArgUse::kIgnored, ""},
    {"--pmem", ArgKind::kList, ArgUse::kIgnored, ""},
    {"--device", ArgKind::kList, ArgUse::kIgnored, ""},
    {"--user-device", ArgKind::kList, ArgUse::kIgnored, ""},
    {"--vdpa", ArgKind::kList, ArgUse::kIgnored, ""},
    {"--numa", ArgKind::kList, ArgUse::kIgnored, ""},
    {"--pci-segment", ArgKind::kList, ArgUse::kIgnored, ""},
    {"--pvpanic", ArgKind::kFlag, ArgUse::kIgnored, ""},
    {"--watchdog", ArgKind::kFlag, ArgUse::kIgnored, ""},
    {"-v", ArgKind::kCount, ArgUse::kIgnored, ""},
};

absl::Span<const ArgSpec> Arguments() { return kArguments; }

}  // namespace cloud_hv

namespace {

using namespace cloud_hv;  // NOLINT: platform constants of this model

using fdt::kIrqEdgeRising;
using fdt::kIrqLevelHigh;
using fdt::kPciSpaceIo;
using fdt::kPciSpaceMmio32;
using fdt::kPciSpaceMmio64;

// SPIs of the model (spec-vmm §7.5; the reference marks them FIXME, 14.16).
constexpr uint32_t kRtcSpi = 8;
constexpr uint32_t kUartSpi = 11;
// Phandles (spec-vmm §7.5).
constexpr uint32_t kGicPhandle = 1;
constexpr uint32_t kItsPhandle = 2;
constexpr uint32_t kClockPhandle = 3;
// msi-map length: the 256 requester IDs of bus 0.
constexpr uint32_t kMsiMapLength = 0x100;

uint64_t AlignUp(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }
uint32_t Lo(uint64_t v) { return static_cast<uint32_t>(v); }
uint32_t Hi(uint64_t v) { return static_cast<uint32_t>(v >> 32); }

// ---------------------------------------------------------------------------
// The cloud-hypervisor nodes (§7.5) on the fragments of spec-vmm §4.

absl::Status WriteGic(FdtWriter& w, uint64_t num_cpus) {
  const uint64_t redist_size = num_cpus * kGicRedistSizePerCpu;
  const uint64_t redist_base = kGicDistBase - redist_size;
  const uint64_t reg[] = {kGicDistBase, kGicDistSize, redist_base, redist_size};
  // ITS always, just below the redistributors.
  return fdt::WriteGicNode(
      w, reg, kGicPhandle,
      fdt::GicIts{redist_base - kGicItsSize, kGicItsSize, kItsPhandle});
}

absl::Status WritePcie(FdtWriter& w) {
  const uint64_t mmio64_size = kPciMmio64End - kPciMmio64Base;
  fdt::EcamPcieHost host;
  host.unit_address = kPciEcamBase;
  // <space, pci addr hi/lo, cpu addr hi/lo, size hi/lo> per window.
  // clang-format off
  host.ranges = {
      kPciSpaceIo,     0, 0, 0, Lo(kPciIoBase), 0, Lo(kPciIoSize),
      kPciSpaceMmio32, 0, Lo(kPciMmio32Base), 0, Lo(kPciMmio32Base),
                       0, Lo(kPciMmio32Size),
      kPciSpaceMmio64, Hi(kPciMmio64Base), Lo(kPciMmio64Base),
                       Hi(kPciMmio64Base), Lo(kPciMmio64Base),
                       Hi(mmio64_size), Lo(mmio64_size)};
  // clang-format on
  host.reg = {kPciEcamBase, kPciEcamSize};
  host.msi_map = std::vector<uint32_t>{0, kItsPhandle, 0, kMsiMapLength};
  host.last_bus = 0;
  return fdt::WriteEcamPcieNode(w, host);
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> GenerateCloudHvDtb(
    const CloudHvDtbParams& p) {
  if (p.num_cpus == 0 || p.num_cpus > kMaxVcpus) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid VM configuration: ", p.num_cpus,
                     " vCPUs (expected 1 to ", kMaxVcpus, ")"));
  }
  FdtWriter w;
  fdt::RootPrologue prologue;
  prologue.mem_base = kRamBase;
  prologue.mem_size = p.mem_size;
  prologue.num_cpus = p.num_cpus;
  prologue.intc_phandle = kGicPhandle;
  prologue.bootargs = p.bootargs;
  if (p.initrd.has_value()) {
    prologue.initrd =
        fdt::RootPrologue::Initrd{p.initrd->start, p.initrd->size};
  }
  absl::StatusOr<FdtNode> root = fdt::BeginRootWithPrologue(w, prologue);
  if (!root.ok()) return root.status();
  BASE_RETURN_IF_ERROR(WriteGic(w, p.num_cpus));
  BASE_RETURN_IF_ERROR(fdt::WriteTimerNode(w, kIrqLevelHigh));
  // Always present, whatever the realm's PMU setting (spec-vmm 14.16).
  BASE_RETURN_IF_ERROR(fdt::WritePmuNode(w, fdt::kPmuPpi));
  BASE_RETURN_IF_ERROR(fdt::WriteApbClockNode(w, kClockPhandle));
  BASE_RETURN_IF_ERROR(fdt::WritePrimeCellNode(w, "pl031", kRtcBase, kRtcSize,
                                               kClockPhandle, kRtcSpi,
                                               kIrqLevelHigh, "arm,pl031"));
  if (p.serial) {
    BASE_RETURN_IF_ERROR(
        fdt::WritePrimeCellNode(w, "pl011", kUartBase, kUartSize, kClockPhandle,
                                kUartSpi, kIrqEdgeRising, "arm,pl011"));
  }
  BASE_RETURN_IF_ERROR(WritePcie(w));
  BASE_RETURN_IF_ERROR(w.EndNode(*root));
  return w.Finish();
}

// ---------------------------------------------------------------------------
// Argument parsing (spec-vmm §7.1, grammar of §5.1).

namespace {

// User text echoed in a message or warning, with control characters as
// \xNN so that every diagnostic stays one line.
std::string Printable(absl::string_view text) {
  std::string out;
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      absl::StrAppend(&out, "\\x", absl::Hex(u, absl::kZeroPad2));
    } else {
      out += c;
    }
  }
  return out;
}

const ArgSpec* FindLong(absl::string_view name) {
  for (const ArgSpec& a : kArguments) {
    if (a.kind != ArgKind::kCount && name == a.name) return &a;
  }
  return nullptr;
}

// clap's display of an option: "--cpus <CPUS>", "--pvpanic".
std::string Display(const ArgSpec& a) {
  std::string s = a.name;
  if (a.kind == ArgKind::kValue || a.kind == ArgKind::kList) {
    std::string upper;
    for (const char* p = a.name + 2; *p != '\0'; ++p) {
      upper += *p == '-' ? '_' : static_cast<char>(std::toupper(*p));
    }
    absl::StrAppend(&s, " <", upper, ">");
  }
  return s;
}

class ParsedArgs {
 public:
  bool Has(absl::string_view name) const { return values_.count(name) > 0; }
  std::optional<std::string> Get(absl::string_view name) const {
    auto it = values_.find(name);
    if (it == values_.end() || it->second.empty()) return std::nullopt;
    return it->second.front();
  }

  absl::Status Add(const ArgSpec& a, std::optional<std::string> value) {
    std::vector<std::string>& vals = values_[a.name];
    if ((a.kind == ArgKind::kValue || a.kind == ArgKind::kFlag) &&
        !vals.empty()) {
      return UsageError(absl::StrCat("the argument '", Display(a),
                                     "' cannot be used multiple times"));
    }
    if (a.kind == ArgKind::kFlag && value.has_value()) {
      return UsageError(absl::StrCat("unexpected value '", Printable(*value),
                                     "' for '", Display(a),
                                     "' found; no more were expected"));
    }
    vals.push_back(value.value_or(""));
    return absl::OkStatus();
  }

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
};

absl::StatusOr<ParsedArgs> ParseArgs(absl::Span<const std::string> args) {
  ParsedArgs out;
  const ArgSpec* verbose = nullptr;
  for (const ArgSpec& a : kArguments) {
    if (a.kind == ArgKind::kCount) verbose = &a;
  }
  // A following argument is a value unless it looks like an option.
  auto looks_like_option = [](const std::string& a) {
    return a.size() > 1 && a[0] == '-';
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      if (i + 1 < args.size()) {
        return UsageError(absl::StrCat("unexpected argument '",
                                       Printable(args[i + 1]), "' found"));
      }
      break;
    }
    if (arg.size() > 2 && arg[0] == '-' && arg[1] == '-') {
      absl::string_view body = absl::string_view(arg).substr(2);
      const size_t eq = body.find('=');
      const std::string name = absl::StrCat("--", body.substr(0, eq));
      const ArgSpec* spec = FindLong(name);
      if (spec == nullptr) {
        return UsageError(
            absl::StrCat("unexpected argument '", Printable(name), "' found"));
      }
      std::optional<std::string> value;
      if (eq != absl::string_view::npos) {
        value = std::string(body.substr(eq + 1));
      } else if (spec->kind != ArgKind::kFlag) {
        if (i + 1 >= args.size() || looks_like_option(args[i + 1])) {
          return UsageError(absl::StrCat("a value is required for '",
                                         Display(*spec),
                                         "' but none was supplied"));
        }
        value = args[++i];
      }
      BASE_RETURN_IF_ERROR(out.Add(*spec, std::move(value)));
    } else if (arg.size() > 1 && arg[0] == '-') {
      // Short flags, possibly clustered ("-vv"); only -v exists.
      for (size_t k = 1; k < arg.size(); ++k) {
        if (arg[k] != 'v') {
          return UsageError(absl::StrCat("unexpected argument '-",
                                         Printable(arg.substr(k, 1)),
                                         "' found"));
        }
        BASE_RETURN_IF_ERROR(out.Add(*verbose, std::nullopt));
      }
    } else {
      return UsageError(
          absl::StrCat("unexpected argument '", Printable(arg), "' found"));
    }
  }
  return out;
}

absl::Status WithContext(absl::string_view context, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

// Calls `item(key, value)` for each "key=value" item of a comma-separated
// list; an item without '=' is "malformed <what> param <item>".
template <typename F>
absl::Status ForEachItem(const std::string& list, absl::string_view what,
                         F item) {
  for (absl::string_view it : absl::StrSplit(list, ',')) {
    const size_t eq = it.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed ", what, " param ", Printable(it)));
    }
    BASE_RETURN_IF_ERROR(item(it.substr(0, eq), it.substr(eq + 1)));
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------
// The model (spec-vmm §7.2-§7.5).

absl::Status BuildCloudHv(const VmmInputs& inputs,
                          absl::Span<const std::string> args,
                          RealmConfig& config) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args);
  if (!parsed.ok()) return parsed.status();
  const ParsedArgs& a = *parsed;

  // Realm parameters before the arguments (§7.2).
  {
    HostCaps c;
    c.ipa_bits = kIpaBits;
    BASE_RETURN_IF_ERROR(config.caps().Restrict(c));
    config.RequireIpaBits(kIpaBits);
  }
  config.set_hash_algorithm(HashAlgorithm::kSha512);

  // --platform, then --cpus, then --memory, each item in order (§7.1).
  if (std::optional<std::string> platform = a.Get("--platform")) {
    BASE_RETURN_IF_ERROR(ForEachItem(
        *platform, "--platform",
        [&](absl::string_view key, absl::string_view value) -> absl::Status {
          if (key == "personalization_value") {
            return config.SetPersonalizationValueBase64(value);
          }
          if (key == "measurement_algo") {
            absl::StatusOr<HashAlgorithm> h = ParseHashAlgorithm(value);
            if (!h.ok()) {
              // The reference's error chain.
              return absl::InvalidArgumentError(absl::StrCat(
                  "RMM: unknown hash algorithm `", Printable(value),
                  "`: unknown hash algorithm `", Printable(value), "`"));
            }
            config.set_hash_algorithm(*h);
          }
          return absl::OkStatus();  // other keys (arm_rme=on, ...) ignored
        }));
  }
  CloudHvDtbParams dtb;
  if (std::optional<std::string> cpus = a.Get("--cpus")) {
    BASE_RETURN_IF_ERROR(ForEachItem(
        *cpus, "--cpu",  // sic: the reference's text
        [&](absl::string_view key, absl::string_view value) -> absl::Status {
          if (key == "boot") {
            // Rust's usize::from_str (64-bit).
            absl::StatusOr<uint64_t> n = ParseDecimalUnsigned(
                value, std::numeric_limits<uint64_t>::max());
            if (!n.ok()) return WithContext("--cpus", n.status());
            dtb.num_cpus = *n;
          } else {
            config.Warn(
                absl::StrCat("ignored --cpus parameter ", Printable(key)));
          }
          return absl::OkStatus();
        }));
  }
  if (std::optional<std::string> memory = a.Get("--memory")) {
    BASE_RETURN_IF_ERROR(ForEachItem(
        *memory, "--memory",
        [&](absl::string_view key, absl::string_view value) -> absl::Status {
          if (key == "size") {
            absl::StatusOr<uint64_t> s = ParseMemorySize(value);
            if (!s.ok()) return WithContext("--memory", s.status());
            dtb.mem_size = *s;
          } else {
            config.Warn(
                absl::StrCat("ignored --memory parameter ", Printable(key)));
          }
          return absl::OkStatus();
        }));
  }
  if (a.Get("--serial") == std::optional<std::string>("off")) {
    dtb.serial = false;
  }
  dtb.bootargs = a.Get("--cmdline");

  // deviations.md: reject what no VMM would start, before laying it out.
  if (dtb.num_cpus == 0 || dtb.num_cpus > kMaxVcpus) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid VM configuration: ", dtb.num_cpus,
                     " vCPUs (expected 1 to ", kMaxVcpus, ")"));
  }
  // Inputs the reference ignores silently; say so, since the measured
  // Realm is then not what the user may expect (spec-vmm 14.16).
  if (inputs.dtb.has_value()) {
    config.Warn("--dtb is ignored by cloud-hv: the generated DTB is measured");
  }
  if (inputs.dtb_template.has_value()) {
    config.Warn(
        "--dtb-template is ignored by cloud-hv: the generated DTB is "
        "measured");
  }
  if (a.Has("--firmware")) {
    config.Warn(
        "cloud-hv --firmware is ignored: UEFI boot is not modelled, the "
        "measurements are those of a direct kernel boot");
  }

  // Order of registrations (§7.5).
  BASE_RETURN_IF_ERROR(config.AddRam(kRamBase, dtb.mem_size));

  if (a.Has("--kernel")) {
    BASE_ASSIGN_OR_RETURN(
        Blob kernel, LoadKernelBlob(inputs, kKernelBase, "cloud-hv --kernel"));
    BASE_RETURN_IF_ERROR(config.AddRimBlob(std::move(kernel)));
  }

  if (a.Has("--initramfs")) {
    if (!inputs.initrd.has_value()) {
      return absl::InvalidArgumentError(
          NeedImage("initrd", "-i", "cloud-hv --initramfs"));
    }
    Payload p = Payload::FromFile(*inputs.initrd);
    absl::StatusOr<uint64_t> size = p.Size();
    if (!size.ok()) return size.status();
    // Page-aligned start at the end of RAM; the DTB range uses the file
    // size (spec-vmm 14.16).
    const uint64_t start =
        kRamBase + dtb.mem_size - AlignUp(*size, kInitrdAlign);
    dtb.initrd = CloudHvDtbParams::Initrd{start, *size};
    Blob blob;
    blob.name = "initrd";
    blob.guest_start = start;
    blob.payload = std::move(p);
    BASE_RETURN_IF_ERROR(config.AddRimBlob(std::move(blob)));
  }

  // Boot vCPU (§7.4): PC excludes text_offset and is set without a kernel.
  RecParams rec;
  rec.pc = kKernelBase;
  rec.gprs[0] = kDtbBase;
  BASE_RETURN_IF_ERROR(config.AddRec(rec));

  auto wrap = [](const absl::Status& s) {
    return WithContext("while generating DTB", s);
  };
  absl::StatusOr<std::vector<uint8_t>> bytes = GenerateCloudHvDtb(dtb);
  if (!bytes.ok()) return wrap(bytes.status());
  return wrap(config.AddDtb(kDtbBase, *std::move(bytes)));
}

}  // namespace realm_measurements::measure
