// What every VMM model receives from the CLI (or the gRPC service) besides
// its own argv: the payload files given with the global options.
#ifndef REALM_MEASUREMENTS_MEASURE_VMM_VMM_H_
#define REALM_MEASUREMENTS_MEASURE_VMM_VMM_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/cancellation.h"
#include "measure/realm_config.h"

namespace realm_measurements::measure {

struct VmmInputs {
  // Paths as given (already resolved against BUILD_WORKING_DIRECTORY).
  // Each is used only if the VMM arguments ask for it.
  std::optional<std::string> kernel;        // -k/--kernel
  std::optional<std::string> initrd;        // -i/--initrd
  std::optional<std::string> firmware;      // -f/--firmware
  std::optional<std::string> dtb;           // --dtb: measured verbatim
  std::optional<std::string> dtb_template;  // --dtb-template: patched
  // Polled while loading payloads (gzip kernels); the CLI leaves it empty.
  CancelCheck cancel;
};

// A VMM model: parses its own arguments (everything after the subcommand),
// restricts config.caps(), sets the hash algorithm and RPV, registers RAM,
// blobs, REC and unmeasured ranges, and sets the DTB (config.set_dtb). It
// writes no files. Errors are the "Cannot build parameters: ..." stage.
//
// Syntax errors in the VMM arguments (unknown option, missing or malformed
// value) are usage errors: exit status 2, like the global options.
using VmmModel = absl::Status (*)(const VmmInputs& inputs,
                                  absl::Span<const std::string> args,
                                  RealmConfig& config);

inline constexpr char kUsageErrorPayload[] = "realm_measurements/usage";

// A command-line syntax error (exit status 2). `message` is one line such as
// "unexpected argument '--foo' found".
inline absl::Status UsageError(absl::string_view message) {
  absl::Status s = absl::InvalidArgumentError(message);
  s.SetPayload(kUsageErrorPayload, absl::Cord("1"));
  return s;
}

inline bool IsUsageError(const absl::Status& s) {
  return s.GetPayload(kUsageErrorPayload).has_value();
}

// "need kernel image: ..." when the VMM arguments load a payload whose file
// was not given: names the global option that supplies it, e.g.
// NeedImage("kernel", "-k", "kvmtool --kernel").
inline std::string NeedImage(absl::string_view what,
                             absl::string_view global_option,
                             absl::string_view vmm_option) {
  const char* example = what == "kernel"   ? "Image"
                        : what == "initrd" ? "initrd.cpio"
                                           : "QEMU_EFI.fd";
  return absl::StrCat("need ", what, " image: ", vmm_option, " loads the ",
                      what, " image; give its file with the global ",
                      global_option, " FILE before the VMM name (e.g. ",
                      global_option, " ", example, ")");
}

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_VMM_VMM_H_
