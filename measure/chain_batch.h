// Lockstep RIM chains for the shapes of a sweep (issue 8, docs/performance.md
// "Sweeps"). Once the granule digests of a payload are cached, a shape's
// cost is its RIM chain: one descriptor hash per granule, each needing the
// previous one, so a single chain can not use multi-buffer hashing. The
// chains of different shapes are independent. Threads measuring shapes at
// the same time meet here whenever they reach a cached blob; when every
// member thread is waiting (or has left), the waiting chains run together:
// chains that would measure the same blob at the same address from the
// same RIM run once, and the others are split over `threads` threads, each
// hashing one granule of four or eight chains at a time
// (Engine::DataCreateMeasuredEach).
#ifndef REALM_MEASUREMENTS_MEASURE_CHAIN_BATCH_H_
#define REALM_MEASUREMENTS_MEASURE_CHAIN_BATCH_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "base/cancellation.h"
#include "measure/engine.h"

namespace realm_measurements::measure {

class ChainBatch {
 public:
  // `members` threads take part: each calls Measure any number of times and
  // then Leave exactly once. A batch runs on `threads` threads (>= 1).
  ChainBatch(int members, int threads);
  ChainBatch(const ChainBatch&) = delete;
  ChainBatch& operator=(const ChainBatch&) = delete;

  // engine.DataCreateMeasured for `count` granules from `first_ipa` with the
  // content digests at `digests` (HashSize() bytes each; the pointer is the
  // blob's identity: the cache's shared record). Blocks until the batch
  // holding it has run. `engine` must pass CheckDataGranules(first_ipa,
  // count). `cancel` is polled every 256 granules, and `measured` (may be
  // empty) is called once the chain succeeded, both possibly on another
  // thread while this one waits: `measured` is where a result is made
  // visible to the other members (the digest cache's chain segments)
  // before any of them goes on.
  absl::Status Measure(Engine& engine, uint64_t first_ipa,
                       const uint8_t* digests, uint64_t count,
                       const CancelCheck& cancel,
                       const std::function<void()>& measured);
  // The calling member takes no further part.
  void Leave();

  // Work so far (for tests and benchmarks).
  struct Stats {
    uint64_t requests = 0;
    uint64_t distinct = 0;  // chains after merging those with the same start
    uint64_t granules = 0;  // of the distinct chains
    uint64_t steps = 0;     // DataCreateMeasuredEach calls
  };
  Stats stats() const;

 private:
  struct Request {
    Engine* engine;
    uint64_t first_ipa;
    const uint8_t* digests;
    uint64_t count;
    const CancelCheck* cancel;
    const std::function<void()>* measured;
    absl::Status status;
    bool done = false;
  };
  // Requests with the same start; the first one's engine computes.
  using Chain = std::vector<Request*>;
  // Runs every pending request; mu_ held (every other member is waiting).
  void RunPending();
  // Runs `chains` (one thread's share) through the hash's lanes; returns the
  // number of DataCreateMeasuredEach calls.
  static uint64_t RunChains(const std::vector<Chain*>& chains);

  const int threads_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int live_;
  std::vector<Request*> pending_;
  Stats stats_;
};

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_CHAIN_BATCH_H_
