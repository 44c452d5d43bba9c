// COSE_Sign1 (RFC 9052 §4) with ECDSA (ES256/ES384/ES512, raw r || s) and
// EC2 COSE_Key (RFC 9053 §7.1), as used by CCA attestation tokens and signed
// CoRIMs. Spec: spec-token-corim §1.3 (envelope, Sig_structure, algorithms),
// §1.5 (COSE_Key labels), §7.1.
//
// The protected header and payload are kept exactly as received: the
// Sig_structure is built from those bytes, never from a re-encoding.
#ifndef REALM_MEASUREMENTS_CORIM_COSE_H_
#define REALM_MEASUREMENTS_CORIM_COSE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/crypto.h"
#include "corim/cbor.h"

namespace realm_measurements::corim {

// COSE algorithm ids (RFC 9053 §2.1; spec-token-corim §1.3 table).
enum class CoseAlgorithm : int64_t {
  kEs256 = -7,
  kEs384 = -35,
  kEs512 = -36,
};

// kInvalidArgument for any other id (alg must be ECDSA, §1.3).
absl::StatusOr<CoseAlgorithm> CoseAlgorithmFromId(int64_t id);
// "ES256", "ES384", "ES512".
const char* CoseAlgorithmName(CoseAlgorithm alg);
// ES256 <-> P-256/SHA-256, ES384 <-> P-384/SHA-384, ES512 <-> P-521/SHA-512.
crypto::Curve CoseAlgorithmCurve(CoseAlgorithm alg);
crypto::DigestAlgorithm CoseAlgorithmDigest(CoseAlgorithm alg);
// The algorithm whose curve is `curve`.
CoseAlgorithm CoseAlgorithmMatchingCurve(crypto::Curve curve);
// "P-256", "P-384", "P-521" (one copy, in base/crypto).
using crypto::CurveName;

// COSE header and key labels (RFC 9052 §3.1, RFC 9360 §2, RFC 9053 §7.1).
inline constexpr int64_t kCoseLabelAlg = 1;
inline constexpr int64_t kCoseLabelContentType = 3;
inline constexpr int64_t kCoseLabelX5Chain = 33;
inline constexpr int64_t kCoseKeyKty = 1;
inline constexpr int64_t kCoseKeyCrv = -1;
inline constexpr int64_t kCoseKeyX = -2;
inline constexpr int64_t kCoseKeyY = -3;
inline constexpr int64_t kCoseKtyEc2 = 2;
// COSE elliptic curves (RFC 9053 §7.1 table 18).
inline constexpr int64_t kCoseCrvP256 = 1;
inline constexpr int64_t kCoseCrvP384 = 2;
inline constexpr int64_t kCoseCrvP521 = 3;

// A decoded COSE_Sign1.
struct CoseSign1 {
  bool tagged = false;                   // carried tag 18
  std::vector<uint8_t> protected_bytes;  // bstr content, as received
  CborValue protected_header;            // decoded map (empty when 0 bytes)
  CborValue unprotected;                 // map, contents ignored
  std::vector<uint8_t> payload;          // never detached for CCA
  std::vector<uint8_t> signature;        // raw r || s

  // The `alg` of the protected header; kInvalidArgument when absent,
  // not an integer, or not ES256/ES384/ES512.
  absl::StatusOr<CoseAlgorithm> Algorithm() const;
};

struct CoseDecodeOptions {
  // Reject a COSE_Sign1 without tag 18 (go-cose does; lenient mode accepts
  // it, §1.3).
  bool require_tag = true;
  // Bounds for the envelope and the protected header decode.
  DecodeLimits limits;
};

// Decodes `[protected: bstr, unprotected: map, payload: bstr, signature:
// bstr]`, optionally tagged 18. `what` names the input in errors.
absl::StatusOr<CoseSign1> DecodeCoseSign1(
    absl::Span<const uint8_t> bytes, absl::string_view what,
    const CoseDecodeOptions& options = {});
absl::StatusOr<CoseSign1> CoseSign1FromCbor(
    const CborValue& value, absl::string_view what,
    const CoseDecodeOptions& options = {});

// Sig_structure for Sign1 (RFC 9052 §4.4): the definite-length encoding of
// ["Signature1", protected, external_aad, payload], with the given
// protected-header bytes wrapped as a bstr.
std::vector<uint8_t> SigStructure(absl::Span<const uint8_t> protected_bytes,
                                  absl::Span<const uint8_t> external_aad,
                                  absl::Span<const uint8_t> payload);

// Verifies `sign1` with `key`: alg from the protected header, alg and key
// curve must agree, signature length 2 * field size, ECDSA over the
// Sig_structure (empty external_aad). kUnauthenticated on a bad signature,
// kInvalidArgument on malformed input or disagreeing alg/curve.
absl::Status VerifyCoseSign1(const CoseSign1& sign1,
                             const crypto::EcPublicKey& key);

// Signs `payload` with the algorithm matching the key's curve and returns
// the tagged encoding 18([<<{1: alg, extra...}>>, {}, payload, r || s]).
// `extra_protected` entries follow alg in the given order (signed CoRIMs put
// content type, corim-meta and x5chain there); it must not hold label 1.
absl::StatusOr<std::vector<uint8_t>> SignCoseSign1(
    absl::Span<const uint8_t> payload, const crypto::EcPrivateKey& key,
    CborValue::Map extra_protected = {});

// EC2 COSE_Key {1: 2, -1: crv, -2: x, -3: y} (other labels ignored; y must
// be a bstr, the compressed form is rejected). On-curve is checked.
absl::StatusOr<crypto::EcPublicKey> CoseKeyToPublicKey(
    const CborValue& key, absl::string_view what = "COSE_Key");
absl::StatusOr<crypto::EcPublicKey> DecodeCoseKey(
    absl::Span<const uint8_t> bytes, absl::string_view what = "COSE_Key");
// The four labels in TF-RMM's order, which is also the deterministic order.
absl::StatusOr<std::vector<uint8_t>> EncodeCoseKey(
    const crypto::EcPublicKey& key);

}  // namespace realm_measurements::corim

#endif  // REALM_MEASUREMENTS_CORIM_COSE_H_
