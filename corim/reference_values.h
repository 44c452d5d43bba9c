// The reference-value model shared by every CoMID/CoRIM encoder and decoder:
// what a CCA realm endorsement says (realm hash algorithm, RIM, REM0-3, RPV)
// and the document metadata around it (tag identity, entities, validity).
// Plain structs; `Validate*` check the invariants the encoders rely on.
// Spec: spec-token-corim §1.4 (claims), §3.3-§3.7 (CoRIM/CoMID), §7.3.
#ifndef REALM_MEASUREMENTS_CORIM_REFERENCE_VALUES_H_
#define REALM_MEASUREMENTS_CORIM_REFERENCE_VALUES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace realm_measurements::corim {

// Realm hash algorithm (token claim 44236, RMI_HASH_*; §1.4).
enum class RealmHashAlgorithm { kSha256, kSha384, kSha512 };

// IANA "Named Information Hash Algorithm" ids used as CoRIM digest
// algorithms (§3.5). We always emit these integers (§7.3).
enum class NamedInfoHashId : uint64_t {
  kSha256 = 1,
  kSha384 = 7,
  kSha512 = 8,
};

// 32, 48, 64.
size_t DigestSize(RealmHashAlgorithm algorithm);
NamedInfoHashId NamedInfoId(RealmHashAlgorithm algorithm);
// "sha-256", "sha-384", "sha-512" (token and CoRIM text form).
const char* HashName(RealmHashAlgorithm algorithm);
// Inverse mappings; kInvalidArgument for anything else (sha3-* included:
// a realm never measures with them).
absl::StatusOr<RealmHashAlgorithm> HashFromNamedInfoId(uint64_t id);
absl::StatusOr<RealmHashAlgorithm> HashFromName(absl::string_view name);

// REM0..REM3 (§1.4, claim 44239).
inline constexpr int kRemCount = 4;
// Realm personalization value size (claim 44235; §3.7 requires all 64).
inline constexpr size_t kRpvSize = 64;

using Uuid = std::array<uint8_t, 16>;
// "43BBE37F-2E61-4B33-AED3-53CFF1428B16" (upper case, as the templates).
std::string UuidToString(const Uuid& uuid);
// Accepts either case; kInvalidArgument unless 8-4-4-4-12 hex digits.
absl::StatusOr<Uuid> UuidFromString(absl::string_view text);

// A tag-id or corim-id: text, or a UUID carried as a 16-byte bstr
// (§3.3 key 0, §3.4 key 1).
using Identifier = std::variant<std::string, Uuid>;

// CoMID tag identity (§3.4 key 1).
struct TagIdentity {
  Identifier id = std::string();
  // Absent means "not encoded" (the Go codecs drop version 0).
  std::optional<uint64_t> version;
  bool operator==(const TagIdentity& o) const {
    return id == o.id && version == o.version;
  }
};

// CoMID entity roles (§3.4 key 2).
enum class ComidRole : uint64_t {
  kTagCreator = 0,
  kCreator = 1,
  kMaintainer = 2
};
// CoRIM entity roles (§3.3 key 5).
enum class CorimRole : uint64_t { kManifestCreator = 1, kManifestSigner = 2 };

// An entity of a CoMID or CoRIM. `roles` holds ComidRole or CorimRole values.
struct Entity {
  std::string name;
  std::optional<std::string> regid;  // encoded as 32(uri)
  std::vector<uint64_t> roles;
  bool operator==(const Entity& o) const {
    return name == o.name && regid == o.regid && roles == o.roles;
  }
};

// CoRIM validity (§3.3 key 4): epoch seconds, encoded as 1(int).
struct Validity {
  std::optional<int64_t> not_before;
  int64_t not_after = 0;
  bool operator==(const Validity& o) const {
    return not_before == o.not_before && not_after == o.not_after;
  }
};

// Whether the window contains `time` (Unix seconds), both bounds included; no
// validity: always. Veraison 2026 appraises only with the triples of CoRIMs
// whose window contains "now" (spec-token-corim §3.10, §3.12); the bounds'
// inclusiveness is our reading (docs/validity.md).
bool ValidAt(const std::optional<Validity>& validity, int64_t time);
// kInvalidArgument "<where>: expected not-before <= not-after, found ..."
// for a negative window (veraison/corim Validity.Valid refuses it too).
absl::Status CheckValidity(const Validity& validity, absl::string_view where);

// How the CoRIM decoders (CorimFromCbor, PlatformCorimFromCbor) read what
// they would otherwise refuse.
struct CorimReadOptions {
  // Keep a negative validity window (not-before after not-after) instead of
  // refusing the CoRIM: no time is inside it, so its values are never used.
  // For CoRIMs a server stored before the decoders refused such windows; new
  // ones are still refused.
  bool keep_negative_validity = false;
};
// The last second RFC 3339 can write, 9999-12-31T23:59:59Z: times we are
// given (options, requests) stay within 0..this, so every report prints
// them as RFC 3339.
inline constexpr int64_t kMaxRfc3339Seconds = 253402300799;

// A time given on a command line: RFC 3339 ("2026-01-31T00:00:00Z", any
// offset) or decimal Unix seconds, from 1970 to kMaxRfc3339Seconds.
// kInvalidArgument "<what>: expected an RFC 3339 time
// (2026-01-31T00:00:00Z) or Unix seconds, found \"...\"".
absl::StatusOr<int64_t> ParseTimeText(absl::string_view text,
                                      absl::string_view what);
// Unix seconds as RFC 3339 UTC, "2025-12-31T00:00:00Z".
std::string EpochToRfc3339(int64_t time);
// "not-before 2021-12-31T00:00:00Z, not-after 2025-12-31T00:00:00Z" (or only
// the not-after).
std::string ValidityToText(const Validity& validity);

// One acceptable realm: one reference triple (§3.6, §3.7).
struct RealmReferenceValue {
  RealmHashAlgorithm algorithm = RealmHashAlgorithm::kSha256;
  std::vector<uint8_t> rim;  // DigestSize()
  std::array<std::optional<std::vector<uint8_t>>, kRemCount>
      rem;                                  // each DigestSize()
  std::optional<std::vector<uint8_t>> rpv;  // kRpvSize
  // Legacy profile only: the environment instance when it is not the RIM
  // (CoRIMs written by the reference Rust tool keep the template's bytes,
  // §7.3). Unset means "the RIM", which is what our encoder writes.
  std::optional<std::vector<uint8_t>> legacy_instance;

  bool operator==(const RealmReferenceValue& o) const {
    return algorithm == o.algorithm && rim == o.rim && rem == o.rem &&
           rpv == o.rpv && legacy_instance == o.legacy_instance;
  }
};

// Legacy profile environment class (§3.7): optional realm-owner UUID and
// vendor.
struct LegacyClass {
  std::optional<Uuid> class_id;  // 37(uuid)
  std::optional<std::string> vendor;
  bool operator==(const LegacyClass& o) const {
    return class_id == o.class_id && vendor == o.vendor;
  }
};

// One CoMID (§3.4).
struct Comid {
  std::optional<std::string> language;  // key 0, e.g. "en-GB"
  TagIdentity tag_identity;             // key 1
  std::vector<Entity> entities;         // key 2 (omitted when empty)
  // Legacy profile only; the 2025 profile forbids anything but class-id in
  // the environment (exact-match lookup, §3.6).
  std::optional<LegacyClass> legacy_class;
  std::vector<RealmReferenceValue> realms;  // key 4 / 0, at least one

  bool operator==(const Comid& o) const {
    return language == o.language && tag_identity == o.tag_identity &&
           entities == o.entities && legacy_class == o.legacy_class &&
           realms == o.realms;
  }
};

// One unsigned CoRIM (§3.3) with its CoMIDs: the whole reference-value set.
struct ReferenceValues {
  Identifier corim_id = std::string();  // key 0
  std::optional<Validity> validity;     // key 4
  std::vector<Entity> entities;         // key 5 (omitted when empty)
  std::vector<Comid> comids;            // key 1, at least one

  bool operator==(const ReferenceValues& o) const {
    return corim_id == o.corim_id && validity == o.validity &&
           entities == o.entities && comids == o.comids;
  }
};

// Checks sizes: RIM and every REM exactly DigestSize(algorithm) bytes, RPV
// exactly kRpvSize. kInvalidArgument naming the field, expected and found.
absl::Status ValidateRealm(const RealmReferenceValue& realm);
// ValidateRealm for every realm, at least one realm per CoMID, at least one
// CoMID, a non-empty identifier, entity names non-empty.
absl::Status ValidateReferenceValues(const ReferenceValues& values);
absl::Status ValidateComid(const Comid& comid);

}  // namespace realm_measurements::corim

#endif  // REALM_MEASUREMENTS_CORIM_REFERENCE_VALUES_H_
