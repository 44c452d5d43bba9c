// Parallel per-granule content digests for RMI_DATA_CREATE (spec-core §4.5).
// The RIM chain is sequential but H(granule) of each 4 KiB granule is not:
// a small pool hashes bounded chunks of a payload on all cores while the
// caller consumes the digests strictly in order. Files (and bytes) are read
// by the hashing threads themselves, each chunk with one positional read
// into that thread's own buffer, which is still in its cache when hashed
// (issue 18: reading 1 MiB chunks on the caller and hashing them on another
// core cost ~15% more CPU than the hashing alone). Streams (a gzip kernel)
// are read by the caller into a ring of chunk buffers. Memory in flight is
// at most (max_chunks_in_flight + threads) * chunk_granules * 4 KiB
// whatever the payload size.
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
  // Hashing threads including the caller, which also hands out chunks and
  // runs the RIM chain (consumes the digests) between them: no thread is
  // added for the chain. 0 = UsableCores(); clamped to [1, 64].
  int threads = 0;
  // Work unit: 64 granules = 256 KiB, small enough to stay in a core's L2
  // cache between its read and its hashing. Clamped to [1, 4096].
  size_t chunk_granules = 64;
  // Chunks handed out but not yet consumed; 0 = 2 * threads + 2. Clamped
  // to [2, 256]. Bounds memory: 2 MiB of buffers for 2 threads with the
  // defaults (buffer_bytes()).
  size_t max_chunks_in_flight = 0;
};

// CPUs this process may run on (sched_getaffinity), else
// std::thread::hardware_concurrency(), at least 1: the default thread count.
int UsableCores();

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
  // Bytes of chunk buffers this pool may hold (the in-flight bound): one
  // per hashing thread plus the ring that stream runs use.
  size_t buffer_bytes() const;

 private:
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_GRANULE_HASHER_H_
