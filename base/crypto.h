// The one wrapper over the EVP subset shared by OpenSSL 3 and BoringSSL.
// Every other file in the project reaches libcrypto through this header.
#ifndef REALM_MEASUREMENTS_BASE_CRYPTO_H_
#define REALM_MEASUREMENTS_BASE_CRYPTO_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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

// Fast one-shot digest into a caller buffer, for the many small inputs of
// the sequential RIM chain (256-byte descriptors, 4 KiB granules). Same bytes
// as HashOnce; it skips the EVP layer (OpenSSL 3's low-level SHA-2
// functions, deprecated but present, and BoringSSL's), which makes a
// 256-byte SHA-256 ~15% cheaper on OpenSSL 3 (tools/bench:descriptor_hash;
// no difference on BoringSSL). Writes DigestSize(algorithm) bytes to `out`,
// which must hold at least that many; bytes past them are untouched.
// Allocates nothing.
absl::Status HashSmall(DigestAlgorithm algorithm, absl::Span<const uint8_t> in,
                       absl::Span<uint8_t> out);

// Digests of `count` messages of `length` bytes each: message i at
// data + i * length, its digest at out + i * out_stride (out_stride >=
// DigestSize). The granule contents of a RIM are this shape. Independent
// messages are hashed several at a time when the CPU allows
// (HashEachLanes): SHA-256 four at a time with the SHA extensions
// (base/internal/sha256_x4.h), SHA-384/512 eight at a time with AVX-512
// (base/internal/sha512_x8.h), a last group that is at least half full
// too; the rest through HashSmall. Same bytes either way. Allocates
// nothing.
absl::Status HashEach(DigestAlgorithm algorithm, const uint8_t* data,
                      size_t count, size_t length, uint8_t* out,
                      size_t out_stride);

// Messages HashEach hashes at once for `algorithm` on this CPU: 4, 8, or 1
// (one at a time, HashSmall). 1 for all when the environment variable
// REALM_MEASUREMENTS_MULTI_BUFFER is "0" (read once; for comparisons,
// docs/performance.md).
int HashEachLanes(DigestAlgorithm algorithm);

enum class Curve { kP256, kP384, kP521 };

// "P-256", "P-384", "P-521" (the names in FIPS 186-5 §6.1.1 / RFC 9053).
const char* CurveName(Curve curve);

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
  friend class EcPrivateKey;
  friend class Certificate;
  struct Key;
  EcPublicKey(Curve curve, std::unique_ptr<Key> key);
  Curve curve_;
  std::unique_ptr<Key> key_;
};

// An EC private key (P-256/P-384/P-521). Move-only.
class EcPrivateKey {
 public:
  // PKCS#8 ("-----BEGIN PRIVATE KEY-----") or SEC1 ("-----BEGIN EC PRIVATE
  // KEY-----"), unencrypted.
  static absl::StatusOr<EcPrivateKey> FromPem(absl::string_view pem);
  // A fresh random key (tests, throw-away signers).
  static absl::StatusOr<EcPrivateKey> Generate(Curve curve);

  EcPrivateKey(EcPrivateKey&&) noexcept;
  EcPrivateKey& operator=(EcPrivateKey&&) noexcept;
  ~EcPrivateKey();

  Curve curve() const { return curve_; }
  absl::StatusOr<EcPublicKey> PublicKey() const;
  // ECDSA over `message` hashed with `digest`; raw r || s (COSE form),
  // each CurveFieldSize() bytes, big-endian, left-padded with zeros.
  absl::StatusOr<std::vector<uint8_t>> SignRaw(
      DigestAlgorithm digest, absl::Span<const uint8_t> message) const;
  // Unencrypted PKCS#8 PEM.
  absl::StatusOr<std::string> ToPem() const;

 private:
  struct Key;
  EcPrivateKey(Curve curve, std::unique_ptr<Key> key);
  Curve curve_;
  std::unique_ptr<Key> key_;
};

// An X.509 certificate. Parsing checks the encoding only, not validity.
// Copyable (shares the immutable parsed certificate).
class Certificate {
 public:
  // One "-----BEGIN CERTIFICATE-----" block (text after it is an error).
  static absl::StatusOr<Certificate> FromPem(absl::string_view pem);
  // Exactly one DER certificate (trailing bytes are an error).
  static absl::StatusOr<Certificate> FromDer(absl::Span<const uint8_t> der);
  // Every certificate of a PEM bundle, in order (at least one).
  static absl::StatusOr<std::vector<Certificate>> AllFromPem(
      absl::string_view pem);

  Certificate(const Certificate&);
  Certificate& operator=(const Certificate&);
  Certificate(Certificate&&) noexcept;
  Certificate& operator=(Certificate&&) noexcept;
  ~Certificate();

  const std::vector<uint8_t>& der() const;
  // The subject key; kUnimplemented when it is not an EC key on a supported
  // curve.
  absl::StatusOr<EcPublicKey> PublicKey() const;
  // One line, RFC 2253 style ("CN=leaf,O=Example").
  std::string SubjectText() const;
  std::string IssuerText() const;

 private:
  friend absl::Status VerifyChain(const Certificate&,
                                  absl::Span<const Certificate>,
                                  const Certificate&, std::optional<int64_t>);
  struct Cert;
  explicit Certificate(std::shared_ptr<const Cert> cert);
  std::shared_ptr<const Cert> cert_;
};

// Verifies that `leaf` chains to `trust_anchor` through (a subset of)
// `intermediates`: signatures, validity periods at `unix_time` (seconds;
// none = now), CA flags and path constraints, as the library's X.509 verifier
// does. A failure is kUnauthenticated naming the reason, the depth and the
// subject of the offending certificate.
absl::Status VerifyChain(const Certificate& leaf,
                         absl::Span<const Certificate> intermediates,
                         const Certificate& trust_anchor,
                         std::optional<int64_t> unix_time = std::nullopt);

// The error queue of the crypto library, as one line (for error messages).
std::string LibraryErrorText();

// "OpenSSL 3.0.x" or "BoringSSL": which backend this binary was built with.
const char* BackendName();

}  // namespace realm_measurements::crypto

#endif  // REALM_MEASUREMENTS_BASE_CRYPTO_H_
