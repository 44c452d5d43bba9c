// CCA platform endorsements: the firmware reference values and the CPAK
// trust anchors of a CCA platform CoRIM, in the 2025 profile and the legacy
// one, decoded into plain structs for appraisal (corim/appraisal.h).
// Spec: spec-token-corim §3.2 (tags), §3.13 (media types), §3.14 (2025
// platform CoMID), §4.2 (CPAK lookup).
//
//   kCcaPlatform2025   "tag:arm.com,2025:cca_platform#1.0.0":
//     reference triple  [{0: {0: 560(impl-id)}}, [measurements]] where each
//       measurement is mkey "cca.software-component" with mval {2: [[alg,
//       digest]], 13: [560(signer-id)], ? 11: type, ? 0: {0: version}} or
//       mkey "cca.platform-config" with mval {4: raw-value, 5: mask}
//     attester-verification-keys triple
//       [{0: {0: 560(impl-id)}, 1: 550(inst-id)}, [554(PEM public key)]]
//   kCcaPlatformLegacy "http://arm.com/cca/ssd/1" (Veraison 2024-25):
//     class-id 600(impl-id) (+ vendor, model); mkey 601({? 1: type, ? 4:
//     version, 5: signer-id}) with mval {2: digests}, or 602(label) with
//     mval {4: 560(config)}; the same key triple with a 600 class-id.
//
// The 2025 rules are those of Veraison's profile validator (veraison/corim
// profiles/cca); each refusal names the CBOR path, what was expected and
// what was found. Two rules are ours: exactly one digest per component
// (Veraison refuses more only at appraisal time) and no instance in a
// reference-value environment (Veraison accepts it but its exact-match
// lookup can never find such a triple).
#ifndef REALM_MEASUREMENTS_CORIM_PLATFORM_ENDORSEMENTS_H_
#define REALM_MEASUREMENTS_CORIM_PLATFORM_ENDORSEMENTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "corim/cbor.h"
#include "corim/reference_values.h"

namespace realm_measurements::corim {

enum class PlatformEndorsementProfile { kCcaPlatform2025, kCcaPlatformLegacy };

// Profile identifiers (§3.13).
inline constexpr absl::string_view kProfileCcaPlatform2025 =
    "tag:arm.com,2025:cca_platform#1.0.0";
inline constexpr absl::string_view kProfileCcaPlatformLegacy =
    "http://arm.com/cca/ssd/1";
absl::string_view PlatformProfileId(PlatformEndorsementProfile profile);

// Measurement keys of the 2025 profile (§3.14).
inline constexpr absl::string_view kMkeySoftwareComponent =
    "cca.software-component";
inline constexpr absl::string_view kMkeyPlatformConfig = "cca.platform-config";

// CoRIM tags used only by platform endorsements (§3.2).
enum PlatformCorimTag : uint64_t {
  kTagPkixBase64Key = 554,        // PEM SubjectPublicKeyInfo text
  kTagMaskedRawValue = 563,       // [value, mask]
  kTagArmImplementationId = 600,  // legacy class-id
  kTagPsaRefValId = 601,          // legacy sw-component mkey
  kTagCcaPlatformConfigId = 602,  // legacy platform-config mkey
};

// Sizes (§1.6): implementation-id 32 bytes, instance-id 33 bytes (0x01 +
// 32 random bytes).
inline constexpr size_t kImplementationIdSize = 32;
inline constexpr size_t kInstanceIdSize = 33;
inline constexpr uint8_t kUeidTypeRand = 0x01;

// One firmware component the platform may run.
struct PlatformComponentReference {
  std::optional<std::string> type;     // component type ("BL", "RMM", ...)
  std::optional<std::string> version;  // compared when given (§4.4)
  // Digest algorithm as carried: IANA id in decimal ("1") or its text.
  std::string algorithm;
  std::vector<uint8_t> measurement;  // 32/48/64 bytes
  std::vector<uint8_t> signer_id;    // 32/48/64 bytes
};

// One reference-value triple: what a platform of this implementation runs.
struct PlatformReferenceValue {
  std::vector<uint8_t> implementation_id;  // 32 bytes
  std::optional<std::string> vendor;       // legacy class only
  std::optional<std::string> model;        // legacy class only
  std::vector<PlatformComponentReference> components;
  std::optional<std::vector<uint8_t>> config;  // token claim 2401
  std::optional<std::vector<uint8_t>> config_mask;
  std::optional<std::string> config_label;  // legacy 602 label
};

// One CPAK (attester-verification-keys triple, §4.2).
struct PlatformTrustAnchor {
  std::vector<uint8_t> implementation_id;  // 32 bytes
  std::vector<uint8_t> instance_id;        // 33 bytes, 0x01 first
  std::string public_key_pem;              // 554 text as carried
};

struct PlatformEndorsements {
  PlatformEndorsementProfile profile =
      PlatformEndorsementProfile::kCcaPlatform2025;
  std::vector<PlatformReferenceValue> reference_values;
  std::vector<PlatformTrustAnchor> trust_anchors;
  // CoRIM key 4: the triples are used only inside it (§3.10).
  std::optional<Validity> validity;
};

// True when `profile_id` names a platform CoRIM profile (either one).
bool IsPlatformCorimProfile(absl::string_view profile_id);

// True when `corim` is an unsigned CoRIM (tag 501, optionally inside tag
// 500) whose profile (key 3, 32(uri) or text) names a platform profile: a
// cheap check of which decoder a CoRIM of unknown kind needs.
bool IsPlatformCorim(const CborValue& corim);

// Decodes an unsigned platform CoRIM (tag 501; an obsolete leading tag 500
// is skipped). kInvalidArgument naming the CBOR path on any rule above.
absl::StatusOr<PlatformEndorsements> DecodePlatformCorim(
    absl::Span<const uint8_t> bytes);
absl::StatusOr<PlatformEndorsements> PlatformCorimFromCbor(
    const CborValue& corim, const CorimReadOptions& options = {});

// The CPAK triple for (implementation-id, instance-id), or nullptr.
const PlatformTrustAnchor* FindPlatformTrustAnchor(
    absl::Span<const PlatformTrustAnchor> anchors,
    absl::Span<const uint8_t> implementation_id,
    absl::Span<const uint8_t> instance_id);

// The decoded endorsements as JSON (hex byte values), for tools.
std::string PlatformEndorsementsToJson(const PlatformEndorsements& e);

}  // namespace realm_measurements::corim

#endif  // REALM_MEASUREMENTS_CORIM_PLATFORM_ENDORSEMENTS_H_
