// CoMID and unsigned CoRIM for CCA realm reference values, in the two
// profiles Veraison understands, plus the cocli / veraison-corim JSON
// templates of both generations. Spec: spec-token-corim §3.1-§3.13, §7.3.
//
//   Profile::kCcaRealm2025   "tag:arm.com,2025:cca_realm#1.0.0" (§3.6):
//     environment {0: {0: 560(RIM)}}, measurements keyed "cca.rim",
//     "cca.rem0".."cca.rem3" (digests) and "cca.rpv" (raw-value).
//   Profile::kCcaRealmLegacy "http://arm.com/cca/realm/1" (§3.7):
//     environment {? 0: class, 1: 560(RIM)}, one measurement without mkey
//     holding raw-value 560(RPV) and integrity registers "rim", "rem0"..
//
// Encoders write deterministic CBOR (corim/cbor.h), digests at the exact
// size of the realm algorithm with integer algorithm ids. Decoders parse only
// (they check structure and sizes, not signatures or freshness) and accept
// exactly the realm shapes above; anything else is kInvalidArgument naming
// the CBOR path, what was expected and what was found.
#ifndef REALM_MEASUREMENTS_CORIM_COMID_H_
#define REALM_MEASUREMENTS_CORIM_COMID_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "corim/cbor.h"
#include "corim/reference_values.h"

namespace realm_measurements::corim {

enum class Profile { kCcaRealm2025, kCcaRealmLegacy };

// Profile identifiers (§3.6, §3.7).
inline constexpr absl::string_view kProfileCcaRealm2025 =
    "tag:arm.com,2025:cca_realm#1.0.0";
inline constexpr absl::string_view kProfileCcaRealmLegacy =
    "http://arm.com/cca/realm/1";

absl::string_view ProfileId(Profile profile);

// Media types to submit with (§3.13). A CoMID on its own has no registered
// media type (it only travels inside a CoRIM): plain "application/cbor".
inline constexpr absl::string_view kMediaTypeCbor = "application/cbor";
inline constexpr absl::string_view kMediaTypeJson = "application/json";
std::string UnsignedCorimMediaType(Profile profile);
std::string SignedCorimMediaType(Profile profile);

// Encoded bytes and the media type to send them with.
struct EncodedObject {
  std::vector<uint8_t> bytes;
  std::string media_type;
};

// CoMID map (§3.4). Validates `comid` first.
absl::StatusOr<CborValue> ComidToCbor(const Comid& comid, Profile profile);
absl::StatusOr<EncodedObject> EncodeComid(const Comid& comid, Profile profile);
// 501({0: id, 1: [506(<< CoMID >>)...], 3: profile, ? 4: validity,
//      ? 5: entities}). Validates `values` first.
absl::StatusOr<EncodedObject> EncodeCorim(const ReferenceValues& values,
                                          Profile profile);

// Decodes one CoMID of the given profile.
absl::StatusOr<Comid> DecodeComid(absl::Span<const uint8_t> bytes,
                                  Profile profile);
absl::StatusOr<Comid> ComidFromCbor(const CborValue& comid, Profile profile);

struct DecodedCorim {
  Profile profile = Profile::kCcaRealm2025;
  ReferenceValues values;
};
// Decodes an unsigned CoRIM (tag 501; a leading obsolete tag 500 is
// skipped). The profile comes from key 3: 32(uri) or untagged text of either
// profile id; the encoders write 32(uri) for 2025 and untagged text for
// legacy (what Veraison 2024-25 wrote, §3.7), so our own output and the
// public vectors re-encode to identical bytes.
absl::StatusOr<DecodedCorim> DecodeCorim(absl::Span<const uint8_t> bytes);
// The CBOR decoder limits DecodeCorim applies (depth 24, 200,000 items,
// 4 MiB strings), for callers decoding a CoRIM's CBOR themselves.
DecodeLimits CorimLimits();
absl::StatusOr<DecodedCorim> CorimFromCbor(
    const CborValue& corim, const CorimReadOptions& options = {});
// CoRIM key 4, {? 0: 1(not-before), 1: 1(not-after)} (§3.3), for the realm
// and platform decoders; a negative window is refused unless
// `keep_negative`.
absl::StatusOr<Validity> ValidityFromCbor(
    const CborValue& validity, absl::string_view where = "corim.validity",
    bool keep_negative = false);

// JSON templates (§3.10): the corim 2026 dialect for kCcaRealm2025, the
// cocli 2024 dialect for kCcaRealmLegacy. Media type application/json.
absl::StatusOr<EncodedObject> EncodeComidJson(const Comid& comid,
                                              Profile profile);
// The CoRIM template (`cocli corim create --template`): corim-id, profile,
// validity, entities; the CoMIDs are passed to cocli separately.
absl::StatusOr<EncodedObject> EncodeCorimTemplateJson(
    const ReferenceValues& values, Profile profile);

// The decoded model as JSON (for `corim decode`): profile, ids, entities,
// validity and every realm with hex values.
std::string DecodedCorimToJson(const DecodedCorim& corim);

}  // namespace realm_measurements::corim

#endif  // REALM_MEASUREMENTS_CORIM_COMID_H_
