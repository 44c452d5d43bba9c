// Parallel per-granule content digests for RMI_DATA_CREATE (spec-core §4.5).
// The RIM chain is sequential but H(granule) of each 4 KiB granule is not:
// a small pool hashes bounded chunks of a payload on all cores while the
// caller consumes the digests strictly in order. Memory in flight is
// max_chunks_in_flight * chunk_granules * 4 KiB whatever the payload size.
#ifndef REALM_MEASUREMENTS_MEASURE_GRANULE_HASHER_H_
#define REALM_MEASUREMENTS_MEASURE_GRANULE_HASHER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "measure/engine.h"
#include "measure/payload.h"

namespace realm_measurements::measure {

struct GranuleHasherOptions {
  // Hashing threads including the caller, which also reads and consumes.
  // 0 = std::thread::hardware_concurrency(); clamped to [1, 64].
  int threads = 0;
  // Work unit: 256 granules = 1 MiB. Clamped to [1, 4096].
  size_t chunk_granules = 256;
  // Chunks read but not yet consumed; 0 = 2 * threads + 2. Clamped to
  // [2, 256]. Bounds memory: 10 MiB for 2 threads with the defaults.
  size_t max_chunks_in_flight = 0;
};

// Receives granule `index` (0 = the granule holding the first byte) and
// H(granule) zero-extended to 64 bytes, in index order, on the caller's
// thread. A non-OK return stops the run and is returned by Run().
using GranuleDigestSink =
    std::function<absl::Status(uint64_t index, const Measurement& digest)>;

// A pool of worker threads (no global state). Run() may be called many
// times, but by one thread at a time (calls are serialized internally).
class GranuleHasher {
 public:
  explicit GranuleHasher(GranuleHasherOptions options = {});
  ~GranuleHasher();  // stops and joins the workers
  GranuleHasher(const GranuleHasher&) = delete;
  GranuleHasher& operator=(const GranuleHasher&) = delete;

  // Digests of the content read from `reader` placed at byte `lead`
  // (0..4095) of its first granule, zero-filled before and after to whole
  // granules: ceil((lead + size) / 4 KiB) granules (none when both are 0).
  // A read error is returned after the granules before it were delivered,
  // as a sequential reader would; the sink is not called after an error.
  absl::Status Run(Payload::Reader& reader, size_t lead,
                   HashAlgorithm algorithm, const GranuleDigestSink& sink);
  // Opens `payload` and runs on it.
  absl::Status Run(const Payload& payload, size_t lead, HashAlgorithm algorithm,
                   const GranuleDigestSink& sink);

  int threads() const;
  // Bytes of chunk buffers this pool holds (the in-flight bound).
  size_t buffer_bytes() const;

 private:
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_GRANULE_HASHER_H_
