// The `realm-measurements` command line (spec-core §10, spec-vmm §1.1): an
// adapter from argv to measure::Measure (measure/measure.h) and from its
// result to text, JSON and files. A library, so that the whole program flow
// runs in-process in tests (and in gen-run-vmm):
//   realm-measurements [OPTIONS] <qemu|kvmtool|cloud-hv|help> [VMM ARGS...]
// Global options precede the VMM name; everything after it goes verbatim to
// the VMM model. Exit status: 0 success, 1 a stage error printed as
// "ERROR <stage>: <cause>", 2 a command-line syntax error.
#ifndef REALM_MEASUREMENTS_CLI_CLI_H_
#define REALM_MEASUREMENTS_CLI_CLI_H_

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/output_files.h"
#include "measure/vmm/vmm.h"

namespace realm_measurements::cli {

// The VMM names the command line knows (spec-core §10.1).
inline constexpr const char* kVmmNames[] = {"qemu", "kvmtool", "cloud-hv"};

// "cca-realm-measurements 0.1.0": the reference's package name and version,
// kept so that scripts written for the reference keep working.
inline constexpr char kVersionLine[] = "cca-realm-measurements 0.1.0";

struct CliEnvironment {
  // VMM name -> model. A known name without a model fails with
  // "the <name> model is not implemented yet" (exit 1).
  std::map<std::string, measure::VmmModel> models;
  // $BUILD_WORKING_DIRECTORY under `bazel run`: relative paths resolve
  // against it.
  std::optional<std::string> working_dir;
  // Whether `err` is a terminal: then payload hashing reports its progress
  // there as with --progress (scripts, which redirect stderr, get none).
  bool stderr_is_terminal = false;
  // When set, a successful run adds its output files (--output-dtb, CoRIM,
  // CoMID, endorsements JSON) here instead of writing them, for the caller
  // to commit with its own (gen-run-vmm). Not owned.
  measure::OutputSet* staged_outputs = nullptr;
};

// Runs the program on `args` (without the program name). Measurements and
// help go to `out`, diagnostics to `err`. Never throws.
//
// Before any work, every input path is checked to be a regular file (or
// absent, reported where it is read) and every output path to be writable
// without destroying anything (output_files.h). The outputs of a run are
// committed together only when everything succeeded: a failing run leaves
// no output new or changed.
int RunCli(const std::vector<std::string>& args, const CliEnvironment& env,
           std::ostream& out, std::ostream& err);

// The --help text.
std::string HelpText();

// Writes `data` to `path` through a temporary file in the same directory
// and a rename, so readers never see a partial file; `path` must be absent
// or a regular file (OutputSet::Commit). Errors read
// "file <path> error: <strerror> (os error <errno>)".
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view data);

}  // namespace realm_measurements::cli

#endif  // REALM_MEASUREMENTS_CLI_CLI_H_
