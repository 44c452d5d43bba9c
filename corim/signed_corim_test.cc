#include "corim/signed_corim.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "corim/cbor.h"
#include "corim/testing/test_pki.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace realm_measurements::corim {
namespace {

using crypto::Certificate;
using crypto::Curve;
using crypto::EcPrivateKey;
using ::testing::HasSubstr;

template <typename T>
T Must(absl::StatusOr<T> v) {
  EXPECT_TRUE(v.ok()) << v.status();
  return *std::move(v);
}

ReferenceValues Sample() {
  ReferenceValues v;
  v.corim_id = std::string("signed-sample");
  v.entities.push_back(
      Entity{"ACME Ltd.", std::string("acme.example"), {1, 2}});
  Comid c;
  c.tag_identity.id = std::string("realm-1");
  RealmReferenceValue r;
  r.algorithm = RealmHashAlgorithm::kSha384;
  r.rim.assign(48, 0x5a);
  r.rem[0] = std::vector<uint8_t>(48, 0x01);
  r.rpv = std::vector<uint8_t>(64, 0x77);
  c.realms.push_back(r);
  v.comids.push_back(c);
  return v;
}

// A fresh PKI per test: root (P-384) -> intermediate (P-256) -> leaf.
class SignedCorimTest : public ::testing::TestWithParam<Curve> {
 protected:
  void SetUp() override {
    root_key_ = std::make_unique<EcPrivateKey>(
        Must(EcPrivateKey::Generate(Curve::kP384)));
    inter_key_ = std::make_unique<EcPrivateKey>(
        Must(EcPrivateKey::Generate(Curve::kP256)));
    leaf_key_ = std::make_unique<EcPrivateKey>(
        Must(EcPrivateKey::Generate(GetParam())));
    root_der_ = Must(testing::MakeCertDer("Test Root", *root_key_, "Test Root",
                                          *root_key_, /*ca=*/true, 1));
    inter_der_ = Must(testing::MakeCertDer("Test Intermediate", *inter_key_,
                                           "Test Root", *root_key_, true, 2));
    leaf_der_ = Must(testing::MakeCertDer("CoRIM Signer", *leaf_key_,
                                          "Test Intermediate", *inter_key_,
                                          /*ca=*/false, 3));
    root_ =
        std::make_unique<Certificate>(Must(Certificate::FromDer(root_der_)));
  }

  std::string ChainPem() const {
    return testing::DerToPem(leaf_der_) + testing::DerToPem(inter_der_);
  }
  CorimSigner Signer() const {
    return Must(CorimSigner::FromPem(Must(leaf_key_->ToPem()), ChainPem(),
                                     "ACME signer"));
  }

  std::unique_ptr<EcPrivateKey> root_key_, inter_key_, leaf_key_;
  std::vector<uint8_t> root_der_, inter_der_, leaf_der_;
  std::unique_ptr<Certificate> root_;
};

TEST_P(SignedCorimTest, RoundTripVerifiesAgainstTheRoot) {
  for (Profile profile : {Profile::kCcaRealm2025, Profile::kCcaRealmLegacy}) {
    SCOPED_TRACE(static_cast<int>(profile));
    absl::StatusOr<EncodedObject> signed_corim =
        SignCorim(Sample(), profile, Signer());
    ASSERT_TRUE(signed_corim.ok()) << signed_corim.status();
    EXPECT_EQ(signed_corim->media_type,
              absl::StrCat("application/rim+cose; profile=\"",
                           ProfileId(profile), "\""));
    // Tag 18 + array(4) (§3.12).
    EXPECT_EQ(signed_corim->bytes[0], 0xd2);
    EXPECT_EQ(signed_corim->bytes[1], 0x84);

    absl::StatusOr<VerifiedCorim> v =
        VerifySignedCorim(signed_corim->bytes, *root_);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(v->corim.profile, profile);
    EXPECT_EQ(v->corim.values, Sample());
    EXPECT_EQ(v->signer_name, "ACME signer");
    EXPECT_EQ(v->leaf_subject, "CN=CoRIM Signer");
    EXPECT_EQ(v->algorithm, CoseAlgorithmForCurve(GetParam()));

    // Structure: protected {1: alg, 3: ct, 8: meta, 33: [leaf, inter]},
    // unprotected {}, payload = the unsigned CoRIM, signature 2 * field size.
    CborValue top = Must(DecodeCbor(signed_corim->bytes));
    const CborValue& arr = top.tag_content();
    CborValue hdr = Must(DecodeCbor(arr.array()[0].bytes()));
    EXPECT_EQ(*hdr.Find(CborValue::Int(1)),
              CborValue::Int(
                  static_cast<int64_t>(CoseAlgorithmForCurve(GetParam()))));
    EXPECT_EQ(*hdr.Find(CborValue::Int(3)),
              CborValue::Text("application/rim+cbor"));
    EXPECT_EQ(
        ToDiagnostic(Must(DecodeCbor(hdr.Find(CborValue::Int(8))->bytes()))),
        "{0: {0: \"ACME signer\"}}");
    const CborValue* x5 = hdr.Find(CborValue::Int(33));
    ASSERT_NE(x5, nullptr);
    ASSERT_TRUE(x5->is_array());
    EXPECT_EQ(x5->array()[0].bytes(), leaf_der_);
    EXPECT_EQ(x5->array()[1].bytes(), inter_der_);
    EXPECT_TRUE(arr.array()[1].is_map());
    EXPECT_TRUE(arr.array()[1].map().empty());
    EXPECT_EQ(arr.array()[2].bytes(),
              Must(EncodeCorim(Sample(), profile)).bytes);
    EXPECT_EQ(arr.array()[3].bytes().size(),
              2 * crypto::CurveFieldSize(GetParam()));
  }
}

TEST_P(SignedCorimTest, TamperedPayloadIsRejected) {
  std::vector<uint8_t> bytes =
      Must(SignCorim(Sample(), Profile::kCcaRealm2025, Signer())).bytes;
  // Flip one byte of the RIM inside the payload.
  const std::vector<uint8_t> rim(48, 0x5a);
  auto at = std::search(bytes.begin(), bytes.end(), rim.begin(), rim.end());
  ASSERT_NE(at, bytes.end());
  at[10] ^= 0x01;
  absl::StatusOr<VerifiedCorim> v = VerifySignedCorim(bytes, *root_);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(v.status().message()),
              HasSubstr("COSE_Sign1 signature: expected a valid ES"));
  EXPECT_THAT(std::string(v.status().message()),
              HasSubstr("by the x5chain leaf (CN=CoRIM Signer), found it does "
                        "not verify"));
}

TEST_P(SignedCorimTest, SignatureByAnotherKeyIsRejected) {
  EcPrivateKey other = Must(EcPrivateKey::Generate(GetParam()));
  // FromPem refuses a key that is not the leaf's ...
  absl::StatusOr<CorimSigner> mismatched =
      CorimSigner::FromPem(Must(other.ToPem()), ChainPem(), "x");
  EXPECT_EQ(mismatched.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(mismatched.status().message()),
              HasSubstr("signing key: expected the key of the leaf certificate "
                        "CN=CoRIM Signer"));
  // ... so build the signer by hand to produce such a CoRIM.
  CorimSigner wrong{std::move(other), Must(Certificate::AllFromPem(ChainPem())),
                    "ACME signer", std::nullopt, std::nullopt};
  std::vector<uint8_t> bytes =
      Must(SignCorim(Sample(), Profile::kCcaRealm2025, wrong)).bytes;
  absl::StatusOr<VerifiedCorim> v = VerifySignedCorim(bytes, *root_);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(v.status().message()),
              HasSubstr("COSE_Sign1 signature: expected a valid"));
}

TEST_P(SignedCorimTest, BrokenChainIsRejected) {
  // Intermediate missing from x5chain.
  CorimSigner leaf_only = Must(CorimSigner::FromPem(
      Must(leaf_key_->ToPem()), testing::DerToPem(leaf_der_), "ACME signer"));
  std::vector<uint8_t> bytes =
      Must(SignCorim(Sample(), Profile::kCcaRealm2025, leaf_only)).bytes;
  absl::StatusOr<VerifiedCorim> v = VerifySignedCorim(bytes, *root_);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(
      std::string(v.status().message()),
      HasSubstr("x5chain: certificate chain of CN=CoRIM Signer rejected"));

  // Complete chain, but verified against an unrelated root.
  EcPrivateKey other_root_key = Must(EcPrivateKey::Generate(Curve::kP256));
  Certificate other_root = Must(Certificate::FromDer(Must(testing::MakeCertDer(
      "Other Root", other_root_key, "Other Root", other_root_key, true, 9))));
  bytes = Must(SignCorim(Sample(), Profile::kCcaRealm2025, Signer())).bytes;
  v = VerifySignedCorim(bytes, other_root);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(v.status().message()), HasSubstr("x5chain: "));

  // Expired: verification time two days ahead.
  v = VerifySignedCorim(bytes, *root_,
                        absl::ToUnixSeconds(absl::Now()) + 2 * 86400);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(v.status().message()), HasSubstr("expired"));
}

// corim-meta key 1, the signature's own validity: checked at the
// verification time like the certificates' (inclusive bounds).
TEST_P(SignedCorimTest, SignatureValidityIsChecked) {
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  CorimSigner signer = Signer();
  signer.validity = Validity{now - 3600, now + 3600};
  std::vector<uint8_t> bytes =
      Must(SignCorim(Sample(), Profile::kCcaRealm2025, signer)).bytes;
  EXPECT_TRUE(VerifySignedCorim(bytes, *root_, now).ok());
  EXPECT_TRUE(VerifySignedCorim(bytes, *root_, now + 3600).ok());
  absl::StatusOr<VerifiedCorim> v =
      VerifySignedCorim(bytes, *root_, now + 3601);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(v.status().message(),
            absl::StrCat("corim-meta signature-validity: expected a window "
                         "containing ",
                         EpochToRfc3339(now + 3601), ", found not-before ",
                         EpochToRfc3339(now - 3600), ", not-after ",
                         EpochToRfc3339(now + 3600)));
  v = VerifySignedCorim(bytes, *root_, now - 3601);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnauthenticated);
  // A signature-validity that ends before it begins is not signed.
  signer.validity = Validity{now + 10, now};
  absl::StatusOr<EncodedObject> bad =
      SignCorim(Sample(), Profile::kCcaRealm2025, signer);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("corim-meta signature-validity: expected not-before "
                        "<= not-after"));
}

INSTANTIATE_TEST_SUITE_P(Curves, SignedCorimTest,
                         ::testing::Values(Curve::kP256, Curve::kP384,
                                           Curve::kP521));

class SignedCorimStructureTest : public SignedCorimTest {};

TEST_P(SignedCorimStructureTest, MalformedEnvelopesAreRejected) {
  std::vector<uint8_t> good =
      Must(SignCorim(Sample(), Profile::kCcaRealm2025, Signer())).bytes;
  CborValue top = Must(DecodeCbor(good));
  struct Case {
    const char* name;
    std::function<CborValue(CborValue)> edit;
    const char* error;
  };
  auto with_header = [](CborValue t, std::function<void(CborValue::Map&)> f) {
    CborValue& arr = const_cast<CborValue&>(t.tag_content());
    CborValue hdr = *DecodeCbor(arr.array()[0].bytes());
    f(hdr.mutable_map());
    arr.mutable_array()[0] = CborValue::Bytes(*EncodeCbor(hdr));
    return t;
  };
  const std::vector<Case> cases = {
      {"untagged", [](CborValue t) { return t.tag_content(); },
       "signed CoRIM: expected tag 18 (COSE_Sign1), found array"},
      {"three elements",
       [](CborValue t) {
         const_cast<CborValue&>(t.tag_content()).mutable_array().pop_back();
         return t;
       },
       "COSE_Sign1: expected an array of 4 elements"},
      {"detached payload",
       [](CborValue t) {
         const_cast<CborValue&>(t.tag_content()).mutable_array()[2] =
             CborValue::Null();
         return t;
       },
       "COSE_Sign1 payload: expected an attached byte string, found null"},
      {"no x5chain",
       [&](CborValue t) {
         return with_header(t, [](CborValue::Map& m) { m.pop_back(); });
       },
       "COSE_Sign1 protected x5chain (33): expected the signer's certificate "
       "chain"},
      {"EdDSA",
       [&](CborValue t) {
         return with_header(
             t, [](CborValue::Map& m) { m[0].second = CborValue::Int(-8); });
       },
       "expected -7 (ES256), -35 (ES384) or -36 (ES512), found -8"},
      {"other content type",
       [&](CborValue t) {
         return with_header(t, [](CborValue::Map& m) {
           m[1].second = CborValue::Text("application/cbor");
         });
       },
       "content type (3): expected \"application/rim+cbor\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<uint8_t> bytes = Must(EncodeCbor(c.edit(top)));
    absl::StatusOr<VerifiedCorim> v = VerifySignedCorim(bytes, *root_);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(v.status().message()), HasSubstr(c.error));
  }
}

INSTANTIATE_TEST_SUITE_P(P256, SignedCorimStructureTest,
                         ::testing::Values(Curve::kP256));

}  // namespace
}  // namespace realm_measurements::corim
