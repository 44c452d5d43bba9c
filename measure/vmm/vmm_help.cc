#include "measure/vmm/vmm_help.h"

#include <algorithm>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "measure/vmm/cloud_hv.h"
#include "measure/vmm/kvmtool.h"
#include "measure/vmm/qemu_args.h"

namespace realm_measurements::measure {
namespace {

// kvmtool spells the option `restricted_mem`; the hyphenated spelling and
// options of other kvmtool versions or other VMMs are usage errors.
constexpr const char* kKvmtoolRejected[] = {
    "--restricted-mem", "--aarch32", "--sdl", "--vnc", "--gtk",
    "--mem-size",       "-x"};

constexpr RejectedArg kCloudHvRejected[] = {
    {"--verbose", "only the short `-v` exists"},
    {"--landlock", "not modelled"},
    {"--debug-console", "not modelled"},
    {"--platform-config", "not an option (prefixes are not accepted)"},
    {"-bios", "QEMU syntax (`-b` is not an option)"},
    {"-m", "no short options besides `-v`"},
};

const char* KvmtoolTypeName(kvmtool::ArgType t) {
  switch (t) {
    case kvmtool::ArgType::kString:
      return "string";
    case kvmtool::ArgType::kUsize:
      return "usize";
    case kvmtool::ArgType::kU64:
      return "u64";
    case kvmtool::ArgType::kU16:
      return "u16";
    case kvmtool::ArgType::kU8:
      return "u8";
  }
  return "?";
}

const char* KvmtoolUseName(kvmtool::ArgUse u) {
  switch (u) {
    case kvmtool::ArgUse::kSupported:
      return "supported";
    case kvmtool::ArgUse::kIgnored:
      return "ignored";
    case kvmtool::ArgUse::kRejected:
      return "rejected";
  }
  return "?";
}

const char* QemuUseName(qemu::OptionUse u) {
  switch (u) {
    case qemu::OptionUse::kSupported:
      return "supported";
    case qemu::OptionUse::kIgnored:
      return "ignored";
    case qemu::OptionUse::kIgnoredWarned:
      return "ignored (warning)";
    case qemu::OptionUse::kRejected:
      return "rejected";
  }
  return "?";
}

const char* CloudHvKindName(cloud_hv::ArgKind k) {
  switch (k) {
    case cloud_hv::ArgKind::kValue:
      return "value";
    case cloud_hv::ArgKind::kList:
      return "list";
    case cloud_hv::ArgKind::kFlag:
      return "flag";
    case cloud_hv::ArgKind::kCount:
      return "count";
  }
  return "?";
}

std::vector<VmmArgTable> KvmtoolTables() {
  VmmArgTable t{"Arguments", {"Option", "Value", "Use", "Effect"}, {}};
  for (const kvmtool::ArgSpec& o : kvmtool::Arguments()) {
    std::string names = absl::StrCat("`--", o.long_name, "`");
    if (o.short_name != 0) {
      names = absl::StrCat("`-", std::string(1, o.short_name), "`, ", names);
    }
    std::string value = "flag";
    if (o.kind == kvmtool::ArgKind::kValue) value = KvmtoolTypeName(o.type);
    if (o.kind == kvmtool::ArgKind::kList) {
      value = absl::StrCat(KvmtoolTypeName(o.type), ", repeatable");
    }
    t.rows.push_back({names, value, KvmtoolUseName(o.use), o.summary});
  }
  std::vector<std::string> examples;
  for (const char* e : kKvmtoolRejected) {
    examples.push_back(absl::StrCat("`", e, "`"));
  }
  t.rows.push_back(
      {"any other", "", "rejected",
       absl::StrCat("usage error `unexpected argument '<name>' found`, e.g. ",
                    absl::StrJoin(examples, ", "))});
  return {t};
}

std::vector<VmmArgTable> QemuTables() {
  VmmArgTable options{"Options", {"Option", "Value", "Use", "Effect"}, {}};
  for (const qemu::OptionInfo& o : qemu::QemuOptionTable()) {
    options.rows.push_back({absl::StrCat("`", o.name, "`"),
                            o.takes_value ? "yes" : "no", QemuUseName(o.use),
                            o.summary});
  }
  options.rows.push_back({"any other", "no", "ignored (warning)",
                          "`Parameter <name> ignored`; a following value is "
                          "read as an option"});
  VmmArgTable keys{"List keys", {"Option", "Key", "Use", "Effect"}, {}};
  for (const qemu::SubOptionInfo& s : qemu::QemuSubOptionTable()) {
    const std::string key =
        *s.key == '\0' ? "(first item)" : absl::StrCat("`", s.key, "`");
    keys.rows.push_back(
        {absl::StrCat("`", s.option, "`"), key, QemuUseName(s.use), s.summary});
  }
  return {options, keys};
}

std::vector<VmmArgTable> CloudHvTables() {
  VmmArgTable t{"Arguments", {"Argument", "Kind", "Use", "Effect"}, {}};
  for (const cloud_hv::ArgSpec& a : cloud_hv::Arguments()) {
    t.rows.push_back(
        {absl::StrCat("`", a.name, "`"), CloudHvKindName(a.kind),
         a.use == cloud_hv::ArgUse::kSupported ? "supported" : "ignored",
         a.summary});
  }
  for (const RejectedArg& r : kCloudHvRejected) {
    t.rows.push_back({absl::StrCat("`", r.name, "`"), "—", "rejected", r.why});
  }
  return {t};
}

// Markdown cell text as plain text: no backticks, no table escapes.
std::string PlainText(absl::string_view cell) {
  return absl::StrReplaceAll(cell, {{"`", ""}, {"\\|", "|"}});
}

// Display width (UTF-8: count code points, not bytes).
size_t Width(absl::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

std::string TextTable(const VmmArgTable& t) {
  std::vector<std::vector<std::string>> cells;
  for (const VmmArgRow& r : t.rows) {
    cells.push_back({PlainText(r.option), PlainText(r.value), PlainText(r.use),
                     PlainText(r.effect)});
  }
  size_t w[3] = {0, 0, 0};
  for (const auto& row : cells) {
    for (int i = 0; i < 3; ++i) w[i] = std::max(w[i], Width(row[i]));
  }
  std::string out = absl::StrCat(t.title, ":\n");
  auto pad = [](const std::string& s, size_t width) {
    return s + std::string(width - Width(s) + 2, ' ');
  };
  std::vector<std::string> header = {t.columns[0], t.columns[1], t.columns[2],
                                     t.columns[3]};
  for (int i = 0; i < 3; ++i) w[i] = std::max(w[i], Width(header[i]));
  absl::StrAppend(&out, "  ", pad(header[0], w[0]), pad(header[1], w[1]),
                  pad(header[2], w[2]), header[3], "\n");
  for (const auto& row : cells) {
    std::string line = absl::StrCat("  ", pad(row[0], w[0]), pad(row[1], w[1]),
                                    pad(row[2], w[2]), row[3]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

// What each model is, what it needs and what it assumes (spec-vmm §5-§7).
struct VmmIntro {
  const char* name;
  const char* usage;
  const char* text;
};

constexpr VmmIntro kIntros[] = {
    {"kvmtool", "kvmtool [LKVM RUN ARGUMENTS...]",
     R"(Models a Realm started by CCA kvmtool (`lkvm run --realm ...`) on arm64.
Everything after `kvmtool` is lkvm's own command line.

Required: -c/--cpus N and -m/--mem SIZE (e.g. `-c 2 -m 512M`).
Defaults: measurement algorithm sha256 (--measurement-algo sha512), irqchip
gicv3-its, virtio transport pci, RAM at 0x80000000; PMU and SVE as the host
capabilities allow (--pmu, --disable-sve, --sve-max-vl restrict them).
kvmtool places the initrd and the DTB in the first 256 MiB of RAM.
The payload contents come from the global -k/-i/-f options; --kernel,
--initrd and --firmware here only say that the VM loads them.
Host capabilities (num_wps, num_bps, ipa_bits, ...) come from the global
-c CONFIG files or --num-wps/--num-bps/... options, e.g.:
  realm-measurements -c configs/fvp.conf -c configs/rmm-1.0-eac5.conf \
    -k Image kvmtool --realm -c 2 -m 512M -k Image
Reference: docs/vmm-kvmtool.md.)"},
    {"qemu", "qemu [QEMU ARGUMENTS...]",
     R"(Models QEMU's `virt` machine (QEMU 9.1) with the rme-guest object.
Everything after `qemu` is QEMU's own command line; options are matched
exactly (`-opt value` or `-opt=value`).

Defaults: 1 vCPU, 128 MiB of RAM at 0x40000000, measurement algorithm sha512
(-object rme-guest,measurement-algorithm=sha256 changes it), GICv3 with ITS
(-M virt,its=off), PMU as the host capabilities allow. With -bios the firmware is measured into the
RIM and the kernel and initrd go to REM0.
The payload contents come from the global -k/-i/-f options (the file names
after -kernel, -initrd and -bios are not read).
Host capabilities come from the global -c CONFIG files or options, e.g.:
  realm-measurements -c configs/qemu-max-8.2.conf -k Image qemu \
    -M virt,confidential-guest-support=rme0 -object rme-guest,id=rme0 \
    -cpu host -smp 2 -m 1G -kernel Image
Reference: docs/vmm-qemu.md.)"},
    {"cloud-hv", "cloud-hv [CLOUD-HYPERVISOR ARGUMENTS...]",
     R"(Models a Realm started by CCA cloud-hypervisor on arm64 with a direct
kernel boot. Everything after `cloud-hv` is cloud-hypervisor's own command
line (`--opt value` or `--opt=value`).

Defaults: 1 vCPU, 512 MiB of RAM at 0x40000000, measurement algorithm sha512
(--platform measurement_algo=sha256 changes it), IPA width 48 bits.
The payload contents come from the global -k/-i options (--kernel and
--initramfs here only say that the VM loads them). The global --dtb and
--dtb-template are ignored: the generated DTB is always the one measured.
Host capabilities come from the global -c CONFIG files or options, e.g.:
  realm-measurements -c configs/fvp.conf -k Image \
    cloud-hv --cpus boot=2 --memory size=1G --kernel Image
Reference: docs/vmm-cloud-hv.md.)"},
};

}  // namespace

absl::Span<const char* const> KvmtoolRejectedExamples() {
  return kKvmtoolRejected;
}

absl::Span<const RejectedArg> CloudHvRejectedArgs() { return kCloudHvRejected; }

std::vector<VmmArgTable> VmmArgTables(absl::string_view vmm) {
  if (vmm == "kvmtool") return KvmtoolTables();
  if (vmm == "qemu") return QemuTables();
  if (vmm == "cloud-hv") return CloudHvTables();
  return {};
}

std::string RenderMarkdownTable(const VmmArgTable& t) {
  std::string out = absl::StrCat("| ", absl::StrJoin(t.columns, " | "),
                                 " |\n|---|---|---|---|\n");
  for (const VmmArgRow& r : t.rows) {
    absl::StrAppend(&out, "| ", r.option, " | ", r.value, " | ", r.use, " | ",
                    r.effect, " |\n");
  }
  return out;
}

std::optional<std::string> VmmHelpText(absl::string_view vmm) {
  for (const VmmIntro& intro : kIntros) {
    if (vmm != intro.name) continue;
    std::string out = absl::StrCat(
        "Usage: realm-measurements [GLOBAL OPTIONS] ", intro.usage, "\n\n",
        intro.text, "\n\n",
        "supported: changes the Realm; ignored: accepted, no effect on the\n"
        "measurements; rejected: an error.\n");
    for (const VmmArgTable& t : VmmArgTables(vmm)) {
      absl::StrAppend(&out, "\n", TextTable(t));
    }
    absl::StrAppend(&out,
                    "\nGlobal options (host capabilities, payloads, outputs): "
                    "realm-measurements --help\n");
    return out;
  }
  return std::nullopt;
}

bool VmmArgsAskForHelp(absl::string_view vmm,
                       absl::Span<const std::string> args) {
  if (vmm == "qemu") {
    // Unknown options never take a value, so a help token that is an
    // option's value (`-append --help`) is not a request for help.
    absl::StatusOr<std::vector<qemu::QemuArg>> tokens =
        qemu::TokenizeQemuArgs(args);
    if (!tokens.ok()) return false;
    for (const qemu::QemuArg& t : *tokens) {
      if (!t.known &&
          (t.name == "--help" || t.name == "-h" || t.name == "-help")) {
        return true;
      }
    }
    return false;
  }
  // kvmtool and cloud-hypervisor: a value never starts with '-' unless
  // attached, so any `--help` or `-h` token is an option.
  if (vmm != "kvmtool" && vmm != "cloud-hv") return false;
  return std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a == "--help" || a == "-h";
  });
}

}  // namespace realm_measurements::measure
