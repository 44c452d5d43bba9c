// The shapes of a sweep run concurrently (CLI --sweep, gRPC
// SweepMeasurements): after the first shape has run alone and filled the
// digest cache, hashing threads x hash lanes workers take the other shapes
// in order, their RIM chains over cached payloads meeting in one
// ChainBatch (chain_batch.h). Results never depend on how many ran
// together.
#ifndef REALM_MEASUREMENTS_MEASURE_SWEEP_RUNNER_H_
#define REALM_MEASUREMENTS_MEASURE_SWEEP_RUNNER_H_

#include <cstddef>
#include <functional>

#include "measure/chain_batch.h"
#include "measure/engine.h"

namespace realm_measurements::measure {

// Calls run(i, batch) for i in [1, n) on min(n - 1, threads x lanes)
// threads, `lanes` being what crypto::HashEach hashes at once for
// `algorithm` (the first shape's); `batch` is theirs to put in
// MeasureOptions::chain_batch. Shapes are handed out in order until `run`
// returns false for one (those already started finish). Returns what the
// batch did.
ChainBatch::Stats RunRemainingShapes(
    size_t n, int threads, HashAlgorithm algorithm,
    const std::function<bool(size_t, ChainBatch*)>& run);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_SWEEP_RUNNER_H_
