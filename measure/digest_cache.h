// Reusable per-granule content digests (issue 8). The digests of a blob
// depend only on its bytes, its byte offset inside the first 4 KiB granule
// and the hash algorithm, so VM shapes of one run (and requests of the
// gRPC server) that load the same payload share them. Bounded, LRU,
// thread-safe.
#ifndef REALM_MEASUREMENTS_MEASURE_DIGEST_CACHE_H_
#define REALM_MEASUREMENTS_MEASURE_DIGEST_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "measure/engine.h"
#include "measure/payload.h"

namespace realm_measurements::measure {

struct DigestKey {
  // PayloadIdentity(): content SHA-256 or file identity.
  std::string payload_id;
  uint32_t lead = 0;  // byte offset of the content in its first granule
  HashAlgorithm algorithm = HashAlgorithm::kSha256;
  // The entry is the `algorithm` digest of the whole content (the layout's
  // payload digest; `lead` 0), not its granule digests.
  bool whole = false;

  bool operator<(const DigestKey& o) const {
    return std::tie(payload_id, lead, algorithm, whole) <
           std::tie(o.payload_id, o.lead, o.algorithm, o.whole);
  }
};

// Granule digests, HashSize(algorithm) bytes each, concatenated in order.
using GranuleDigests = std::vector<uint8_t>;

// A segment of the RIM chain: measuring one blob (payload, lead, first
// granule IPA) from the engine state whose RIM is `rim_before`. The RIM
// starts as H(realm parameters) and REMs are untouched until after the RIM
// blobs, so equal keys give equal engine states after the blob: shapes that
// differ only after it (a later DTB, the personalization value) reuse it.
struct ChainKey {
  Measurement rim_before = {};
  std::string payload_id;
  uint32_t lead = 0;
  uint64_t first_ipa = 0;
  HashAlgorithm algorithm = HashAlgorithm::kSha256;
  uint8_t ipa_bits = 0;
  // Not in the RIM, but in the Engine the entry holds.
  RmmVersion rmm_version = RmmVersion::k1_0;

  bool operator<(const ChainKey& o) const {
    return std::tie(rim_before, payload_id, lead, first_ipa, algorithm,
                    ipa_bits, rmm_version) <
           std::tie(o.rim_before, o.payload_id, o.lead, o.first_ipa,
                    o.algorithm, o.ipa_bits, o.rmm_version);
  }
};

// "sha256:<hex>" of in-memory bytes; for files the identity of the open
// descriptor ("file:<dev>:<inode>:<size>:<mtime ns>:<ctime ns>"). A file
// rewritten in place within one timestamp tick keeps its identity: callers
// that cannot rule that out should not share a cache across such writes.
absl::StatusOr<std::string> PayloadIdentity(const Payload& payload);

class DigestCache {
 public:
  // Holds at most `max_bytes` of digests (an entry larger than that is not
  // kept). 64 MiB covers 4 GiB of SHA-512 or 8 GiB of SHA-256 payload.
  explicit DigestCache(size_t max_bytes = size_t{64} << 20);
  DigestCache(const DigestCache&) = delete;
  DigestCache& operator=(const DigestCache&) = delete;

  // nullptr when absent. The entry stays valid for the holder even if
  // evicted meanwhile.
  std::shared_ptr<const GranuleDigests> Find(const DigestKey& key);
  // Replaces an existing entry; evicts least recently used ones to fit.
  void Insert(const DigestKey& key, std::shared_ptr<const GranuleDigests> v);
  // Whether an entry of `bytes` could be kept at all.
  bool Fits(size_t bytes) const { return bytes <= max_bytes_; }
  // Granules of `hash_size`-byte digests one entry can hold.
  size_t max_granules(size_t hash_size) const { return max_bytes_ / hash_size; }

  // The engine state after a chain segment (nullptr when absent). At most
  // kMaxChainEntries are kept, least recently used evicted.
  static constexpr size_t kMaxChainEntries = 1024;
  std::shared_ptr<const Engine> FindChain(const ChainKey& key);
  void InsertChain(const ChainKey& key, const Engine& after);

  size_t bytes() const;
  size_t entries() const;
  uint64_t hits() const;
  uint64_t misses() const;
  uint64_t chain_hits() const;
  size_t chain_entries() const;

 private:
  using Lru = std::list<DigestKey>;
  struct Entry {
    std::shared_ptr<const GranuleDigests> digests;
    Lru::iterator lru;
  };
  void EvictLocked(size_t need);  // mu_ held

  const size_t max_bytes_;
  // std::mutex: visible to ThreadSanitizer (the Debian abseil is not
  // instrumented). Guards everything below.
  mutable std::mutex mu_;
  std::map<DigestKey, Entry> map_;
  Lru lru_;  // front = most recent
  size_t bytes_ = 0;
  using ChainLru = std::list<ChainKey>;
  struct ChainEntry {
    std::shared_ptr<const Engine> engine;
    ChainLru::iterator lru;
  };
  std::map<ChainKey, ChainEntry> chains_;
  ChainLru chain_lru_;
  uint64_t chain_hits_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_DIGEST_CACHE_H_
