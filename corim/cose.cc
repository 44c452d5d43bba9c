#include "corim/cose.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace realm_measurements::corim {
namespace {

using crypto::Curve;
using crypto::DigestAlgorithm;

// "Signature1" context string of RFC 9052 §4.4.
constexpr absl::string_view kSignature1Context = "Signature1";

void AppendBytes(std::vector<uint8_t>& out, uint8_t major,
                 absl::Span<const uint8_t> data) {
  AppendCborHead(major, data.size(), out);
  out.insert(out.end(), data.begin(), data.end());
}

absl::Status Invalid(absl::string_view what, absl::string_view item,
                     absl::string_view expected, absl::string_view found) {
  return absl::InvalidArgumentError(absl::StrCat(
      what, ": ", item, ": expected ", expected, ", found ", found));
}

absl::StatusOr<int64_t> IntLabel(const CborValue& v) {
  if (!v.is_int()) return absl::InvalidArgumentError("not an integer");
  return v.AsInt64();
}

const CborValue* FindInt(const CborValue& map, int64_t label) {
  return map.Find(CborValue::Int(label));
}

}  // namespace

absl::StatusOr<CoseAlgorithm> CoseAlgorithmFromId(int64_t id) {
  switch (id) {
    case static_cast<int64_t>(CoseAlgorithm::kEs256):
    case static_cast<int64_t>(CoseAlgorithm::kEs384):
    case static_cast<int64_t>(CoseAlgorithm::kEs512):
      return static_cast<CoseAlgorithm>(id);
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "COSE alg: expected -7 (ES256), -35 (ES384) or -36 (ES512), found ",
          id));
  }
}

const char* CoseAlgorithmName(CoseAlgorithm alg) {
  switch (alg) {
    case CoseAlgorithm::kEs256:
      return "ES256";
    case CoseAlgorithm::kEs384:
      return "ES384";
    case CoseAlgorithm::kEs512:
      return "ES512";
  }
  return "?";
}

Curve CoseAlgorithmCurve(CoseAlgorithm alg) {
  switch (alg) {
    case CoseAlgorithm::kEs256:
      return Curve::kP256;
    case CoseAlgorithm::kEs384:
      return Curve::kP384;
    case CoseAlgorithm::kEs512:
      return Curve::kP521;
  }
  return Curve::kP256;
}

DigestAlgorithm CoseAlgorithmDigest(CoseAlgorithm alg) {
  switch (alg) {
    case CoseAlgorithm::kEs256:
      return DigestAlgorithm::kSha256;
    case CoseAlgorithm::kEs384:
      return DigestAlgorithm::kSha384;
    case CoseAlgorithm::kEs512:
      return DigestAlgorithm::kSha512;
  }
  return DigestAlgorithm::kSha256;
}

CoseAlgorithm CoseAlgorithmMatchingCurve(Curve curve) {
  switch (curve) {
    case Curve::kP256:
      return CoseAlgorithm::kEs256;
    case Curve::kP384:
      return CoseAlgorithm::kEs384;
    case Curve::kP521:
      return CoseAlgorithm::kEs512;
  }
  return CoseAlgorithm::kEs256;
}

absl::StatusOr<CoseAlgorithm> CoseSign1::Algorithm() const {
  const CborValue* alg = protected_header.is_map()
                             ? FindInt(protected_header, kCoseLabelAlg)
                             : nullptr;
  if (alg == nullptr) {
    return absl::InvalidArgumentError(
        "COSE_Sign1 protected header: expected alg (label 1), found none");
  }
  if (!alg->is_int()) {
    return Invalid("COSE_Sign1 protected header", "alg", "an integer",
                   alg->type_name());
  }
  BASE_ASSIGN_OR_RETURN(int64_t id, alg->AsInt64());
  return CoseAlgorithmFromId(id);
}

absl::StatusOr<CoseSign1> CoseSign1FromCbor(const CborValue& value,
                                            absl::string_view what,
                                            const CoseDecodeOptions& options) {
  CoseSign1 out;
  const CborValue* body = &value;
  if (value.is_tag()) {
    if (value.tag_number() != kTagCoseSign1) {
      return Invalid(what, "COSE_Sign1 tag", "18",
                     absl::StrCat(value.tag_number()));
    }
    out.tagged = true;
    body = &value.tag_content();
  } else if (options.require_tag) {
    return Invalid(what, "COSE_Sign1", "tag 18", value.type_name());
  }
  if (!body->is_array() || body->array().size() != 4) {
    return Invalid(what, "COSE_Sign1", "an array of 4 items",
                   body->is_array()
                       ? absl::StrCat("an array of ", body->array().size())
                       : std::string(body->type_name()));
  }
  const CborValue::Array& a = body->array();
  if (!a[0].is_bytes()) {
    return Invalid(what, "COSE_Sign1 protected header", "a byte string",
                   a[0].type_name());
  }
  out.protected_bytes = a[0].bytes();
  if (out.protected_bytes.empty()) {
    out.protected_header = CborValue::MakeMap({});
  } else {
    BASE_ASSIGN_OR_RETURN(
        out.protected_header,
        DecodeCbor(out.protected_bytes,
                   absl::StrCat(what, ": COSE_Sign1 protected header"),
                   options.limits));
    if (!out.protected_header.is_map()) {
      return Invalid(what, "COSE_Sign1 protected header", "a map",
                     out.protected_header.type_name());
    }
  }
  if (!a[1].is_map()) {
    return Invalid(what, "COSE_Sign1 unprotected header", "a map",
                   a[1].type_name());
  }
  out.unprotected = a[1];
  if (!a[2].is_bytes()) {
    return Invalid(what, "COSE_Sign1 payload", "a byte string (not detached)",
                   a[2].type_name());
  }
  out.payload = a[2].bytes();
  if (!a[3].is_bytes()) {
    return Invalid(what, "COSE_Sign1 signature", "a byte string",
                   a[3].type_name());
  }
  out.signature = a[3].bytes();
  return out;
}

absl::StatusOr<CoseSign1> DecodeCoseSign1(absl::Span<const uint8_t> bytes,
                                          absl::string_view what,
                                          const CoseDecodeOptions& options) {
  BASE_ASSIGN_OR_RETURN(CborValue value,
                        DecodeCbor(bytes, what, options.limits));
  return CoseSign1FromCbor(value, what, options);
}

std::vector<uint8_t> SigStructure(absl::Span<const uint8_t> protected_bytes,
                                  absl::Span<const uint8_t> external_aad,
                                  absl::Span<const uint8_t> payload) {
  std::vector<uint8_t> out;
  out.reserve(32 + protected_bytes.size() + external_aad.size() +
              payload.size());
  AppendCborHead(4, 4, out);  // array(4)
  AppendBytes(out, 3,
              absl::Span<const uint8_t>(
                  reinterpret_cast<const uint8_t*>(kSignature1Context.data()),
                  kSignature1Context.size()));
  AppendBytes(out, 2, protected_bytes);
  AppendBytes(out, 2, external_aad);
  AppendBytes(out, 2, payload);
  return out;
}

absl::Status VerifyCoseSign1(const CoseSign1& sign1,
                             const crypto::EcPublicKey& key) {
  BASE_ASSIGN_OR_RETURN(CoseAlgorithm alg, sign1.Algorithm());
  if (CoseAlgorithmCurve(alg) != key.curve()) {
    return absl::InvalidArgumentError(
        absl::StrCat("COSE_Sign1: alg ", CoseAlgorithmName(alg), " needs a ",
                     CurveName(CoseAlgorithmCurve(alg)), " key, found a ",
                     CurveName(key.curve()), " key"));
  }
  const size_t want = 2 * crypto::CurveFieldSize(key.curve());
  if (sign1.signature.size() != want) {
    return absl::InvalidArgumentError(absl::StrCat(
        "COSE_Sign1 signature: expected ", want, " bytes (raw r || s for ",
        CoseAlgorithmName(alg), "), found ", sign1.signature.size()));
  }
  const std::vector<uint8_t> tbs =
      SigStructure(sign1.protected_bytes, {}, sign1.payload);
  return key.VerifyRaw(CoseAlgorithmDigest(alg), tbs, sign1.signature);
}

absl::StatusOr<std::vector<uint8_t>> SignCoseSign1(
    absl::Span<const uint8_t> payload, const crypto::EcPrivateKey& key,
    CborValue::Map extra_protected) {
  const CoseAlgorithm alg = CoseAlgorithmMatchingCurve(key.curve());
  CborValue::Map header;
  header.reserve(1 + extra_protected.size());
  header.emplace_back(CborValue::Int(kCoseLabelAlg),
                      CborValue::Int(static_cast<int64_t>(alg)));
  for (auto& entry : extra_protected) {
    if (entry.first == CborValue::Int(kCoseLabelAlg)) {
      return absl::InvalidArgumentError(
          "COSE_Sign1 protected header: expected alg (label 1) only from the "
          "key's curve, found it among the extra headers");
    }
    header.push_back(std::move(entry));
  }
  BASE_ASSIGN_OR_RETURN(std::vector<uint8_t> protected_bytes,
                        EncodeCbor(CborValue::MakeMap(std::move(header))));
  const std::vector<uint8_t> tbs = SigStructure(protected_bytes, {}, payload);
  BASE_ASSIGN_OR_RETURN(std::vector<uint8_t> signature,
                        key.SignRaw(CoseAlgorithmDigest(alg), tbs));
  return EncodeCbor(CborValue::Tag(
      kTagCoseSign1,
      CborValue::MakeArray({CborValue::Bytes(std::move(protected_bytes)),
                            CborValue::MakeMap({}), CborValue::Bytes(payload),
                            CborValue::Bytes(std::move(signature))})));
}

absl::StatusOr<crypto::EcPublicKey> CoseKeyToPublicKey(const CborValue& key,
                                                       absl::string_view what) {
  if (!key.is_map()) return Invalid(what, "COSE_Key", "a map", key.type_name());
  const CborValue* kty = FindInt(key, kCoseKeyKty);
  if (kty == nullptr) return Invalid(what, "kty (1)", "2 (EC2)", "none");
  auto kty_value = IntLabel(*kty);
  if (!kty_value.ok() || *kty_value != kCoseKtyEc2) {
    return Invalid(what, "kty (1)", "2 (EC2)",
                   kty_value.ok() ? absl::StrCat(*kty_value)
                                  : std::string(kty->type_name()));
  }
  const CborValue* crv = FindInt(key, kCoseKeyCrv);
  if (crv == nullptr) return Invalid(what, "crv (-1)", "1, 2 or 3", "none");
  auto crv_value = IntLabel(*crv);
  Curve curve;
  if (crv_value.ok() && *crv_value == kCoseCrvP256) {
    curve = Curve::kP256;
  } else if (crv_value.ok() && *crv_value == kCoseCrvP384) {
    curve = Curve::kP384;
  } else if (crv_value.ok() && *crv_value == kCoseCrvP521) {
    curve = Curve::kP521;
  } else {
    return Invalid(what, "crv (-1)", "1 (P-256), 2 (P-384) or 3 (P-521)",
                   crv_value.ok() ? absl::StrCat(*crv_value)
                                  : std::string(crv->type_name()));
  }
  const CborValue* x = FindInt(key, kCoseKeyX);
  const CborValue* y = FindInt(key, kCoseKeyY);
  const size_t field = crypto::CurveFieldSize(curve);
  if (x == nullptr || !x->is_bytes()) {
    return Invalid(what, "x (-2)", absl::StrCat("a byte string of ", field),
                   x == nullptr ? "none" : x->type_name());
  }
  if (y == nullptr || !y->is_bytes()) {
    return Invalid(what, "y (-3)",
                   absl::StrCat("a byte string of ", field,
                                " (compressed form not accepted)"),
                   y == nullptr ? "none" : y->type_name());
  }
  if (x->bytes().size() != field || y->bytes().size() != field) {
    return Invalid(what, "x/y (-2/-3)",
                   absl::StrCat(field, " bytes each for ", CurveName(curve)),
                   absl::StrCat(x->bytes().size(), "/", y->bytes().size()));
  }
  auto pub =
      crypto::EcPublicKey::FromCoordinates(curve, x->bytes(), y->bytes());
  if (!pub.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", pub.status().message()));
  }
  return pub;
}

absl::StatusOr<crypto::EcPublicKey> DecodeCoseKey(
    absl::Span<const uint8_t> bytes, absl::string_view what) {
  BASE_ASSIGN_OR_RETURN(CborValue value, DecodeCbor(bytes, what));
  return CoseKeyToPublicKey(value, what);
}

absl::StatusOr<std::vector<uint8_t>> EncodeCoseKey(
    const crypto::EcPublicKey& key) {
  BASE_ASSIGN_OR_RETURN(std::vector<uint8_t> sec1, key.ToSec1());
  const size_t field = crypto::CurveFieldSize(key.curve());
  if (sec1.size() != 1 + 2 * field) {
    return absl::InternalError("EncodeCoseKey: unexpected SEC1 point size");
  }
  int64_t crv = kCoseCrvP256;
  if (key.curve() == Curve::kP384) crv = kCoseCrvP384;
  if (key.curve() == Curve::kP521) crv = kCoseCrvP521;
  const absl::Span<const uint8_t> point(sec1);
  return EncodeCbor(CborValue::MakeMap(
      {{CborValue::Int(kCoseKeyKty), CborValue::Int(kCoseKtyEc2)},
       {CborValue::Int(kCoseKeyCrv), CborValue::Int(crv)},
       {CborValue::Int(kCoseKeyX), CborValue::Bytes(point.subspan(1, field))},
       {CborValue::Int(kCoseKeyY),
        CborValue::Bytes(point.subspan(1 + field, field))}}));
}

}  // namespace realm_measurements::corim
