// Cost of one 256-byte RIM descriptor hash (issue 8) through the project's
// crypto::Digest and through the library's one-shot entry points, to decide
// which path the sequential RIM chain should use. Each iteration feeds the
// digest back into the buffer, as the RIM chain does, so calls are serial.
//   ./bazelw run -c opt //tools/bench:descriptor_hash
//   ./bazelw run -c opt --config=boringssl //tools/bench:descriptor_hash
// The raw one-shots are deprecated in OpenSSL 3 but present in both backends.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "benchmark/benchmark.h"

namespace realm_measurements {
namespace {

using crypto::DigestAlgorithm;

constexpr size_t kDescriptorSize = 256;  // RmmMeasurementDescriptor image

std::array<uint8_t, kDescriptorSize> Buffer() {
  std::array<uint8_t, kDescriptorSize> buf;
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i);
  return buf;
}

DigestAlgorithm Algo(const benchmark::State& state) {
  return state.range(0) == 512 ? DigestAlgorithm::kSha512
                               : DigestAlgorithm::kSha256;
}

void SetLabel(benchmark::State& state) {
  state.SetLabel(std::string(crypto::DigestName(Algo(state))) + " " +
                 crypto::BackendName());
}

// (a) What Engine::HashInto does today.
void BM_DigestResetUpdateFinish(benchmark::State& state) {
  const DigestAlgorithm a = Algo(state);
  auto buf = Buffer();
  auto d = crypto::Digest::Create(a);
  if (!d.ok()) std::abort();
  uint8_t out[64];
  for (auto _ : state) {
    if (!d->Reset().ok() || !d->Update(buf).ok() ||
        !d->Finish(absl::MakeSpan(out, d->size())).ok()) {
      std::abort();
    }
    std::memcpy(buf.data() + 8, out, d->size());
  }
  SetLabel(state);
}

// (b) EVP_Digest one-shot (a fresh context per call inside the library).
void BM_EvpDigest(benchmark::State& state) {
  const DigestAlgorithm a = Algo(state);
  const EVP_MD* md =
      a == DigestAlgorithm::kSha512 ? EVP_sha512() : EVP_sha256();
  auto buf = Buffer();
  uint8_t out[64];
  unsigned int n = 0;
  for (auto _ : state) {
    if (EVP_Digest(buf.data(), buf.size(), out, &n, md, nullptr) != 1) {
      std::abort();
    }
    std::memcpy(buf.data() + 8, out, n);
  }
  SetLabel(state);
}

// (c) The low-level SHA256() / SHA512() one-shots.
void BM_LowLevelOneShot(benchmark::State& state) {
  const DigestAlgorithm a = Algo(state);
  auto buf = Buffer();
  uint8_t out[64];
  for (auto _ : state) {
    size_t n;
    if (a == DigestAlgorithm::kSha512) {
      SHA512(buf.data(), buf.size(), out);
      n = 64;
    } else {
      SHA256(buf.data(), buf.size(), out);
      n = 32;
    }
    std::memcpy(buf.data() + 8, out, n);
  }
  SetLabel(state);
}

// (d) The low-level Init/Update/Final on a stack context (no allocation).
void BM_LowLevelCtx(benchmark::State& state) {
  const DigestAlgorithm a = Algo(state);
  auto buf = Buffer();
  uint8_t out[64];
  for (auto _ : state) {
    size_t n;
    if (a == DigestAlgorithm::kSha512) {
      SHA512_CTX c;
      SHA512_Init(&c);
      SHA512_Update(&c, buf.data(), buf.size());
      SHA512_Final(out, &c);
      n = 64;
    } else {
      SHA256_CTX c;
      SHA256_Init(&c);
      SHA256_Update(&c, buf.data(), buf.size());
      SHA256_Final(out, &c);
      n = 32;
    }
    std::memcpy(buf.data() + 8, out, n);
  }
  SetLabel(state);
}

// (e) crypto::HashOnce as it exists (allocates its result vector).
void BM_HashOnce(benchmark::State& state) {
  const DigestAlgorithm a = Algo(state);
  auto buf = Buffer();
  for (auto _ : state) {
    auto out = crypto::HashOnce(a, buf);
    if (!out.ok()) std::abort();
    std::memcpy(buf.data() + 8, out->data(), out->size());
  }
  SetLabel(state);
}

// (f) crypto::HashSmall: the low-level path behind the project API, as the
// engine and the granule hasher use it.
void BM_HashSmall(benchmark::State& state) {
  const DigestAlgorithm a = Algo(state);
  auto buf = Buffer();
  uint8_t out[64];
  const size_t n = crypto::DigestSize(a);
  for (auto _ : state) {
    if (!crypto::HashSmall(a, buf, absl::MakeSpan(out, n)).ok()) std::abort();
    std::memcpy(buf.data() + 8, out, n);
  }
  SetLabel(state);
}

// (g) crypto::HashEach over as many independent chains as it has lanes
// (4 for SHA-256, 8 for SHA-512 on this CPU), each digest fed back into its
// own descriptor: what a sweep's lockstep chains do (measure/chain_batch.h).
// Items are descriptors, so time per item compares with (f).
void BM_HashEachLockstep(benchmark::State& state) {
  const DigestAlgorithm a = Algo(state);
  const size_t lanes = static_cast<size_t>(crypto::HashEachLanes(a));
  const size_t n = crypto::DigestSize(a);
  std::vector<uint8_t> bufs(lanes * kDescriptorSize);
  for (size_t l = 0; l < lanes; ++l) {
    auto b = Buffer();
    b[0] = static_cast<uint8_t>(l);
    std::memcpy(bufs.data() + l * kDescriptorSize, b.data(), b.size());
  }
  std::vector<uint8_t> out(lanes * 64);
  for (auto _ : state) {
    if (!crypto::HashEach(a, bufs.data(), lanes, kDescriptorSize, out.data(),
                          64)
             .ok()) {
      std::abort();
    }
    for (size_t l = 0; l < lanes; ++l) {
      std::memcpy(bufs.data() + l * kDescriptorSize + 8, out.data() + l * 64,
                  n);
    }
  }
  state.SetItemsProcessed(state.iterations() * lanes);
  state.SetLabel(std::string(crypto::DigestName(a)) + " " +
                 crypto::BackendName() + ", " + std::to_string(lanes) +
                 " chains a call");
}

// One thread, and two (a sweep runs one chain per core: shared library
// state such as reference counts then bounces between cores).
#define RM_DESCRIPTOR_BENCH(fn) \
  BENCHMARK(fn)->Arg(256)->Arg(512)->Threads(1)->Threads(2)->UseRealTime()
RM_DESCRIPTOR_BENCH(BM_DigestResetUpdateFinish);
RM_DESCRIPTOR_BENCH(BM_EvpDigest);
RM_DESCRIPTOR_BENCH(BM_LowLevelOneShot);
RM_DESCRIPTOR_BENCH(BM_LowLevelCtx);
RM_DESCRIPTOR_BENCH(BM_HashOnce);
RM_DESCRIPTOR_BENCH(BM_HashSmall);
RM_DESCRIPTOR_BENCH(BM_HashEachLockstep);

}  // namespace
}  // namespace realm_measurements

BENCHMARK_MAIN();
