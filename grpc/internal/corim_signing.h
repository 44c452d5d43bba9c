// Signed-CoRIM export behind a header that does not include
// corim/signed_corim.h: that header and corim/token.h (via corim/cose.h)
// both define corim::CoseAlgorithm, so no translation unit can include
// both (reported to the corim owners). service.cc needs token.h.
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_CORIM_SIGNING_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_CORIM_SIGNING_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "corim/comid.h"
#include "corim/reference_values.h"

namespace realm_measurements::service::internal {

// corim::CorimSigner::FromPem + corim::SignCorim.
absl::StatusOr<corim::EncodedObject> SignCorimWithPem(
    const corim::ReferenceValues& values, corim::Profile profile,
    absl::string_view key_pem, absl::string_view chain_pem,
    std::string signer_name);

}  // namespace realm_measurements::service::internal

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_CORIM_SIGNING_H_
