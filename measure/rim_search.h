// Which host capability or RMM version explains a RIM (the CLI's
// --find-rim, gRPC ComputeMeasurements find_rim): the realm of a request is
// measured again with each other value of one REALM_CREATE parameter, or
// with the other RMM version, on top of the request's own overrides. The
// tries run like the shapes of a sweep (sweep_runner.h), their RIM chains
// over the payload digests the first run left in the digest cache.
//
// One change at a time: ~175 realms for any command line. Optionally,
// when none of those gives the RIM, two changes of different parameters at
// once (~10,000 realms).
#ifndef REALM_MEASUREMENTS_MEASURE_RIM_SEARCH_H_
#define REALM_MEASUREMENTS_MEASURE_RIM_SEARCH_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "measure/engine.h"
#include "measure/host_caps.h"
#include "measure/measure.h"

namespace realm_measurements::measure {

// `rim` as the significant bytes of `algorithm` (a whole 64-byte RMM buffer
// loses its zero tail), or nullopt when its length is another algorithm's.
std::optional<std::vector<uint8_t>> SignificantRim(
    absl::Span<const uint8_t> rim, HashAlgorithm algorithm);

// One try: a single parameter (or the RMM version) set to another value.
struct RimSearchCandidate {
  std::string option;  // the change in the CLI's syntax: "--num-bps 4"
  HostCaps change;     // only the changed fields are set
};

// Every other valid value of each REALM_CREATE parameter of `realm` (IPA
// bits, breakpoints, watchpoints, SVE vector length, PMU and its counters,
// LPA2), then the RMM version other than `rmm`.
std::vector<RimSearchCandidate> RimSearchCandidates(
    const RealmCreateParams& realm, RmmVersion rmm);

struct RimSearchResult {
  enum class Verdict {
    kOtherAlgorithm,  // the target's length is another algorithm's
    kSame,            // the request already gives the target
    kFound,           // `matches` give it
    kNone,            // no single change gives it
  };
  Verdict verdict = Verdict::kNone;
  HashAlgorithm algorithm = HashAlgorithm::kSha256;
  RmmVersion rmm_version = RmmVersion::k1_0;
  std::vector<uint8_t> computed;  // the request's RIM, significant bytes
  std::vector<uint8_t> target;    // significant bytes when the length fits
  std::vector<RimSearchCandidate> matches;
  size_t tried = 0;    // distinct realms measured besides the request's
  size_t refused = 0;  // changes the flow refused (a VMM without SVE, ...)
  // Of `tried` and `refused`, those with two changes (RimSearchOptions::
  // pairs); matches with two changes carry both in `option` and `change`.
  size_t tried_pairs = 0;
  size_t refused_pairs = 0;
};

struct RimSearchOptions {
  // The hashing threads (RunRemainingShapes).
  int threads = 1;
  // When no single change gives the target: every two changes of
  // different parameters at once (the PMU and its counters count as one).
  bool pairs = false;
};

// Pairs of `singles` (RimSearchCandidates) that change two different
// parameters, each once: "--ipa-bits 40 --num-bps 4".
std::vector<RimSearchCandidate> RimSearchPairs(
    const std::vector<RimSearchCandidate>& singles);

// Searches for `target` (32, 48 or 64 bytes) around `base`, the result of
// Measure(request). Each try is Measure of a copy of `request` with the
// candidate's change on top of request.overrides and its own ChainBatch;
// before_build runs for every try, so it must be safe to call concurrently
// (the gRPC handler passes one that only resolves payloads); after_build,
// beside, on_warnings, debug, progress and layout digests are the request's
// own run's and are left out.
// Tries the model lowers back to an already-tried realm count once. An
// error only when request.options.cancel stops the search.
absl::StatusOr<RimSearchResult> SearchRim(const MeasureRequest& request,
                                          const MeasureResult& base,
                                          absl::Span<const uint8_t> target,
                                          const RimSearchOptions& options);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_RIM_SEARCH_H_
