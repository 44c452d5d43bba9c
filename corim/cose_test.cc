#include "corim/cose.h"

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "base/crypto.h"
#include "base/hex.h"
#include "corim/cbor.h"
#include "gtest/gtest.h"
#include "testing/files.h"

namespace realm_measurements::corim {
namespace {

// The realm COSE_Sign1 of testdata/vectors/cca-token-draft-ffm-00.cbor
// (tag 399 map, key 44241), taken apart with the plain CBOR decoder.
std::vector<uint8_t> DraftRealmEntry() {
  auto top = DecodeCbor(
      test::ReadFileBytes("testdata/vectors/cca-token-draft-ffm-00.cbor"));
  EXPECT_TRUE(top.ok()) << top.status();
  if (!top.ok() || !top->is_tag()) return {};
  const CborValue* realm = top->tag_content().FindUint(44241);
  EXPECT_NE(realm, nullptr);
  return realm == nullptr ? std::vector<uint8_t>() : realm->bytes();
}

// spec-token-corim §1.10: framing, ToBeSigned and its SHA-384.
TEST(CoseTest, DraftRealmSigStructureMatchesSpecConstants) {
  auto sign1 = DecodeCoseSign1(DraftRealmEntry(), "realm");
  ASSERT_TRUE(sign1.ok()) << sign1.status();
  EXPECT_TRUE(sign1->tagged);
  EXPECT_EQ(base::HexOf(sign1->protected_bytes), "a1013822");
  EXPECT_EQ(sign1->payload.size(), 481u);
  auto alg = sign1->Algorithm();
  ASSERT_TRUE(alg.ok());
  EXPECT_EQ(*alg, CoseAlgorithm::kEs384);
  EXPECT_EQ(base::HexOf(sign1->signature),
            "580b1dea32d30ac6884c86b39cbe0fcb03bd00df5103f9bab01386a46a3ba814"
            "3e27ed6d4eb0d0a2724abdf9640c09462face6df186909dfa6eb131e3a791827"
            "6077acdab8a8bdeca6b0eaafab66e1439c1371f4fb1d6aac047481b5dc75dd46");

  const std::vector<uint8_t> tbs =
      SigStructure(sign1->protected_bytes, {}, sign1->payload);
  EXPECT_EQ(tbs.size(), 502u);
  const std::vector<uint8_t> prefix =
      test::FromHex("846a5369676e61747572653144a1013822405901e1");
  ASSERT_GE(tbs.size(), prefix.size());
  EXPECT_EQ(std::vector<uint8_t>(tbs.begin(), tbs.begin() + prefix.size()),
            prefix);
  auto digest = crypto::HashOnce(crypto::DigestAlgorithm::kSha384, tbs);
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(base::HexOf(*digest),
            "3a8b3783a20c544de5936b3bdc3c3bf986190359f88f81851fc2127ae67e4130"
            "71c6e4c003a28c1f3a5e9196e0edd21c");

  // The inline RAK (claim 44237, a COSE_Key) verifies it; its SHA-256 is the
  // platform nonce of §1.10.
  auto payload = DecodeCbor(sign1->payload);
  ASSERT_TRUE(payload.ok());
  const CborValue* rak = payload->FindUint(44237);
  ASSERT_NE(rak, nullptr);
  EXPECT_EQ(rak->bytes().size(), 107u);
  auto key = DecodeCoseKey(rak->bytes());
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->curve(), crypto::Curve::kP384);
  EXPECT_TRUE(VerifyCoseSign1(*sign1, *key).ok());
  auto binder =
      crypto::HashOnce(crypto::DigestAlgorithm::kSha256, rak->bytes());
  ASSERT_TRUE(binder.ok());
  EXPECT_EQ(base::HexOf(*binder),
            "0d22e08a98469058486318283489bdb36f09dbefeb1864df433fa6e54ea2d711");
  // Re-encoding the key gives the same 107 bytes (TF-RMM label order).
  auto encoded = EncodeCoseKey(*key);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(*encoded, rak->bytes());

  // One flipped payload bit breaks it.
  CoseSign1 tampered = *sign1;
  tampered.payload[10] ^= 1;
  EXPECT_EQ(VerifyCoseSign1(tampered, *key).code(),
            absl::StatusCode::kUnauthenticated);
}

// RFC 9052 §4.4 layout for a tiny case, written out by hand.
TEST(CoseTest, SigStructureEncodingIsDefiniteAndShortest) {
  EXPECT_EQ(base::HexOf(SigStructure(test::FromHex("a10126"), {},
                                     test::FromHex("0102"))),
            "846a5369676e61747572653143a101264042"
            "0102");
  std::vector<uint8_t> big(300, 0xab);
  const std::vector<uint8_t> s = SigStructure({}, test::FromHex("aa"), big);
  EXPECT_EQ(base::HexOf(absl::MakeSpan(s).subspan(0, 18)),
            "846a5369676e617475726531"
            "40"
            "41aa"
            "59012c");
}

TEST(CoseTest, SignVerifyRoundTripOnEveryCurve) {
  for (crypto::Curve curve :
       {crypto::Curve::kP256, crypto::Curve::kP384, crypto::Curve::kP521}) {
    SCOPED_TRACE(CurveName(curve));
    auto key = crypto::EcPrivateKey::Generate(curve);
    ASSERT_TRUE(key.ok());
    auto pub = key->PublicKey();
    ASSERT_TRUE(pub.ok());
    const std::vector<uint8_t> payload = test::FromHex("a10a4401020304");
    auto bytes = SignCoseSign1(payload, *key);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    auto sign1 = DecodeCoseSign1(*bytes, "token");
    ASSERT_TRUE(sign1.ok()) << sign1.status();
    EXPECT_EQ(sign1->payload, payload);
    EXPECT_EQ(*sign1->Algorithm(), CoseAlgorithmMatchingCurve(curve));
    EXPECT_EQ(sign1->signature.size(), 2 * crypto::CurveFieldSize(curve));
    EXPECT_TRUE(VerifyCoseSign1(*sign1, *pub).ok());
    // COSE_Key round trip.
    auto cose_key = EncodeCoseKey(*pub);
    ASSERT_TRUE(cose_key.ok());
    auto back = DecodeCoseKey(*cose_key);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back->ToSec1(), *pub->ToSec1());
  }
}

TEST(CoseTest, AlgorithmMustAgreeWithKeyCurve) {
  auto p256 = crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
  auto p384 = crypto::EcPrivateKey::Generate(crypto::Curve::kP384);
  ASSERT_TRUE(p256.ok() && p384.ok());
  auto bytes = SignCoseSign1(test::FromHex("a0"), *p256);
  ASSERT_TRUE(bytes.ok());
  auto sign1 = DecodeCoseSign1(*bytes, "t");
  ASSERT_TRUE(sign1.ok());
  absl::Status s = VerifyCoseSign1(*sign1, *p384->PublicKey());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("ES256 needs a P-256 key, found a P-384"),
            std::string::npos)
      << s;
}

TEST(CoseTest, RejectsMalformedEnvelopes) {
  struct Case {
    const char* hex;
    const char* needle;
  } cases[] = {
      // Untagged (tag required by default).
      {"8443a10126a0420102420000", "expected tag 18"},
      // Wrong tag.
      {"d38443a10126a0420102420000", "expected 18, found 19"},
      // Three elements.
      {"d28343a10126a0420102", "an array of 4 items"},
      // Protected header not a bstr.
      {"d284a10126a0420102420000", "protected header: expected a byte string"},
      // Detached payload (nil).
      {"d28443a10126a0f6420000", "not detached"},
      // Protected header holds an array.
      {"d2844281"
       "00a0420102420000",
       "expected a map"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.hex);
    auto r = DecodeCoseSign1(test::FromHex(c.hex), "t");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos)
        << r.status();
  }
  // Untagged is accepted in lenient mode.
  CoseDecodeOptions lenient;
  lenient.require_tag = false;
  auto r =
      DecodeCoseSign1(test::FromHex("8443a10126a0420102420000"), "t", lenient);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->tagged);
}

TEST(CoseTest, AlgorithmErrors) {
  auto key = crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
  ASSERT_TRUE(key.ok());
  // No alg; alg = -8 (EdDSA); alg as text; short signature.
  struct Case {
    const char* hex;
    const char* needle;
  } cases[] = {
      {"d28440a0420102420000", "expected alg (label 1), found none"},
      {"d28443a10127a0420102420000", "found -8"},
      {"d28444a1016141a0420102420000", "expected an integer, found text"},
      {"d28443a10126a0420102420000", "expected 64 bytes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.hex);
    auto sign1 = DecodeCoseSign1(test::FromHex(c.hex), "t");
    ASSERT_TRUE(sign1.ok()) << sign1.status();
    absl::Status s = VerifyCoseSign1(*sign1, *key->PublicKey());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(c.needle), std::string::npos) << s;
  }
}

TEST(CoseTest, CoseKeyErrors) {
  const std::string x = std::string(64, '1');  // 32 bytes of 0x11
  struct Case {
    std::string hex;
    const char* needle;
  } cases[] = {
      {"a1010a", "kty (1): expected 2 (EC2), found 10"},
      {"a20102"
       "2004",
       "crv (-1): expected 1 (P-256)"},
      // Compressed y (bool).
      {"a4010220012158"
       "20" +
           x + "22f5",
       "y (-3): expected a byte string"},
      // x too short.
      {"a401022001214111225820" + x, "expected 32 bytes each for P-256"},
      // Not on the curve.
      {"a40102200121"
       "5820" +
           x +
           "22"
           "5820" +
           x,
       "COSE_Key: "},
      {"80", "expected a map"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.hex);
    auto r = DecodeCoseKey(test::FromHex(c.hex));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos)
        << r.status();
  }
}

}  // namespace
}  // namespace realm_measurements::corim
