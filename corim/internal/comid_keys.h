// CBOR map keys of CoRIM and CoMID (spec-token-corim.md §3.2-§3.5), shared by
// the realm (corim/comid.cc) and platform (corim/platform_endorsements.cc)
// encoders and decoders.
#ifndef REALM_MEASUREMENTS_CORIM_INTERNAL_COMID_KEYS_H_
#define REALM_MEASUREMENTS_CORIM_INTERNAL_COMID_KEYS_H_

#include <cstdint>

namespace realm_measurements::corim {

// Obsolete "corim type choice" wrapper (§3.2).
inline constexpr uint64_t kTagCorimChoice = 500;

// unsigned-corim-map keys (§3.3).
enum CorimKey : uint64_t {
  kCorimId = 0,
  kCorimTags = 1,
  kCorimDependentRims = 2,
  kCorimProfile = 3,
  kCorimValidity = 4,
  kCorimEntities = 5,
};
// concise-mid-tag keys (§3.4).
enum ComidKey : uint64_t {
  kComidLanguage = 0,
  kComidTagIdentity = 1,
  kComidEntities = 2,
  kComidLinkedTags = 3,
  kComidTriples = 4,
};
// triples-map keys (§3.4): realms use reference values only; platforms also
// attester verification keys.
enum TriplesKey : uint64_t {
  kTriplesReferenceValues = 0,
  kTriplesAttesterVerificationKeys = 3,
};
// environment-map and class-map (§3.5).
enum EnvironmentKey : uint64_t { kEnvClass = 0, kEnvInstance = 1 };
enum ClassKey : uint64_t { kClassId = 0, kClassVendor = 1, kClassModel = 2 };
// measurement-map and measurement-values-map (§3.5).
enum MeasurementKey : uint64_t { kMkey = 0, kMval = 1 };
enum MvalKey : uint64_t {
  kMvalVersion = 0,
  kMvalDigests = 2,
  kMvalRawValue = 4,
  kMvalRawValueMask = 5,
  kMvalName = 11,
  kMvalCryptokeys = 13,
  kMvalIntegrityRegisters = 14,
};

}  // namespace realm_measurements::corim

#endif  // REALM_MEASUREMENTS_CORIM_INTERNAL_COMID_KEYS_H_
