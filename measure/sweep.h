// VM-shape sweeps (issue 8): one invocation measures many shapes of one VM.
// The VMM arguments carry placeholders, `{key}`, and each shape substitutes
// one value per key, so any VMM argument of any model can vary:
//   realm-measurements --sweep cpus=1,2,4 --sweep mem=512M,1G
//       kvmtool --realm -c {cpus} -m {mem} ...
// Axes (--sweep KEY=V1,V2,...) form a cross product, first axis slowest;
// explicit shapes (--sweep-shape KEY=V,KEY=V) form a list. The two can not
// be mixed. Payload files (-k/-i/-f) are the same for every shape, which is
// what lets the granule digests be computed once (digest_cache.h).
#ifndef REALM_MEASUREMENTS_MEASURE_SWEEP_H_
#define REALM_MEASUREMENTS_MEASURE_SWEEP_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace realm_measurements::measure {

// Bound on the shapes of one invocation (a cross product grows fast).
inline constexpr size_t kMaxSweepShapes = 4096;
// Bound on one key or value, in bytes.
inline constexpr size_t kMaxSweepTextSize = 4096;

struct SweepAxis {
  std::string key;
  std::vector<std::string> values;
};

// Ordered (key, value) pairs of one shape.
using SweepParams = std::vector<std::pair<std::string, std::string>>;

struct SweepShape {
  SweepParams params;
  std::vector<std::string> vmm_args;  // placeholders substituted
};

// "cpus=1,2,4": a key ([a-z0-9_-]+, lower case) and one or more values
// (non-empty, no commas).
absl::StatusOr<SweepAxis> ParseSweepAxis(absl::string_view spec);
// "cpus=2,mem=1G": each key once.
absl::StatusOr<SweepParams> ParseSweepShape(absl::string_view spec);

// The shapes, in order: the cross product of `axes` (first axis slowest)
// or the explicit list. Every key must appear as `{key}` in some VMM
// argument and every `{word}` placeholder of the arguments must be a key;
// keys must not repeat; at most kMaxSweepShapes shapes.
absl::StatusOr<std::vector<SweepShape>> ExpandSweep(
    absl::Span<const SweepAxis> axes, absl::Span<const SweepParams> shapes,
    absl::Span<const std::string> vmm_args);

// "cpus=1 mem=512M": for headers and error messages.
std::string SweepParamsText(const SweepParams& params);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_SWEEP_H_
