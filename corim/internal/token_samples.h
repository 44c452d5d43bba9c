// Test-only claim sets for synthesised CCA tokens (spec-token-corim §7.4):
// lint-clean platform and realm claims for any realm profile and hash.
#ifndef REALM_MEASUREMENTS_CORIM_INTERNAL_TOKEN_SAMPLES_H_
#define REALM_MEASUREMENTS_CORIM_INTERNAL_TOKEN_SAMPLES_H_

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "corim/token.h"

namespace realm_measurements::corim::internal {

// `n` bytes b, b+1, b+2, ... (mod 256).
std::vector<uint8_t> Pattern(size_t n, uint8_t first);

// Profile 2023, implementation-id 00*32, instance-id 01 02*32 (the
// ta-iak-p256.json entry), lifecycle secured, one sw-component. The
// challenge is left empty (SignCcaToken fills the binder).
PlatformClaims SamplePlatformClaims();

// Realm claims of `profile` measured with `hash` ("sha-256"/"sha-384"/
// "sha-512"): RIM and REMs of the digest size, 64-byte RPV and challenge,
// realm#2.0.0 extras (instance id, integer MEC policy). RAK left empty.
RealmClaims SampleRealmClaims(RealmProfile profile,
                              absl::string_view hash = "sha-256");

}  // namespace realm_measurements::corim::internal

#endif  // REALM_MEASUREMENTS_CORIM_INTERNAL_TOKEN_SAMPLES_H_
