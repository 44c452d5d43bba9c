// Arm CCA attestation token: the top-level collection (tag 399 with byte
// strings, or tag 907 with CMW records [263, bstr]), the two COSE_Sign1
// envelopes and the platform and realm claim sets as typed values.
// Spec: spec-token-corim §1.2 (top level), §1.3 (envelope), §1.4-§1.6
// (claims), §1.9 (profiles), §7.1-§7.2 (decoder modes).
//
// Decoding checks structure and types only; sizes, ranges and profile
// consistency are lint findings (corim/verify.h, §7.2) so that a lenient
// verifier accepts what Veraison accepts. Raw protected headers and payloads
// are kept for the signature checks.
#ifndef REALM_MEASUREMENTS_CORIM_TOKEN_H_
#define REALM_MEASUREMENTS_CORIM_TOKEN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/crypto.h"
#include "corim/cbor.h"
#include "corim/cose.h"

namespace realm_measurements::corim {

// Top-level tags (§1.2).
inline constexpr uint64_t kTagCcaEatCollection = 399;  // form A
inline constexpr uint64_t kTagCcaCmwCollection = 907;  // form B
// Collection keys (§1.2).
inline constexpr uint64_t kKeyPlatformToken = 44234;
inline constexpr uint64_t kKeyRealmToken = 44241;
// CoAP content-format application/eat+cwt in CMW records (§1.2 form B).
inline constexpr uint64_t kContentFormatEatCwt = 263;

// Realm claim keys (§1.4).
enum RealmClaimKey : uint64_t {
  kRealmChallenge = 10,
  kRealmInstanceId = 256,
  kRealmProfile = 265,
  kRealmPersonalizationValue = 44235,
  kRealmHashAlgorithm = 44236,
  kRealmPublicKey = 44237,
  kRealmInitialMeasurement = 44238,
  kRealmExtensibleMeasurements = 44239,
  kRealmPublicKeyHashAlgorithm = 44240,
  kRealmMecPolicyOld = 44241,  // text MEC policy, TF-RMM 2025-01..2025-10
  kRealmMecPolicy = 44243,
};

// Platform claim keys (§1.6).
enum PlatformClaimKey : uint64_t {
  kPlatformChallenge = 10,
  kPlatformInstanceId = 256,
  kPlatformProfile = 265,
  kPlatformLifecycle = 2395,
  kPlatformImplementationId = 2396,
  kPlatformSwComponents = 2399,
  kPlatformServiceIndicator = 2400,
  kPlatformConfig = 2401,
  kPlatformHashAlgorithm = 2402,
};

// Profile strings (§1.4, §1.6).
inline constexpr absl::string_view kRealmProfile2023 =
    "tag:arm.com,2023:realm#1.0.0";
inline constexpr absl::string_view kRealmProfile2024 =
    "tag:arm.com,2024:realm#2.0.0";
inline constexpr absl::string_view kPlatformProfile2023 =
    "tag:arm.com,2023:cca_platform#1.0.0";
inline constexpr absl::string_view kPlatformProfileLegacy =
    "http://arm.com/CCA-SSD/1.0.0";

enum class TopLevelForm { kEatCollection, kCmwCollection };

// Realm profile generations (§1.9). kUnknown: a profile string we do not
// know; the RAK is then read as a COSE_Key.
enum class RealmProfile { kNone, kV1, kV2, kUnknown };
enum class PlatformProfile { kLegacy, kV1, kUnknown };

// A claim key as found (integer or text), for unknown-key reports.
using ClaimKey = std::variant<int64_t, std::string>;
std::string ClaimKeyToString(const ClaimKey& key);

struct SwComponent {
  std::optional<std::string> type;                  // 1
  std::optional<std::vector<uint8_t>> measurement;  // 2 (mandatory, L10)
  std::optional<std::string> version;               // 4
  std::optional<std::vector<uint8_t>> signer_id;    // 5 (mandatory, L10)
  std::optional<std::string> hash_algorithm;        // 6
};

struct PlatformClaims {
  std::string profile_text;
  PlatformProfile profile = PlatformProfile::kUnknown;
  std::vector<uint8_t> challenge;                // 10: the RAK hash
  std::vector<uint8_t> implementation_id;        // 2396
  std::vector<uint8_t> instance_id;              // 256
  std::vector<uint8_t> config;                   // 2401
  uint64_t lifecycle = 0;                        // 2395
  std::vector<SwComponent> sw_components;        // 2399
  std::optional<std::string> service_indicator;  // 2400
  std::string hash_algorithm;                    // 2402
  std::vector<ClaimKey> unknown_keys;
};

struct RealmClaims {
  std::optional<std::string> profile_text;  // 265
  RealmProfile profile = RealmProfile::kNone;
  std::vector<uint8_t> challenge;                   // 10
  std::optional<std::vector<uint8_t>> instance_id;  // 256 (2.0.0)
  std::vector<uint8_t> personalization_value;       // 44235
  std::string hash_algorithm;                       // 44236
  std::vector<uint8_t> public_key;  // 44237, the bytes exactly as carried
  std::vector<uint8_t> initial_measurement;                   // 44238
  std::vector<std::vector<uint8_t>> extensible_measurements;  // 44239
  std::string public_key_hash_algorithm;                      // 44240
  // MEC policy: 2.0.0 uint at 44243; older TF-RMM text at 44241 or 44243.
  std::optional<std::variant<uint64_t, std::string>> mec_policy;
  uint64_t mec_policy_key = 0;
  std::vector<ClaimKey> unknown_keys;
};

struct CcaToken {
  TopLevelForm form = TopLevelForm::kCmwCollection;
  // Content-format of each CMW record (form B only; 0 for form A).
  uint64_t platform_content_format = 0;
  uint64_t realm_content_format = 0;
  CoseSign1 platform_envelope;
  CoseSign1 realm_envelope;
  PlatformClaims platform;
  RealmClaims realm;
  // Unknown top-level collection keys (skipped in lenient mode).
  std::vector<ClaimKey> unknown_keys;
};

struct TokenDecodeOptions {
  // Strict: reject untagged COSE_Sign1, unknown top-level keys and
  // indefinite-length items (rust-ccatoken / veraison/ccatoken behaviour,
  // §1.2). Lenient (default): accept them (indefinite lengths anywhere in
  // the collection, the envelopes and the claim sets, §1.2 item 4).
  bool strict = false;
};

// Decodes the whole token. Errors are kInvalidArgument naming the part
// ("platform token", "realm token"), the claim, what was expected and found.
absl::StatusOr<CcaToken> DecodeCcaToken(absl::Span<const uint8_t> bytes,
                                        const TokenDecodeOptions& options = {});
// Claim sets alone (the COSE_Sign1 payloads).
absl::StatusOr<RealmClaims> DecodeRealmClaims(
    absl::Span<const uint8_t> payload, const TokenDecodeOptions& options = {});
absl::StatusOr<PlatformClaims> DecodePlatformClaims(
    absl::Span<const uint8_t> payload, const TokenDecodeOptions& options = {});
// The decode limits a mode uses (indefinite lengths only when lenient).
DecodeLimits TokenDecodeLimits(const TokenDecodeOptions& options);

// Encoders for synthesised tokens (tests, tools). Claims are written as
// given; `profile`/`profile_text` must agree (profile_text wins).
absl::StatusOr<std::vector<uint8_t>> EncodeRealmClaims(const RealmClaims& c);
absl::StatusOr<std::vector<uint8_t>> EncodePlatformClaims(
    const PlatformClaims& c);
// The top-level collection around two encoded COSE_Sign1 envelopes;
// `content_format` is used for form B.
absl::StatusOr<std::vector<uint8_t>> EncodeCcaToken(
    TopLevelForm form, absl::Span<const uint8_t> platform_cose,
    absl::Span<const uint8_t> realm_cose,
    uint64_t content_format = kContentFormatEatCwt);

// Signs and assembles a token (synthesised test tokens, §7.4). Fills what
// is left empty: the realm RAK (44237) from `rak` (raw SEC1 without a realm
// profile, COSE_Key otherwise) and the platform challenge with the binder
// H_44240(RAK bytes). Each envelope is signed with the algorithm of its
// key's curve.
absl::StatusOr<std::vector<uint8_t>> SignCcaToken(
    TopLevelForm form, PlatformClaims platform, RealmClaims realm,
    const crypto::EcPrivateKey& cpak, const crypto::EcPrivateKey& rak);

}  // namespace realm_measurements::corim

#endif  // REALM_MEASUREMENTS_CORIM_TOKEN_H_
