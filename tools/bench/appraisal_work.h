// File: tools/bench/appraisal_work.h
//
// The appraisal workloads, the in-process costs and the same-run signature
// limit shared by //tools/bench:appraisal and //tools/bench:appraise_load
// (issue 18). Costs are thread CPU seconds per call, so a busy machine
// slows the clock but not the figure much; each is the best of interleaved
// rounds, the limit measured between the rounds it is compared with.
#ifndef REALM_MEASUREMENTS_TOOLS_BENCH_APPRAISAL_WORK_H_
#define REALM_MEASUREMENTS_TOOLS_BENCH_APPRAISAL_WORK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/crypto.h"
#include "corim/appraisal.h"
#include "corim/platform_token_cache.h"
#include "corim/public_key_cache.h"
#include "corim/reference_values.h"

namespace realm_measurements::bench {

struct Workload {
  std::string name;
  std::vector<uint8_t> token;
  // The CPAK as a client sends it (AppraiseTokenRequest.cpak), and parsed.
  std::string cpak_text;
  std::shared_ptr<const crypto::EcPublicKey> cpak;
  std::vector<corim::RealmReferenceValue> refs;
};

// cca-token-02.cbor (ES256 platform, ES384 realm), its CPAK from
// ta-iak-p256.json and the reference values of corim-cca-realm-2025.cbor,
// read from `dir` (testdata/vectors): the gRPC load workload.
absl::StatusOr<Workload> Token02(const std::string& dir);
// The draft-ffm-00 vector (ES384 + ES384) with cpak-tfm-p384.jwk.json and
// reference values equal to its realm claims.
absl::StatusOr<Workload> DraftFfm00(const std::string& dir);

// The ECDSA verifications one appraisal of a workload needs, timed the way
// `openssl speed ecdsapNNN` does: OpenSSL's ECDSA_do_verify with the keys
// loaded and the digests computed beforehand.
class VerifyLimit {
 public:
  static absl::StatusOr<std::unique_ptr<VerifyLimit>> For(const Workload& w);
  virtual ~VerifyLimit() = default;
  virtual bool Platform() const = 0;       // the CPAK's signature
  virtual bool Realm() const = 0;          // the RAK's signature
  virtual std::string Curves() const = 0;  // e.g. "P-256 + P-384"
};

// Thread CPU seconds per call of each function: `rounds` rounds, each
// running every function for about `seconds` of CPU in turn; the best
// (lowest) round of each. Fails if a call returns false.
absl::StatusOr<std::vector<double>> CpuSecondsPerCall(
    const std::vector<std::function<bool()>>& fns, double seconds, int rounds);

// One in-process appraisal: decode, then AppraiseCcaToken with the parsed
// CPAK, and the platform-token and key caches when given (a hit skips the
// platform signature and the RAK parse). True when it affirms.
bool AppraiseOnce(const Workload& w, corim::PlatformTokenCache* platform,
                  corim::PublicKeyCache* keys);

// What the AppraiseToken handler does in the library per call: decode, the
// CPAK text through `keys`, appraisal with both caches, the three JSON
// documents and the EAR JWT.
bool AppraiseWithEarOnce(const Workload& w, corim::PlatformTokenCache& platform,
                         corim::PublicKeyCache& keys,
                         const corim::EarSigner& signer);

}  // namespace realm_measurements::bench

#endif  // REALM_MEASUREMENTS_TOOLS_BENCH_APPRAISAL_WORK_H_
