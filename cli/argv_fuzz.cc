// Fuzzes the realm-measurements command line end to end: scripts hand it
// argv, so every option, value and VMM argument is untrusted. The input,
// split at NUL bytes, is argv after the program name; RunCli runs it
// in-process with the real VMM models. Relative paths resolve in the golden
// corpus's generated inputs (kernels, initrds, firmware, host-caps configs,
// DTBs, templates; testdata/golden/BUILD.bazel), so runs reach the
// measurements; an argument that is an absolute path or climbs out with
// ".." is dropped, so nothing else is read. Outputs are staged in memory
// (CliEnvironment::staged_outputs), never written.
//
// Properties: no crash (sanitizers), no hang, an exit status of 0-3, and
// an error message on stderr for 1 and 2.
#include <unistd.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "cli/cli.h"
#include "measure/vmm/cloud_hv.h"
#include "measure/vmm/kvmtool.h"
#include "measure/vmm/qemu.h"

namespace {

namespace rm = realm_measurements::measure;
namespace cli = realm_measurements::cli;

// Bounds on one input (the property is robustness, not scale).
constexpr size_t kMaxInput = 4096;
constexpr size_t kMaxArgs = 64;

const cli::CliEnvironment& Environment() {
  static const cli::CliEnvironment* env = [] {
    auto* e = new cli::CliEnvironment;
    char resolved[PATH_MAX];
    // Bazel runs tests and `bazel run` binaries in the runfiles root.
    if (realpath("testdata/golden/inputs", resolved) == nullptr) {
      std::abort();  // the data dependency is missing
    }
    e->working_dir = resolved;
    e->models["qemu"] = &rm::BuildQemu;
    e->models["kvmtool"] = &rm::BuildKvmtool;
    e->models["cloud-hv"] = &rm::BuildCloudHv;
    return e;
  }();
  return *env;
}

bool Allowed(const std::string& arg) {
  return !absl::StartsWith(arg, "/") && !absl::StrContains(arg, "..") &&
         !absl::StrContains(arg, "=/");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) return 0;
  std::vector<std::string> args;
  std::string current;
  for (size_t i = 0; i <= size; ++i) {
    if (i == size || data[i] == 0) {
      if (Allowed(current)) args.push_back(current);
      current.clear();
      if (args.size() > kMaxArgs) return 0;
    } else {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  cli::CliEnvironment env = Environment();
  rm::OutputSet staged;
  env.staged_outputs = &staged;
  std::ostringstream out, err;
  const int rc = cli::RunCli(args, env, out, err);
  if (rc < 0 || rc > 3) std::abort();
  if ((rc == 1 || rc == 2) && err.str().empty()) std::abort();
  return 0;
}
