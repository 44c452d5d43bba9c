// CCA token appraisal per CPU-second on one core against the signature
// limit measured in the same run (issue 18). Per workload (the gRPC load's
// token 02, ES256 + ES384; the draft-ffm-00 vector, ES384 + ES384):
//   - appraisal without cache: decode + platform and realm signatures + RAK
//     + binding + reference values, against ECDSA_do_verify of both
//     signatures with loaded keys and precomputed digests (`openssl speed`'s
//     measure);
//   - with the platform token and the RAK cached (both repeat across a
//     realm's attestations): against the realm signature alone;
//   - the handler's library work (CPAK text, JSON documents, EAR JWT) for
//     reference.
// Thread CPU time, best of interleaved rounds. Prints figures; exits 1 only
// if an appraisal fails.
//   ./bazelw run -c opt //tools/bench:appraisal [-- --rounds=7 --seconds=1]
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "base/crypto.h"
#include "corim/appraisal.h"
#include "corim/platform_token_cache.h"
#include "corim/public_key_cache.h"
#include "tools/bench/appraisal_work.h"

ABSL_FLAG(double, seconds, 0.5, "CPU seconds per function per round");
ABSL_FLAG(int, rounds, 5, "interleaved rounds (the best of each is kept)");
ABSL_FLAG(std::string, vectors, "testdata/vectors", "test vector directory");

namespace realm_measurements::bench {
namespace {

int RunWorkload(const Workload& w) {
  absl::StatusOr<std::unique_ptr<VerifyLimit>> limit = VerifyLimit::For(w);
  if (!limit.ok()) {
    std::fprintf(stderr, "ERROR %s\n", limit.status().ToString().c_str());
    return 1;
  }
  const VerifyLimit& l = **limit;
  corim::PlatformTokenCache warm(16);
  corim::PublicKeyCache keys(16);
  absl::StatusOr<crypto::EcPrivateKey> ear_key =
      crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
  if (!ear_key.ok()) return 1;
  absl::StatusOr<corim::EarSigner> signer = corim::EarSigner::Create(
      std::make_shared<const crypto::EcPrivateKey>(*std::move(ear_key)));
  if (!signer.ok()) return 1;
  absl::StatusOr<std::vector<double>> cpu = CpuSecondsPerCall(
      {
          [&] { return AppraiseOnce(w, nullptr, nullptr); },
          [&] { return l.Platform() && l.Realm(); },
          [&] { return AppraiseOnce(w, &warm, &keys); },
          [&] { return l.Realm(); },
          [&] { return AppraiseWithEarOnce(w, warm, keys, *signer); },
      },
      absl::GetFlag(FLAGS_seconds), absl::GetFlag(FLAGS_rounds));
  if (!cpu.ok()) {
    std::fprintf(stderr, "ERROR %s: %s\n", w.name.c_str(),
                 cpu.status().ToString().c_str());
    return 1;
  }
  const std::vector<double>& c = *cpu;
  std::printf("%s\n", w.name.c_str());
  std::printf(
      "  appraisal, no cache:         %7.0f /s (%6.1f us)  limit %s verify "
      "%7.0f /s  ratio %.2fx\n",
      1 / c[0], c[0] * 1e6, l.Curves().c_str(), 1 / c[1], c[1] / c[0]);
  std::printf(
      "  appraisal, caches hit:       %7.0f /s (%6.1f us)  limit realm "
      "verify     %7.0f /s  ratio %.2fx\n",
      1 / c[2], c[2] * 1e6, 1 / c[3], c[3] / c[2]);
  std::printf(
      "  + handler library work (CPAK text, JSON, EAR JWT): %7.0f /s (%6.1f "
      "us)\n",
      1 / c[4], c[4] * 1e6);
  return 0;
}

int Run() {
  const std::string dir = absl::GetFlag(FLAGS_vectors);
  std::printf(
      "In-process appraisal, one core: calls per thread-CPU second, best of "
      "%d rounds of %.1f s; target ratio >= 0.90x\n",
      absl::GetFlag(FLAGS_rounds), absl::GetFlag(FLAGS_seconds));
  int rc = 0;
  for (auto make : {Token02, DraftFfm00}) {
    absl::StatusOr<Workload> w = make(dir);
    if (!w.ok()) {
      std::fprintf(stderr, "ERROR %s (run with bazel run)\n",
                   w.status().ToString().c_str());
      return 1;
    }
    rc |= RunWorkload(*w);
  }
  return rc;
}

}  // namespace
}  // namespace realm_measurements::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return realm_measurements::bench::Run();
}
