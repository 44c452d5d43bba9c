// gen-run-vmm (issue 10): one small config file -> the script that boots a
// Realm under kvmtool, QEMU or cloud-hypervisor, the DTB that VMM must load,
// the measurements and (optionally) the CoRIM, all from the same inputs.
// The maintained equivalent of the reference's scripts/gen-run-vmm.sh
// (spec-vmm §10) without its breakages (§14.20): every VMM argument written
// is one that realm-measurements accepts and measures, the DTB path is
// absolute, the platform PMU is never forced on, and the CoRIM comes from
// our own encoder (measure/endorsements.h), not cocli.
//
// The measurement runs in-process through cli/cli.h, so the scripts and
// the files always come from one and the same argument list.
#ifndef REALM_MEASUREMENTS_TOOLS_GEN_RUN_VMM_GEN_RUN_VMM_H_
#define REALM_MEASUREMENTS_TOOLS_GEN_RUN_VMM_GEN_RUN_VMM_H_

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cli/cli.h"

namespace realm_measurements::gen_run_vmm {

enum class Vmm { kKvmtool, kQemu, kCloudHv };

// "kvmtool", "qemu", "cloudhv" (the option and file names).
const char* VmmName(Vmm vmm);

// Config files are a few lines; refuse anything big or deep (the deepest
// value of a valid config, an element of [extra_args] kvmtool = [...], is at
// depth 3 as measure/toml_limits.h counts it).
inline constexpr uint64_t kMaxConfigSize = 64 << 10;
inline constexpr int kMaxConfigDepth = 4;

// The parsed config file (TOML). Paths are absolute: relative ones are
// resolved against the config file's directory.
struct Config {
  std::string path;  // the config file itself
  std::optional<std::string> kernel;
  std::optional<std::string> initrd;
  std::map<Vmm, std::string> firmware;  // [firmware] kvmtool/qemu/cloudhv
  std::vector<std::string> host_configs;
  std::optional<std::string> output_dir;
  // [vm]
  uint32_t cpus = 2;
  std::string memory = "1G";
  std::optional<std::string> cmdline;
  std::string hash_algorithm = "sha256";
  bool pmu = false;
  // "1.0" / "2.0": --rmm-version for realm-measurements (spec-rmm2 §2);
  // unset leaves it to the host configs.
  std::optional<std::string> rmm_version;
  // [extra_args]: more VMM arguments (arrays of strings), appended to the
  // generated ones; measured like them, so the model must accept them.
  std::map<Vmm, std::vector<std::string>> extra_args;
  // [vmm]: binaries written into the scripts (default lkvm,
  // qemu-system-aarch64, cloud-hypervisor).
  std::map<Vmm, std::string> binaries;
};

// Parses `text`; `path` must be absolute. Unknown keys, wrong types and bad
// values are errors naming the key and the file.
absl::StatusOr<Config> ParseConfig(absl::string_view text,
                                   const std::string& path);

// Runs the tool on `args` (without the program name). `cwd` resolves
// relative paths given on the command line (BUILD_WORKING_DIRECTORY under
// `bazel run`). Exit status: 0 success, 1 error, 2 usage error.
int Main(const std::vector<std::string>& args, const std::string& cwd,
         std::ostream& out, std::ostream& err);

std::string HelpText();

}  // namespace realm_measurements::gen_run_vmm

#endif  // REALM_MEASUREMENTS_TOOLS_GEN_RUN_VMM_GEN_RUN_VMM_H_
