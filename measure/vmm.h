// What every VMM model receives from the CLI (or the gRPC service) besides
// its own argv: the payload files given with the global options.
#ifndef REALM_MEASUREMENTS_MEASURE_VMM_H_
#define REALM_MEASUREMENTS_MEASURE_VMM_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "measure/realm_config.h"

namespace realm_measurements::measure {

struct VmmInputs {
  // Paths as given (already resolved against BUILD_WORKING_DIRECTORY).
  // Each is used only if the VMM arguments ask for it.
  std::optional<std::string> kernel;    // -k/--kernel
  std::optional<std::string> initrd;    // -i/--initrd
  std::optional<std::string> firmware;  // -f/--firmware
  std::optional<std::string> dtb;       // --dtb: measured verbatim
  std::optional<std::string> dtb_template;  // --dtb-template: patched
};

// A VMM model: parses its own arguments (everything after the subcommand),
// restricts config.caps(), sets the hash algorithm and RPV, registers RAM,
// blobs, REC and unmeasured ranges, and sets the DTB (config.set_dtb). It
// writes no files. Errors are the "Cannot build parameters: ..." stage.
using VmmModel = absl::Status (*)(const VmmInputs& inputs,
                                  absl::Span<const std::string> args,
                                  RealmConfig& config);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_VMM_H_
