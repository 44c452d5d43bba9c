#include "measure/digest_cache.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/crypto.h"

namespace realm_measurements::measure {

absl::StatusOr<std::string> PayloadIdentity(const Payload& payload) {
  if (payload.is_file()) {
    absl::StatusOr<Payload::Reader> r = payload.Open();
    if (!r.ok()) return r.status();
    return r->file_identity();
  }
  absl::StatusOr<std::vector<uint8_t>> h =
      crypto::HashOnce(crypto::DigestAlgorithm::kSha256, *payload.bytes());
  if (!h.ok()) return h.status();
  return absl::StrCat(
      "sha256:", absl::BytesToHexString(absl::string_view(
                     reinterpret_cast<const char*>(h->data()), h->size())));
}

DigestCache::DigestCache(size_t max_bytes) : max_bytes_(max_bytes) {}

std::shared_ptr<const GranuleDigests> DigestCache::Find(const DigestKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.digests;
}

void DigestCache::EvictLocked(size_t need) {
  while (!lru_.empty() && bytes_ + need > max_bytes_) {
    auto it = map_.find(lru_.back());
    bytes_ -= it->second.digests->size();
    map_.erase(it);
    lru_.pop_back();
  }
}

void DigestCache::Insert(const DigestKey& key,
                         std::shared_ptr<const GranuleDigests> v) {
  if (v == nullptr || !Fits(v->size())) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(key);
  if (it != map_.end()) {
    bytes_ -= it->second.digests->size();
    lru_.erase(it->second.lru);
    map_.erase(it);
  }
  EvictLocked(v->size());
  bytes_ += v->size();
  lru_.push_front(key);
  map_.emplace(key, Entry{std::move(v), lru_.begin()});
}

std::shared_ptr<const Engine> DigestCache::FindChain(const ChainKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = chains_.find(key);
  if (it == chains_.end()) return nullptr;
  ++chain_hits_;
  chain_lru_.splice(chain_lru_.begin(), chain_lru_, it->second.lru);
  return it->second.engine;
}

void DigestCache::InsertChain(const ChainKey& key, const Engine& after) {
  auto engine = std::make_shared<const Engine>(after);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = chains_.find(key);
  if (it != chains_.end()) {
    it->second.engine = std::move(engine);
    chain_lru_.splice(chain_lru_.begin(), chain_lru_, it->second.lru);
    return;
  }
  while (chains_.size() >= kMaxChainEntries) {
    chains_.erase(chain_lru_.back());
    chain_lru_.pop_back();
  }
  chain_lru_.push_front(key);
  chains_.emplace(key, ChainEntry{std::move(engine), chain_lru_.begin()});
}

uint64_t DigestCache::chain_hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return chain_hits_;
}

size_t DigestCache::chain_entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return chains_.size();
}

size_t DigestCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

size_t DigestCache::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return map_.size();
}

uint64_t DigestCache::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

uint64_t DigestCache::misses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return misses_;
}

}  // namespace realm_measurements::measure
