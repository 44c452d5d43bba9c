// File: corim/platform_token_cache.h
//
// A bounded cache of platform tokens whose signature verified, so a realm's
// platform token, which repeats in every attestation of that platform boot,
// is verified once (issue 18). The key is SHA-256 over the platform
// COSE_Sign1's Sig_structure (protected header and payload, §1.3), its
// signature and the CPAK's SEC1 point: the same token bytes under another
// CPAK, or one changed byte, is a different key and is verified afresh.
// Only successes are cached; a failing signature is checked every time.
//
// Least-recently-used eviction at `capacity` entries (about 100 bytes
// each). Thread-safe.
#ifndef REALM_MEASUREMENTS_CORIM_PLATFORM_TOKEN_CACHE_H_
#define REALM_MEASUREMENTS_CORIM_PLATFORM_TOKEN_CACHE_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "base/crypto.h"
#include "corim/cose.h"
#include "corim/internal/lru_map.h"

namespace realm_measurements::corim {

class PlatformTokenCache {
 public:
  using Key = internal::DigestKey;
  using Stats = internal::LruStats;

  // `capacity` 0 caches nothing (every lookup misses).
  explicit PlatformTokenCache(size_t capacity) : verified_(capacity) {}

  // The key of `platform` verified with `cpak`.
  static absl::StatusOr<Key> KeyFor(const CoseSign1& platform,
                                    const crypto::EcPublicKey& cpak);

  // True (and most recently used) when `key` verified before; counts a hit
  // or a miss.
  bool Contains(const Key& key) { return verified_.Find(key).has_value(); }
  // Records a verified token, evicting the least recently used beyond
  // capacity.
  void Insert(const Key& key) { verified_.Insert(key, true); }

  size_t capacity() const { return verified_.capacity(); }
  Stats stats() const { return verified_.stats(); }

 private:
  internal::LruMap<bool> verified_;
};

}  // namespace realm_measurements::corim

#endif  // REALM_MEASUREMENTS_CORIM_PLATFORM_TOKEN_CACHE_H_
