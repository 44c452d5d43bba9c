// The CoMID endorsements JSON of the reference tool (spec-core §12): a
// template is parsed into the tool's data model (unknown members dropped),
// the first reference value receives the realm's measurements, and the
// result is pretty-printed byte for byte like serde_json's
// to_string_pretty (2-space indent, model key order, no trailing newline).
#ifndef REALM_MEASUREMENTS_MEASURE_COMID_JSON_H_
#define REALM_MEASUREMENTS_MEASURE_COMID_JSON_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "measure/engine.h"
#include "measure/realm_config.h"

namespace realm_measurements::measure {

// Largest template accepted, and deepest nesting (untrusted input; checked
// before nlohmann::json parses, json_limits.h). Templates are a few KiB; 1
// MiB keeps the parsed document well within the 64 MiB memory target
// (a 16 MiB "[0,0,...]" took ~128 MiB as nlohmann values).
inline constexpr size_t kMaxComidTemplateSize = 1 << 20;
inline constexpr int kMaxComidTemplateDepth = 64;

// Fills `template_json` (nullopt: the empty model, every string "" and
// version 0). Parse errors read
// "invalid VM configuration: cannot parse <template_name>: <what>".
absl::StatusOr<std::string> FillComidJson(
    const std::optional<std::string>& template_json,
    absl::string_view template_name, const Measurements& measurements,
    const Measurement& personalization_value);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_COMID_JSON_H_
