#include "measure/chain_batch.h"

#include <algorithm>
#include <map>
#include <thread>
#include <tuple>

namespace realm_measurements::measure {
namespace {

// Granules between two polls of a request's cancel hook (as MeasureBlob).
constexpr uint64_t kCancelPollGranules = 256;

}  // namespace

ChainBatch::ChainBatch(int members, int threads)
    : threads_(std::max(1, threads)), live_(members) {}

absl::Status ChainBatch::Measure(Engine& engine, uint64_t first_ipa,
                                 const uint8_t* digests, uint64_t count,
                                 const CancelCheck& cancel,
                                 const std::function<void()>& measured) {
  Request r{&engine, first_ipa, digests, count, &cancel, &measured};
  std::unique_lock<std::mutex> lock(mu_);
  pending_.push_back(&r);
  if (static_cast<int>(pending_.size()) >= live_) {
    RunPending();
    cv_.notify_all();
  } else {
    cv_.wait(lock, [&r] { return r.done; });
  }
  return r.status;
}

void ChainBatch::Leave() {
  std::lock_guard<std::mutex> lock(mu_);
  --live_;
  if (!pending_.empty() && static_cast<int>(pending_.size()) >= live_) {
    RunPending();
    cv_.notify_all();
  }
}

ChainBatch::Stats ChainBatch::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

uint64_t ChainBatch::RunChains(const std::vector<Chain*>& chains) {
  // Per algorithm, the chains share the hash's lanes: each step hashes the
  // next descriptor of every chain in a lane, and a lane whose chain ends
  // takes the next waiting one.
  std::map<HashAlgorithm, std::vector<Chain*>> by_algorithm;
  for (Chain* c : chains) {
    by_algorithm[c->front()->engine->hash_algorithm()].push_back(c);
  }
  uint64_t calls = 0;
  for (auto& [algorithm, queue] : by_algorithm) {
    const size_t lanes = static_cast<size_t>(
        std::max(1, crypto::HashEachLanes(ToDigestAlgorithm(algorithm))));
    const size_t hash_size = HashSize(algorithm);
    struct Lane {
      Request* first;  // computes for its chain
      uint64_t done;
    };
    size_t next = 0;
    std::vector<Lane> active;
    std::vector<Engine::DataStep> steps;
    while (true) {
      while (active.size() < lanes && next < queue.size()) {
        active.push_back({queue[next++]->front(), 0});
      }
      if (active.empty()) break;
      steps.clear();
      for (auto it = active.begin(); it != active.end();) {
        Request& r = *it->first;
        if (it->done % kCancelPollGranules == 0) {
          if (absl::Status s = PollCancel(*r.cancel); !s.ok()) {
            r.status = s;
            it = active.erase(it);
            continue;
          }
        }
        steps.push_back({r.engine, r.first_ipa + it->done * kGranuleSize,
                         r.digests + it->done * hash_size});
        ++it;
      }
      if (steps.empty()) continue;
      ++calls;
      const absl::Status s = Engine::DataCreateMeasuredEach(steps);
      for (auto it = active.begin(); it != active.end();) {
        if (!s.ok()) it->first->status = s;
        if (!s.ok() || ++it->done == it->first->count) {
          it = active.erase(it);
        } else {
          ++it;
        }
      }
    }
  }
  return calls;
}

void ChainBatch::RunPending() {
  std::vector<Request*> requests;
  requests.swap(pending_);
  stats_.requests += requests.size();
  // One chain per distinct start: the same blob at the same address from
  // the same RIM with the same parameters gives the same RIM.
  using Start = std::tuple<HashAlgorithm, uint8_t, RmmVersion, const uint8_t*,
                           uint64_t, uint64_t, Measurement>;
  std::map<Start, Chain> starts;
  for (Request* r : requests) {
    const RealmCreateParams& p = r->engine->params();
    starts[{p.hash_algorithm, p.ipa_bits, p.rmm_version, r->digests,
            r->first_ipa, r->count, r->engine->rim()}]
        .push_back(r);
  }
  // Longest chains first, each to the thread with the least work so far.
  std::vector<Chain*> chains;
  for (auto& [start, same] : starts) chains.push_back(&same);
  std::stable_sort(chains.begin(), chains.end(), [](Chain* a, Chain* b) {
    return a->front()->count > b->front()->count;
  });
  const size_t threads = std::min<size_t>(threads_, chains.size());
  std::vector<std::vector<Chain*>> shares(threads);
  std::vector<uint64_t> load(threads, 0);
  for (Chain* c : chains) {
    const size_t t = std::min_element(load.begin(), load.end()) - load.begin();
    shares[t].push_back(c);
    load[t] += c->front()->count;
    stats_.granules += c->front()->count;
  }
  stats_.distinct += chains.size();
  std::vector<uint64_t> calls(threads, 0);
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) {
    helpers.emplace_back([&, t] { calls[t] = RunChains(shares[t]); });
  }
  if (threads > 0) calls[0] = RunChains(shares[0]);
  for (std::thread& h : helpers) h.join();
  for (uint64_t c : calls) stats_.steps += c;
  // Requests that started from the same RIM end with the first's RIM; each
  // result is published before any member goes on.
  for (Chain* same : chains) {
    const Request& first = *same->front();
    for (Request* r : *same) {
      if (r != &first) {
        if (first.status.ok()) {
          r->engine->rim_ = first.engine->rim_;
        } else {
          r->status = first.status;
        }
      }
      if (r->status.ok() && *r->measured) (*r->measured)();
    }
  }
  for (Request* r : requests) r->done = true;
}

}  // namespace realm_measurements::measure
