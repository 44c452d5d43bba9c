#include "measure/vmm/qemu_args.h"

#include <deque>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace realm_measurements::measure::qemu {
namespace {

// spec-vmm §6.1 (options) and §6.2-§6.6 (list keys).
constexpr OptionInfo kOptions[] = {
    {"-m", true, OptionUse::kSupported,
     "RAM size and hot-plug layout (`size`, `slots`, `maxmem`); repeatable, "
     "cumulative"},
    {"-smp", true, OptionUse::kSupported,
     "vCPU count and topology; repeatable, cumulative"},
    {"-object", true, OptionUse::kSupported,
     "`rme-guest` properties; other object types are ignored with a warning"},
    {"-append", true, OptionUse::kSupported,
     "kernel command line (`/chosen/bootargs`); last one wins"},
    {"-machine", true, OptionUse::kSupported, "`virt` machine properties"},
    {"-M", true, OptionUse::kSupported, "same as `-machine`"},
    {"-cpu", true, OptionUse::kSupported,
     "`host` CPU properties (PMU, SVE lengths, breakpoints)"},
    {"-kernel", true, OptionUse::kSupported,
     "direct kernel boot; the file is the global `-k` (name ignored): an "
     "arm64 Image, gzip, or an EFI zboot image with a gzip payload (unpacked "
     "as QEMU 9.1 does; not with `-bios`)"},
    {"-initrd", true, OptionUse::kSupported,
     "initrd, only with `-kernel`; the file is the global `-i`"},
    {"-bios", true, OptionUse::kSupported,
     "firmware at 0 in flash; the file is the global `-f`; kernel and initrd "
     "then go to REM0"},
    {"-device", true, OptionUse::kIgnoredWarned,
     "no effect on the DTB; warns unless the type is virtconsole, "
     "virtio-blk-pci, virtio-serial-pci, virtio-net-pci, virtio-9p-pci or "
     "virtio-fs-pci"},
    {"-dtb", true, OptionUse::kIgnored, "ignored; use the global `--dtb`"},
    {"-drive", true, OptionUse::kIgnored, "ignored"},
    {"-fsdev", true, OptionUse::kIgnored, "ignored"},
    {"-chardev", true, OptionUse::kIgnored, "ignored"},
    {"-netdev", true, OptionUse::kIgnored, "ignored"},
    {"-mon", true, OptionUse::kIgnored, "ignored"},
    {"-enable-kvm", false, OptionUse::kIgnored, "ignored"},
    {"-nographic", false, OptionUse::kIgnored, "ignored"},
    {"-nodefaults", false, OptionUse::kIgnored, "ignored"},
};

constexpr SubOptionInfo kSubOptions[] = {
    {"-m", "", OptionUse::kSupported,
     "RAM size (`512M`, `1G`; no suffix = MiB)"},
    {"-m", "size", OptionUse::kSupported, "RAM size"},
    {"-m", "slots", OptionUse::kSupported,
     "hot-plug slots (1 GiB each in the high memory map)"},
    {"-m", "maxmem", OptionUse::kSupported,
     "maximum memory (moves the high memory map)"},
    {"-m", "*", OptionUse::kRejected, "any other key: rejected"},
    {"-smp", "", OptionUse::kSupported, "vCPU count"},
    {"-smp", "cpus", OptionUse::kSupported, "vCPU count"},
    {"-smp", "maxcpus", OptionUse::kSupported,
     "vCPU count (must equal `cpus` if both are given)"},
    {"-smp", "sockets", OptionUse::kSupported, "topology"},
    {"-smp", "clusters", OptionUse::kSupported, "topology (never inferred)"},
    {"-smp", "cores", OptionUse::kSupported, "topology"},
    {"-smp", "threads", OptionUse::kSupported, "topology"},
    {"-smp", "*", OptionUse::kIgnoredWarned,
     "any other key: ignored with a warning"},
    {"-object", "", OptionUse::kSupported,
     "object type; only `rme-guest` is interpreted"},
    {"-object", "measurement-algorithm", OptionUse::kSupported,
     "`sha256` or `sha512` (default sha512), `sha384` (needs `--rmm-version "
     "2.0`)"},
    {"-object", "personalization-value", OptionUse::kSupported,
     "RPV, base64, at most 64 bytes (zero-padded)"},
    {"-object", "measurement-log", OptionUse::kSupported,
     "on/off: 64 KiB unmeasured event log at DTB + 1 MiB"},
    {"-object", "id", OptionUse::kIgnored, "ignored"},
    {"-object", "*", OptionUse::kRejected,
     "any other `rme-guest` property (e.g. `shared-mec`): rejected"},
    {"-machine", "", OptionUse::kSupported,
     "machine type: only `virt` (versioned types are rejected)"},
    {"-machine", "gic-version", OptionUse::kSupported,
     "`3`, `host` or `max`; `2` and `4` are rejected"},
    {"-machine", "its", OptionUse::kSupported, "on/off: GIC ITS"},
    {"-machine", "acpi", OptionUse::kIgnored, "parsed as a bool, unused"},
    {"-machine", "confidential-guest-support", OptionUse::kIgnored,
     "ignored (a realm is always modelled)"},
    {"-machine", "highmem", OptionUse::kRejected,
     "rejected: disabling highmem is not supported"},
    {"-machine", "*", OptionUse::kIgnoredWarned,
     "any other property: ignored with a warning (e.g. `mte`, "
     "`highmem-mmio-size`, `iommu`)"},
    {"-cpu", "", OptionUse::kSupported,
     "CPU model: only `host` (`max` and named models are rejected)"},
    {"-cpu", "pmu", OptionUse::kSupported,
     "on/off: PMU (restricted by the host capabilities)"},
    {"-cpu", "num-pmu-counters", OptionUse::kSupported,
     "PMU counters (restrict, at most 31)"},
    {"-cpu", "num-breakpoints", OptionUse::kSupported,
     "breakpoints (restrict, 2..64)"},
    {"-cpu", "num-watchpoints", OptionUse::kSupported,
     "watchpoints (restrict, 2..64)"},
    {"-cpu", "sve", OptionUse::kSupported, "`off` disables SVE"},
    {"-cpu", "sve*", OptionUse::kSupported,
     "`sve<N>=on/off`: raise to / lower below N bits"},
    {"-cpu", "*", OptionUse::kIgnoredWarned,
     "any other property: ignored with a warning"},
};

}  // namespace

absl::Span<const OptionInfo> QemuOptionTable() { return kOptions; }

const OptionInfo* FindQemuOption(absl::string_view name) {
  for (const OptionInfo& o : kOptions) {
    if (name == o.name) return &o;
  }
  return nullptr;
}

absl::Span<const SubOptionInfo> QemuSubOptionTable() { return kSubOptions; }

const SubOptionInfo* FindQemuSubOption(absl::string_view option,
                                       absl::string_view key) {
  if (option == "-M") option = "-machine";
  for (const SubOptionInfo& s : kSubOptions) {
    if (option == s.option && key == s.key) return &s;
  }
  // Prefix patterns ("sve*"), then the catch-all "*"; the bare item never
  // matches a pattern.
  if (key.empty()) return nullptr;
  const SubOptionInfo* any = nullptr;
  for (const SubOptionInfo& s : kSubOptions) {
    if (option != s.option) continue;
    absl::string_view pattern = s.key;
    if (pattern == "*") {
      any = &s;
    } else if (absl::EndsWith(pattern, "*")) {
      pattern.remove_suffix(1);
      if (absl::StartsWith(key, pattern)) return &s;
    }
  }
  return any;
}

absl::StatusOr<std::vector<QemuArg>> TokenizeQemuArgs(
    absl::Span<const std::string> args) {
  if (args.size() > kMaxQemuArgs) {
    return absl::InvalidArgumentError(
        absl::StrCat("too many QEMU arguments: ", args.size(), " (at most ",
                     kMaxQemuArgs, ")"));
  }
  std::vector<QemuArg> out;
  // The right part of a split "a=b" token is read next (spec-vmm §6.1).
  std::optional<std::string> pushed;
  size_t i = 0;
  auto next = [&]() -> std::optional<std::string> {
    if (pushed.has_value()) {
      std::optional<std::string> t = std::move(pushed);
      pushed.reset();
      return t;
    }
    if (i < args.size()) return args[i++];
    return std::nullopt;
  };
  for (;;) {
    std::optional<std::string> t = next();
    if (!t.has_value()) break;
    const size_t eq = t->find('=');
    if (eq != std::string::npos) {
      pushed = t->substr(eq + 1);
      t->resize(eq);
    }
    QemuArg arg;
    arg.name = *std::move(t);
    const OptionInfo* info = FindQemuOption(arg.name);
    if (info != nullptr) {
      arg.known = true;
      if (info->takes_value) {
        arg.value = next();
        if (!arg.value.has_value()) {
          const std::string shown = arg.name == "-M" ? "-machine" : arg.name;
          return absl::InvalidArgumentError(
              absl::StrCat(shown, " needs a value"));
        }
      }
    }
    out.push_back(std::move(arg));
  }
  return out;
}

std::vector<QemuListItem> SplitQemuList(absl::string_view text) {
  std::vector<QemuListItem> items;
  std::string current;
  auto flush = [&]() {
    QemuListItem item;
    const size_t eq = current.find('=');
    if (eq == std::string::npos) {
      item.key = std::move(current);
    } else {
      item.key = current.substr(0, eq);
      item.value = current.substr(eq + 1);
      item.has_value = true;
    }
    items.push_back(std::move(item));
    current.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != ',') {
      current.push_back(text[i]);
    } else if (i + 1 < text.size() && text[i + 1] == ',') {
      current.push_back(',');  // ",," is a literal comma
      ++i;
    } else {
      flush();
    }
  }
  flush();
  return items;
}

absl::StatusOr<std::optional<bool>> ParseQemuBool(absl::string_view v) {
  if (v == "on" || v == "yes" || v == "true" || v == "y") return {true};
  if (v == "off" || v == "no" || v == "false" || v == "n") return {false};
  if (v == "auto") return std::optional<bool>();
  return absl::InvalidArgumentError(
      absl::StrCat("expected on/off/auto, got '", v, "'"));
}

}  // namespace realm_measurements::measure::qemu
