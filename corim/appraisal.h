// Appraisal of a verified CCA token against realm reference values, and the
// Veraison-compatible EAR (EAT Attestation Result) built from it.
// Spec: spec-token-corim §4.4 (platform submod), §4.5 (realm submod, the
// Veraison 2026 candidate loop), §4.6 (trust claim values and tiers), §5
// (EAR claims, JSON, JWT).
//
// Integrity failures follow Veraison 2026 (§4.1 step 7) by default: any
// failed check (freshness, platform signature, realm key, realm signature,
// binding) sets every claim of both submods to 99. The rust-ccatoken mapping
// (§4.5 end: platform signature bad -> platform 99, realm 0; a realm check
// bad -> realm 99, platform still appraised) is kept behind
// IntegrityFailureMode::kSeparate.
//
// Platform appraisal (§4.4) runs when platform endorsements are given; the
// CPAK can come from their trust anchors (§4.2), and a token whose
// implementation-id + instance-id has none is the §4.1 step 3 result.
#ifndef REALM_MEASUREMENTS_CORIM_APPRAISAL_H_
#define REALM_MEASUREMENTS_CORIM_APPRAISAL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/crypto.h"
#include "corim/platform_endorsements.h"
#include "corim/reference_values.h"
#include "corim/token.h"
#include "corim/verify.h"

namespace realm_measurements::corim {

// AR4SI trust claim values used here (§4.6).
enum TrustClaimValue : int {
  kTrustVerifierMalfunction = -1,
  kTrustNoClaim = 0,
  kTrustUnexpectedEvidence = 1,
  kTrustAffirming = 2,      // recognized / approved / genuine
  kTrustApprovedBoot = 3,   // executables: approved boot only
  kTrustUnsafeConfig = 32,  // configuration / runtime-opaque "isolated"
  kTrustUnrecognizedRuntime = 33,
  kTrustContraindicated = 96,
  kTrustUnrecognized = 97,
  kTrustCryptoFailed = 99,
};

// The eight AR4SI claims, in the CBOR key order 0..7 (§5.2).
struct TrustVector {
  int instance_identity = 0;
  int configuration = 0;
  int executables = 0;
  int file_system = 0;
  int hardware = 0;
  int runtime_opaque = 0;
  int storage_opaque = 0;
  int sourced_data = 0;

  void SetAll(int value);
  bool operator==(const TrustVector& o) const;
};

// Tiers of §4.6, ordered none < affirming < warning < contraindicated.
enum class TrustTier {
  kNone = 0,
  kAffirming = 2,
  kWarning = 32,
  kContraindicated = 96
};
TrustTier TierOf(int value);
// Worst tier among the claims; "none" when all are none.
TrustTier StatusOf(const TrustVector& vector);
// "none", "affirming", "warning", "contraindicated".
const char* TierName(TrustTier tier);

enum class FieldOutcome { kMatch, kMismatch, kNotSupplied };

// One compared field of one reference value.
struct FieldMatch {
  std::string field;  // "rim", "rpv", "rem0".."rem3", "hash-algorithm"
  FieldOutcome outcome = FieldOutcome::kNotSupplied;
  std::string expected;  // hex (or algorithm name); empty if not supplied
  std::string found;     // from the token
};

// The comparison of the token with one reference value (store order).
struct CandidateReport {
  size_t index = 0;
  std::vector<FieldMatch> fields;
  // The executables value this candidate alone yields (§4.5), or 0 when its
  // RIM differs (not a candidate).
  int executables = 0;
};

// How failed integrity checks map onto the two submods.
enum class IntegrityFailureMode {
  kVeraison2026,  // any failure: both submods all 99 (§4.1 step 7)
  kSeparate,      // rust-ccatoken: per token (§4.5 end)
};

// The CoRIM validity check (spec-token-corim §3.10, §3.12): Veraison 2026
// appraises only with the triples of CoRIMs whose validity window contains
// "now". The callers that hold CoRIMs (the indexes, the CLI) leave the other
// triples out and count here those that concern the token, so that a RIM
// matching nothing or a missing CPAK is explained in the result.
struct ValidityCheck {
  int64_t time = 0;                // Unix seconds the windows were checked at
  size_t realm_values = 0;         // values with the token's RIM left out
  size_t platform_references = 0;  // triples of its implementation-id
  size_t trust_anchors = 0;        // CPAK triples of its implementation-id +
                                   // instance-id
  bool operator==(const ValidityCheck& o) const {
    return time == o.time && realm_values == o.realm_values &&
           platform_references == o.platform_references &&
           trust_anchors == o.trust_anchors;
  }
};

struct AppraisalOptions {
  VerifyOptions verify;
  // §8 q8: nobody checks today. When set, a reference value whose algorithm
  // differs from token claim 44236 is not a candidate.
  bool require_hash_algorithm_match = false;
  IntegrityFailureMode integrity_failures = IntegrityFailureMode::kVeraison2026;
  // Platform reference triples (any implementation-id; those of the
  // token's are used). nullptr: the platform firmware is not appraised and
  // configuration/executables stay 0 (no claim).
  const std::vector<PlatformReferenceValue>* platform_references = nullptr;
  // CPAK store. Used when `verify.cpak` is null: the anchor of the token's
  // implementation-id + instance-id is the CPAK; none is the §4.1 step 3
  // result (both submods 99, "no trust anchor for evidence").
  // With `verify.key_cache`, each trust anchor's PEM is parsed once across
  // calls (same keys, same errors).
  const std::vector<PlatformTrustAnchor>* trust_anchors = nullptr;
  // Set when the references and anchors above were chosen by CoRIM validity
  // at a time; copied to the result and named in its problems.
  std::optional<ValidityCheck> validity;
};

// The platform half of the per-field report (§4.4).
struct PlatformReport {
  bool appraised = false;  // platform endorsements were given
  // Indexes (into AppraisalOptions::platform_references) of the triples of
  // the token's implementation-id, in order; the last config among them is
  // the reference (Veraison keeps the last one).
  std::vector<size_t> references;
  // "lifecycle", "config", then "sw-component[i]" per token component.
  std::vector<FieldMatch> fields;
};

struct Submod {
  TrustVector vector;
  std::string policy_id = "policy:ARM_CCA";
  std::optional<std::string> problem;  // ear.veraison.policy-claims
  TrustTier status() const { return StatusOf(vector); }
};

struct AppraisalResult {
  VerificationReport verification;
  Submod platform;  // CCA_SSD_PLATFORM
  Submod realm;     // CCA_REALM
  std::vector<CandidateReport> candidates;
  // Index into `candidates` of the reference value that decided the realm
  // executables claim, if any.
  std::optional<size_t> matched;
  PlatformReport platform_report;
  // Where the CPAK came from: "given", "trust anchor <i>" or empty.
  std::string cpak_source;
  // The first failing integrity check (order of §4.3: freshness, platform
  // signature, realm key, realm signature, binding) as "<check>: <detail>",
  // or "trust anchor: ..." when no CPAK was found; empty when none failed.
  std::string first_failure;
  // AppraisalOptions::validity.
  std::optional<ValidityCheck> validity;

  // Both submods affirming.
  bool affirms() const;
};

// Verifies and appraises. `references` are the acceptable realms (inline,
// from a CoRIM, or from a store).
AppraisalResult AppraiseCcaToken(
    const CcaToken& token, absl::Span<const RealmReferenceValue> references,
    const AppraisalOptions& options);

// The §4.1 step 3 problem: "no trust anchor for evidence (implementation-id
// H, instance-id H)", plus how many CPAK triples for them were outside
// their CoRIM validity when `validity` counted any.
std::string NoTrustAnchorProblem(const CcaToken& token,
                                 const std::optional<ValidityCheck>& validity);

// Every RealmReferenceValue of every CoMID of a decoded CoRIM, in order.
std::vector<RealmReferenceValue> FlattenReferenceValues(
    const ReferenceValues& values);

// EAR top-level fields that do not come from the appraisal (§5.1).
struct EarOptions {
  int64_t issued_at = 0;  // iat, Unix seconds
  std::string verifier_build = "realm-measurements";
  std::string verifier_developer = "realm-measurements project";
  // eat_nonce (base64url with padding) when set.
  std::optional<std::vector<uint8_t>> nonce;
};

// The EAR claims set as a JSON document (§5.1-§5.2): eat_profile, iat,
// ear.verifier-id, optional eat_nonce, submods CCA_SSD_PLATFORM and
// CCA_REALM with status, all eight trust claims, policy id, annotated
// evidence (Veraison JSON claim names, standard base64) and policy claims.
std::string EarToJson(const CcaToken& token, const AppraisalResult& result,
                      const EarOptions& options);

// The "kid" of an EAR signing key: its RFC 7638 JWK thumbprint (SHA-256 of
// {"crv":"P-256","kty":"EC","x":"...","y":"..."}, base64url without
// padding), so every replica names one key alike. P-256 only.
absl::StatusOr<std::string> EarKeyId(const crypto::EcPrivateKey& key);

// JWS compact serialisation with ES256 (RFC 7515/7518): header
// {"alg":"ES256","kid":EarKeyId(key),"typ":"JWT"}, payload = `ear_json`,
// signature raw r || s, all base64url without padding. kInvalidArgument
// unless `key` is P-256.
absl::StatusOr<std::string> SignEarJwt(absl::string_view ear_json,
                                       const crypto::EcPrivateKey& key);

// An EAR signing key with its kid and JWS protected header computed once:
// Sign() gives what SignEarJwt() gives for the same key, with only the
// ECDSA signature done per call. Thread-safe (const).
class EarSigner {
 public:
  // kInvalidArgument unless `key` is a P-256 key.
  static absl::StatusOr<EarSigner> Create(
      std::shared_ptr<const crypto::EcPrivateKey> key);

  const std::string& kid() const { return kid_; }
  const crypto::EcPrivateKey& key() const { return *key_; }
  absl::StatusOr<std::string> Sign(absl::string_view ear_json) const;

 private:
  EarSigner() = default;
  std::shared_ptr<const crypto::EcPrivateKey> key_;
  std::string kid_;
  std::string encoded_header_;
};

// Human-readable report: checks, per-candidate field matches, what CoRIM
// validity left out (when anything), vectors.
std::string AppraisalToText(const AppraisalResult& result);
// {"verification": ..., "candidates": [...], "ear": <EarToJson>} as JSON.
std::string AppraisalToJson(const CcaToken& token,
                            const AppraisalResult& result,
                            const EarOptions& options);

// The JSON documents a service returns for one appraisal, each serialised
// once (the report embeds the other two as objects): byte for byte
// EarToJson, VerificationReportToJson(result.verification) and
// AppraisalToJson of the same arguments.
struct AppraisalDocuments {
  std::string ear_json;
  std::string verification_json;
  std::string report_json;
};
AppraisalDocuments AppraisalToDocuments(const CcaToken& token,
                                        const AppraisalResult& result,
                                        const EarOptions& options);

}  // namespace realm_measurements::corim

#endif  // REALM_MEASUREMENTS_CORIM_APPRAISAL_H_
