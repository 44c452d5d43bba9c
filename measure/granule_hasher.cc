#include "measure/granule_hasher.h"

#include <sched.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/crypto.h"

namespace realm_measurements::measure {
namespace {

constexpr int kMaxThreads = 64;
constexpr size_t kMaxChunkGranules = 4096;  // 16 MiB chunks at most
constexpr size_t kMaxChunksInFlight = 256;

// HashEach writes with a stride: the Measurements of a chunk are contiguous.
static_assert(sizeof(Measurement) == kMeasurementWidth);

// Hashes `granules` granules at `data` into `out` with crypto::HashEach
// (several granules at a time where the CPU allows: SHA-256 4-way,
// SHA-384/512 8-way; else the allocation-free one-shot per granule), then
// zeroes each Measurement past the digest.
absl::Status HashChunk(HashAlgorithm algorithm, const uint8_t* data,
                       size_t granules, Measurement* out) {
  const size_t n = HashSize(algorithm);
  absl::Status s =
      crypto::HashEach(ToDigestAlgorithm(algorithm), data, granules,
                       kGranuleSize, out->data(), sizeof(Measurement));
  if (!s.ok()) return s;
  for (size_t i = 0; i < granules; ++i) {
    std::memset(out[i].data() + n, 0, out[i].size() - n);
  }
  return absl::OkStatus();
}

}  // namespace

int UsableCores() {
  // The CPUs this process may run on (taskset, a cpuset cgroup), not all
  // the machine's: more hashing threads than cores only adds switches
  // between them and the RIM chain (issue 18: 3 or 4 threads on 2 cores
  // were slower than 2).
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

struct GranuleHasher::Pool {
  struct Slot {
    std::vector<uint8_t> buf;  // sequential readers only
    std::vector<Measurement> digests;
    uint64_t chunk = 0;  // chunk number, for positional readers
    size_t granules = 0;
    // A read error (granules == 0) or a hashing error, delivered in order.
    absl::Status error;
    bool done = false;  // guarded by mu
  };

  int threads = 1;
  size_t chunk_granules = 0;
  std::vector<Slot> slots;
  std::vector<std::thread> workers;

  // std::mutex rather than absl::Mutex: the Debian abseil is not built with
  // -fsanitize=thread, so ThreadSanitizer would not see its synchronization.
  std::mutex run_mu;  // one Run at a time
  std::mutex mu;
  std::condition_variable work_cv;  // workers: new chunk or shutdown
  std::condition_variable done_cv;  // caller: a chunk is done
  // Guarded by mu. Sequence numbers: [head, claim) being hashed or done,
  // [claim, tail) filled and waiting; slot = seq % slots.size().
  uint64_t head = 0;
  uint64_t claim = 0;
  uint64_t tail = 0;
  HashAlgorithm algorithm = HashAlgorithm::kSha256;
  bool shutdown = false;
  // The run's positional reader (nullptr: the caller fills slot.buf) and
  // its layout; set by Run before the first chunk is published.
  const Payload::Reader* positional = nullptr;
  size_t lead = 0;
  uint64_t total_granules = 0;
  // The calling thread's read buffer for positional chunks (one Run at a
  // time); each worker has its own.
  std::vector<uint8_t> caller_buf;

  Slot& At(uint64_t seq) { return slots[seq % slots.size()]; }

  bool WorkOrShutdown() { return shutdown || claim < tail; }
  bool HeadDone() { return head < tail && At(head).done; }
  bool ClaimedDone() {
    for (uint64_t s = head; s < claim; ++s) {
      if (!At(s).done) return false;
    }
    return true;
  }

  static void HashGranules(const uint8_t* data, Slot& slot,
                           HashAlgorithm algorithm) {
    absl::Status s =
        HashChunk(algorithm, data, slot.granules, slot.digests.data());
    if (!s.ok()) slot.error = s;
  }

  // Positional chunk `slot.chunk`: reads its bytes into `buf` (this
  // thread's, so they are still in its cache when hashed), zero-fills the
  // lead and the tail of the last granule, and hashes. A read error
  // replaces the chunk's digests (granules = 0), as a sequential read would.
  void ReadAndHash(Slot& slot, const Payload::Reader& reader, size_t run_lead,
                   uint64_t run_granules, HashAlgorithm a,
                   std::vector<uint8_t>& buf) {
    const uint64_t g0 = slot.chunk * chunk_granules;
    const uint64_t g1 = std::min<uint64_t>(g0 + chunk_granules, run_granules);
    slot.granules = static_cast<size_t>(g1 - g0);
    const size_t bytes = slot.granules * kGranuleSize;
    if (buf.size() < bytes) buf.resize(chunk_granules * kGranuleSize);
    // Image offsets [g0, g1) granules; the content starts at `run_lead`.
    const uint64_t image_begin = g0 * kGranuleSize;
    const size_t head = image_begin < run_lead
                            ? static_cast<size_t>(run_lead - image_begin)
                            : 0;
    const uint64_t file_begin = image_begin + head - run_lead;
    const uint64_t file_end =
        std::min<uint64_t>(reader.size(), image_begin + bytes - run_lead);
    const size_t data =
        file_end > file_begin ? static_cast<size_t>(file_end - file_begin) : 0;
    std::memset(buf.data(), 0, head);
    absl::Status s =
        reader.ReadAt(file_begin, absl::MakeSpan(buf.data() + head, data));
    if (!s.ok()) {
      slot.error = s;
      slot.granules = 0;
      return;
    }
    std::memset(buf.data() + head + data, 0, bytes - head - data);
    HashGranules(buf.data(), slot, a);
  }

  // Claims the oldest waiting chunk, (reads and) hashes it, marks it done.
  // Called with `lock` held; returns with it held.
  void HashOne(std::unique_lock<std::mutex>& lock, std::vector<uint8_t>& buf) {
    Slot& slot = At(claim++);
    const HashAlgorithm a = algorithm;
    const Payload::Reader* reader = positional;
    const size_t run_lead = lead;
    const uint64_t run_granules = total_granules;
    lock.unlock();
    if (reader != nullptr) {
      ReadAndHash(slot, *reader, run_lead, run_granules, a, buf);
    } else {
      HashGranules(slot.buf.data(), slot, a);
    }
    lock.lock();
    slot.done = true;
    done_cv.notify_all();
  }

  void Worker() {
    std::vector<uint8_t> buf;  // grown on the first positional chunk
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      work_cv.wait(lock, [this] { return WorkOrShutdown(); });
      if (shutdown) return;
      HashOne(lock, buf);
    }
  }
};

GranuleHasher::GranuleHasher(GranuleHasherOptions options)
    : pool_(std::make_unique<Pool>()) {
  int threads = options.threads;
  if (threads <= 0) threads = UsableCores();
  threads = std::clamp(threads, 1, kMaxThreads);
  const size_t chunk =
      std::clamp<size_t>(options.chunk_granules, 1, kMaxChunkGranules);
  size_t in_flight = options.max_chunks_in_flight;
  if (in_flight == 0) in_flight = 2 * static_cast<size_t>(threads) + 2;
  in_flight = std::clamp<size_t>(in_flight, 2, kMaxChunksInFlight);

  pool_->threads = threads;
  pool_->chunk_granules = chunk;
  pool_->slots.resize(in_flight);
  // Slot buffers are allocated on the first sequential (stream) run;
  // files and bytes are read by the hashing threads into their own buffer.
  for (Pool::Slot& s : pool_->slots) s.digests.resize(chunk);
  // The caller is one of the hashing threads.
  for (int i = 1; i < threads; ++i) {
    pool_->workers.emplace_back([p = pool_.get()] { p->Worker(); });
  }
}

GranuleHasher::~GranuleHasher() {
  {
    std::lock_guard<std::mutex> lock(pool_->mu);
    pool_->shutdown = true;
  }
  pool_->work_cv.notify_all();
  for (std::thread& t : pool_->workers) t.join();
}

int GranuleHasher::threads() const { return pool_->threads; }

size_t GranuleHasher::buffer_bytes() const {
  // One read buffer per hashing thread (positional runs) plus the ring of
  // slot buffers (sequential runs): the most either kind of run holds.
  return (pool_->slots.size() + static_cast<size_t>(pool_->threads)) *
         pool_->chunk_granules * kGranuleSize;
}

absl::Status GranuleHasher::Run(const Payload& payload, size_t lead,
                                HashAlgorithm algorithm,
                                const GranuleDigestSink& sink) {
  absl::StatusOr<Payload::Reader> reader = payload.Open();
  if (!reader.ok()) return reader.status();
  return Run(*reader, lead, algorithm, sink);
}

absl::Status GranuleHasher::Run(Payload::Reader& reader, size_t lead,
                                HashAlgorithm algorithm,
                                const GranuleDigestSink& sink) {
  if (lead >= kGranuleSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("granule hasher: lead ", lead,
                     " is not an offset inside a 4 KiB granule"));
  }
  Pool& p = *pool_;
  std::lock_guard<std::mutex> run_lock(p.run_mu);
  const size_t capacity = p.chunk_granules * kGranuleSize;
  const uint64_t num_slots = p.slots.size();
  // Files and bytes: the caller only hands out chunk numbers and the
  // hashing threads read their chunk themselves (in parallel, into a
  // buffer still in their cache). Streams: the caller reads each chunk.
  const bool positional = reader.can_read_at();
  uint64_t granules = 0, chunks = 0, published = 0;
  if (positional) {
    granules = (lead + reader.size() + kGranuleSize - 1) / kGranuleSize;
    chunks = (granules + p.chunk_granules - 1) / p.chunk_granules;
  } else if (p.slots.front().buf.size() != capacity) {
    for (Pool::Slot& slot : p.slots) slot.buf.resize(capacity);
  }
  absl::Status result;
  bool eof = positional && chunks == 0;
  bool first = true;
  uint64_t index = 0;

  std::unique_lock<std::mutex> lock(p.mu);
  p.algorithm = algorithm;
  p.positional = positional ? &reader : nullptr;
  p.lead = lead;
  p.total_granules = granules;
  for (;;) {
    if (p.head == p.tail && eof) break;
    if (p.HeadDone()) {
      // Deliver the oldest chunk in order; nobody else touches it now.
      Pool::Slot& slot = p.At(p.head);
      lock.unlock();
      absl::Status s = slot.error;
      for (size_t i = 0; s.ok() && i < slot.granules; ++i) {
        s = sink(index++, slot.digests[i]);
      }
      lock.lock();
      if (!s.ok()) {
        result = s;
        break;
      }
      ++p.head;
      continue;
    }
    if (!eof && positional && p.tail - p.head < num_slots) {
      Pool::Slot& slot = p.At(p.tail);
      slot.done = false;
      slot.error = absl::OkStatus();
      slot.granules = 0;
      slot.chunk = published++;
      eof = published == chunks;
      ++p.tail;
      p.work_cv.notify_one();
      continue;
    }
    if (!eof && p.tail - p.head < num_slots) {
      // Fill the next free slot outside the lock: only this thread uses
      // slots outside [head, tail).
      Pool::Slot& slot = p.At(p.tail);
      slot.done = false;
      lock.unlock();
      slot.error = absl::OkStatus();
      slot.granules = 0;
      size_t off = 0;
      if (first) {
        std::memset(slot.buf.data(), 0, lead);
        off = lead;
        first = false;
      }
      absl::StatusOr<size_t> got =
          reader.Read(absl::MakeSpan(slot.buf.data() + off, capacity - off));
      bool publish = true;
      if (!got.ok()) {
        slot.error = got.status();
        eof = true;
      } else {
        const size_t data = off + *got;
        if (*got < capacity - off) eof = true;
        if (data == 0) {
          publish = false;
        } else {
          slot.granules = (data + kGranuleSize - 1) / kGranuleSize;
          std::memset(slot.buf.data() + data, 0,
                      slot.granules * kGranuleSize - data);
        }
      }
      lock.lock();
      // A read error travels as an empty chunk (hashing it is a no-op) and
      // is returned when it reaches the head.
      if (publish) {
        ++p.tail;
        p.work_cv.notify_one();
      }
      continue;
    }
    if (p.claim < p.tail) {
      p.HashOne(lock, p.caller_buf);  // help the workers
      continue;
    }
    p.done_cv.wait(lock, [&p] { return p.HeadDone(); });
  }
  // On an early stop, drop unclaimed chunks and wait for the claimed ones so
  // that no worker touches a buffer after Run returns.
  p.tail = p.claim;
  p.done_cv.wait(lock, [&p] { return p.ClaimedDone(); });
  p.head = p.claim = p.tail = 0;
  p.positional = nullptr;
  return result;
}

}  // namespace realm_measurements::measure
