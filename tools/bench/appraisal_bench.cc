// CCA token appraisal throughput on one core: decode + platform signature
// + realm signature (+ binding) + reference-value compare, per iteration.
// Cases: the draft-ffm-00 vector (ES384 platform, ES384 realm, COSE_Key RAK)
// and a synthesised realm#2.0.0 token in form B (ES256 platform, ES384
// realm). Prints appraisals/second.
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "benchmark/benchmark.h"
#include "corim/appraisal.h"
#include "corim/internal/token_samples.h"
#include "corim/token.h"
#include "corim/verify.h"

namespace {

namespace c = realm_measurements::corim;
namespace crypto = realm_measurements::crypto;

struct Fixture {
  std::vector<uint8_t> token;
  std::unique_ptr<crypto::EcPublicKey> cpak;
  std::vector<c::RealmReferenceValue> refs;
};

// A reference value equal to the token's realm claims (full match, the
// most comparisons).
std::vector<c::RealmReferenceValue> RefsFor(const std::vector<uint8_t>& bytes) {
  auto t = c::DecodeCcaToken(bytes);
  c::RealmReferenceValue r;
  r.algorithm = c::RealmHashAlgorithm::kSha256;
  r.rim = t->realm.initial_measurement;
  for (int i = 0; i < c::kRemCount; ++i) {
    r.rem[i] = t->realm.extensible_measurements[i];
  }
  r.rpv = t->realm.personalization_value;
  return {r};
}

Fixture DraftVector() {
  Fixture f;
  std::ifstream in("testdata/vectors/cca-token-draft-ffm-00.cbor",
                   std::ios::binary);
  f.token.assign(std::istreambuf_iterator<char>(in), {});
  std::ifstream k("testdata/vectors/cpak-tfm-p384.jwk.json");
  std::string jwk((std::istreambuf_iterator<char>(k)), {});
  auto key = c::LoadPublicKey(jwk);
  if (!key.ok() || f.token.empty()) return f;
  f.cpak = std::make_unique<crypto::EcPublicKey>(std::move(*key));
  f.refs = RefsFor(f.token);
  return f;
}

Fixture Synthesised() {
  Fixture f;
  auto cpak = crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
  auto rak = crypto::EcPrivateKey::Generate(crypto::Curve::kP384);
  auto bytes = c::SignCcaToken(
      c::TopLevelForm::kCmwCollection, c::internal::SamplePlatformClaims(),
      c::internal::SampleRealmClaims(c::RealmProfile::kV2, "sha-256"), *cpak,
      *rak);
  if (!bytes.ok()) return f;
  f.token = *bytes;
  f.cpak = std::make_unique<crypto::EcPublicKey>(*cpak->PublicKey());
  f.refs = RefsFor(f.token);
  return f;
}

void Run(benchmark::State& state, const Fixture& f) {
  if (!f.cpak) {
    state.SkipWithError("fixture unavailable (run with bazel run)");
    return;
  }
  c::AppraisalOptions options;
  options.verify.cpak = f.cpak.get();
  for (auto _ : state) {
    auto token = c::DecodeCcaToken(f.token);
    c::AppraisalResult r = c::AppraiseCcaToken(*token, f.refs, options);
    if (!r.affirms()) {
      state.SkipWithError("appraisal did not affirm");
      return;
    }
    benchmark::DoNotOptimize(r);
  }
  state.counters["appraisals/s"] =
      benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
}

void BM_AppraiseDraftVectorEs384Es384(benchmark::State& state) {
  static const Fixture f = DraftVector();
  Run(state, f);
}
BENCHMARK(BM_AppraiseDraftVectorEs384Es384)->Unit(benchmark::kMicrosecond);

void BM_AppraiseSynthesisedEs256Es384(benchmark::State& state) {
  static const Fixture f = Synthesised();
  Run(state, f);
}
BENCHMARK(BM_AppraiseSynthesisedEs256Es384)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
