// The one wrapper over the EVP subset shared by OpenSSL 3 and BoringSSL.
// Every other file in the project reaches libcrypto through this header.
#ifndef REALM_MEASUREMENTS_MEASURE_CRYPTO_H_
#define REALM_MEASUREMENTS_MEASURE_CRYPTO_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace realm_measurements::crypto {

enum class DigestAlgorithm { kSha256, kSha384, kSha512 };

// 32, 48 or 64.
size_t DigestSize(DigestAlgorithm algorithm);
// "sha256", "sha384", "sha512".
const char* DigestName(DigestAlgorithm algorithm);

// Streaming digest. Copying a Digest copies its running state, so a common
// prefix can be hashed once and forked.
class Digest {
 public:
  static absl::StatusOr<Digest> Create(DigestAlgorithm algorithm);

  Digest(const Digest& other);
  Digest& operator=(const Digest& other);
  Digest(Digest&&) noexcept;
  Digest& operator=(Digest&&) noexcept;
  ~Digest();

  DigestAlgorithm algorithm() const { return algorithm_; }
  size_t size() const { return DigestSize(algorithm_); }

  absl::Status Update(absl::Span<const uint8_t> data);
  // Writes size() bytes to `out` (which must hold at least size() bytes).
  // The digest can not be updated afterwards until Reset().
  absl::Status Finish(absl::Span<uint8_t> out);
  absl::StatusOr<std::vector<uint8_t>> Finish();
  absl::Status Reset();

 private:
  struct State;
  Digest(DigestAlgorithm algorithm, std::unique_ptr<State> state);
  DigestAlgorithm algorithm_;
  std::unique_ptr<State> state_;
};

// One-shot digest.
absl::StatusOr<std::vector<uint8_t>> HashOnce(DigestAlgorithm algorithm,
                                              absl::Span<const uint8_t> data);

enum class Curve { kP256, kP384, kP521 };

// Size in bytes of one coordinate / scalar: 32, 48, 66.
size_t CurveFieldSize(Curve curve);

// An EC public key, checked to be on its curve when constructed.
class EcPublicKey {
 public:
  // SEC1 uncompressed point (0x04 || X || Y).
  static absl::StatusOr<EcPublicKey> FromSec1(Curve curve,
                                              absl::Span<const uint8_t> point);
  // Affine coordinates, each exactly CurveFieldSize() bytes.
  static absl::StatusOr<EcPublicKey> FromCoordinates(
      Curve curve, absl::Span<const uint8_t> x, absl::Span<const uint8_t> y);
  // SubjectPublicKeyInfo, PEM ("-----BEGIN PUBLIC KEY-----") or DER.
  static absl::StatusOr<EcPublicKey> FromPem(absl::string_view pem);
  static absl::StatusOr<EcPublicKey> FromDer(absl::Span<const uint8_t> der);

  EcPublicKey(EcPublicKey&&) noexcept;
  EcPublicKey& operator=(EcPublicKey&&) noexcept;
  ~EcPublicKey();

  Curve curve() const { return curve_; }
  // SEC1 uncompressed encoding.
  absl::StatusOr<std::vector<uint8_t>> ToSec1() const;

  // Verifies an ECDSA signature over `message` (hashed with `digest`).
  // `signature` is raw r || s (COSE form), 2 * CurveFieldSize() bytes.
  // Returns OK, or an error naming what failed (a mismatch is
  // absl::StatusCode::kUnauthenticated).
  absl::Status VerifyRaw(DigestAlgorithm digest,
                         absl::Span<const uint8_t> message,
                         absl::Span<const uint8_t> signature) const;
  // Same with a DER-encoded ECDSA-Sig-Value.
  absl::Status VerifyDer(DigestAlgorithm digest,
                         absl::Span<const uint8_t> message,
                         absl::Span<const uint8_t> signature) const;

 private:
  struct Key;
  EcPublicKey(Curve curve, std::unique_ptr<Key> key);
  Curve curve_;
  std::unique_ptr<Key> key_;
};

// The error queue of the crypto library, as one line (for error messages).
std::string LibraryErrorText();

// "OpenSSL 3.0.x" or "BoringSSL": which backend this binary was built with.
const char* BackendName();

}  // namespace realm_measurements::crypto

#endif  // REALM_MEASUREMENTS_MEASURE_CRYPTO_H_
