#include "tools/gen-run-vmm/gen_run_vmm.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "base/crypto.h"
#include "base/output_files.h"
#include "measure/payload.h"
#include "measure/toml_limits.h"
#include "measure/vmm/cloud_hv.h"
#include "measure/vmm/kvmtool.h"
#include "measure/vmm/qemu.h"
#include "measure/vmm/vmm.h"
#include "toml++/toml.h"

namespace realm_measurements::gen_run_vmm {
namespace {

using measure::Payload;

constexpr char kDefaultConfig[] = "gen-run-vmm.toml";
constexpr char kProgram[] = "gen-run-vmm";

// The realm-measurements command names (spec-vmm §1.1).
const char* MeasureCommand(Vmm vmm) {
  switch (vmm) {
    case Vmm::kKvmtool:
      return "kvmtool";
    case Vmm::kQemu:
      return "qemu";
    case Vmm::kCloudHv:
      return "cloud-hv";
  }
  return "";
}

const char* DefaultBinary(Vmm vmm) {
  switch (vmm) {
    case Vmm::kKvmtool:
      return "lkvm";
    case Vmm::kQemu:
      return "qemu-system-aarch64";
    case Vmm::kCloudHv:
      return "cloud-hypervisor";
  }
  return "";
}

constexpr Vmm kAllVmms[] = {Vmm::kKvmtool, Vmm::kQemu, Vmm::kCloudHv};

std::string Dirname(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string Absolute(const std::string& base_dir, const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  return absl::StrCat(base_dir, "/", path);
}

absl::Status ConfigError(const std::string& file, absl::string_view key,
                         absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("config ", file, ": ", key, ": ", what));
}

// The characters a generated script never has to quote. Every other
// argument, and every path (anything with a '/'), is single-quoted, so a
// path with a space, a quote or a '$' reaches the program unchanged.
bool ShellSafe(absl::string_view s) {
  if (s.empty() || absl::StrContains(s, '/')) return false;
  for (char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') ||
        absl::string_view("@%+=:,./_-").find(c) != absl::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

std::string Quote(absl::string_view s) {
  if (ShellSafe(s)) return std::string(s);
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

// Script lines hold each value verbatim: no newline or other control
// character (they would also break sha256sum's list).
absl::Status CheckPrintable(absl::string_view what, absl::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " contains a control character (not supported in scripts)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> GetString(const std::string& file,
                                      absl::string_view key,
                                      const toml::node& node) {
  const std::optional<std::string> v = node.value<std::string>();
  if (!node.is_string() || !v) {
    return ConfigError(file, key, "expected a string");
  }
  if (v->empty()) return ConfigError(file, key, "expected a non-empty string");
  if (absl::Status s =
          CheckPrintable(absl::StrCat("config ", file, ": ", key), *v);
      !s.ok()) {
    return s;
  }
  return *v;
}

// `key` as an array of strings, each checked by GetString as key[i].
absl::StatusOr<std::vector<std::string>> GetStringArray(
    const std::string& file, absl::string_view key, const toml::node& node) {
  const toml::array* arr = node.as_array();
  if (arr == nullptr) {
    return ConfigError(file, key, "expected an array of strings");
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < arr->size(); ++i) {
    absl::StatusOr<std::string> s =
        GetString(file, absl::StrCat(key, "[", i, "]"), *arr->get(i));
    if (!s.ok()) return s.status();
    out.push_back(*std::move(s));
  }
  return out;
}

absl::StatusOr<Vmm> VmmKey(const std::string& file, absl::string_view table,
                           absl::string_view key) {
  for (Vmm v : kAllVmms) {
    if (key == VmmName(v)) return v;
  }
  return ConfigError(file, absl::StrCat(table, ".", key),
                     "unknown key (expected kvmtool, qemu or cloudhv)");
}

absl::Status ParseVmTable(const std::string& file, const toml::table& t,
                          Config& c) {
  for (auto&& [k, node] : t) {
    const std::string key(k.str());
    const std::string name = absl::StrCat("vm.", key);
    if (key == "cpus") {
      const std::optional<int64_t> n = node.value<int64_t>();
      if (!node.is_integer() || !n || *n < 1 || *n > 512) {
        return ConfigError(file, name, "expected an integer in 1..512");
      }
      c.cpus = static_cast<uint32_t>(*n);
    } else if (key == "memory") {
      absl::StatusOr<std::string> s = GetString(file, name, node);
      if (!s.ok()) return s.status();
      c.memory = *s;
    } else if (key == "cmdline") {
      absl::StatusOr<std::string> s = GetString(file, name, node);
      if (!s.ok()) return s.status();
      c.cmdline = *s;
    } else if (key == "hash_algorithm") {
      absl::StatusOr<std::string> s = GetString(file, name, node);
      if (!s.ok()) return s.status();
      // sha384 needs an RMM 2.0 realm; realm-measurements says so, naming
      // the version (the RMM version may come from a host config).
      if (*s != "sha256" && *s != "sha384" && *s != "sha512") {
        return ConfigError(
            file, name,
            absl::StrCat("expected sha256, sha384 or sha512, found ", *s));
      }
      c.hash_algorithm = *s;
    } else if (key == "rmm_version") {
      absl::StatusOr<std::string> s = GetString(file, name, node);
      if (!s.ok()) return s.status();
      if (*s != "1.0" && *s != "2.0") {
        return ConfigError(file, name,
                           absl::StrCat("expected 1.0 or 2.0, found ", *s));
      }
      c.rmm_version = *s;
    } else if (key == "pmu") {
      const std::optional<bool> b = node.value<bool>();
      if (!node.is_boolean() || !b) {
        return ConfigError(file, name, "expected true or false");
      }
      c.pmu = *b;
    } else {
      return ConfigError(file, name,
                         "unknown key (expected cpus, memory, cmdline, "
                         "hash_algorithm, pmu or rmm_version)");
    }
  }
  return absl::OkStatus();
}

absl::Status ParseVmmPaths(const std::string& file, absl::string_view table,
                           const toml::node& node, bool resolve,
                           std::map<Vmm, std::string>& out) {
  const toml::table* t = node.as_table();
  if (t == nullptr) return ConfigError(file, table, "expected a table");
  for (auto&& [k, v] : *t) {
    const std::string key(k.str());
    absl::StatusOr<Vmm> vmm = VmmKey(file, table, key);
    if (!vmm.ok()) return vmm.status();
    absl::StatusOr<std::string> s =
        GetString(file, absl::StrCat(table, ".", key), v);
    if (!s.ok()) return s.status();
    out[*vmm] = resolve ? Absolute(Dirname(file), *s) : *s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFileBounded(const std::string& path,
                                            uint64_t limit) {
  Payload p = Payload::FromFile(path);
  std::string text;
  absl::Status s = p.Read([&](absl::Span<const uint8_t> chunk) -> absl::Status {
    if (text.size() + chunk.size() > limit) {
      return absl::InvalidArgumentError(absl::StrCat(
          "file ", path, " is larger than the limit of ", limit, " bytes"));
    }
    text.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return text;
}

// A regular, readable file; the error names who wants it.
absl::Status CheckInputFile(absl::string_view what, const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(
        absl::StrCat(what, ": cannot read ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", path, " is not a regular file"));
  }
  if (access(path.c_str(), R_OK) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(what, ": cannot read ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status MakeDirs(const std::string& dir) {
  std::string partial;
  for (absl::string_view part : absl::StrSplit(dir, '/')) {
    if (part.empty()) {
      if (partial.empty()) partial = "/";
      continue;
    }
    if (!partial.empty() && partial.back() != '/') partial += '/';
    partial.append(part.data(), part.size());
    if (mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::FailedPreconditionError(
          absl::StrCat("output directory: cannot create ", partial, ": ",
                       std::strerror(errno)));
    }
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("output directory: ", dir, " is not a directory"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Sha256Hex(absl::string_view data) {
  absl::StatusOr<std::vector<uint8_t>> h = crypto::HashOnce(
      crypto::DigestAlgorithm::kSha256,
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(data.data()),
                          data.size()));
  if (!h.ok()) return h.status();
  std::string hex;
  for (uint8_t b : *h) absl::StrAppend(&hex, absl::Hex(b, absl::kZeroPad2));
  return hex;
}

absl::StatusOr<std::string> Sha256File(const std::string& path) {
  absl::StatusOr<crypto::Digest> d =
      crypto::Digest::Create(crypto::DigestAlgorithm::kSha256);
  if (!d.ok()) return d.status();
  absl::Status s = Payload::FromFile(path).Read(
      [&](absl::Span<const uint8_t> c) { return d->Update(c); });
  if (!s.ok()) return s;
  absl::StatusOr<std::vector<uint8_t>> h = d->Finish();
  if (!h.ok()) return h.status();
  std::string hex;
  for (uint8_t b : *h) absl::StrAppend(&hex, absl::Hex(b, absl::kZeroPad2));
  return hex;
}

// What the generator decided: the realm-measurements invocation and the
// VMM invocation share `vmm_args`.
struct Plan {
  Vmm vmm = Vmm::kKvmtool;
  std::vector<std::string> global_args;  // -c, -k, -i, -f
  std::vector<std::string> vmm_args;
  std::string binary;
  std::vector<std::string> binary_prefix;  // "run" for lkvm
  std::string dtb;
  std::vector<std::pair<std::string, std::string>> payloads;  // what, path
};

absl::StatusOr<Plan> MakePlan(const Config& c, Vmm vmm, bool firmware,
                              const std::string& out_dir) {
  Plan p;
  p.vmm = vmm;
  const std::string vmm_name = VmmName(vmm);
  auto bin = c.binaries.find(vmm);
  p.binary = bin != c.binaries.end() ? bin->second : DefaultBinary(vmm);
  if (vmm == Vmm::kKvmtool) p.binary_prefix = {"run"};
  p.dtb = absl::StrCat(out_dir, "/", vmm_name, ".dtb");

  std::optional<std::string> fw;
  if (firmware) {
    if (vmm == Vmm::kCloudHv) {
      // The model ignores cloud-hypervisor's --firmware (UEFI boot is not
      // modelled): a script could not boot what was measured.
      return absl::UnimplementedError(
          "--cloudhv --firmware: cloud-hypervisor firmware (UEFI) boot is not "
          "modelled by realm-measurements, so its measurements cannot be "
          "produced; use --cloudhv without --firmware");
    }
    auto it = c.firmware.find(vmm);
    if (it == c.firmware.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--firmware needs firmware.", vmm_name, " in config ", c.path));
    }
    fw = it->second;
  } else if (!c.kernel) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", vmm_name,
                     " without --firmware boots the kernel directly: config ",
                     c.path, " needs kernel"));
  }
  if (c.initrd && !c.kernel) {
    return absl::InvalidArgumentError(
        absl::StrCat("config ", c.path, ": initrd is set but kernel is not"));
  }

  for (const std::string& h : c.host_configs) {
    p.global_args.insert(p.global_args.end(), {"-c", h});
  }
  if (c.rmm_version) {
    p.global_args.insert(p.global_args.end(),
                         {"--rmm-version", *c.rmm_version});
  }
  // kvmtool with firmware loads no kernel (see below).
  const bool direct = !(fw && vmm == Vmm::kKvmtool);
  if (fw) {
    p.global_args.insert(p.global_args.end(), {"-f", *fw});
    p.payloads.push_back({"firmware", *fw});
  }
  if (c.kernel && direct) {
    p.global_args.insert(p.global_args.end(), {"-k", *c.kernel});
    p.payloads.push_back({"kernel", *c.kernel});
  }
  if (c.initrd && direct) {
    p.global_args.insert(p.global_args.end(), {"-i", *c.initrd});
    p.payloads.push_back({"initrd", *c.initrd});
  }

  std::vector<std::string>& a = p.vmm_args;
  static const std::vector<std::string> kNone;
  auto extra = c.extra_args.find(vmm);
  const std::vector<std::string>& extras =
      extra != c.extra_args.end() ? extra->second : kNone;
  const std::string cpus = absl::StrCat(c.cpus);
  switch (vmm) {
    case Vmm::kKvmtool:
      // spec-vmm §5.1; the reference's --restricted-mem is not a kvmtool
      // option our model (or kvmtool) knows, so it is never written.
      a = {"--realm",
           "--measurement-algo",
           c.hash_algorithm,
           "-c",
           cpus,
           "-m",
           c.memory,
           "--console",
           "virtio",
           "--irqchip",
           "gicv3-its",
           "--virtio-transport",
           "pci",
           "--network",
           "mode=user"};
      if (c.pmu) a.push_back("--pmu");
      a.insert(a.end(), extras.begin(), extras.end());
      if (fw) {
        // The firmware takes the kernel's place at the RAM base (spec-vmm
        // §5.4): it boots its own payload or the disk.
        a.insert(a.end(), {"-f", *fw});
      } else {
        a.insert(a.end(), {"-k", *c.kernel});
        if (c.initrd) a.insert(a.end(), {"-i", *c.initrd});
      }
      a.insert(a.end(), {"--dtb", p.dtb});
      if (c.cmdline) a.insert(a.end(), {"-p", *c.cmdline});
      break;
    case Vmm::kQemu:
      // spec-vmm §6; the virtio console without the reference's
      // `-serial chardev:chr0` (two "ignored" warnings there).
      a = {"-M",
           "virt,gic-version=3,its=on,confidential-guest-support=rme0",
           "-object",
           absl::StrCat("rme-guest,id=rme0,measurement-algorithm=",
                        c.hash_algorithm),
           "-cpu",
           c.pmu ? "host,pmu=on" : "host,pmu=off",
           "-enable-kvm",
           "-smp",
           cpus,
           "-m",
           c.memory,
           "-nographic",
           "-nodefaults",
           "-chardev",
           "stdio,mux=on,id=chr0,signal=off",
           "-device",
           "virtio-serial-pci",
           "-device",
           "virtconsole,chardev=chr0",
           "-mon",
           "chardev=chr0,mode=readline",
           "-netdev",
           "user,id=net0",
           "-device",
           "virtio-net-pci,netdev=net0,romfile=",
           "-dtb",
           p.dtb};
      a.insert(a.end(), extras.begin(), extras.end());
      if (fw) a.insert(a.end(), {"-bios", *fw});
      if (c.kernel) a.insert(a.end(), {"-kernel", *c.kernel});
      if (c.initrd) a.insert(a.end(), {"-initrd", *c.initrd});
      if (c.cmdline) a.insert(a.end(), {"-append", *c.cmdline});
      break;
    case Vmm::kCloudHv:
      // spec-vmm §7.1; no -bios (rejected by cloud-hypervisor and by us).
      // No PMU option: the platform value stands (spec-vmm §7.2).
      a = {"--platform",
           absl::StrCat("arm_rme=on,measurement_algo=", c.hash_algorithm),
           "--cpus",
           absl::StrCat("boot=", cpus),
           "--memory",
           absl::StrCat("size=", c.memory),
           "--console",
           "tty",
           "--serial",
           "off",
           "--kernel",
           *c.kernel};
      a.insert(a.end(), extras.begin(), extras.end());
      if (c.initrd) a.insert(a.end(), {"--initramfs", *c.initrd});
      if (c.cmdline) a.insert(a.end(), {"--cmdline", *c.cmdline});
      a.insert(a.end(), {"--dtb", p.dtb});
      break;
  }
  return p;
}

// One option per line, its value beside it.
std::string Continued(const std::vector<std::string>& args) {
  std::string s;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::StrAppend(&s, " \\\n  ", Quote(args[i]));
    if (absl::StartsWith(args[i], "-") && i + 1 < args.size() &&
        !absl::StartsWith(args[i + 1], "-")) {
      absl::StrAppend(&s, " ", Quote(args[++i]));
    }
  }
  return s;
}

// Without "." and ".." (the file exists: CheckInputFile passed).
void Canonical(std::string& path) {
  char* real = realpath(path.c_str(), nullptr);
  if (real == nullptr) return;
  path = real;
  free(real);
}

std::string RunScript(
    const Plan& p, const Config& c,
    const std::vector<std::string>& measurements,
    const std::vector<std::pair<std::string, std::string>>& checksums) {
  const std::string name = VmmName(p.vmm);
  std::string s = absl::StrCat(
      "#!/bin/sh\n"
      "# Values are single-quoted on purpose: '$' in a path is literal.\n"
      "# shellcheck disable=SC2016\n"
      "# run-",
      name, ".sh: generated by gen-run-vmm from ", c.path,
      ".\n"
      "# Starts ",
      p.binary,
      " with exactly the arguments realm-measurements measured\n"
      "# (measure-",
      name, ".sh recomputes them):\n");
  for (const std::string& m : measurements)
    absl::StrAppend(&s, "#   ", m, "\n");
  absl::StrAppend(
      &s, "# VMM=<binary> overrides the VMM binary (default: ", Quote(p.binary),
      ").\n"
      "set -eu\n\n"
      "# The payloads and the DTB must still be the measured "
      "ones.\n"
      "sha256sum --check --quiet --strict <<'EOF'\n");
  for (const auto& [hash, path] : checksums) {
    // sha256sum's escaped form: a leading '\' and "\\" for a backslash in
    // the name (the quoted here-document keeps spaces, quotes and '$').
    if (absl::StrContains(path, '\\')) {
      absl::StrAppend(&s, "\\", hash, "  ",
                      absl::StrReplaceAll(path, {{"\\", "\\\\"}}), "\n");
    } else {
      absl::StrAppend(&s, hash, "  ", path, "\n");
    }
  }
  // The default binary is assigned quoted, not written inside "${VMM:-...}"
  // where single quotes would be literal characters.
  absl::StrAppend(&s, "EOF\n\nvmm=${VMM:-}\n[ -n \"$vmm\" ] || vmm=",
                  Quote(p.binary), "\nexec \"$vmm\"");
  std::vector<std::string> args = p.binary_prefix;
  args.insert(args.end(), p.vmm_args.begin(), p.vmm_args.end());
  absl::StrAppend(&s, Continued(args), "\n");
  return s;
}

std::string MeasureScript(const Plan& p, const Config& c) {
  const std::string name = VmmName(p.vmm);
  std::string s = absl::StrCat(
      "#!/bin/sh\n"
      "# Values are single-quoted on purpose: '$' in a path is literal.\n"
      "# shellcheck disable=SC2016\n"
      "# measure-",
      name, ".sh: generated by gen-run-vmm from ", c.path,
      ".\n"
      "# Recomputes the reference values of run-",
      name,
      ".sh. Extra arguments are global\n"
      "# realm-measurements options (e.g. --format json, --corim-output "
      "FILE).\n"
      "# REALM_MEASUREMENTS=<binary> overrides the tool (default: "
      "realm-measurements).\n"
      "set -eu\n\n"
      "exec \"${REALM_MEASUREMENTS:-realm-measurements}\" \"$@\"");
  std::vector<std::string> args = p.global_args;
  args.push_back(MeasureCommand(p.vmm));
  args.insert(args.end(), p.vmm_args.begin(), p.vmm_args.end());
  absl::StrAppend(&s, Continued(args), "\n");
  return s;
}

struct Options {
  std::optional<std::string> config;
  std::optional<Vmm> vmm;
  bool firmware = false;
  std::optional<std::string> output_dir;
  // Passed on to realm-measurements (already resolved paths).
  std::vector<std::string> corim_args;
  bool corim_output = false;
  int verbose = 0;
  bool help = false;
};

int Usage(std::ostream& err, absl::string_view message) {
  err << kProgram << ": error: " << message << "\n"
      << "Usage: gen-run-vmm [--config FILE] (--kvmtool | --qemu | --cloudhv) "
         "[--firmware] [--output-dir DIR] [--corim-output FILE ...]\n"
      << "For more information, try '--help'.\n";
  return 2;
}

absl::StatusOr<Options> ParseArgs(const std::vector<std::string>& args,
                                  const std::string& cwd) {
  Options o;
  // realm-measurements options passed through; path-valued ones resolved.
  const std::map<std::string, bool> corim_opts = {
      {"--corim-output", true},      {"--corim-profile", false},
      {"--corim-sign-key", true},    {"--corim-sign-chain", true},
      {"--corim-entity", false},     {"--corim-tag-id", false},
      {"--corim-id", false},         {"--comid-output", true},
      {"--corim-not-before", false}, {"--corim-not-after", false},
      {"--corim-rems", false},
  };
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::optional<std::string> inline_value;
    if (absl::StartsWith(arg, "--")) {
      const size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        inline_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
    }
    auto take = [&]() -> absl::StatusOr<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) {
        return measure::UsageError(
            absl::StrCat("a value is required for '", arg, "'"));
      }
      return args[++i];
    };
    auto set_vmm = [&](Vmm v) -> absl::Status {
      if (o.vmm && *o.vmm != v) {
        return measure::UsageError(
            "choose one of --kvmtool, --qemu and --cloudhv");
      }
      o.vmm = v;
      return absl::OkStatus();
    };
    absl::Status st;
    if (arg == "-h" || arg == "--help") {
      o.help = true;
    } else if (arg == "-v" || arg == "--verbose") {
      ++o.verbose;
    } else if (arg == "--kvmtool") {
      st = set_vmm(Vmm::kKvmtool);
    } else if (arg == "--qemu") {
      st = set_vmm(Vmm::kQemu);
    } else if (arg == "--cloudhv") {
      st = set_vmm(Vmm::kCloudHv);
    } else if (arg == "--firmware") {
      o.firmware = true;
    } else if (arg == "--config" || arg == "--output-dir") {
      absl::StatusOr<std::string> v = take();
      if (!v.ok()) return v.status();
      (arg == "--config" ? o.config : o.output_dir) = Absolute(cwd, *v);
    } else if (auto it = corim_opts.find(arg); it != corim_opts.end()) {
      absl::StatusOr<std::string> v = take();
      if (!v.ok()) return v.status();
      o.corim_args.push_back(arg);
      o.corim_args.push_back(it->second ? Absolute(cwd, *v) : *v);
      if (arg == "--corim-output" || arg == "--comid-output") {
        o.corim_output = true;
      }
    } else {
      return measure::UsageError(
          absl::StrCat("unexpected argument '", args[i], "'"));
    }
    if (inline_value &&
        (arg == "--kvmtool" || arg == "--qemu" || arg == "--cloudhv" ||
         arg == "--firmware" || arg == "--help" || arg == "--verbose")) {
      return measure::UsageError(absl::StrCat("'", arg, "' takes no value"));
    }
    if (!st.ok()) return st;
  }
  return o;
}

int Fail(std::ostream& err, const absl::Status& s) {
  err << kProgram << ": error: " << s.message() << "\n";
  return 1;
}

}  // namespace

const char* VmmName(Vmm vmm) {
  switch (vmm) {
    case Vmm::kKvmtool:
      return "kvmtool";
    case Vmm::kQemu:
      return "qemu";
    case Vmm::kCloudHv:
      return "cloudhv";
  }
  return "";
}

absl::StatusOr<Config> ParseConfig(absl::string_view text,
                                   const std::string& path) {
  Config c;
  c.path = path;
  const std::string dir = Dirname(path);
  // toml++ recurses per nesting level: bound the depth before it parses.
  if (absl::Status s = measure::CheckTomlLimits(
          text, measure::TomlLimits{kMaxConfigSize, kMaxConfigDepth});
      !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config ", path, ": ", s.message()));
  }
  toml::table table;
  try {
    table = toml::parse(std::string_view(text.data(), text.size()),
                        std::string_view(path));
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config ", path, ":", e.source().begin.line, ":",
        e.source().begin.column, ": ", std::string(e.description())));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("config ", path, ": ", e.what()));
  }
  for (auto&& [k, node] : table) {
    const std::string key(k.str());
    if (key == "kernel" || key == "initrd" || key == "output_dir") {
      absl::StatusOr<std::string> s = GetString(path, key, node);
      if (!s.ok()) return s.status();
      (key == "kernel"   ? c.kernel
       : key == "initrd" ? c.initrd
                         : c.output_dir) = Absolute(dir, *s);
    } else if (key == "host_configs") {
      absl::StatusOr<std::vector<std::string>> files =
          GetStringArray(path, key, node);
      if (!files.ok()) return files.status();
      for (const std::string& f : *files) {
        c.host_configs.push_back(Absolute(dir, f));
      }
    } else if (key == "firmware") {
      if (absl::Status s =
              ParseVmmPaths(path, key, node, /*resolve=*/true, c.firmware);
          !s.ok()) {
        return s;
      }
    } else if (key == "vmm") {
      if (absl::Status s =
              ParseVmmPaths(path, key, node, /*resolve=*/false, c.binaries);
          !s.ok()) {
        return s;
      }
    } else if (key == "extra_args") {
      const toml::table* t = node.as_table();
      if (t == nullptr) return ConfigError(path, key, "expected a table");
      for (auto&& [vk, arr_node] : *t) {
        const std::string vmm_key(vk.str());
        absl::StatusOr<Vmm> vmm = VmmKey(path, key, vmm_key);
        if (!vmm.ok()) return vmm.status();
        absl::StatusOr<std::vector<std::string>> args =
            GetStringArray(path, absl::StrCat(key, ".", vmm_key), arr_node);
        if (!args.ok()) return args.status();
        for (std::string& a : *args) c.extra_args[*vmm].push_back(std::move(a));
      }
    } else if (key == "vm") {
      const toml::table* t = node.as_table();
      if (t == nullptr) return ConfigError(path, key, "expected a table");
      if (absl::Status s = ParseVmTable(path, *t, c); !s.ok()) return s;
    } else {
      return ConfigError(path, key,
                         "unknown key (expected kernel, initrd, "
                         "host_configs, output_dir, [firmware], [vm], "
                         "[extra_args] or [vmm])");
    }
  }
  return c;
}

std::string HelpText() {
  return R"(gen-run-vmm: one config, the boot script, the DTB and the CoRIM of a Realm

Usage: gen-run-vmm [--config FILE] (--kvmtool | --qemu | --cloudhv)
                   [--firmware] [--output-dir DIR] [-v]
                   [--corim-output FILE [--corim-profile PROFILE]
                    [--corim-sign-key KEY.pem --corim-sign-chain CHAIN.pem]
                    [--corim-entity NAME] [--corim-tag-id ID] [--corim-id ID]
                    [--corim-not-before TIME] [--corim-not-after TIME]
                    [--corim-rems LIST]]
                   [--comid-output FILE]

Measures the Realm that the chosen VMM starts from the config's payloads
(in-process, the same code as realm-measurements) and writes, in the output
directory:
  run-<vmm>.sh      starts the VMM with exactly the measured arguments and
                    the generated DTB; first checks (sha256sum) that the
                    payloads and the DTB are still the measured ones.
                    VMM=<binary> overrides the binary
  measure-<vmm>.sh  the realm-measurements command that gives the same
                    values (REALM_MEASUREMENTS=<binary> overrides the tool;
                    its arguments are extra global options)
  <vmm>.dtb         the DTB the VMM must load (the measured one)
and prints the measurements. <vmm> is kvmtool, qemu or cloudhv.

Options:
  --config FILE      the config (default: ./gen-run-vmm.toml)
  --kvmtool, --qemu, --cloudhv
                     the VMM (exactly one)
  --firmware         boot through firmware ([firmware] <vmm> of the config).
                     QEMU also gets -kernel/-initrd (the firmware loads
                     them; measured into REM0); kvmtool gets the firmware
                     only (it sits where the kernel would; the REMs its
                     firmware extends are not modelled: see --corim-rems);
                     not available with --cloudhv (its firmware boot is not
                     modelled)
  --output-dir DIR   overrides the config's output_dir
  --corim-output, --comid-output, --corim-profile, --corim-sign-key,
  --corim-sign-chain, --corim-entity, --corim-tag-id, --corim-id,
  --corim-not-before, --corim-not-after, --corim-rems
                     passed on to realm-measurements (see its --help): the
                     CoRIM of this configuration from our own encoder
  -v, --verbose      print the realm-measurements command line and debug
  -h, --help         print this text

Config (TOML; relative paths are relative to the config file):
  kernel = "Image"                # direct boot (required without --firmware)
  initrd = "initrd.cpio"          # optional
  host_configs = ["configs/qemu-max-8.2.conf", "configs/kvm.conf"]
  output_dir = "out"              # default: the current directory
  [firmware]                      # optional, for --firmware
  kvmtool = "KVMTOOL_EFI.fd"
  qemu = "QEMU_EFI.fd"
  [vm]                            # all optional
  cpus = 2                        # default 2
  memory = "1G"                   # default 1G (the VMM's size syntax)
  cmdline = "console=hvc0"        # default: none
  hash_algorithm = "sha256"       # sha256 (default), sha512 or sha384
                                  # (sha384: RMM 2.0 realms only)
  rmm_version = "2.0"             # default: the host configs' (else 1.0);
                                  # passed on as --rmm-version
  pmu = false                     # kvmtool --pmu / QEMU pmu=on|off;
                                  # cloud-hv: the platform value
  [extra_args]                    # more VMM arguments, measured too
  kvmtool = ["--sve-max-vl=512"]
  [vmm]                           # binaries in the scripts
  kvmtool = "lkvm"
  qemu = "qemu-system-aarch64"
  cloudhv = "cloud-hypervisor"

Exit status: 0 success, 1 error, 2 usage error.
)";
}

int Main(const std::vector<std::string>& args, const std::string& cwd,
         std::ostream& out, std::ostream& err) {
  absl::StatusOr<Options> parsed = ParseArgs(args, cwd);
  if (!parsed.ok()) return Usage(err, parsed.status().message());
  Options& o = *parsed;
  if (o.help) {
    out << HelpText();
    return 0;
  }
  if (!o.vmm)
    return Usage(err, "one of --kvmtool, --qemu or --cloudhv is required");

  const std::string config_path =
      o.config.value_or(absl::StrCat(cwd, "/", kDefaultConfig));
  if (absl::Status s = CheckInputFile("--config", config_path); !s.ok()) {
    return Fail(err, s);
  }
  absl::StatusOr<std::string> text =
      ReadFileBounded(config_path, kMaxConfigSize);
  if (!text.ok()) return Fail(err, text.status());
  absl::StatusOr<Config> config = ParseConfig(*text, config_path);
  if (!config.ok()) return Fail(err, config.status());

  const std::string out_dir =
      o.output_dir.value_or(config->output_dir.value_or(cwd));
  if (absl::Status s = CheckPrintable("output directory", out_dir); !s.ok()) {
    return Fail(err, s);
  }
  absl::StatusOr<Plan> plan = MakePlan(*config, *o.vmm, o.firmware, out_dir);
  if (!plan.ok()) return Fail(err, plan.status());
  for (std::string& h : config->host_configs) {
    if (absl::Status s = CheckInputFile("host_configs", h); !s.ok()) {
      return Fail(err, s);
    }
    Canonical(h);
  }
  // Only the payloads this boot uses must exist.
  for (const auto& [what, path] : plan->payloads) {
    if (absl::Status s = CheckInputFile(what, path); !s.ok()) {
      return Fail(err, s);
    }
  }
  if (config->kernel) Canonical(*config->kernel);
  if (config->initrd) Canonical(*config->initrd);
  for (auto& [vmm, path] : config->firmware) Canonical(path);
  if (absl::Status s = MakeDirs(out_dir); !s.ok()) return Fail(err, s);
  std::string real_out = out_dir;
  Canonical(real_out);
  // Again, with the canonical paths.
  plan = MakePlan(*config, *o.vmm, o.firmware, real_out);
  if (!plan.ok()) return Fail(err, plan.status());

  const std::string name = VmmName(plan->vmm);
  const std::string run = absl::StrCat(real_out, "/run-", name, ".sh");
  const std::string measure = absl::StrCat(real_out, "/measure-", name, ".sh");
  // Nothing an input names is overwritten and only regular files are
  // replaced (issue 14); realm-measurements checks its own outputs the
  // same way.
  {
    std::vector<measure::NamedPath> inputs = {{"--config", config_path}};
    for (const auto& [what, path] : plan->payloads)
      inputs.push_back({what, path});
    for (const std::string& h : config->host_configs) {
      inputs.push_back({"host_configs", h});
    }
    std::vector<measure::NamedPath> outputs = {
        {"run script", run}, {"measure script", measure}, {"DTB", plan->dtb}};
    for (size_t i = 0; i + 1 < o.corim_args.size(); i += 2) {
      const std::string& opt = o.corim_args[i];
      if (opt == "--corim-output" || opt == "--comid-output") {
        outputs.push_back({opt, o.corim_args[i + 1]});
      } else if (opt == "--corim-sign-key" || opt == "--corim-sign-chain") {
        inputs.push_back({opt, o.corim_args[i + 1]});
      }
    }
    if (absl::Status s = measure::CheckOutputPaths(inputs, outputs); !s.ok()) {
      return Fail(err, s);
    }
  }

  // The measurement, in-process: exactly what measure-<vmm>.sh runs, plus
  // the DTB and CoRIM outputs, staged with the scripts and written together
  // only when everything succeeded: a failure leaves every earlier file
  // (and the checksums in an earlier run script) as it was.
  std::vector<std::string> cli_args = {"--output-dtb", plan->dtb};
  if (o.verbose > 0) cli_args.push_back("-v");
  cli_args.insert(cli_args.end(), o.corim_args.begin(), o.corim_args.end());
  cli_args.insert(cli_args.end(), plan->global_args.begin(),
                  plan->global_args.end());
  cli_args.push_back(MeasureCommand(plan->vmm));
  cli_args.insert(cli_args.end(), plan->vmm_args.begin(), plan->vmm_args.end());
  if (o.verbose > 0) {
    std::vector<std::string> quoted;
    for (const std::string& a : cli_args) quoted.push_back(Quote(a));
    err << "realm-measurements " << absl::StrJoin(quoted, " ") << "\n";
  }
  cli::CliEnvironment env;
  env.models["kvmtool"] = &measure::BuildKvmtool;
  env.models["qemu"] = &measure::BuildQemu;
  env.models["cloud-hv"] = &measure::BuildCloudHv;
  measure::OutputSet outputs;
  env.staged_outputs = &outputs;
  std::ostringstream cli_out, cli_err;
  const int rc = cli::RunCli(cli_args, env, cli_out, cli_err);
  err << cli_err.str();
  if (rc != 0) {
    err << kProgram << ": error: realm-measurements failed (exit " << rc
        << "); no script written\n";
    return 1;
  }
  std::vector<std::string> measurements =
      absl::StrSplit(cli_out.str(), '\n', absl::SkipEmpty());

  std::vector<std::pair<std::string, std::string>> checksums;
  for (const auto& [what, path] : plan->payloads) {
    absl::StatusOr<std::string> h = Sha256File(path);
    if (!h.ok()) return Fail(err, h.status());
    checksums.push_back({*h, path});
  }
  const std::string* dtb = outputs.Find(plan->dtb);
  if (dtb == nullptr) {
    return Fail(err, absl::InternalError("realm-measurements wrote no DTB"));
  }
  absl::StatusOr<std::string> dtb_hash = Sha256Hex(*dtb);
  if (!dtb_hash.ok()) return Fail(err, dtb_hash.status());
  checksums.push_back({*dtb_hash, plan->dtb});
  outputs.Add(run, RunScript(*plan, *config, measurements, checksums), 0755);
  outputs.Add(measure, MeasureScript(*plan, *config), 0755);
  if (absl::Status s = outputs.Commit(); !s.ok()) return Fail(err, s);
  out << cli_out.str() << "wrote " << run << "\nwrote " << measure << "\nwrote "
      << plan->dtb << "\n";
  for (size_t i = 0; i + 1 < o.corim_args.size(); i += 2) {
    if (o.corim_args[i] == "--corim-output" ||
        o.corim_args[i] == "--comid-output") {
      out << "wrote " << o.corim_args[i + 1] << "\n";
    }
  }
  return 0;
}

}  // namespace realm_measurements::gen_run_vmm
