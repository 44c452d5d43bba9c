#include "measure/sweep_runner.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "base/crypto.h"

namespace realm_measurements::measure {

ChainBatch::Stats RunRemainingShapes(
    size_t n, int threads, HashAlgorithm algorithm,
    const std::function<bool(size_t, ChainBatch*)>& run) {
  if (n <= 1) return {};
  threads = std::max(1, threads);
  const int lanes =
      std::max(1, crypto::HashEachLanes(ToDigestAlgorithm(algorithm)));
  const size_t workers =
      std::min<size_t>(n - 1, static_cast<size_t>(threads) * lanes);
  ChainBatch batch(static_cast<int>(workers), threads);
  std::atomic<size_t> next{1};
  std::atomic<bool> stop{false};
  auto worker = [&] {
    for (size_t i; !stop && (i = next++) < n;) {
      if (!run(i, &batch)) stop = true;
    }
    batch.Leave();
  };
  std::vector<std::thread> pool;
  for (size_t w = 1; w < workers; ++w) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  return batch.stats();
}

}  // namespace realm_measurements::measure
