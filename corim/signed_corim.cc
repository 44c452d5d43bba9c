#include "corim/signed_corim.h"

#include <ctime>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "corim/cbor.h"
#include "corim/cose.h"
#include "corim/internal/expected_found.h"

namespace realm_measurements::corim {
namespace {

// corim-meta-map keys (spec §3.12).
enum MetaKey : uint64_t { kMetaSigner = 0, kMetaValidity = 1 };
enum SignerKey : uint64_t { kSignerName = 0, kSignerUri = 1 };

std::string Short(const CborValue& v) {
  return absl::StrCat(v.type_name(), " ", ShortDiagnostic(v));
}

absl::StatusOr<bool> SameKey(const crypto::EcPublicKey& a,
                             const crypto::EcPublicKey& b) {
  if (a.curve() != b.curve()) return false;
  absl::StatusOr<std::vector<uint8_t>> pa = a.ToSec1();
  if (!pa.ok()) return pa.status();
  absl::StatusOr<std::vector<uint8_t>> pb = b.ToSec1();
  if (!pb.ok()) return pb.status();
  return *pa == *pb;
}

}  // namespace

absl::StatusOr<CorimSigner> CorimSigner::FromPem(absl::string_view key_pem,
                                                 absl::string_view chain_pem,
                                                 std::string signer_name) {
  absl::StatusOr<crypto::EcPrivateKey> key =
      crypto::EcPrivateKey::FromPem(key_pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("signing key: ", key.status().message()));
  }
  absl::StatusOr<std::vector<crypto::Certificate>> chain =
      crypto::Certificate::AllFromPem(chain_pem);
  if (!chain.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate chain: ", chain.status().message()));
  }
  if (chain->empty()) {
    return internal::ExpectedFound("certificate chain",
                                   "at least the leaf certificate", "none");
  }
  absl::StatusOr<crypto::EcPublicKey> leaf_key = (*chain)[0].PublicKey();
  if (!leaf_key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf certificate key: ", leaf_key.status().message()));
  }
  absl::StatusOr<crypto::EcPublicKey> pub = key->PublicKey();
  if (!pub.ok()) return pub.status();
  absl::StatusOr<bool> same = SameKey(*pub, *leaf_key);
  if (!same.ok()) return same.status();
  if (!*same) {
    return internal::ExpectedFound(
        "signing key",
        absl::StrCat("the key of the leaf certificate ",
                     (*chain)[0].SubjectText()),
        absl::StrCat("another ", CurveName(pub->curve()), " key"));
  }
  if (signer_name.empty()) {
    return internal::ExpectedFound("signer name", "a non-empty name", "\"\"");
  }
  return CorimSigner{*std::move(key), *std::move(chain), std::move(signer_name),
                     std::nullopt, std::nullopt};
}

absl::StatusOr<EncodedObject> SignCorimBytes(
    absl::Span<const uint8_t> unsigned_corim, Profile profile,
    const CorimSigner& signer) {
  if (signer.validity) {
    if (absl::Status s =
            CheckValidity(*signer.validity, "corim-meta signature-validity");
        !s.ok()) {
      return s;
    }
  }
  // The payload keeps its 501 tag (§3.12).
  if (unsigned_corim.size() < 3 || unsigned_corim[0] != 0xd9 ||
      unsigned_corim[1] != 0x01 || unsigned_corim[2] != 0xf5) {
    return internal::ExpectedFound("signed CoRIM payload",
                                   "an unsigned CoRIM (tag 501, d9 01f5)",
                                   "other bytes");
  }
  if (signer.chain.empty()) {
    return internal::ExpectedFound("certificate chain",
                                   "at least the leaf certificate", "none");
  }
  CborValue::Map signer_map;
  signer_map.emplace_back(CborValue::Uint(kSignerName),
                          CborValue::Text(signer.signer_name));
  if (signer.signer_uri) {
    signer_map.emplace_back(
        CborValue::Uint(kSignerUri),
        CborValue::Tag(kTagUri, CborValue::Text(*signer.signer_uri)));
  }
  CborValue::Map meta;
  meta.emplace_back(CborValue::Uint(kMetaSigner),
                    CborValue::MakeMap(std::move(signer_map)));
  if (signer.validity) {
    CborValue::Map v;
    if (signer.validity->not_before) {
      v.emplace_back(
          CborValue::Uint(0),
          CborValue::Tag(kTagEpochTime,
                         CborValue::Int(*signer.validity->not_before)));
    }
    v.emplace_back(CborValue::Uint(1),
                   CborValue::Tag(kTagEpochTime,
                                  CborValue::Int(signer.validity->not_after)));
    meta.emplace_back(CborValue::Uint(kMetaValidity),
                      CborValue::MakeMap(std::move(v)));
  }
  absl::StatusOr<std::vector<uint8_t>> meta_bytes =
      EncodeCbor(CborValue::MakeMap(std::move(meta)));
  if (!meta_bytes.ok()) return meta_bytes.status();

  // x5chain: a single bstr for one certificate, else an array (RFC 9360).
  CborValue x5chain;
  if (signer.chain.size() == 1) {
    x5chain = CborValue::Bytes(signer.chain[0].der());
  } else {
    CborValue::Array certs;
    for (const crypto::Certificate& c : signer.chain) {
      certs.push_back(CborValue::Bytes(c.der()));
    }
    x5chain = CborValue::MakeArray(std::move(certs));
  }
  // alg (from the key's curve) comes first, then these (§3.12).
  CborValue::Map headers;
  headers.emplace_back(CborValue::Int(kCoseLabelContentType),
                       CborValue::Text(std::string(kSignedCorimContentType)));
  headers.emplace_back(CborValue::Int(kCoseHeaderCorimMeta),
                       CborValue::Bytes(*std::move(meta_bytes)));
  headers.emplace_back(CborValue::Int(kCoseLabelX5Chain), std::move(x5chain));
  absl::StatusOr<std::vector<uint8_t>> out =
      SignCoseSign1(unsigned_corim, signer.key, std::move(headers));
  if (!out.ok()) return out.status();
  return EncodedObject{*std::move(out), SignedCorimMediaType(profile)};
}

absl::StatusOr<EncodedObject> SignCorim(const ReferenceValues& values,
                                        Profile profile,
                                        const CorimSigner& signer) {
  absl::StatusOr<EncodedObject> unsigned_corim = EncodeCorim(values, profile);
  if (!unsigned_corim.ok()) return unsigned_corim.status();
  return SignCorimBytes(unsigned_corim->bytes, profile, signer);
}

absl::StatusOr<VerifiedCorim> VerifySignedCorimSignature(
    absl::Span<const uint8_t> bytes, const crypto::Certificate& trust_anchor,
    std::optional<int64_t> unix_time) {
  CoseDecodeOptions options;  // tag 18 required (§3.12)
  options.limits.max_depth = 24;
  options.limits.max_string_size = 4 * 1024 * 1024;
  const DecodeLimits& limits = options.limits;
  absl::StatusOr<CborValue> top = DecodeCbor(bytes, "signed CoRIM", limits);
  if (!top.ok()) return top.status();
  // The envelope shape errors callers see for signed CoRIMs; the rest of the
  // COSE_Sign1 decode is CoseSign1FromCbor's.
  if (!top->is_tag() || top->tag_number() != kTagCoseSign1) {
    return internal::ExpectedFound("signed CoRIM", "tag 18 (COSE_Sign1)",
                                   Short(*top));
  }
  const CborValue& body = top->tag_content();
  if (!body.is_array() || body.array().size() != 4) {
    return internal::ExpectedFound("COSE_Sign1", "an array of 4 elements",
                                   Short(body));
  }
  if (!body.array()[2].is_bytes()) {
    return internal::ExpectedFound("COSE_Sign1 payload",
                                   "an attached byte string",
                                   Short(body.array()[2]));
  }
  absl::StatusOr<CoseSign1> sign1 =
      CoseSign1FromCbor(*top, "signed CoRIM", options);
  if (!sign1.ok()) return sign1.status();
  absl::StatusOr<CoseAlgorithm> alg = sign1->Algorithm();
  if (!alg.ok()) return alg.status();
  const CborValue* hdr = &sign1->protected_header;
  const CborValue* ct = hdr->Find(CborValue::Int(kCoseLabelContentType));
  if (ct == nullptr || !ct->is_text() ||
      ct->text() != kSignedCorimContentType) {
    return internal::ExpectedFound(
        "COSE_Sign1 protected content type (3)",
        absl::StrCat("\"", kSignedCorimContentType, "\""),
        ct ? Short(*ct) : "none");
  }
  const CborValue* meta_v = hdr->Find(CborValue::Int(kCoseHeaderCorimMeta));
  if (meta_v == nullptr || !meta_v->is_bytes()) {
    return internal::ExpectedFound("COSE_Sign1 protected corim-meta (8)",
                                   "a byte string",
                                   meta_v ? Short(*meta_v) : "none");
  }
  absl::StatusOr<CborValue> meta =
      DecodeCbor(meta_v->bytes(), "corim-meta", limits);
  if (!meta.ok()) return meta.status();
  const CborValue* signer = meta->FindUint(kMetaSigner);
  const CborValue* signer_name =
      signer != nullptr ? signer->FindUint(kSignerName) : nullptr;
  if (signer_name == nullptr || !signer_name->is_text()) {
    return internal::ExpectedFound("corim-meta signer name (0/0)",
                                   "a text string",
                                   signer_name ? Short(*signer_name) : "none");
  }
  // The signature's own validity (meta key 1), checked with the chain.
  std::optional<Validity> signature_validity;
  if (const CborValue* sv = meta->FindUint(kMetaValidity)) {
    absl::StatusOr<Validity> v =
        ValidityFromCbor(*sv, "corim-meta signature-validity");
    if (!v.ok()) return v.status();
    signature_validity = *v;
  }
  const CborValue* x5 = hdr->Find(CborValue::Int(kCoseLabelX5Chain));
  if (x5 == nullptr) {
    return internal::ExpectedFound(
        "COSE_Sign1 protected x5chain (33)",
        "the signer's certificate chain (Veraison requires it)", "none");
  }
  std::vector<crypto::Certificate> chain;
  auto add_cert = [&](const CborValue& c, size_t i) -> absl::Status {
    if (!c.is_bytes()) {
      return internal::ExpectedFound(absl::StrCat("x5chain[", i, "]"),
                                     "a DER certificate", Short(c));
    }
    absl::StatusOr<crypto::Certificate> cert =
        crypto::Certificate::FromDer(c.bytes());
    if (!cert.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("x5chain[", i, "]: ", cert.status().message()));
    }
    chain.push_back(*std::move(cert));
    return absl::OkStatus();
  };
  if (x5->is_array()) {
    if (x5->array().empty()) {
      return internal::ExpectedFound("x5chain", "at least one certificate",
                                     "an empty array");
    }
    for (size_t i = 0; i < x5->array().size(); ++i) {
      absl::Status s = add_cert(x5->array()[i], i);
      if (!s.ok()) return s;
    }
  } else {
    absl::Status s = add_cert(*x5, 0);
    if (!s.ok()) return s;
  }

  absl::Status chain_ok = crypto::VerifyChain(
      chain[0], absl::MakeConstSpan(chain).subspan(1), trust_anchor, unix_time);
  if (!chain_ok.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("x5chain: ", chain_ok.message()));
  }
  const int64_t now =
      unix_time.value_or(static_cast<int64_t>(std::time(nullptr)));
  if (!ValidAt(signature_validity, now)) {
    return absl::UnauthenticatedError(absl::StrCat(
        "corim-meta signature-validity: expected a window containing ",
        EpochToRfc3339(now), ", found ", ValidityToText(*signature_validity)));
  }
  absl::StatusOr<crypto::EcPublicKey> leaf_key = chain[0].PublicKey();
  if (!leaf_key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("x5chain leaf key: ", leaf_key.status().message()));
  }
  const crypto::Curve curve = CoseAlgorithmCurve(*alg);
  if (leaf_key->curve() != curve) {
    return internal::ExpectedFound(
        "x5chain leaf key",
        absl::StrCat("a ", CurveName(curve), " key for ",
                     CoseAlgorithmName(*alg)),
        absl::StrCat("a ", CurveName(leaf_key->curve()), " key"));
  }
  // Any failure here (bad length or bad signature) is an authentication
  // failure for a signed CoRIM.
  absl::Status sig_ok = VerifyCoseSign1(*sign1, *leaf_key);
  if (!sig_ok.ok()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "COSE_Sign1 signature: expected a valid ", CoseAlgorithmName(*alg),
        " signature by the x5chain leaf (", chain[0].SubjectText(),
        "), found it does not verify: ", sig_ok.message()));
  }
  VerifiedCorim out;
  out.algorithm = *alg;
  out.signer_name = signer_name->text();
  out.leaf_subject = chain[0].SubjectText();
  out.payload = sign1->payload;
  return out;
}

absl::StatusOr<VerifiedCorim> VerifySignedCorim(
    absl::Span<const uint8_t> bytes, const crypto::Certificate& trust_anchor,
    std::optional<int64_t> unix_time) {
  absl::StatusOr<VerifiedCorim> out =
      VerifySignedCorimSignature(bytes, trust_anchor, unix_time);
  if (!out.ok()) return out.status();
  absl::StatusOr<DecodedCorim> corim = DecodeCorim(out->payload);
  if (!corim.ok()) {
    return absl::Status(
        corim.status().code(),
        absl::StrCat("signed CoRIM payload: ", corim.status().message()));
  }
  out->corim = *std::move(corim);
  return out;
}

}  // namespace realm_measurements::corim
