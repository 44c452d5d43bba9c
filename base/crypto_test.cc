#include "base/crypto.h"

#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace realm_measurements::crypto {
namespace {

std::vector<uint8_t> Hex(absl::string_view hex) {
  std::string bytes = absl::HexStringToBytes(hex);
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}
std::vector<uint8_t> Bytes(absl::string_view s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

TEST(CurveNameTest, NistNames) {
  EXPECT_STREQ(CurveName(Curve::kP256), "P-256");
  EXPECT_STREQ(CurveName(Curve::kP384), "P-384");
  EXPECT_STREQ(CurveName(Curve::kP521), "P-521");
}
std::string ToHexString(absl::Span<const uint8_t> b) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

#define ASSERT_OK(expr)                                     \
  do {                                                      \
    const absl::Status _s = (expr);                         \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << _s.ToString(); \
  } while (0)

template <typename T>
T ValueOrDie(absl::StatusOr<T> v) {
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  if (!v.ok()) std::abort();
  return *std::move(v);
}

void ExpectCode(const absl::Status& s, absl::StatusCode code,
                absl::string_view substring = "") {
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(substring), absl::string_view::npos)
      << "expected '" << substring << "' in: " << s.message();
}

// NIST FIPS 180-2 / CSRC example vectors.
constexpr char kMsg448[] =
    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

struct DigestVector {
  DigestAlgorithm algorithm;
  const char* message;
  const char* digest_hex;
};

const DigestVector kDigestVectors[] = {
    {DigestAlgorithm::kSha256, "abc",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {DigestAlgorithm::kSha256, "",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {DigestAlgorithm::kSha256, kMsg448,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {DigestAlgorithm::kSha384, "abc",
     "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
     "8086072ba1e7cc2358baeca134c825a7"},
    {DigestAlgorithm::kSha384, "",
     "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
     "274edebfe76f65fbd51ad2f14898b95b"},
    {DigestAlgorithm::kSha384, kMsg448,
     "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6"
     "b0455a8520bc4e6f5fe95b1fe3c8452b"},
    {DigestAlgorithm::kSha512, "abc",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
    {DigestAlgorithm::kSha512, "",
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
     "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
    {DigestAlgorithm::kSha512, kMsg448,
     "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
     "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445"},
};

TEST(DigestTest, NistVectorsOneShotAndStreaming) {
  for (const DigestVector& v : kDigestVectors) {
    SCOPED_TRACE(absl::StrCat(DigestName(v.algorithm), " \"", v.message, "\""));
    const std::vector<uint8_t> expected = Hex(v.digest_hex);
    EXPECT_EQ(DigestSize(v.algorithm), expected.size());
    EXPECT_EQ(ValueOrDie(HashOnce(v.algorithm, Bytes(v.message))), expected);

    Digest d = ValueOrDie(Digest::Create(v.algorithm));
    EXPECT_EQ(d.size(), expected.size());
    const std::vector<uint8_t> msg = Bytes(v.message);
    // Byte by byte.
    for (uint8_t b : msg) ASSERT_OK(d.Update(absl::MakeConstSpan(&b, 1)));
    EXPECT_EQ(ValueOrDie(d.Finish()), expected);
    // After Reset, the same digest is reusable.
    ASSERT_OK(d.Reset());
    ASSERT_OK(d.Update(msg));
    std::vector<uint8_t> out(64, 0xee);
    ASSERT_OK(d.Finish(absl::MakeSpan(out)));
    EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + expected.size()),
              expected);
    // Bytes past size() are untouched.
    for (size_t i = expected.size(); i < out.size(); ++i)
      EXPECT_EQ(out[i], 0xee);
  }
}

TEST(DigestTest, OddChunkStreamingEqualsOneShot) {
  std::vector<uint8_t> data(10007);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<uint8_t>(i * 131 + 7);
  for (DigestAlgorithm a : {DigestAlgorithm::kSha256, DigestAlgorithm::kSha384,
                            DigestAlgorithm::kSha512}) {
    SCOPED_TRACE(DigestName(a));
    const std::vector<uint8_t> one_shot = ValueOrDie(HashOnce(a, data));
    for (size_t chunk : {1u, 3u, 7u, 63u, 64u, 65u, 127u, 129u, 1000u, 4099u}) {
      Digest d = ValueOrDie(Digest::Create(a));
      for (size_t o = 0; o < data.size(); o += chunk) {
        const size_t n = std::min(chunk, data.size() - o);
        ASSERT_OK(d.Update(absl::MakeConstSpan(data).subspan(o, n)));
      }
      EXPECT_EQ(ValueOrDie(d.Finish()), one_shot) << "chunk " << chunk;
    }
  }
}

TEST(HashSmallTest, NistVectors) {
  for (const DigestVector& v : kDigestVectors) {
    SCOPED_TRACE(absl::StrCat(DigestName(v.algorithm), " \"", v.message, "\""));
    const std::vector<uint8_t> expected = Hex(v.digest_hex);
    std::vector<uint8_t> out(64, 0xee);
    ASSERT_OK(HashSmall(v.algorithm, Bytes(v.message), absl::MakeSpan(out)));
    EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + expected.size()),
              expected);
    // Bytes past DigestSize() are untouched.
    for (size_t i = expected.size(); i < out.size(); ++i)
      EXPECT_EQ(out[i], 0xee);
  }
}

TEST(HashSmallTest, EqualsHashOnceAcrossPaddingBoundaries) {
  std::vector<uint8_t> data(4096 + 129);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<uint8_t>(i * 167 + 13);
  // 55/56/64: SHA-256 padding fits / spills / full block; 111/112/128 the
  // same for SHA-384/512; 256 a RIM descriptor; 4096 a granule.
  for (DigestAlgorithm a : {DigestAlgorithm::kSha256, DigestAlgorithm::kSha384,
                            DigestAlgorithm::kSha512}) {
    for (size_t size : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 111u, 112u, 127u, 128u,
                        129u, 256u, 4096u, 4096u + 129u}) {
      SCOPED_TRACE(absl::StrCat(DigestName(a), " size ", size));
      const auto in = absl::MakeConstSpan(data).first(size);
      std::vector<uint8_t> out(DigestSize(a));
      ASSERT_OK(HashSmall(a, in, absl::MakeSpan(out)));
      EXPECT_EQ(out, ValueOrDie(HashOnce(a, in)));
    }
  }
}

TEST(HashSmallTest, ShortOutputOrUnknownAlgorithmIsAnError) {
  std::vector<uint8_t> out(63, 0xee);
  const absl::Status s =
      HashSmall(DigestAlgorithm::kSha512, Bytes("abc"), absl::MakeSpan(out));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("expected at least 64 bytes, found 63"),
            absl::string_view::npos)
      << s;
  for (uint8_t b : out) EXPECT_EQ(b, 0xee);  // nothing written
  EXPECT_EQ(HashSmall(static_cast<DigestAlgorithm>(7), Bytes("abc"),
                      absl::MakeSpan(out))
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HashEachTest, EqualsHashOnceForEveryCountAndLength) {
  // Counts 0..17 cover the 4- and 8-way groups and their remainders;
  // lengths the padding boundaries of both block sizes and a granule. Same
  // bytes whichever path HashEachLanes picks on this CPU.
  std::vector<uint8_t> data(17 * 4097);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<uint8_t>(i * 131 + 7);
  for (DigestAlgorithm a : {DigestAlgorithm::kSha256, DigestAlgorithm::kSha384,
                            DigestAlgorithm::kSha512}) {
    for (size_t length :
         {0u, 1u, 55u, 56u, 64u, 65u, 119u, 120u, 4096u, 4097u}) {
      for (size_t count = 0; count <= 9; ++count) {
        SCOPED_TRACE(
            absl::StrCat(DigestName(a), " length ", length, " count ", count));
        const size_t stride = 64 + 3;  // wider than any digest
        std::vector<uint8_t> out(count * stride + 1, 0xee);
        ASSERT_OK(HashEach(a, data.data(), count, length, out.data(), stride));
        for (size_t i = 0; i < count; ++i) {
          const auto msg =
              absl::MakeConstSpan(data).subspan(i * length, length);
          const std::vector<uint8_t> want = ValueOrDie(HashOnce(a, msg));
          EXPECT_EQ(
              std::vector<uint8_t>(out.begin() + i * stride,
                                   out.begin() + i * stride + want.size()),
              want)
              << "message " << i;
          // Bytes between digests are untouched.
          for (size_t j = i * stride + want.size(); j < (i + 1) * stride; ++j)
            EXPECT_EQ(out[j], 0xee);
        }
        EXPECT_EQ(out.back(), 0xee);
      }
    }
  }
}

TEST(HashEachTest, NarrowStrideIsAnError) {
  std::vector<uint8_t> data(64), out(4 * 48);
  const absl::Status s =
      HashEach(DigestAlgorithm::kSha384, data.data(), 4, 16, out.data(), 32);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("expected at least 48 bytes, found 32"),
            absl::string_view::npos)
      << s;
}

TEST(DigestTest, CopyForksRunningState) {
  Digest prefix = ValueOrDie(Digest::Create(DigestAlgorithm::kSha256));
  ASSERT_OK(prefix.Update(Bytes("ab")));
  Digest fork = prefix;  // Copy constructor.
  Digest other = ValueOrDie(Digest::Create(DigestAlgorithm::kSha512));
  other = prefix;  // Copy assignment across algorithms.
  EXPECT_EQ(other.algorithm(), DigestAlgorithm::kSha256);

  ASSERT_OK(prefix.Update(Bytes("c")));
  ASSERT_OK(fork.Update(Bytes("d")));
  ASSERT_OK(other.Update(Bytes("c")));
  EXPECT_EQ(
      ValueOrDie(prefix.Finish()),
      Hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  EXPECT_EQ(ValueOrDie(fork.Finish()),
            ValueOrDie(HashOnce(DigestAlgorithm::kSha256, Bytes("abd"))));
  EXPECT_EQ(
      ValueOrDie(other.Finish()),
      Hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

TEST(DigestTest, MisuseIsAnError) {
  Digest d = ValueOrDie(Digest::Create(DigestAlgorithm::kSha384));
  std::vector<uint8_t> small(47);
  ExpectCode(d.Finish(absl::MakeSpan(small)),
             absl::StatusCode::kInvalidArgument,
             "expected at least 48 bytes, found 47");
  ASSERT_TRUE(d.Finish().ok());
  ExpectCode(d.Update(Bytes("x")), absl::StatusCode::kFailedPrecondition,
             "Update after Finish");
  ExpectCode(d.Finish().status(), absl::StatusCode::kFailedPrecondition,
             "Finish called twice");
  Digest moved = std::move(d);
  ExpectCode(d.Update(Bytes("x")), absl::StatusCode::kFailedPrecondition,
             "no state");
  ASSERT_OK(moved.Reset());
  ASSERT_OK(moved.Update(Bytes("abc")));
  EXPECT_EQ(
      ValueOrDie(moved.Finish()),
      Hex("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
          "8086072ba1e7cc2358baeca134c825a7"));
}

// RFC 6979 appendix A.2.5: P-256 key pair and the deterministic signature of
// "sample" with SHA-256.
constexpr char kRfc6979X[] =
    "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
constexpr char kRfc6979Ux[] =
    "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6";
constexpr char kRfc6979Uy[] =
    "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";
constexpr char kRfc6979R[] =
    "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716";
constexpr char kRfc6979S[] =
    "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8";

TEST(EcdsaTest, Rfc6979KnownAnswerVerifies) {
  EcPublicKey key = ValueOrDie(EcPublicKey::FromCoordinates(
      Curve::kP256, Hex(kRfc6979Ux), Hex(kRfc6979Uy)));
  std::vector<uint8_t> sig = Hex(kRfc6979R);
  std::vector<uint8_t> s = Hex(kRfc6979S);
  sig.insert(sig.end(), s.begin(), s.end());
  ASSERT_OK(key.VerifyRaw(DigestAlgorithm::kSha256, Bytes("sample"), sig));
  ExpectCode(key.VerifyRaw(DigestAlgorithm::kSha256, Bytes("samplf"), sig),
             absl::StatusCode::kUnauthenticated, "mismatch");
  ExpectCode(key.VerifyRaw(DigestAlgorithm::kSha512, Bytes("sample"), sig),
             absl::StatusCode::kUnauthenticated, "mismatch");
  std::vector<uint8_t> point = ValueOrDie(key.ToSec1());
  EXPECT_EQ(ToHexString(point), absl::StrCat("04", kRfc6979Ux, kRfc6979Uy));
}

// Writes the RFC 6979 private scalar as a SEC1 "EC PRIVATE KEY" PEM with the
// library, then checks our loader derives the published public key.
TEST(EcdsaTest, Rfc6979PrivateKeyFromSec1PemGivesPublishedPublicKey) {
  EC_KEY* ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  ASSERT_NE(ec, nullptr);
  std::vector<uint8_t> x = Hex(kRfc6979X);
  BIGNUM* priv = BN_bin2bn(x.data(), x.size(), nullptr);
  ASSERT_EQ(EC_KEY_set_private_key(ec, priv), 1);
  const EC_GROUP* group = EC_KEY_get0_group(ec);
  EC_POINT* pub = EC_POINT_new(group);
  ASSERT_EQ(EC_POINT_mul(group, pub, priv, nullptr, nullptr, nullptr), 1);
  ASSERT_EQ(EC_KEY_set_public_key(ec, pub), 1);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_ECPrivateKey(bio, ec, nullptr, nullptr, 0, nullptr,
                                       nullptr),
            1);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, n);
  BIO_free(bio);
  EC_POINT_free(pub);
  BN_free(priv);
  EC_KEY_free(ec);
  ASSERT_NE(pem.find("BEGIN EC PRIVATE KEY"), std::string::npos);

  EcPrivateKey key = ValueOrDie(EcPrivateKey::FromPem(pem));
  EXPECT_EQ(key.curve(), Curve::kP256);
  EcPublicKey public_key = ValueOrDie(key.PublicKey());
  EXPECT_EQ(ToHexString(ValueOrDie(public_key.ToSec1())),
            absl::StrCat("04", kRfc6979Ux, kRfc6979Uy));
  // Our PKCS#8 output loads back to the same key.
  std::string pkcs8 = ValueOrDie(key.ToPem());
  EXPECT_NE(pkcs8.find("BEGIN PRIVATE KEY"), std::string::npos);
  EcPrivateKey again = ValueOrDie(EcPrivateKey::FromPem(pkcs8));
  EXPECT_EQ(ValueOrDie(ValueOrDie(again.PublicKey()).ToSec1()),
            ValueOrDie(public_key.ToSec1()));
}

TEST(EcdsaTest, SignVerifyRoundTripOnAllCurves) {
  for (Curve curve : {Curve::kP256, Curve::kP384, Curve::kP521}) {
    SCOPED_TRACE(static_cast<int>(curve));
    EcPrivateKey priv = ValueOrDie(EcPrivateKey::Generate(curve));
    EcPublicKey pub = ValueOrDie(priv.PublicKey());
    EXPECT_EQ(pub.curve(), curve);
    const size_t field = CurveFieldSize(curve);
    const std::vector<uint8_t> msg = Bytes("realm token payload");
    for (DigestAlgorithm digest :
         {DigestAlgorithm::kSha256, DigestAlgorithm::kSha384,
          DigestAlgorithm::kSha512}) {
      std::vector<uint8_t> sig = ValueOrDie(priv.SignRaw(digest, msg));
      ASSERT_EQ(sig.size(), 2 * field);
      ASSERT_OK(pub.VerifyRaw(digest, msg, sig));

      std::vector<uint8_t> tampered_msg = msg;
      tampered_msg[3] ^= 1;
      ExpectCode(pub.VerifyRaw(digest, tampered_msg, sig),
                 absl::StatusCode::kUnauthenticated, "mismatch");
      for (size_t pos : {size_t{0}, field - 1, field, 2 * field - 1}) {
        std::vector<uint8_t> bad = sig;
        bad[pos] ^= 0x40;
        ExpectCode(pub.VerifyRaw(digest, msg, bad),
                   absl::StatusCode::kUnauthenticated, "mismatch");
      }
      std::vector<uint8_t> zero(2 * field, 0);
      ExpectCode(pub.VerifyRaw(digest, msg, zero),
                 absl::StatusCode::kUnauthenticated, "mismatch");
      std::vector<uint8_t> short_sig(sig.begin(), sig.end() - 1);
      ExpectCode(pub.VerifyRaw(digest, msg, short_sig),
                 absl::StatusCode::kInvalidArgument,
                 absl::StrCat("expected ", 2 * field, " bytes"));
    }
    // Public key survives SEC1 and PEM/DER round trips.
    std::vector<uint8_t> sec1 = ValueOrDie(pub.ToSec1());
    EcPublicKey from_sec1 = ValueOrDie(EcPublicKey::FromSec1(curve, sec1));
    std::vector<uint8_t> sig =
        ValueOrDie(priv.SignRaw(DigestAlgorithm::kSha256, Bytes("m")));
    ASSERT_OK(from_sec1.VerifyRaw(DigestAlgorithm::kSha256, Bytes("m"), sig));
    // Wrong-size point and coordinates.
    ExpectCode(
        EcPublicKey::FromSec1(curve, absl::MakeConstSpan(sec1).subspan(1))
            .status(),
        absl::StatusCode::kInvalidArgument, "expected");
    ExpectCode(EcPublicKey::FromCoordinates(
                   curve, absl::MakeConstSpan(sec1).subspan(1, field - 1),
                   absl::MakeConstSpan(sec1).subspan(1 + field))
                   .status(),
               absl::StatusCode::kInvalidArgument,
               absl::StrCat("expected ", field, " bytes each"));
    // Off-curve: flip one bit of y.
    std::vector<uint8_t> off = sec1;
    off.back() ^= 1;
    ExpectCode(EcPublicKey::FromSec1(curve, off).status(),
               absl::StatusCode::kInvalidArgument, "not a valid point");
  }
}

TEST(EcdsaTest, DerSignatureRoundTripAndStrictness) {
  EcPrivateKey priv = ValueOrDie(EcPrivateKey::Generate(Curve::kP384));
  EcPublicKey pub = ValueOrDie(priv.PublicKey());
  std::vector<uint8_t> raw =
      ValueOrDie(priv.SignRaw(DigestAlgorithm::kSha384, Bytes("msg")));
  // DER by hand: SEQUENCE { INTEGER r, INTEGER s }, minimal integers.
  auto der_int = [](absl::Span<const uint8_t> v) {
    size_t i = 0;
    while (i + 1 < v.size() && v[i] == 0) ++i;
    std::vector<uint8_t> out = {0x02};
    std::vector<uint8_t> body(v.begin() + i, v.end());
    if (body[0] & 0x80) body.insert(body.begin(), 0);
    out.push_back(static_cast<uint8_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
    return out;
  };
  std::vector<uint8_t> r = der_int(absl::MakeConstSpan(raw).first(48));
  std::vector<uint8_t> s = der_int(absl::MakeConstSpan(raw).subspan(48));
  std::vector<uint8_t> der = {0x30, static_cast<uint8_t>(r.size() + s.size())};
  der.insert(der.end(), r.begin(), r.end());
  der.insert(der.end(), s.begin(), s.end());
  ASSERT_OK(pub.VerifyDer(DigestAlgorithm::kSha384, Bytes("msg"), der));
  ExpectCode(pub.VerifyDer(DigestAlgorithm::kSha384, Bytes("msh"), der),
             absl::StatusCode::kUnauthenticated, "mismatch");
  std::vector<uint8_t> trailing = der;
  trailing.push_back(0);
  ExpectCode(pub.VerifyDer(DigestAlgorithm::kSha384, Bytes("msg"), trailing),
             absl::StatusCode::kInvalidArgument, "");
  ExpectCode(pub.VerifyDer(DigestAlgorithm::kSha384, Bytes("msg"), Hex("3000")),
             absl::StatusCode::kInvalidArgument, "");
}

TEST(EcPublicKeyTest, PemAndDerSpki) {
  EcPrivateKey priv = ValueOrDie(EcPrivateKey::Generate(Curve::kP521));
  EcPublicKey pub = ValueOrDie(priv.PublicKey());
  // Write the SPKI with the library, read it back with ours.
  std::string pem = ValueOrDie(priv.ToPem());
  BIO* in = BIO_new_mem_buf(pem.data(), pem.size());
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
  BIO_free(in);
  ASSERT_NE(pkey, nullptr);
  BIO* out = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PUBKEY(out, pkey), 1);
  char* data = nullptr;
  long n = BIO_get_mem_data(out, &data);
  std::string pub_pem(data, n);
  BIO_free(out);
  uint8_t* der = nullptr;
  int der_len = i2d_PUBKEY(pkey, &der);
  ASSERT_GT(der_len, 0);
  std::vector<uint8_t> spki(der, der + der_len);
  OPENSSL_free(der);
  EVP_PKEY_free(pkey);

  EcPublicKey from_pem = ValueOrDie(EcPublicKey::FromPem(pub_pem));
  EcPublicKey from_der = ValueOrDie(EcPublicKey::FromDer(spki));
  EXPECT_EQ(from_pem.curve(), Curve::kP521);
  EXPECT_EQ(ValueOrDie(from_pem.ToSec1()), ValueOrDie(pub.ToSec1()));
  EXPECT_EQ(ValueOrDie(from_der.ToSec1()), ValueOrDie(pub.ToSec1()));

  std::vector<uint8_t> trailing = spki;
  trailing.push_back(0);
  ExpectCode(EcPublicKey::FromDer(trailing).status(),
             absl::StatusCode::kInvalidArgument, "1 trailing bytes");
  ExpectCode(EcPublicKey::FromDer(absl::MakeConstSpan(spki).first(20)).status(),
             absl::StatusCode::kInvalidArgument, "not a valid public key");
  ExpectCode(
      EcPublicKey::FromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n").status(),
      absl::StatusCode::kInvalidArgument, "PUBLIC KEY");
  ExpectCode(EcPrivateKey::FromPem("garbage").status(),
             absl::StatusCode::kInvalidArgument, "PRIVATE KEY");
}

// ---------------------------------------------------------------- X.509

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

PkeyPtr LibKey(const EcPrivateKey& key) {
  std::string pem = ValueOrDie(key.ToPem());
  BIO* in = BIO_new_mem_buf(pem.data(), pem.size());
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
  BIO_free(in);
  EXPECT_NE(pkey, nullptr);
  return PkeyPtr(pkey);
}

void AddExt(X509* x, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, nullptr, nid, value);
  ASSERT_NE(ext, nullptr);
  ASSERT_EQ(X509_add_ext(x, ext, -1), 1);
  X509_EXTENSION_free(ext);
}

// A v3 certificate for `subject_key` named CN=`subject`, signed by
// `issuer_key` on behalf of CN=`issuer`, valid for one day from an hour ago.
std::vector<uint8_t> MakeCertDer(const std::string& subject,
                                 const EcPrivateKey& subject_key,
                                 const std::string& issuer,
                                 const EcPrivateKey& issuer_key, bool ca,
                                 long serial) {
  PkeyPtr subject_pkey = LibKey(subject_key);
  PkeyPtr issuer_pkey = LibKey(issuer_key);
  X509* x = X509_new();
  EXPECT_EQ(X509_set_version(x, 2), 1);
  EXPECT_EQ(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
  EXPECT_NE(X509_gmtime_adj(X509_getm_notBefore(x), -3600), nullptr);
  EXPECT_NE(X509_gmtime_adj(X509_getm_notAfter(x), 86400), nullptr);
  auto name = [](const std::string& cn) {
    X509_NAME* n = X509_NAME_new();
    EXPECT_EQ(
        X509_NAME_add_entry_by_txt(
            n, "CN", MBSTRING_ASC,
            reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0),
        1);
    return n;
  };
  X509_NAME* sn = name(subject);
  X509_NAME* in = name(issuer);
  EXPECT_EQ(X509_set_subject_name(x, sn), 1);
  EXPECT_EQ(X509_set_issuer_name(x, in), 1);
  X509_NAME_free(sn);
  X509_NAME_free(in);
  EXPECT_EQ(X509_set_pubkey(x, subject_pkey.get()), 1);
  if (ca) {
    AddExt(x, NID_basic_constraints, "critical,CA:TRUE");
    AddExt(x, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExt(x, NID_basic_constraints, "critical,CA:FALSE");
    AddExt(x, NID_key_usage, "critical,digitalSignature");
  }
  EXPECT_GT(X509_sign(x, issuer_pkey.get(), EVP_sha256()), 0);
  uint8_t* der = nullptr;
  int n = i2d_X509(x, &der);
  EXPECT_GT(n, 0);
  std::vector<uint8_t> out(der, der + n);
  OPENSSL_free(der);
  X509_free(x);
  return out;
}

std::string DerToPem(const std::vector<uint8_t>& der) {
  std::string b64 = absl::Base64Escape(
      absl::string_view(reinterpret_cast<const char*>(der.data()), der.size()));
  std::string pem = "-----BEGIN CERTIFICATE-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) {
    absl::StrAppend(&pem, b64.substr(i, 64), "\n");
  }
  absl::StrAppend(&pem, "-----END CERTIFICATE-----\n");
  return pem;
}

class ChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_key_ = std::make_unique<EcPrivateKey>(
        ValueOrDie(EcPrivateKey::Generate(Curve::kP384)));
    inter_key_ = std::make_unique<EcPrivateKey>(
        ValueOrDie(EcPrivateKey::Generate(Curve::kP256)));
    leaf_key_ = std::make_unique<EcPrivateKey>(
        ValueOrDie(EcPrivateKey::Generate(Curve::kP256)));
    root_der_ = MakeCertDer("Test Root", *root_key_, "Test Root", *root_key_,
                            /*ca=*/true, 1);
    inter_der_ = MakeCertDer("Test Intermediate", *inter_key_, "Test Root",
                             *root_key_, /*ca=*/true, 2);
    leaf_der_ = MakeCertDer("Test Leaf", *leaf_key_, "Test Intermediate",
                            *inter_key_, /*ca=*/false, 3);
  }
  std::unique_ptr<EcPrivateKey> root_key_, inter_key_, leaf_key_;
  std::vector<uint8_t> root_der_, inter_der_, leaf_der_;
};

TEST_F(ChainTest, ParsesAndExposesFields) {
  Certificate leaf = ValueOrDie(Certificate::FromDer(leaf_der_));
  EXPECT_EQ(leaf.der(), leaf_der_);
  EXPECT_EQ(leaf.SubjectText(), "CN=Test Leaf");
  EXPECT_EQ(leaf.IssuerText(), "CN=Test Intermediate");
  EcPublicKey key = ValueOrDie(leaf.PublicKey());
  EXPECT_EQ(key.curve(), Curve::kP256);
  EXPECT_EQ(ValueOrDie(key.ToSec1()),
            ValueOrDie(ValueOrDie(leaf_key_->PublicKey()).ToSec1()));

  Certificate from_pem = ValueOrDie(Certificate::FromPem(DerToPem(leaf_der_)));
  EXPECT_EQ(from_pem.der(), leaf_der_);
  std::vector<Certificate> bundle = ValueOrDie(Certificate::AllFromPem(
      DerToPem(leaf_der_) + DerToPem(inter_der_) + DerToPem(root_der_)));
  ASSERT_EQ(bundle.size(), 3u);
  EXPECT_EQ(bundle[2].SubjectText(), "CN=Test Root");
  ExpectCode(
      Certificate::FromPem(DerToPem(leaf_der_) + DerToPem(root_der_)).status(),
      absl::StatusCode::kInvalidArgument,
      "expected exactly one certificate, found 2");

  std::vector<uint8_t> trailing = leaf_der_;
  trailing.push_back(0);
  ExpectCode(Certificate::FromDer(trailing).status(),
             absl::StatusCode::kInvalidArgument, "1 trailing bytes");
  ExpectCode(
      Certificate::FromDer(absl::MakeConstSpan(leaf_der_).first(100)).status(),
      absl::StatusCode::kInvalidArgument, "not a valid X.509");
  ExpectCode(Certificate::FromPem("no pem here").status(),
             absl::StatusCode::kInvalidArgument, "CERTIFICATE");
}

TEST_F(ChainTest, VerifiesGoodChainAndRejectsWrongAnchor) {
  Certificate root = ValueOrDie(Certificate::FromDer(root_der_));
  Certificate inter = ValueOrDie(Certificate::FromDer(inter_der_));
  Certificate leaf = ValueOrDie(Certificate::FromDer(leaf_der_));
  const std::vector<Certificate> intermediates = {inter};
  ASSERT_OK(VerifyChain(leaf, intermediates, root));
  // An intermediate can itself be the trust anchor.
  ASSERT_OK(VerifyChain(leaf, {}, inter));

  EcPrivateKey other_key = ValueOrDie(EcPrivateKey::Generate(Curve::kP256));
  Certificate other_root = ValueOrDie(Certificate::FromDer(MakeCertDer(
      "Test Root", other_key, "Test Root", other_key, /*ca=*/true, 1)));
  ExpectCode(VerifyChain(leaf, intermediates, other_root),
             absl::StatusCode::kUnauthenticated, "rejected");
  // Missing intermediate.
  ExpectCode(VerifyChain(leaf, {}, root), absl::StatusCode::kUnauthenticated,
             "CN=Test Leaf");
  // Outside the validity period (two days from now).
  ExpectCode(VerifyChain(leaf, intermediates, root,
                         static_cast<int64_t>(std::time(nullptr)) + 2 * 86400),
             absl::StatusCode::kUnauthenticated, "expired");
}

TEST(BackendTest, NamesTheBackend) {
#if defined(OPENSSL_IS_BORINGSSL)
  EXPECT_STREQ(BackendName(), "BoringSSL");
#else
  EXPECT_EQ(std::string(BackendName()).rfind("OpenSSL 3", 0), 0u)
      << BackendName();
#endif
}

// A non-EC key is named by its type, with what is expected instead (issue
// 19: not "key type 6").
TEST(EcPrivateKeyTest, RsaKeyIsNamed) {
  RSA* rsa = RSA_new();
  BIGNUM* e = BN_new();
  ASSERT_EQ(BN_set_word(e, RSA_F4), 1);
  ASSERT_EQ(RSA_generate_key_ex(rsa, 2048, e, nullptr), 1);
  BN_free(e);
  EVP_PKEY* pkey = EVP_PKEY_new();
  ASSERT_EQ(EVP_PKEY_assign_RSA(pkey, rsa), 1);
  auto pem_of = [&](bool private_key) {
    BIO* out = BIO_new(BIO_s_mem());
    EXPECT_EQ(private_key
                  ? PEM_write_bio_PrivateKey(out, pkey, nullptr, nullptr, 0,
                                             nullptr, nullptr)
                  : PEM_write_bio_PUBKEY(out, pkey),
              1);
    char* data = nullptr;
    long n = BIO_get_mem_data(out, &data);
    std::string pem(data, n);
    BIO_free(out);
    return pem;
  };
  const std::string priv_pem = pem_of(true);
  const std::string pub_pem = pem_of(false);
  EVP_PKEY_free(pkey);
  EXPECT_EQ(EcPrivateKey::FromPem(priv_pem).status().message(),
            "private key: unsupported key type RSA; expected an EC key "
            "(P-256/P-384/P-521)");
  EXPECT_EQ(EcPublicKey::FromPem(pub_pem).status().message(),
            "SubjectPublicKeyInfo: unsupported key type RSA; expected an EC "
            "key (P-256/P-384/P-521)");
}

}  // namespace
}  // namespace realm_measurements::crypto
