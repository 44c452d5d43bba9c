#include "measure/granule_hasher.h"

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

// Hashes one granule with the allocation-free one-shot (crypto::HashSmall);
// kept as a per-thread object so call sites need no change.
class ThreadDigest {
 public:
  absl::Status Hash(HashAlgorithm algorithm, absl::Span<const uint8_t> data,
                    Measurement* out) {
    const size_t n = HashSize(algorithm);
    absl::Status s = crypto::HashSmall(ToDigestAlgorithm(algorithm), data,
                                       absl::MakeSpan(out->data(), n));
    if (!s.ok()) return s;
    std::memset(out->data() + n, 0, out->size() - n);
    return absl::OkStatus();
  }
};

}  // namespace

struct GranuleHasher::Pool {
  struct Slot {
    std::vector<uint8_t> buf;
    std::vector<Measurement> digests;
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

  Slot& At(uint64_t seq) { return slots[seq % slots.size()]; }

  bool WorkOrShutdown() { return shutdown || claim < tail; }
  bool HeadDone() { return head < tail && At(head).done; }
  bool ClaimedDone() {
    for (uint64_t s = head; s < claim; ++s) {
      if (!At(s).done) return false;
    }
    return true;
  }

  static void HashSlot(Slot& slot, HashAlgorithm algorithm,
                       ThreadDigest& digest) {
    for (size_t i = 0; i < slot.granules; ++i) {
      absl::Status s = digest.Hash(
          algorithm,
          absl::MakeConstSpan(slot.buf.data() + i * kGranuleSize, kGranuleSize),
          &slot.digests[i]);
      if (!s.ok()) {
        slot.error = s;
        return;
      }
    }
  }

  // Claims the oldest waiting chunk, hashes it, marks it done. Called with
  // `lock` held; returns with it held.
  void HashOne(std::unique_lock<std::mutex>& lock, ThreadDigest& digest) {
    Slot& slot = At(claim++);
    const HashAlgorithm a = algorithm;
    lock.unlock();
    HashSlot(slot, a, digest);
    lock.lock();
    slot.done = true;
    done_cv.notify_all();
  }

  void Worker() {
    ThreadDigest digest;
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      work_cv.wait(lock, [this] { return WorkOrShutdown(); });
      if (shutdown) return;
      HashOne(lock, digest);
    }
  }
};

GranuleHasher::GranuleHasher(GranuleHasherOptions options)
    : pool_(std::make_unique<Pool>()) {
  int threads = options.threads;
  if (threads <= 0) {
    threads = static_cast<int>(std::thread::hardware_concurrency());
  }
  threads = std::clamp(threads, 1, kMaxThreads);
  const size_t chunk =
      std::clamp<size_t>(options.chunk_granules, 1, kMaxChunkGranules);
  size_t in_flight = options.max_chunks_in_flight;
  if (in_flight == 0) in_flight = 2 * static_cast<size_t>(threads) + 2;
  in_flight = std::clamp<size_t>(in_flight, 2, kMaxChunksInFlight);

  pool_->threads = threads;
  pool_->chunk_granules = chunk;
  pool_->slots.resize(in_flight);
  for (Pool::Slot& s : pool_->slots) {
    s.buf.resize(chunk * kGranuleSize);
    s.digests.resize(chunk);
  }
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
  return pool_->slots.size() * pool_->chunk_granules * kGranuleSize;
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
  ThreadDigest digest;
  absl::Status result;
  bool eof = false;
  bool first = true;
  uint64_t index = 0;

  std::unique_lock<std::mutex> lock(p.mu);
  p.algorithm = algorithm;
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
      p.HashOne(lock, digest);  // help the workers
      continue;
    }
    p.done_cv.wait(lock, [&p] { return p.HeadDone(); });
  }
  // On an early stop, drop unclaimed chunks and wait for the claimed ones so
  // that no worker touches a buffer after Run returns.
  p.tail = p.claim;
  p.done_cv.wait(lock, [&p] { return p.ClaimedDone(); });
  p.head = p.claim = p.tail = 0;
  return result;
}

}  // namespace realm_measurements::measure
