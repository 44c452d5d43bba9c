#include "grpc/internal/corim_signing.h"

#include <utility>

#include "absl/strings/match.h"
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

absl::StatusOr<VerifiedProvisioning> VerifySignedCorimForProvisioning(
    absl::Span<const uint8_t> bytes,
    absl::Span<const crypto::Certificate> trust_anchors,
    std::optional<int64_t> unix_time) {
  if (trust_anchors.empty()) {
    return absl::FailedPreconditionError(
        "signed CoRIM: expected CoRIM trust anchors on the server to verify "
        "it against, found none (start the server with "
        "--corim_trust_anchors=PEM)");
  }
  absl::Status best;
  bool best_specific = false;
  for (const crypto::Certificate& anchor : trust_anchors) {
    absl::StatusOr<corim::VerifiedCorim> v =
        corim::VerifySignedCorimSignature(bytes, anchor, unix_time);
    if (v.ok()) {
      VerifiedProvisioning out;
      out.unsigned_corim = std::move(v->payload);
      out.signer_subject = std::move(v->leaf_subject);
      return out;
    }
    // A chain that did not reach this anchor says least.
    const bool specific = !absl::StrContains(
        v.status().message(), "unable to get local issuer certificate");
    if (best.ok() || (specific && !best_specific)) {
      best = v.status();
      best_specific = specific;
    }
  }
  return best;
}

}  // namespace realm_measurements::service::internal
