// Verification of a decoded CCA token: freshness, platform signature (CPAK),
// realm key, realm signature (RAK) and the realm-to-platform binding, each
// reported separately, plus the strict-mode lint checks L1-L11.
// Spec: spec-token-corim §1.3 (signatures), §1.5 (RAK), §1.7 (binding),
// §1.8 (freshness), §4.3 (order of checks), §7.2 (lints).
#ifndef REALM_MEASUREMENTS_CORIM_VERIFY_H_
#define REALM_MEASUREMENTS_CORIM_VERIFY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/crypto.h"
#include "base/json_text.h"
#include "corim/platform_token_cache.h"
#include "corim/public_key_cache.h"
#include "corim/token.h"

namespace realm_measurements::corim {

// Realm challenge size; shorter verifier nonces are zero-padded (§1.8).
inline constexpr size_t kRealmChallengeSize = 64;

// Platform lifecycle state name for 2395 (§1.6 table), or nullopt when the
// value is in no defined range.
std::optional<absl::string_view> LifecycleStateName(uint64_t lifecycle);
// Secured or non-CCA-platform-RoT-debug (Veraison's platform verdict, §4.4).
bool LifecycleTrustworthy(uint64_t lifecycle);

// "sha-256"/"sha-384"/"sha-512" -> digest; kInvalidArgument otherwise.
absl::StatusOr<crypto::DigestAlgorithm> TokenHashAlgorithm(
    absl::string_view name);

// A public key from a file's contents: a JWK object, a trust-anchor store
// (JSON array of {"instance-id", "implementation-id", "pkey"}: the entry
// whose instance-id matches `instance_id` is used), a PEM SubjectPublicKeyInfo
// or a CBOR COSE_Key. On-curve is checked in every case.
absl::StatusOr<crypto::EcPublicKey> LoadPublicKey(
    absl::string_view contents, absl::Span<const uint8_t> instance_id = {});
absl::StatusOr<crypto::EcPublicKey> PublicKeyFromJwk(absl::string_view json);
// The same through `cache`: each distinct (contents, instance_id) is parsed
// once (a client that sends its CPAK with every call).
absl::StatusOr<PublicKeyCache::Key> LoadPublicKey(
    PublicKeyCache& cache, absl::string_view contents,
    absl::Span<const uint8_t> instance_id = {});

// The RAK of claim 44237: raw SEC1 point without a realm profile, COSE_Key
// with any profile (§1.5, §1.9).
absl::StatusOr<crypto::EcPublicKey> RealmAttestationKey(
    const RealmClaims& realm);

// `nonce` right-padded with zeros to 64 bytes; kInvalidArgument if longer.
absl::StatusOr<std::vector<uint8_t>> PadNonce(absl::Span<const uint8_t> nonce);

enum class CheckStatus { kSkipped, kPass, kFail };
const char* CheckStatusName(CheckStatus status);

struct Check {
  CheckStatus status = CheckStatus::kSkipped;
  std::string detail;  // why it failed or was skipped, or what passed
  bool passed() const { return status == CheckStatus::kPass; }
};

// One lint finding (§7.2): id "L1".."L11".
struct LintFinding {
  std::string id;
  bool warning = false;  // warnings never fail strict mode
  std::string message;
};

struct VerifyOptions {
  // Platform key (CPAK). Without it the platform signature check fails.
  const crypto::EcPublicKey* cpak = nullptr;
  // Verifier nonce (1..64 bytes). Without it freshness is skipped.
  std::optional<std::vector<uint8_t>> nonce;
  // Run the lints; error-level findings then fail verification.
  bool strict = false;
  // Platform tokens already verified with this CPAK pass without a second
  // signature check (same report text); successes are added. Optional.
  PlatformTokenCache* platform_cache = nullptr;
  // The RAK of claim 44237 (and, in appraisal, trust-anchor PEMs) parsed
  // once per distinct bytes. Optional.
  PublicKeyCache* key_cache = nullptr;
};

struct VerificationReport {
  // Order of §4.3.
  Check freshness;
  Check platform_signature;
  Check realm_key;
  Check realm_signature;
  Check binding;
  bool strict = false;
  std::vector<LintFinding> lints;

  bool platform_verified() const { return platform_signature.passed(); }
  // Realm key, signature and binding pass and freshness did not fail.
  bool realm_verified() const;
  bool has_lint_errors() const;
  // Everything that ran passed (and no lint errors in strict mode).
  bool ok() const;
};

VerificationReport VerifyCcaToken(const CcaToken& token,
                                  const VerifyOptions& options);

// L1-L11 of §7.2 over the decoded token. `cpak` (optional) adds the
// platform half of L5.
std::vector<LintFinding> LintCcaToken(
    const CcaToken& token, const crypto::EcPublicKey* cpak = nullptr);

// Human-readable multi-line report and a JSON object (serialised).
std::string VerificationReportToText(const VerificationReport& report);
std::string VerificationReportToJson(const VerificationReport& report);
// The same JSON object written at the writer's position (the appraisal
// report embeds it).
void WriteVerificationReport(base::JsonWriter& w,
                             const VerificationReport& report);

}  // namespace realm_measurements::corim

#endif  // REALM_MEASUREMENTS_CORIM_VERIFY_H_
