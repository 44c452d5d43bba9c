#include "base/crypto.h"

// The EC_KEY API and the low-level SHA-2 functions (HashSmall) are the subset
// both backends share; OpenSSL 3 marks them deprecated, so silence those
// warnings for this file only.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/internal/sha256_x4.h"
#include "base/internal/sha512_x8.h"

namespace realm_measurements::crypto {
namespace {

// One owning pointer type for every library object, on both backends.
template <typename T>
struct Deleter;
#define RM_DELETER(T, fn)                  \
  template <>                              \
  struct Deleter<T> {                      \
    void operator()(T* p) const { fn(p); } \
  }
RM_DELETER(EVP_MD_CTX, EVP_MD_CTX_free);
RM_DELETER(EVP_PKEY, EVP_PKEY_free);
RM_DELETER(EC_KEY, EC_KEY_free);
RM_DELETER(EC_POINT, EC_POINT_free);
RM_DELETER(ECDSA_SIG, ECDSA_SIG_free);
RM_DELETER(BIGNUM, BN_free);
RM_DELETER(BIO, BIO_free);
RM_DELETER(X509, X509_free);
RM_DELETER(X509_STORE, X509_STORE_free);
RM_DELETER(X509_STORE_CTX, X509_STORE_CTX_free);
#undef RM_DELETER
template <typename T>
using SslPtr = std::unique_ptr<T, Deleter<T>>;

// Upper bound on PEM/DER inputs handed to the library (its lengths are int).
constexpr size_t kMaxEncodedSize = 1 << 24;

absl::Status LibError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", LibraryErrorText()));
}

const EVP_MD* EvpMd(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kSha256:
      return EVP_sha256();
    case DigestAlgorithm::kSha384:
      return EVP_sha384();
    case DigestAlgorithm::kSha512:
      return EVP_sha512();
  }
  return nullptr;
}

int CurveNid(Curve curve) {
  switch (curve) {
    case Curve::kP256:
      return NID_X9_62_prime256v1;
    case Curve::kP384:
      return NID_secp384r1;
    case Curve::kP521:
      return NID_secp521r1;
  }
  return NID_undef;
}

absl::StatusOr<Curve> CurveFromNid(int nid) {
  switch (nid) {
    case NID_X9_62_prime256v1:
      return Curve::kP256;
    case NID_secp384r1:
      return Curve::kP384;
    case NID_secp521r1:
      return Curve::kP521;
    default:
      return absl::UnimplementedError(absl::StrCat(
          "unsupported EC curve: expected P-256, P-384 or P-521, found ",
          nid == NID_undef ? "an unnamed curve" : OBJ_nid2sn(nid)));
  }
}

absl::StatusOr<SslPtr<BIO>> MemBio(absl::string_view data,
                                   absl::string_view what) {
  if (data.size() > kMaxEncodedSize) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": input of ", data.size(),
                     " bytes exceeds the limit of ", kMaxEncodedSize));
  }
  SslPtr<BIO> bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (bio == nullptr) return LibError("BIO_new_mem_buf");
  return bio;
}

absl::StatusOr<std::string> BioContents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  if (n < 0 || (n > 0 && data == nullptr)) return LibError("BIO_get_mem_data");
  return std::string(data, static_cast<size_t>(n));
}

// Never prompts for a pass phrase: encrypted keys are rejected.
int NoPassword(char*, int, int, void*) { return -1; }

// A key type's name for messages ("RSA", "Ed25519"), not its NID.
std::string KeyTypeName(int id) {
  switch (id) {
    case EVP_PKEY_RSA:
      return "RSA";
    case EVP_PKEY_DSA:
      return "DSA";
    case EVP_PKEY_ED25519:
      return "Ed25519";
    case EVP_PKEY_X25519:
      return "X25519";
  }
  const char* sn = OBJ_nid2sn(id);
  return sn != nullptr ? std::string(sn) : absl::StrCat("#", id);
}

// The EC key inside `pkey` (a borrowed pointer), with its curve.
absl::StatusOr<std::pair<const EC_KEY*, Curve>> EcKeyOf(
    const EVP_PKEY* pkey, absl::string_view what) {
  if (EVP_PKEY_id(pkey) != EVP_PKEY_EC) {
    return absl::UnimplementedError(absl::StrCat(
        what, ": unsupported key type ", KeyTypeName(EVP_PKEY_id(pkey)),
        "; expected an EC key (P-256/P-384/P-521)"));
  }
  const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(const_cast<EVP_PKEY*>(pkey));
  if (ec == nullptr)
    return LibError(absl::StrCat(what, ": EVP_PKEY_get0_EC_KEY"));
  const EC_GROUP* group = EC_KEY_get0_group(ec);
  if (group == nullptr) return LibError(absl::StrCat(what, ": EC group"));
  absl::StatusOr<Curve> curve = CurveFromNid(EC_GROUP_get_curve_name(group));
  if (!curve.ok()) {
    return absl::Status(curve.status().code(),
                        absl::StrCat(what, ": ", curve.status().message()));
  }
  return std::make_pair(ec, *curve);
}

// Public-key validation for the prime-order NIST curves (cofactor 1): a
// finite point on the curve with coordinates below p (EC_POINT_oct2point
// rejects larger ones) has order n, so this is full validation (SP 800-56A
// rev3 §5.6.2.3.3; step 4, n·Q = O, is implied). EC_KEY_check_key in
// OpenSSL 3 also computes n·Q, a scalar multiplication as costly as a
// verification, for every token's RAK; other cofactors still take that path.
bool PublicPointValid(const EC_KEY* ec) {
  const EC_GROUP* group = EC_KEY_get0_group(ec);
  const EC_POINT* point = EC_KEY_get0_public_key(ec);
  if (group == nullptr || point == nullptr) return false;
  SslPtr<BIGNUM> cofactor(BN_new());
  if (cofactor == nullptr ||
      EC_GROUP_get_cofactor(group, cofactor.get(), nullptr) != 1) {
    return false;
  }
  if (!BN_is_one(cofactor.get())) return EC_KEY_check_key(ec) == 1;
  return EC_POINT_is_at_infinity(group, point) == 0 &&
         EC_POINT_is_on_curve(group, point, nullptr) == 1;
}

// ECDSA verification of `sig` over `message`; a mismatch is
// kUnauthenticated. The digest and ECDSA_do_verify on the key's EC_KEY are
// what EVP_DigestVerify does underneath; on OpenSSL 3 the EVP route adds a
// context, an algorithm fetch, a provider copy of the key and a DER round
// trip per call (about a tenth of a P-384 verification, issue 18).
absl::Status VerifySig(const EVP_PKEY* pkey, Curve curve,
                       DigestAlgorithm digest,
                       absl::Span<const uint8_t> message,
                       const ECDSA_SIG* sig) {
  auto ec = EcKeyOf(pkey, "public key");
  if (!ec.ok()) return ec.status();
  uint8_t md[EVP_MAX_MD_SIZE];
  if (absl::Status s = HashSmall(digest, message, absl::MakeSpan(md));
      !s.ok()) {
    return s;
  }
  if (ECDSA_do_verify(md, static_cast<int>(DigestSize(digest)), sig,
                      const_cast<EC_KEY*>(ec->first)) != 1) {
    ERR_clear_error();
    return absl::UnauthenticatedError(absl::StrCat("ECDSA signature mismatch (",
                                                   CurveName(curve), ", ",
                                                   DigestName(digest), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NameText(const X509_NAME* name) {
  SslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) return LibError("BIO_new");
  if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    return LibError("X509_NAME_print_ex");
  }
  return BioContents(bio.get());
}

}  // namespace

const char* CurveName(Curve curve) {
  switch (curve) {
    case Curve::kP256:
      return "P-256";
    case Curve::kP384:
      return "P-384";
    case Curve::kP521:
      return "P-521";
  }
  return "?";
}

// ---------------------------------------------------------------- Digests

size_t DigestSize(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kSha256:
      return 32;
    case DigestAlgorithm::kSha384:
      return 48;
    case DigestAlgorithm::kSha512:
      return 64;
  }
  return 0;
}

const char* DigestName(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kSha256:
      return "sha256";
    case DigestAlgorithm::kSha384:
      return "sha384";
    case DigestAlgorithm::kSha512:
      return "sha512";
  }
  return "?";
}

struct Digest::State {
  SslPtr<EVP_MD_CTX> ctx;
  bool finished = false;
};

Digest::Digest(DigestAlgorithm algorithm, std::unique_ptr<State> state)
    : algorithm_(algorithm), state_(std::move(state)) {}

absl::StatusOr<Digest> Digest::Create(DigestAlgorithm algorithm) {
  const EVP_MD* md = EvpMd(algorithm);
  if (md == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown digest algorithm ", static_cast<int>(algorithm)));
  }
  auto state = std::make_unique<State>();
  state->ctx.reset(EVP_MD_CTX_new());
  if (state->ctx == nullptr) return LibError("EVP_MD_CTX_new");
  if (EVP_DigestInit_ex(state->ctx.get(), md, nullptr) != 1) {
    return LibError("EVP_DigestInit_ex");
  }
  return Digest(algorithm, std::move(state));
}

Digest::Digest(const Digest& other) : algorithm_(other.algorithm_) {
  *this = other;
}

Digest& Digest::operator=(const Digest& other) {
  if (this == &other) return *this;
  algorithm_ = other.algorithm_;
  if (other.state_ == nullptr) {
    state_.reset();
    return *this;
  }
  if (state_ == nullptr) state_ = std::make_unique<State>();
  if (state_->ctx == nullptr) state_->ctx.reset(EVP_MD_CTX_new());
  // A failed copy leaves an unusable (null) state that reports an error on
  // first use, as copy constructors cannot return a status.
  if (state_->ctx == nullptr ||
      EVP_MD_CTX_copy_ex(state_->ctx.get(), other.state_->ctx.get()) != 1) {
    ERR_clear_error();
    state_.reset();
    return *this;
  }
  state_->finished = other.state_->finished;
  return *this;
}

Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;
Digest::~Digest() = default;

absl::Status Digest::Update(absl::Span<const uint8_t> data) {
  if (state_ == nullptr) {
    return absl::FailedPreconditionError(
        "digest: no state (moved from or failed copy)");
  }
  if (state_->finished) {
    return absl::FailedPreconditionError(
        "digest: Update after Finish without Reset");
  }
  if (data.empty()) return absl::OkStatus();
  if (EVP_DigestUpdate(state_->ctx.get(), data.data(), data.size()) != 1) {
    return LibError("EVP_DigestUpdate");
  }
  return absl::OkStatus();
}

absl::Status Digest::Finish(absl::Span<uint8_t> out) {
  if (state_ == nullptr) {
    return absl::FailedPreconditionError(
        "digest: no state (moved from or failed copy)");
  }
  if (state_->finished) {
    return absl::FailedPreconditionError(
        "digest: Finish called twice without Reset");
  }
  if (out.size() < size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("digest output buffer: expected at least ", size(),
                     " bytes, found ", out.size()));
  }
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(state_->ctx.get(), out.data(), &n) != 1) {
    return LibError("EVP_DigestFinal_ex");
  }
  state_->finished = true;
  if (n != size()) {
    return absl::InternalError(
        absl::StrCat("digest produced ", n, " bytes, expected ", size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> Digest::Finish() {
  std::vector<uint8_t> out(size());
  absl::Status s = Finish(absl::MakeSpan(out));
  if (!s.ok()) return s;
  return out;
}

absl::Status Digest::Reset() {
  if (state_ == nullptr) {
    return absl::FailedPreconditionError(
        "digest: no state (moved from or failed copy)");
  }
#if defined(OPENSSL_IS_BORINGSSL)
  const EVP_MD* md = EvpMd(algorithm_);
#else
  // OpenSSL 3 re-fetches the implementation when given a type; with nullptr
  // it reinitializes the one the context holds (several times faster).
  const EVP_MD* md = nullptr;
#endif
  if (EVP_DigestInit_ex(state_->ctx.get(), md, nullptr) != 1) {
    return LibError("EVP_DigestInit_ex");
  }
  state_->finished = false;
  return absl::OkStatus();
}

namespace {
// One low-level context type per family; Init/Update/Final return 1 on
// success on both backends.
template <typename Ctx>
bool LowLevelHash(int (*init)(Ctx*), int (*update)(Ctx*, const void*, size_t),
                  int (*finish)(uint8_t*, Ctx*), absl::Span<const uint8_t> in,
                  uint8_t* out) {
  Ctx ctx;
  const bool ok = init(&ctx) == 1 &&
                  (in.empty() || update(&ctx, in.data(), in.size()) == 1) &&
                  finish(out, &ctx) == 1;
  // Final cleanses the context; a failed call leaves input-derived state.
  if (!ok) OPENSSL_cleanse(&ctx, sizeof(ctx));
  return ok;
}
}  // namespace

absl::Status HashSmall(DigestAlgorithm algorithm, absl::Span<const uint8_t> in,
                       absl::Span<uint8_t> out) {
  const size_t n = DigestSize(algorithm);
  if (n == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown digest algorithm ", static_cast<int>(algorithm)));
  }
  if (out.size() < n) {
    return absl::InvalidArgumentError(
        absl::StrCat("digest output buffer: expected at least ", n,
                     " bytes, found ", out.size()));
  }
  bool ok = false;
  switch (algorithm) {
    case DigestAlgorithm::kSha256:
      ok = LowLevelHash<SHA256_CTX>(SHA256_Init, SHA256_Update, SHA256_Final,
                                    in, out.data());
      break;
    case DigestAlgorithm::kSha384:
      ok = LowLevelHash<SHA512_CTX>(SHA384_Init, SHA384_Update, SHA384_Final,
                                    in, out.data());
      break;
    case DigestAlgorithm::kSha512:
      ok = LowLevelHash<SHA512_CTX>(SHA512_Init, SHA512_Update, SHA512_Final,
                                    in, out.data());
      break;
  }
  if (!ok) {
    return LibError(absl::StrCat(DigestName(algorithm), " (low-level)"));
  }
  return absl::OkStatus();
}

int HashEachLanes(DigestAlgorithm algorithm) {
  static const bool enabled = [] {
    const char* env = std::getenv("REALM_MEASUREMENTS_MULTI_BUFFER");
    return !(env != nullptr && std::strcmp(env, "0") == 0);
  }();
  if (!enabled) return 1;
  switch (algorithm) {
    case DigestAlgorithm::kSha256:
      return internal::Sha256X4Supported() ? 4 : 1;
    case DigestAlgorithm::kSha384:
    case DigestAlgorithm::kSha512:
      return internal::Sha512X8Supported() ? 8 : 1;
  }
  return 1;
}

absl::Status HashEach(DigestAlgorithm algorithm, const uint8_t* data,
                      size_t count, size_t length, uint8_t* out,
                      size_t out_stride) {
  const size_t n = DigestSize(algorithm);
  if (n != 0 && out_stride < n) {
    return absl::InvalidArgumentError(
        absl::StrCat("digest output stride: expected at least ", n,
                     " bytes, found ", out_stride));
  }
  // Groups of `lanes` messages through the multi-buffer hashers. A last
  // group at least half full is filled up with copies of its first message
  // (their digests go to scratch): one group costs less than that many
  // messages one at a time. Any rest one at a time.
  size_t i = 0;
  const size_t lanes = static_cast<size_t>(HashEachLanes(algorithm));
  const bool sha384 = algorithm == DigestAlgorithm::kSha384;
  uint8_t scratch[8][64];
  for (; lanes > 1 && i < count && 2 * (count - i) >= lanes; i += lanes) {
    const uint8_t* in[8];
    uint8_t* dst[8];
    for (size_t l = 0; l < lanes; ++l) {
      if (i + l < count) {
        in[l] = data + (i + l) * length;
        dst[l] = out + (i + l) * out_stride;
      } else {
        in[l] = data + i * length;
        dst[l] = scratch[l];
      }
    }
    if (lanes == 4) {
      internal::Sha256X4(in, length, dst);
    } else {
      internal::Sha512X8(in, length, sha384, dst);
    }
  }
  for (; i < count; ++i) {
    absl::Status s =
        HashSmall(algorithm, absl::MakeConstSpan(data + i * length, length),
                  absl::MakeSpan(out + i * out_stride, out_stride));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> HashOnce(DigestAlgorithm algorithm,
                                              absl::Span<const uint8_t> data) {
  const EVP_MD* md = EvpMd(algorithm);
  if (md == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown digest algorithm ", static_cast<int>(algorithm)));
  }
  std::vector<uint8_t> out(DigestSize(algorithm));
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &n, md, nullptr) != 1) {
    return LibError("EVP_Digest");
  }
  if (n != out.size()) {
    return absl::InternalError(
        absl::StrCat("digest produced ", n, " bytes, expected ", out.size()));
  }
  return out;
}

// ---------------------------------------------------------------- EC keys

size_t CurveFieldSize(Curve curve) {
  switch (curve) {
    case Curve::kP256:
      return 32;
    case Curve::kP384:
      return 48;
    case Curve::kP521:
      return 66;
  }
  return 0;
}

struct EcPublicKey::Key {
  SslPtr<EVP_PKEY> pkey;
};

EcPublicKey::EcPublicKey(Curve curve, std::unique_ptr<Key> key)
    : curve_(curve), key_(std::move(key)) {}
EcPublicKey::EcPublicKey(EcPublicKey&&) noexcept = default;
EcPublicKey& EcPublicKey::operator=(EcPublicKey&&) noexcept = default;
EcPublicKey::~EcPublicKey() = default;

absl::StatusOr<EcPublicKey> EcPublicKey::FromSec1(
    Curve curve, absl::Span<const uint8_t> point) {
  const size_t field = CurveFieldSize(curve);
  if (field == 0) return absl::InvalidArgumentError("unknown curve");
  if (point.size() != 1 + 2 * field) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SEC1 ", CurveName(curve), " point: expected ", 1 + 2 * field,
        " bytes (uncompressed), found ", point.size()));
  }
  if (point[0] != 0x04) {
    return absl::InvalidArgumentError(
        absl::StrCat("SEC1 ", CurveName(curve),
                     " point: expected uncompressed form 0x04, found 0x",
                     absl::Hex(point[0], absl::kZeroPad2)));
  }
  SslPtr<EC_KEY> ec(EC_KEY_new_by_curve_name(CurveNid(curve)));
  if (ec == nullptr) return LibError("EC_KEY_new_by_curve_name");
  const EC_GROUP* group = EC_KEY_get0_group(ec.get());
  SslPtr<EC_POINT> p(EC_POINT_new(group));
  if (p == nullptr) return LibError("EC_POINT_new");
  if (EC_POINT_oct2point(group, p.get(), point.data(), point.size(), nullptr) !=
          1 ||
      EC_KEY_set_public_key(ec.get(), p.get()) != 1 ||
      !PublicPointValid(ec.get())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SEC1 ", CurveName(curve),
        " point: not a valid point on the curve: ", LibraryErrorText()));
  }
  auto key = std::make_unique<Key>();
  key->pkey.reset(EVP_PKEY_new());
  if (key->pkey == nullptr) return LibError("EVP_PKEY_new");
  if (EVP_PKEY_set1_EC_KEY(key->pkey.get(), ec.get()) != 1) {
    return LibError("EVP_PKEY_set1_EC_KEY");
  }
  return EcPublicKey(curve, std::move(key));
}

absl::StatusOr<EcPublicKey> EcPublicKey::FromCoordinates(
    Curve curve, absl::Span<const uint8_t> x, absl::Span<const uint8_t> y) {
  const size_t field = CurveFieldSize(curve);
  if (x.size() != field || y.size() != field) {
    return absl::InvalidArgumentError(
        absl::StrCat(CurveName(curve), " coordinates: expected ", field,
                     " bytes each, found x ", x.size(), " and y ", y.size()));
  }
  std::vector<uint8_t> point;
  point.reserve(1 + 2 * field);
  point.push_back(0x04);
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());
  return FromSec1(curve, point);
}

absl::StatusOr<EcPublicKey> EcPublicKey::FromDer(
    absl::Span<const uint8_t> der) {
  if (der.size() > kMaxEncodedSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("SubjectPublicKeyInfo: ", der.size(),
                     " bytes exceeds the limit of ", kMaxEncodedSize));
  }
  const uint8_t* p = der.data();
  SslPtr<EVP_PKEY> pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("SubjectPublicKeyInfo DER: not a valid public key: ",
                     LibraryErrorText()));
  }
  const size_t used = static_cast<size_t>(p - der.data());
  if (used != der.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SubjectPublicKeyInfo DER: ", der.size() - used,
                     " trailing bytes after offset ", used));
  }
  auto ec = EcKeyOf(pkey.get(), "SubjectPublicKeyInfo");
  if (!ec.ok()) return ec.status();
  if (!PublicPointValid(ec->first)) {
    return absl::InvalidArgumentError(
        absl::StrCat("SubjectPublicKeyInfo: not a valid point on ",
                     CurveName(ec->second), ": ", LibraryErrorText()));
  }
  auto key = std::make_unique<Key>();
  key->pkey = std::move(pkey);
  return EcPublicKey(ec->second, std::move(key));
}

absl::StatusOr<EcPublicKey> EcPublicKey::FromPem(absl::string_view pem) {
  auto bio = MemBio(pem, "public key PEM");
  if (!bio.ok()) return bio.status();
  SslPtr<EVP_PKEY> pkey(
      PEM_read_bio_PUBKEY(bio->get(), nullptr, NoPassword, nullptr));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("public key PEM: expected a \"PUBLIC KEY\" block: ",
                     LibraryErrorText()));
  }
  // Re-enter through DER so both paths apply the same checks.
  uint8_t* der = nullptr;
  int n = i2d_PUBKEY(pkey.get(), &der);
  if (n <= 0 || der == nullptr) return LibError("i2d_PUBKEY");
  std::vector<uint8_t> bytes(der, der + n);
  OPENSSL_free(der);
  return FromDer(bytes);
}

absl::StatusOr<std::vector<uint8_t>> EcPublicKey::ToSec1() const {
  if (key_ == nullptr) return absl::FailedPreconditionError("moved-from key");
  auto ec = EcKeyOf(key_->pkey.get(), "public key");
  if (!ec.ok()) return ec.status();
  const EC_POINT* point = EC_KEY_get0_public_key(ec->first);
  if (point == nullptr) return LibError("EC_KEY_get0_public_key");
  std::vector<uint8_t> out(1 + 2 * CurveFieldSize(curve_));
  size_t n = EC_POINT_point2oct(EC_KEY_get0_group(ec->first), point,
                                POINT_CONVERSION_UNCOMPRESSED, out.data(),
                                out.size(), nullptr);
  if (n != out.size()) return LibError("EC_POINT_point2oct");
  return out;
}

absl::Status EcPublicKey::VerifyRaw(DigestAlgorithm digest,
                                    absl::Span<const uint8_t> message,
                                    absl::Span<const uint8_t> signature) const {
  if (key_ == nullptr) return absl::FailedPreconditionError("moved-from key");
  const size_t field = CurveFieldSize(curve_);
  if (signature.size() != 2 * field) {
    return absl::InvalidArgumentError(
        absl::StrCat("raw ECDSA ", CurveName(curve_), " signature: expected ",
                     2 * field, " bytes (r || s), found ", signature.size()));
  }
  SslPtr<ECDSA_SIG> sig(ECDSA_SIG_new());
  SslPtr<BIGNUM> r(
      BN_bin2bn(signature.data(), static_cast<int>(field), nullptr));
  SslPtr<BIGNUM> s(
      BN_bin2bn(signature.data() + field, static_cast<int>(field), nullptr));
  if (sig == nullptr || r == nullptr || s == nullptr)
    return LibError("BN_bin2bn");
  if (ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return LibError("ECDSA_SIG_set0");
  }
  r.release();  // Owned by `sig` now.
  s.release();
  return VerifySig(key_->pkey.get(), curve_, digest, message, sig.get());
}

absl::Status EcPublicKey::VerifyDer(DigestAlgorithm digest,
                                    absl::Span<const uint8_t> message,
                                    absl::Span<const uint8_t> signature) const {
  if (key_ == nullptr) return absl::FailedPreconditionError("moved-from key");
  // Only the canonical DER encoding is accepted: parse, re-encode, compare.
  if (signature.size() > 2 * CurveFieldSize(curve_) + 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("DER ECDSA ", CurveName(curve_),
                     " signature: ", signature.size(), " bytes is too long"));
  }
  const uint8_t* p = signature.data();
  SslPtr<ECDSA_SIG> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(signature.size())));
  if (sig == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("DER ECDSA signature: malformed: ", LibraryErrorText()));
  }
  uint8_t* der = nullptr;
  int n = i2d_ECDSA_SIG(sig.get(), &der);
  if (n <= 0 || der == nullptr) return LibError("i2d_ECDSA_SIG");
  const bool canonical = static_cast<size_t>(n) == signature.size() &&
                         std::memcmp(der, signature.data(), n) == 0;
  OPENSSL_free(der);
  if (!canonical) {
    return absl::InvalidArgumentError(
        "DER ECDSA signature: not canonical DER (trailing or non-minimal "
        "bytes)");
  }
  return VerifySig(key_->pkey.get(), curve_, digest, message, sig.get());
}

struct EcPrivateKey::Key {
  SslPtr<EVP_PKEY> pkey;
};

EcPrivateKey::EcPrivateKey(Curve curve, std::unique_ptr<Key> key)
    : curve_(curve), key_(std::move(key)) {}
EcPrivateKey::EcPrivateKey(EcPrivateKey&&) noexcept = default;
EcPrivateKey& EcPrivateKey::operator=(EcPrivateKey&&) noexcept = default;
EcPrivateKey::~EcPrivateKey() = default;

absl::StatusOr<EcPrivateKey> EcPrivateKey::FromPem(absl::string_view pem) {
  auto bio = MemBio(pem, "private key PEM");
  if (!bio.ok()) return bio.status();
  SslPtr<EVP_PKEY> pkey(
      PEM_read_bio_PrivateKey(bio->get(), nullptr, NoPassword, nullptr));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "private key PEM: expected an unencrypted \"PRIVATE KEY\" or \"EC "
        "PRIVATE KEY\" block: ",
        LibraryErrorText()));
  }
  auto ec = EcKeyOf(pkey.get(), "private key");
  if (!ec.ok()) return ec.status();
  if (EC_KEY_get0_private_key(ec->first) == nullptr ||
      EC_KEY_check_key(ec->first) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("private key: inconsistent ", CurveName(ec->second),
                     " key: ", LibraryErrorText()));
  }
  auto key = std::make_unique<Key>();
  key->pkey = std::move(pkey);
  return EcPrivateKey(ec->second, std::move(key));
}

absl::StatusOr<EcPrivateKey> EcPrivateKey::Generate(Curve curve) {
  SslPtr<EC_KEY> ec(EC_KEY_new_by_curve_name(CurveNid(curve)));
  if (ec == nullptr) return LibError("EC_KEY_new_by_curve_name");
  if (EC_KEY_generate_key(ec.get()) != 1)
    return LibError("EC_KEY_generate_key");
  auto key = std::make_unique<Key>();
  key->pkey.reset(EVP_PKEY_new());
  if (key->pkey == nullptr) return LibError("EVP_PKEY_new");
  if (EVP_PKEY_set1_EC_KEY(key->pkey.get(), ec.get()) != 1) {
    return LibError("EVP_PKEY_set1_EC_KEY");
  }
  return EcPrivateKey(curve, std::move(key));
}

absl::StatusOr<EcPublicKey> EcPrivateKey::PublicKey() const {
  if (key_ == nullptr) return absl::FailedPreconditionError("moved-from key");
  uint8_t* der = nullptr;
  int n = i2d_PUBKEY(key_->pkey.get(), &der);
  if (n <= 0 || der == nullptr) return LibError("i2d_PUBKEY");
  std::vector<uint8_t> bytes(der, der + n);
  OPENSSL_free(der);
  return EcPublicKey::FromDer(bytes);
}

absl::StatusOr<std::vector<uint8_t>> EcPrivateKey::SignRaw(
    DigestAlgorithm digest, absl::Span<const uint8_t> message) const {
  if (key_ == nullptr) return absl::FailedPreconditionError("moved-from key");
  // The digest and ECDSA_do_sign on the EC_KEY, as for verification
  // (VerifySig): what EVP_DigestSign does without its per-call overhead.
  auto ec = EcKeyOf(key_->pkey.get(), "private key");
  if (!ec.ok()) return ec.status();
  uint8_t md[EVP_MAX_MD_SIZE];
  if (absl::Status s = HashSmall(digest, message, absl::MakeSpan(md));
      !s.ok()) {
    return s;
  }
  SslPtr<ECDSA_SIG> sig(ECDSA_do_sign(md, static_cast<int>(DigestSize(digest)),
                                      const_cast<EC_KEY*>(ec->first)));
  if (sig == nullptr) return LibError("ECDSA_do_sign");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  const size_t field = CurveFieldSize(curve_);
  std::vector<uint8_t> out(2 * field);
  if (r == nullptr || s == nullptr ||
      BN_bn2binpad(r, out.data(), static_cast<int>(field)) !=
          static_cast<int>(field) ||
      BN_bn2binpad(s, out.data() + field, static_cast<int>(field)) !=
          static_cast<int>(field)) {
    return LibError("BN_bn2binpad");
  }
  return out;
}

absl::StatusOr<std::string> EcPrivateKey::ToPem() const {
  if (key_ == nullptr) return absl::FailedPreconditionError("moved-from key");
  SslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) return LibError("BIO_new");
  if (PEM_write_bio_PKCS8PrivateKey(bio.get(), key_->pkey.get(), nullptr,
                                    nullptr, 0, nullptr, nullptr) != 1) {
    return LibError("PEM_write_bio_PKCS8PrivateKey");
  }
  return BioContents(bio.get());
}

// ---------------------------------------------------------------- X.509

struct Certificate::Cert {
  SslPtr<X509> x509;
  std::vector<uint8_t> der;
};

Certificate::Certificate(std::shared_ptr<const Cert> cert)
    : cert_(std::move(cert)) {}
Certificate::Certificate(const Certificate&) = default;
Certificate& Certificate::operator=(const Certificate&) = default;
Certificate::Certificate(Certificate&&) noexcept = default;
Certificate& Certificate::operator=(Certificate&&) noexcept = default;
Certificate::~Certificate() = default;

namespace {
absl::StatusOr<std::vector<uint8_t>> X509Der(X509* x509) {
  uint8_t* der = nullptr;
  int n = i2d_X509(x509, &der);
  if (n <= 0 || der == nullptr) return LibError("i2d_X509");
  std::vector<uint8_t> bytes(der, der + n);
  OPENSSL_free(der);
  return bytes;
}
}  // namespace

absl::StatusOr<Certificate> Certificate::FromDer(
    absl::Span<const uint8_t> der) {
  if (der.size() > kMaxEncodedSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate DER: ", der.size(),
                     " bytes exceeds the limit of ", kMaxEncodedSize));
  }
  const uint8_t* p = der.data();
  SslPtr<X509> x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (x509 == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate DER: not a valid X.509 certificate: ",
                     LibraryErrorText()));
  }
  const size_t used = static_cast<size_t>(p - der.data());
  if (used != der.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate DER: ", der.size() - used,
                     " trailing bytes after offset ", used));
  }
  auto cert = std::make_shared<Cert>();
  cert->x509 = std::move(x509);
  cert->der.assign(der.begin(), der.end());
  return Certificate(std::move(cert));
}

absl::StatusOr<std::vector<Certificate>> Certificate::AllFromPem(
    absl::string_view pem) {
  auto bio = MemBio(pem, "certificate PEM");
  if (!bio.ok()) return bio.status();
  std::vector<Certificate> certs;
  ERR_clear_error();
  // Each certificate consumes input, so the loop is bounded by its size.
  for (;;) {
    SslPtr<X509> x509(
        PEM_read_bio_X509(bio->get(), nullptr, NoPassword, nullptr));
    if (x509 == nullptr) {
      const unsigned long err = ERR_peek_last_error();
      if (!certs.empty() && ERR_GET_LIB(err) == ERR_LIB_PEM &&
          ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
        ERR_clear_error();  // Clean end of input.
        break;
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "certificate PEM: block ", certs.size() + 1,
          ": expected a \"CERTIFICATE\" block: ", LibraryErrorText()));
    }
    auto der = X509Der(x509.get());
    if (!der.ok()) return der.status();
    auto cert = std::make_shared<Cert>();
    cert->x509 = std::move(x509);
    cert->der = *std::move(der);
    certs.push_back(Certificate(std::move(cert)));
  }
  return certs;
}

absl::StatusOr<Certificate> Certificate::FromPem(absl::string_view pem) {
  auto certs = AllFromPem(pem);
  if (!certs.ok()) return certs.status();
  if (certs->size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "certificate PEM: expected exactly one certificate, found ",
        certs->size()));
  }
  return std::move((*certs)[0]);
}

const std::vector<uint8_t>& Certificate::der() const { return cert_->der; }

absl::StatusOr<EcPublicKey> Certificate::PublicKey() const {
  SslPtr<EVP_PKEY> pkey(X509_get_pubkey(cert_->x509.get()));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate ", SubjectText(),
                     ": unreadable subject public key: ", LibraryErrorText()));
  }
  uint8_t* der = nullptr;
  int n = i2d_PUBKEY(pkey.get(), &der);
  if (n <= 0 || der == nullptr) return LibError("i2d_PUBKEY");
  std::vector<uint8_t> bytes(der, der + n);
  OPENSSL_free(der);
  auto key = EcPublicKey::FromDer(bytes);
  if (!key.ok()) {
    return absl::Status(key.status().code(),
                        absl::StrCat("certificate ", SubjectText(), ": ",
                                     key.status().message()));
  }
  return key;
}

std::string Certificate::SubjectText() const {
  auto text = NameText(X509_get_subject_name(cert_->x509.get()));
  return text.ok() ? *text : std::string("<unprintable subject>");
}

std::string Certificate::IssuerText() const {
  auto text = NameText(X509_get_issuer_name(cert_->x509.get()));
  return text.ok() ? *text : std::string("<unprintable issuer>");
}

absl::Status VerifyChain(const Certificate& leaf,
                         absl::Span<const Certificate> intermediates,
                         const Certificate& trust_anchor,
                         std::optional<int64_t> unix_time) {
  SslPtr<X509_STORE> store(X509_STORE_new());
  if (store == nullptr) return LibError("X509_STORE_new");
  if (X509_STORE_add_cert(store.get(), trust_anchor.cert_->x509.get()) != 1) {
    return LibError("X509_STORE_add_cert");
  }
  // The anchor need not be self-signed (an intermediate may be trusted).
  if (X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN) != 1) {
    return LibError("X509_STORE_set_flags");
  }
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  if (untrusted == nullptr) return LibError("sk_X509_new_null");
  // The stack borrows the certificates; only the stack itself is freed.
  struct StackFree {
    STACK_OF(X509) * s;
    ~StackFree() { sk_X509_free(s); }
  } stack_free{untrusted};
  for (const Certificate& c : intermediates) {
    if (sk_X509_push(untrusted, c.cert_->x509.get()) == 0) {
      return LibError("sk_X509_push");
    }
  }
  SslPtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (ctx == nullptr) return LibError("X509_STORE_CTX_new");
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.cert_->x509.get(),
                          untrusted) != 1) {
    return LibError("X509_STORE_CTX_init");
  }
  if (unix_time) {
    X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(*unix_time));
  }
  if (X509_verify_cert(ctx.get()) == 1) return absl::OkStatus();
  const int err = X509_STORE_CTX_get_error(ctx.get());
  const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
  std::string subject = "<unknown>";
  if (bad != nullptr) {
    auto text = NameText(X509_get_subject_name(bad));
    if (text.ok()) subject = *text;
  }
  ERR_clear_error();
  return absl::UnauthenticatedError(
      absl::StrCat("certificate chain of ", leaf.SubjectText(),
                   " rejected: ", X509_verify_cert_error_string(err),
                   " (error ", err, ") at depth ", depth, " (", subject, ")"));
}

// ---------------------------------------------------------------- Misc

std::string LibraryErrorText() {
  std::vector<std::string> parts;
  // Bounded: the queue is finite, but never spin on a misbehaving library.
  for (int i = 0; i < 16; ++i) {
    const unsigned long err = ERR_get_error();
    if (err == 0) break;
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    parts.emplace_back(buf);
  }
  ERR_clear_error();
  if (parts.empty()) return "no library error recorded";
  return absl::StrJoin(parts, "; ");
}

const char* BackendName() {
#if defined(OPENSSL_IS_BORINGSSL)
  return "BoringSSL";
#else
  return OpenSSL_version(OPENSSL_VERSION);
#endif
}

}  // namespace realm_measurements::crypto
