#include "grpc/internal/corim_signing.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "corim/signed_corim.h"

namespace realm_measurements::service::internal {

absl::StatusOr<corim::EncodedObject> SignCorimWithPem(
    const corim::ReferenceValues& values, corim::Profile profile,
    absl::string_view key_pem, absl::string_view chain_pem,
    std::string signer_name) {
  absl::StatusOr<corim::CorimSigner> signer =
      corim::CorimSigner::FromPem(key_pem, chain_pem, std::move(signer_name));
  if (!signer.ok()) {
    return absl::Status(signer.status().code(),
                        absl::StrCat("signer: ", signer.status().message()));
  }
  return corim::SignCorim(values, profile, *signer);
}

}  // namespace realm_measurements::service::internal
