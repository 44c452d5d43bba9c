// Signed CoRIM: a COSE_Sign1 (RFC 9052 §4.2) over an unsigned CoRIM, with
// the signer's X.509 chain in the protected x5chain header (RFC 9360), as
// Veraison 2026 requires for `application/rim+cose` (spec-token-corim §3.12).
//
//   18([ << {1: alg, 3: "application/rim+cbor", 8: << corim-meta >>,
//           33: x5chain} >>, {}, << 501({...}) >>, signature r||s ])
//
// ES256 / ES384 / ES512 with P-256 / P-384 / P-521 keys. The COSE layer
// (algorithms, Sig_structure, sign, verify, envelope decode) is corim/cose.h;
// all crypto goes through base/crypto.h.
#ifndef REALM_MEASUREMENTS_CORIM_SIGNED_CORIM_H_
#define REALM_MEASUREMENTS_CORIM_SIGNED_CORIM_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/crypto.h"
#include "corim/comid.h"
#include "corim/cose.h"
#include "corim/reference_values.h"

namespace realm_measurements::corim {

// The algorithm that matches a key's curve (P-256 -> ES256, ...); kept for
// callers of this header, same as CoseAlgorithmMatchingCurve (cose.h).
inline CoseAlgorithm CoseAlgorithmForCurve(crypto::Curve curve) {
  return CoseAlgorithmMatchingCurve(curve);
}

// corim-meta protected header label (spec §3.12); alg, content type and
// x5chain are kCoseLabel* in corim/cose.h.
inline constexpr int64_t kCoseHeaderCorimMeta = 8;
// Content type of the signed payload, fixed by veraison/corim (§3.12).
inline constexpr absl::string_view kSignedCorimContentType =
    "application/rim+cbor";

// Who signs: the private key, its certificate chain (leaf first, then any
// intermediates; not the root) and the name for the corim-meta map.
// Move-only (holds a private key). Build with FromPem, which checks that the
// key belongs to the leaf certificate.
struct CorimSigner {
  crypto::EcPrivateKey key;
  std::vector<crypto::Certificate> chain;
  std::string signer_name;
  std::optional<std::string> signer_uri;  // meta 0/1, 32(uri)
  std::optional<Validity> validity;       // meta 1 (signature validity)

  // `key_pem`: PKCS#8 or SEC1 EC private key; `chain_pem`: one or more
  // certificates, leaf first. kInvalidArgument when the PEM is bad, the
  // chain is empty or the key is not the leaf's key.
  static absl::StatusOr<CorimSigner> FromPem(absl::string_view key_pem,
                                             absl::string_view chain_pem,
                                             std::string signer_name);
};

// Signs an already encoded unsigned CoRIM (it must start with tag 501).
// Returns the COSE_Sign1 bytes and SignedCorimMediaType(profile).
absl::StatusOr<EncodedObject> SignCorimBytes(
    absl::Span<const uint8_t> unsigned_corim, Profile profile,
    const CorimSigner& signer);
// EncodeCorim + SignCorimBytes.
absl::StatusOr<EncodedObject> SignCorim(const ReferenceValues& values,
                                        Profile profile,
                                        const CorimSigner& signer);

struct VerifiedCorim {
  DecodedCorim corim;
  CoseAlgorithm algorithm = CoseAlgorithm::kEs256;
  std::string signer_name;
  std::string leaf_subject;      // RFC 2253 text of the x5chain leaf
  std::vector<uint8_t> payload;  // the signed unsigned-CoRIM bytes
};

// Verifies a signed CoRIM against `trust_anchor`, then decodes its payload.
// Checks, in order:
//  * COSE_Sign1 structure: tag 18, 4 elements, protected header a bstr
//    holding a map with alg (ES256/384/512), content type
//    "application/rim+cbor", corim-meta (with a signer name) and x5chain;
//    attached payload (kInvalidArgument otherwise);
//  * the x5chain leaf chains to `trust_anchor` through the other x5chain
//    certificates at `unix_time` (none = now) (kUnauthenticated);
//  * the leaf key's curve matches alg (kInvalidArgument);
//  * the ECDSA signature over Sig_structure ["Signature1", protected, h'',
//    payload] verifies with the leaf key (kUnauthenticated);
//  * the payload is an unsigned CoRIM of a realm profile (DecodeCorim).
absl::StatusOr<VerifiedCorim> VerifySignedCorim(
    absl::Span<const uint8_t> bytes, const crypto::Certificate& trust_anchor,
    std::optional<int64_t> unix_time = std::nullopt);
// Every check of VerifySignedCorim but the last: the payload is returned
// undecoded (`corim` left empty), for callers that decode CoRIMs of any
// profile themselves (the gRPC server also stores platform CoRIMs).
absl::StatusOr<VerifiedCorim> VerifySignedCorimSignature(
    absl::Span<const uint8_t> bytes, const crypto::Certificate& trust_anchor,
    std::optional<int64_t> unix_time = std::nullopt);

}  // namespace realm_measurements::corim

#endif  // REALM_MEASUREMENTS_CORIM_SIGNED_CORIM_H_
