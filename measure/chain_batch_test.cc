#include "measure/chain_batch.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "measure/engine.h"

namespace realm_measurements::measure {
namespace {

Engine Realm(HashAlgorithm algorithm, int bps, int ipa_bits = 40) {
  RealmCreateParams p;
  p.hash_algorithm = algorithm;
  p.rmm_version =
      algorithm == HashAlgorithm::kSha384 ? RmmVersion::k2_0 : RmmVersion::k1_0;
  p.ipa_bits = static_cast<uint8_t>(ipa_bits);
  p.num_bps = static_cast<uint8_t>(bps);
  p.num_wps = 2;
  absl::StatusOr<Engine> e = Engine::RealmCreate(p);
  EXPECT_TRUE(e.ok()) << e.status();
  return *e;
}

std::vector<uint8_t> Digests(HashAlgorithm algorithm, size_t count,
                             uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> d(count * HashSize(algorithm));
  for (uint8_t& b : d) b = static_cast<uint8_t>(rng());
  return d;
}

// The reference: one DataCreateMeasured after another.
Engine OneByOne(Engine e, uint64_t first_ipa, const std::vector<uint8_t>& d) {
  const size_t n = HashSize(e.hash_algorithm());
  for (size_t i = 0; i < d.size() / n; ++i) {
    Measurement m = {};
    std::copy(d.begin() + i * n, d.begin() + (i + 1) * n, m.begin());
    EXPECT_TRUE(e.DataCreateMeasured(first_ipa + i * kGranuleSize, m).ok());
  }
  return e;
}

// Members on their own threads, each measuring a sequence of blobs (two
// payloads, shared starting RIMs among some members): every RIM equals the
// one-by-one chain, and chains of the same blob ran together.
TEST(ChainBatch, MembersGetTheirOwnChains) {
  const HashAlgorithm a = HashAlgorithm::kSha256;
  const std::vector<uint8_t> kernel = Digests(a, 700, 3);
  const std::vector<uint8_t> firmware = Digests(a, 90, 4);
  constexpr int kMembers = 6;
  ChainBatch batch(kMembers, 2);
  std::vector<Engine> engines, expected;
  for (int k = 0; k < kMembers; ++k) {
    // Members 0 and 1 start from the same RIM, as do 2 and 3.
    engines.push_back(Realm(a, 2 + k / 2 * 2 + (k >= 4 ? k : 0)));
    Engine e = OneByOne(engines.back(), 0x80000000, kernel);
    // Member 5 measures the firmware at another address.
    expected.push_back(OneByOne(e, k == 5 ? 0x90000000 : 0x88000000, firmware));
  }
  std::vector<absl::Status> status(kMembers);
  // The kernel batch holds every member: each one's `measured` hook has run
  // before any member goes on.
  std::vector<std::atomic<bool>> kernel_measured(kMembers);
  std::vector<char> all_seen(kMembers, 0);  // not vector<bool>: one word
  std::atomic<int> hooks{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < kMembers; ++k) {
    threads.emplace_back([&, k] {
      status[k] = batch.Measure(engines[k], 0x80000000, kernel.data(),
                                kernel.size() / 32, CancelCheck(), [&, k] {
                                  kernel_measured[k] = true;
                                  ++hooks;
                                });
      all_seen[k] =
          std::all_of(kernel_measured.begin(), kernel_measured.end(),
                      [](const std::atomic<bool>& b) { return b.load(); });
      if (status[k].ok()) {
        status[k] = batch.Measure(engines[k], k == 5 ? 0x90000000 : 0x88000000,
                                  firmware.data(), firmware.size() / 32,
                                  CancelCheck(), [&] { ++hooks; });
      }
      batch.Leave();
    });
  }
  for (std::thread& t : threads) t.join();
  for (int k = 0; k < kMembers; ++k) {
    ASSERT_TRUE(status[k].ok()) << k << ": " << status[k];
    EXPECT_EQ(engines[k].rim(), expected[k].rim()) << "member " << k;
    EXPECT_TRUE(all_seen[k]) << "member " << k;
  }
  EXPECT_EQ(hooks, 2 * kMembers);
  const ChainBatch::Stats st = batch.stats();
  EXPECT_EQ(st.requests, 2u * kMembers);
  // Kernel: 4 distinct starts (0=1, 2=3, 4, 5). Firmware: 3 at 0x88000000
  // (0=1 and 2=3 still share their RIM) and member 5 at 0x90000000.
  EXPECT_EQ(st.distinct, 4u + 4u);
}

TEST(ChainBatch, CancelStopsOnlyThatChain) {
  const HashAlgorithm a = HashAlgorithm::kSha512;
  const std::vector<uint8_t> d = Digests(a, 600, 5);
  ChainBatch batch(2, 1);
  Engine stopped = Realm(a, 2), going = Realm(a, 3);
  const Engine expected = OneByOne(going, 0x80000000, d);
  int polls = 0;
  const CancelCheck cancel = [&polls]() -> absl::Status {
    return ++polls >= 2 ? absl::CancelledError("call cancelled")
                        : absl::OkStatus();
  };
  absl::Status s1, s2;
  std::thread t([&] {
    s1 = batch.Measure(stopped, 0x80000000, d.data(), 600, cancel, {});
    batch.Leave();
  });
  s2 = batch.Measure(going, 0x80000000, d.data(), 600, CancelCheck(), {});
  batch.Leave();
  t.join();
  EXPECT_EQ(s1.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(polls, 2);
  ASSERT_TRUE(s2.ok()) << s2;
  EXPECT_EQ(going.rim(), expected.rim());
}

}  // namespace
}  // namespace realm_measurements::measure
