#include "corim/token_json.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/crypto.h"
#include "base/hex.h"
#include "base/json_text.h"
#include "corim/cbor.h"
#include "corim/cose.h"
#include "corim/verify.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::corim {
namespace {

using OJson = nlohmann::ordered_json;

// A CBOR value as JSON for `decode`: byte strings as lower-case hex, maps
// in wire order (keys as their decimal or text form), tags as
// {"tag": N, "value": ...}.
OJson CborToJson(const CborValue& v) {
  switch (v.type()) {
    case CborValue::Type::kUnsigned:
      return v.uint_value();
    case CborValue::Type::kNegative: {
      absl::StatusOr<int64_t> i = v.AsInt64();
      if (i.ok()) return *i;
      return absl::StrCat("-1-", v.negative_raw());
    }
    case CborValue::Type::kBytes:
      return base::HexOf(v.bytes());
    case CborValue::Type::kText:
      return v.text();
    case CborValue::Type::kArray: {
      OJson a = OJson::array();
      for (const CborValue& e : v.array()) a.push_back(CborToJson(e));
      return a;
    }
    case CborValue::Type::kMap: {
      OJson m = OJson::object();
      for (const auto& [k, e] : v.map()) {
        std::string key = k.is_text() ? k.text() : ToDiagnostic(k);
        m[key] = CborToJson(e);
      }
      return m;
    }
    case CborValue::Type::kTag:
      return OJson{{"tag", v.tag_number()},
                   {"value", CborToJson(v.tag_content())}};
    case CborValue::Type::kBool:
      return v.bool_value();
    default:
      return nullptr;
  }
}

// Names of the claims (§1.4, §1.6): Veraison's JSON names where they exist.
const char* ClaimName(bool realm, const CborValue& key) {
  if (!key.is_uint()) return nullptr;
  switch (key.uint_value()) {
    case 10:
      return realm ? "cca-realm-challenge" : "cca-platform-challenge";
    case 256:
      return realm ? "realm-instance-id" : "cca-platform-instance-id";
    case 265:
      return realm ? "cca-realm-profile" : "cca-platform-profile";
  }
  if (realm) {
    switch (key.uint_value()) {
      case kRealmPersonalizationValue:
        return "cca-realm-personalization-value";
      case kRealmHashAlgorithm:
        return "cca-realm-hash-algo-id";
      case kRealmPublicKey:
        return "cca-realm-public-key";
      case kRealmInitialMeasurement:
        return "cca-realm-initial-measurement";
      case kRealmExtensibleMeasurements:
        return "cca-realm-extensible-measurements";
      case kRealmPublicKeyHashAlgorithm:
        return "cca-realm-public-key-hash-algo-id";
      case kRealmMecPolicyOld:
      case kRealmMecPolicy:
        return "mec-policy";
    }
    return nullptr;
  }
  switch (key.uint_value()) {
    case kPlatformLifecycle:
      return "cca-platform-lifecycle";
    case kPlatformImplementationId:
      return "cca-platform-implementation-id";
    case kPlatformSwComponents:
      return "cca-platform-sw-components";
    case kPlatformServiceIndicator:
      return "cca-platform-service-indicator";
    case kPlatformConfig:
      return "cca-platform-config";
    case kPlatformHashAlgorithm:
      return "cca-platform-hash-algo-id";
  }
  return nullptr;
}

OJson EnvelopeJson(const CoseSign1& e, uint64_t content_format,
                   TopLevelForm form) {
  OJson j = OJson::object();
  if (form == TopLevelForm::kCmwCollection) {
    j["content-format"] = content_format;
  }
  absl::StatusOr<CoseAlgorithm> alg = e.Algorithm();
  j["alg"] = alg.ok() ? OJson(CoseAlgorithmName(*alg)) : OJson(nullptr);
  j["protected"] = base::HexOf(e.protected_bytes);
  j["unprotected"] = CborToJson(e.unprotected);
  j["payload-size"] = e.payload.size();
  j["signature"] = base::HexOf(e.signature);
  return j;
}

// Every claim of one payload in wire order: [{key, name, value}].
OJson ClaimsJson(absl::Span<const uint8_t> payload, bool realm,
                 const TokenDecodeOptions& options) {
  OJson out = OJson::array();
  absl::StatusOr<CborValue> m =
      DecodeCbor(payload, "payload", TokenDecodeLimits(options));
  if (!m.ok() || !m->is_map()) return out;  // DecodeCcaToken checked it
  for (const auto& [k, v] : m->map()) {
    const char* name = ClaimName(realm, k);
    OJson c = OJson::object();
    c["key"] = k.is_text() ? OJson(k.text()) : CborToJson(k);
    c["name"] = name ? OJson(name) : OJson(nullptr);
    c["value"] = CborToJson(v);
    out.push_back(std::move(c));
  }
  return out;
}

OJson DecodeJson(const CcaToken& t, const TokenDecodeOptions& options) {
  OJson j = OJson::object();
  j["form"] = t.form == TopLevelForm::kCmwCollection ? "cmw-collection-907"
                                                     : "eat-collection-399";
  OJson unknown = OJson::array();
  for (const ClaimKey& k : t.unknown_keys) {
    unknown.push_back(ClaimKeyToString(k));
  }
  j["unknown-collection-keys"] = std::move(unknown);
  j["platform"] = {
      {"envelope",
       EnvelopeJson(t.platform_envelope, t.platform_content_format, t.form)},
      {"claims", ClaimsJson(t.platform_envelope.payload, false, options)}};
  j["realm"] = {
      {"envelope",
       EnvelopeJson(t.realm_envelope, t.realm_content_format, t.form)},
      {"claims", ClaimsJson(t.realm_envelope.payload, true, options)}};
  OJson rak = OJson::object();
  rak["encoding"] =
      t.realm.profile == RealmProfile::kNone ? "raw-sec1" : "cose-key";
  absl::StatusOr<crypto::EcPublicKey> key = RealmAttestationKey(t.realm);
  if (key.ok()) {
    rak["curve"] = CurveName(key->curve());
    absl::StatusOr<std::vector<uint8_t>> sec1 = key->ToSec1();
    if (sec1.ok()) rak["sec1"] = base::HexOf(*sec1);
  } else {
    rak["error"] = std::string(key.status().message());
  }
  j["rak"] = std::move(rak);
  OJson binder = OJson::object();
  binder["algorithm"] = t.realm.public_key_hash_algorithm;
  binder["platform-challenge"] = base::HexOf(t.platform.challenge);
  absl::StatusOr<crypto::DigestAlgorithm> alg =
      TokenHashAlgorithm(t.realm.public_key_hash_algorithm);
  absl::StatusOr<std::vector<uint8_t>> h =
      alg.ok() ? crypto::HashOnce(*alg, t.realm.public_key)
               : absl::StatusOr<std::vector<uint8_t>>(alg.status());
  if (h.ok()) {
    binder["computed"] = base::HexOf(*h);
    binder["match"] = *h == t.platform.challenge;
  } else {
    binder["computed"] = nullptr;
    binder["error"] = std::string(h.status().message());
  }
  j["binder"] = std::move(binder);
  return j;
}

}  // namespace

std::string TokenToJson(const CcaToken& t, const TokenDecodeOptions& options) {
  return base::JsonText(DecodeJson(t, options), -1);
}

std::string TokenToText(const CcaToken& t, const TokenDecodeOptions& options) {
  OJson j = DecodeJson(t, options);
  std::string out = absl::StrCat("form: ", j["form"].get<std::string>(), "\n");
  for (const char* part : {"platform", "realm"}) {
    absl::StrAppend(&out, part, " token (",
                    (j[part]["envelope"]["alg"].is_string()
                         ? j[part]["envelope"]["alg"].get<std::string>()
                         : std::string("no alg")),
                    "):\n");
    for (const OJson& c : j[part]["claims"]) {
      absl::StrAppend(&out, "  ", base::JsonText(c["key"], -1),
                      c["name"].is_null() ? std::string(" (unknown)")
                                          : " " + c["name"].get<std::string>(),
                      ": ", base::JsonText(c["value"], -1), "\n");
    }
  }
  absl::StrAppend(&out, "rak: ", base::JsonText(j["rak"], -1), "\n");
  absl::StrAppend(&out, "binder: ", base::JsonText(j["binder"], -1), "\n");
  return out;
}

}  // namespace realm_measurements::corim
