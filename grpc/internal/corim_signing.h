// Signed-CoRIM export behind a header that does not include
// corim/signed_corim.h: that header and corim/token.h (via corim/cose.h)
// both define corim::CoseAlgorithm, so no translation unit can include
// both (reported to the corim owners). service.cc needs token.h.
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_CORIM_SIGNING_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_CORIM_SIGNING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/crypto.h"
#include "corim/comid.h"
#include "corim/reference_values.h"

namespace realm_measurements::service::internal {

// corim::CorimSigner::FromPem + corim::SignCorim.
absl::StatusOr<corim::EncodedObject> SignCorimWithPem(
    const corim::ReferenceValues& values, corim::Profile profile,
    absl::string_view key_pem, absl::string_view chain_pem,
    std::string signer_name);

// A signed CoRIM (spec-token-corim §3.12) verified for provisioning: the
// unsigned CoRIM it carries and the subject of the x5chain leaf.
struct VerifiedProvisioning {
  std::vector<uint8_t> unsigned_corim;
  std::string signer_subject;
};

// corim::VerifySignedCorimSignature (the payload is decoded by the caller,
// either profile kind) against each of `trust_anchors` at `unix_time`
// (none = now) until one accepts it. When none does, the error is the most
// specific one: a failure after the chain reached an anchor (expired
// certificate, bad signature, bad payload) before "unable to get local
// issuer certificate". kFailedPrecondition when no anchor is configured.
absl::StatusOr<VerifiedProvisioning> VerifySignedCorimForProvisioning(
    absl::Span<const uint8_t> bytes,
    absl::Span<const crypto::Certificate> trust_anchors,
    std::optional<int64_t> unix_time = std::nullopt);

}  // namespace realm_measurements::service::internal

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_CORIM_SIGNING_H_
