// File: corim/internal/lru_map.h
//
// A bounded, thread-safe map from a 32-byte digest to a value with
// least-recently-used eviction and hit/miss counters: the one LRU behind
// corim::PlatformTokenCache and corim::PublicKeyCache (issue 18).
#ifndef REALM_MEASUREMENTS_CORIM_INTERNAL_LRU_MAP_H_
#define REALM_MEASUREMENTS_CORIM_INTERNAL_LRU_MAP_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace realm_measurements::corim::internal {

using DigestKey = std::array<uint8_t, 32>;

struct LruStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  size_t entries = 0;
};

// `V` is copied out on a hit, so keep it small (a flag, a shared_ptr).
template <typename V>
class LruMap {
 public:
  // `capacity` 0 stores nothing (every lookup misses).
  explicit LruMap(size_t capacity) : capacity_(capacity) {}
  LruMap(const LruMap&) = delete;
  LruMap& operator=(const LruMap&) = delete;

  // The value of `key` (now the most recently used), counting a hit or a
  // miss.
  std::optional<V> Find(const DigestKey& key) {
    absl::MutexLock lock(&mu_);
    auto it = index_.find(key);
    if (it == index_.end()) {
      ++stats_.misses;
      return std::nullopt;
    }
    ++stats_.hits;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }

  // Stores (or replaces) `key`, evicting the least recently used entries
  // beyond capacity.
  void Insert(const DigestKey& key, V value) {
    if (capacity_ == 0) return;
    absl::MutexLock lock(&mu_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      it->second->second = std::move(value);
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.emplace_front(key, std::move(value));
    index_.emplace(key, order_.begin());
    while (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
      ++stats_.evictions;
    }
  }

  size_t capacity() const { return capacity_; }
  LruStats stats() const {
    absl::MutexLock lock(&mu_);
    LruStats s = stats_;
    s.entries = order_.size();
    return s;
  }

 private:
  using Entry = std::pair<DigestKey, V>;
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::list<Entry> order_ ABSL_GUARDED_BY(mu_);  // most recent first
  absl::flat_hash_map<DigestKey, typename std::list<Entry>::iterator> index_
      ABSL_GUARDED_BY(mu_);
  LruStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace realm_measurements::corim::internal

#endif  // REALM_MEASUREMENTS_CORIM_INTERNAL_LRU_MAP_H_
