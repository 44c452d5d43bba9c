#include "corim/token.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/crypto.h"
#include "base/status_macros.h"

namespace realm_measurements::corim {
namespace {

absl::Status Invalid(absl::string_view part, absl::string_view item,
                     absl::string_view expected, absl::string_view found) {
  return absl::InvalidArgumentError(absl::StrCat(
      part, ": ", item, ": expected ", expected, ", found ", found));
}

// "claim 44238 (RIM)".
std::string ClaimName(uint64_t key, absl::string_view name) {
  return absl::StrCat("claim ", key, " (", name, ")");
}

absl::StatusOr<std::vector<uint8_t>> GetBytes(const CborValue& v,
                                              absl::string_view part,
                                              uint64_t key,
                                              absl::string_view name) {
  if (!v.is_bytes()) {
    return Invalid(part, ClaimName(key, name), "a byte string", v.type_name());
  }
  return v.bytes();
}

absl::StatusOr<std::string> GetText(const CborValue& v, absl::string_view part,
                                    uint64_t key, absl::string_view name,
                                    bool non_empty = true) {
  if (!v.is_text()) {
    return Invalid(part, ClaimName(key, name), "a text string", v.type_name());
  }
  if (non_empty && v.text().empty()) {
    return Invalid(part, ClaimName(key, name), "a non-empty text string",
                   "an empty one");
  }
  return v.text();
}

ClaimKey KeyOf(const CborValue& k) {
  if (k.is_text()) return k.text();
  auto i = k.AsInt64();
  if (k.is_int() && i.ok()) return *i;
  return std::string(absl::StrCat("<", k.type_name(), ">"));
}

// Claim maps: integer keys in [0, 2^63); anything else is "unknown".
bool UintKey(const CborValue& k, uint64_t* out) {
  if (!k.is_uint()) return false;
  *out = k.uint_value();
  return true;
}

absl::Status Missing(absl::string_view part, uint64_t key,
                     absl::string_view name) {
  return Invalid(part, ClaimName(key, name), "a mandatory claim", "none");
}

constexpr absl::string_view kRealmPart = "realm token";
constexpr absl::string_view kPlatformPart = "platform token";

absl::StatusOr<SwComponent> DecodeSwComponent(const CborValue& v, size_t i) {
  const std::string part = absl::StrCat(kPlatformPart, ": sw-component ", i);
  if (!v.is_map()) return Invalid(part, "entry", "a map", v.type_name());
  SwComponent c;
  for (const auto& [k, value] : v.map()) {
    uint64_t key;
    if (!UintKey(k, &key)) continue;  // ignored in lenient mode (§1.6)
    switch (key) {
      case 1: {
        BASE_ASSIGN_OR_RETURN(
            c.type, GetText(value, part, key, "component type", false));
        break;
      }
      case 2: {
        BASE_ASSIGN_OR_RETURN(c.measurement,
                              GetBytes(value, part, key, "measurement value"));
        break;
      }
      case 4: {
        BASE_ASSIGN_OR_RETURN(c.version,
                              GetText(value, part, key, "version", false));
        break;
      }
      case 5: {
        BASE_ASSIGN_OR_RETURN(c.signer_id,
                              GetBytes(value, part, key, "signer id"));
        break;
      }
      case 6: {
        BASE_ASSIGN_OR_RETURN(
            c.hash_algorithm,
            GetText(value, part, key, "measurement description", false));
        break;
      }
      default:
        break;
    }
  }
  return c;
}

absl::StatusOr<CborValue> DecodeClaimMap(absl::Span<const uint8_t> payload,
                                         absl::string_view part,
                                         const TokenDecodeOptions& options) {
  BASE_ASSIGN_OR_RETURN(CborValue claims,
                        DecodeCbor(payload, absl::StrCat(part, " payload"),
                                   TokenDecodeLimits(options)));
  if (!claims.is_map()) {
    return Invalid(part, "payload", "a claims map", claims.type_name());
  }
  return claims;
}

}  // namespace

std::string ClaimKeyToString(const ClaimKey& key) {
  if (const int64_t* i = std::get_if<int64_t>(&key)) return absl::StrCat(*i);
  return absl::StrCat("\"", std::get<std::string>(key), "\"");
}

DecodeLimits TokenDecodeLimits(const TokenDecodeOptions& options) {
  DecodeLimits limits;
  limits.allow_indefinite = !options.strict;
  return limits;
}

absl::StatusOr<RealmClaims> DecodeRealmClaims(
    absl::Span<const uint8_t> payload, const TokenDecodeOptions& options) {
  const absl::string_view part = kRealmPart;
  BASE_ASSIGN_OR_RETURN(CborValue claims,
                        DecodeClaimMap(payload, part, options));
  RealmClaims c;
  bool seen[6] = {};  // challenge, rpv, hash, rak, rim, rems (+ rak hash)
  bool seen_rak_hash = false;
  for (const auto& [k, v] : claims.map()) {
    uint64_t key;
    if (!UintKey(k, &key)) {
      c.unknown_keys.push_back(KeyOf(k));
      continue;
    }
    switch (key) {
      case kRealmChallenge: {
        BASE_ASSIGN_OR_RETURN(c.challenge, GetBytes(v, part, key, "challenge"));
        seen[0] = true;
        break;
      }
      case kRealmInstanceId: {
        BASE_ASSIGN_OR_RETURN(c.instance_id,
                              GetBytes(v, part, key, "realm instance id"));
        break;
      }
      case kRealmProfile: {
        BASE_ASSIGN_OR_RETURN(c.profile_text, GetText(v, part, key, "profile"));
        break;
      }
      case kRealmPersonalizationValue: {
        BASE_ASSIGN_OR_RETURN(c.personalization_value,
                              GetBytes(v, part, key, "RPV"));
        seen[1] = true;
        break;
      }
      case kRealmHashAlgorithm: {
        BASE_ASSIGN_OR_RETURN(c.hash_algorithm,
                              GetText(v, part, key, "realm hash algorithm"));
        seen[2] = true;
        break;
      }
      case kRealmPublicKey: {
        BASE_ASSIGN_OR_RETURN(c.public_key, GetBytes(v, part, key, "RAK"));
        seen[3] = true;
        break;
      }
      case kRealmInitialMeasurement: {
        BASE_ASSIGN_OR_RETURN(c.initial_measurement,
                              GetBytes(v, part, key, "RIM"));
        seen[4] = true;
        break;
      }
      case kRealmExtensibleMeasurements: {
        if (!v.is_array() || v.array().empty()) {
          return Invalid(part, ClaimName(key, "REMs"),
                         "a non-empty array of byte strings",
                         v.is_array() ? "an empty array" : v.type_name());
        }
        for (size_t i = 0; i < v.array().size(); ++i) {
          BASE_ASSIGN_OR_RETURN(
              std::vector<uint8_t> rem,
              GetBytes(v.array()[i], part, key, absl::StrCat("REM", i)));
          c.extensible_measurements.push_back(std::move(rem));
        }
        seen[5] = true;
        break;
      }
      case kRealmPublicKeyHashAlgorithm: {
        BASE_ASSIGN_OR_RETURN(c.public_key_hash_algorithm,
                              GetText(v, part, key, "RAK hash algorithm"));
        seen_rak_hash = true;
        break;
      }
      case kRealmMecPolicyOld:
      case kRealmMecPolicy: {
        if (v.is_uint()) {
          c.mec_policy = v.uint_value();
        } else if (v.is_text()) {
          c.mec_policy = v.text();
        } else {
          return Invalid(part, ClaimName(key, "MEC policy"),
                         "an unsigned integer or text", v.type_name());
        }
        c.mec_policy_key = key;
        break;
      }
      default:
        c.unknown_keys.push_back(KeyOf(k));
        break;
    }
  }
  if (!seen[0]) return Missing(part, kRealmChallenge, "challenge");
  if (!seen[1]) return Missing(part, kRealmPersonalizationValue, "RPV");
  if (!seen[2])
    return Missing(part, kRealmHashAlgorithm, "realm hash algorithm");
  if (!seen[3]) return Missing(part, kRealmPublicKey, "RAK");
  if (!seen[4]) return Missing(part, kRealmInitialMeasurement, "RIM");
  if (!seen[5]) return Missing(part, kRealmExtensibleMeasurements, "REMs");
  if (!seen_rak_hash) {
    return Missing(part, kRealmPublicKeyHashAlgorithm, "RAK hash algorithm");
  }
  if (!c.profile_text.has_value()) {
    c.profile = RealmProfile::kNone;
  } else if (*c.profile_text == kRealmProfile2023) {
    c.profile = RealmProfile::kV1;
  } else if (*c.profile_text == kRealmProfile2024) {
    c.profile = RealmProfile::kV2;
  } else {
    c.profile = RealmProfile::kUnknown;
  }
  return c;
}

absl::StatusOr<PlatformClaims> DecodePlatformClaims(
    absl::Span<const uint8_t> payload, const TokenDecodeOptions& options) {
  const absl::string_view part = kPlatformPart;
  BASE_ASSIGN_OR_RETURN(CborValue claims,
                        DecodeClaimMap(payload, part, options));
  PlatformClaims c;
  bool seen_profile = false, seen_challenge = false, seen_impl = false,
       seen_inst = false, seen_config = false, seen_lifecycle = false,
       seen_sw = false, seen_hash = false;
  for (const auto& [k, v] : claims.map()) {
    uint64_t key;
    if (!UintKey(k, &key)) {
      c.unknown_keys.push_back(KeyOf(k));
      continue;
    }
    switch (key) {
      case kPlatformProfile: {
        BASE_ASSIGN_OR_RETURN(c.profile_text, GetText(v, part, key, "profile"));
        seen_profile = true;
        break;
      }
      case kPlatformChallenge: {
        // A multi-nonce array is an error (Veraison's negative vector).
        BASE_ASSIGN_OR_RETURN(c.challenge, GetBytes(v, part, key, "challenge"));
        seen_challenge = true;
        break;
      }
      case kPlatformImplementationId: {
        BASE_ASSIGN_OR_RETURN(c.implementation_id,
                              GetBytes(v, part, key, "implementation id"));
        seen_impl = true;
        break;
      }
      case kPlatformInstanceId: {
        BASE_ASSIGN_OR_RETURN(c.instance_id,
                              GetBytes(v, part, key, "instance id"));
        seen_inst = true;
        break;
      }
      case kPlatformConfig: {
        BASE_ASSIGN_OR_RETURN(c.config,
                              GetBytes(v, part, key, "platform config"));
        seen_config = true;
        break;
      }
      case kPlatformLifecycle: {
        if (!v.is_uint()) {
          return Invalid(part, ClaimName(key, "lifecycle"),
                         "an unsigned integer", v.type_name());
        }
        c.lifecycle = v.uint_value();
        seen_lifecycle = true;
        break;
      }
      case kPlatformSwComponents: {
        if (!v.is_array()) {
          return Invalid(part, ClaimName(key, "sw-components"), "an array",
                         v.type_name());
        }
        for (size_t i = 0; i < v.array().size(); ++i) {
          BASE_ASSIGN_OR_RETURN(SwComponent sw,
                                DecodeSwComponent(v.array()[i], i));
          c.sw_components.push_back(std::move(sw));
        }
        seen_sw = true;
        break;
      }
      case kPlatformServiceIndicator: {
        BASE_ASSIGN_OR_RETURN(
            c.service_indicator,
            GetText(v, part, key, "verification service indicator"));
        break;
      }
      case kPlatformHashAlgorithm: {
        BASE_ASSIGN_OR_RETURN(c.hash_algorithm,
                              GetText(v, part, key, "hash algorithm"));
        seen_hash = true;
        break;
      }
      default:
        c.unknown_keys.push_back(KeyOf(k));
        break;
    }
  }
  if (!seen_profile) return Missing(part, kPlatformProfile, "profile");
  if (!seen_challenge) return Missing(part, kPlatformChallenge, "challenge");
  if (!seen_impl) {
    return Missing(part, kPlatformImplementationId, "implementation id");
  }
  if (!seen_inst) return Missing(part, kPlatformInstanceId, "instance id");
  if (!seen_config) return Missing(part, kPlatformConfig, "platform config");
  if (!seen_lifecycle) return Missing(part, kPlatformLifecycle, "lifecycle");
  if (!seen_sw) return Missing(part, kPlatformSwComponents, "sw-components");
  if (!seen_hash)
    return Missing(part, kPlatformHashAlgorithm, "hash algorithm");
  if (c.profile_text == kPlatformProfile2023) {
    c.profile = PlatformProfile::kV1;
  } else if (c.profile_text == kPlatformProfileLegacy) {
    c.profile = PlatformProfile::kLegacy;
  } else {
    c.profile = PlatformProfile::kUnknown;
  }
  return c;
}

absl::StatusOr<CcaToken> DecodeCcaToken(absl::Span<const uint8_t> bytes,
                                        const TokenDecodeOptions& options) {
  BASE_ASSIGN_OR_RETURN(CborValue top, DecodeCbor(bytes, "CCA token",
                                                  TokenDecodeLimits(options)));
  CcaToken token;
  if (!top.is_tag() || (top.tag_number() != kTagCcaEatCollection &&
                        top.tag_number() != kTagCcaCmwCollection)) {
    return Invalid("CCA token", "top-level tag", "399 or 907",
                   top.is_tag() ? absl::StrCat("tag ", top.tag_number())
                                : std::string(top.type_name()));
  }
  token.form = top.tag_number() == kTagCcaEatCollection
                   ? TopLevelForm::kEatCollection
                   : TopLevelForm::kCmwCollection;
  const CborValue& map = top.tag_content();
  if (!map.is_map()) {
    return Invalid("CCA token", "collection", "a map", map.type_name());
  }
  const CborValue* entries[2] = {nullptr, nullptr};
  for (const auto& [k, v] : map.map()) {
    if (k.is_uint() && k.uint_value() == kKeyPlatformToken) {
      entries[0] = &v;
    } else if (k.is_uint() && k.uint_value() == kKeyRealmToken) {
      entries[1] = &v;
    } else if (options.strict) {
      return Invalid("CCA token", "collection key",
                     "44234 (platform) or 44241 (realm)",
                     ClaimKeyToString(KeyOf(k)));
    } else {
      token.unknown_keys.push_back(KeyOf(k));
    }
  }
  const absl::string_view parts[2] = {kPlatformPart, kRealmPart};
  const uint64_t keys[2] = {kKeyPlatformToken, kKeyRealmToken};
  CoseDecodeOptions cose_options;
  cose_options.require_tag = options.strict;
  cose_options.limits = TokenDecodeLimits(options);
  for (int i = 0; i < 2; ++i) {
    if (entries[i] == nullptr) {
      return Invalid("CCA token", absl::StrCat("collection key ", keys[i]),
                     absl::StrCat("the ", parts[i]), "none");
    }
    const CborValue* bstr = entries[i];
    uint64_t content_format = 0;
    if (token.form == TopLevelForm::kCmwCollection) {
      const CborValue& rec = *entries[i];
      if (!rec.is_array() || rec.array().size() != 2 ||
          !rec.array()[0].is_uint() || !rec.array()[1].is_bytes()) {
        return Invalid(parts[i], "CMW record (tag 907)",
                       "a 2-element array [content-format, bstr]",
                       rec.is_array()
                           ? absl::StrCat("an array of ", rec.array().size(),
                                          " with other element types")
                           : std::string(rec.type_name()));
      }
      content_format = rec.array()[0].uint_value();
      bstr = &rec.array()[1];
    }
    if (!bstr->is_bytes()) {
      return Invalid(parts[i], "entry (tag 399)",
                     "a byte string holding a COSE_Sign1", bstr->type_name());
    }
    BASE_ASSIGN_OR_RETURN(
        CoseSign1 sign1,
        DecodeCoseSign1(bstr->bytes(), parts[i], cose_options));
    if (i == 0) {
      token.platform_content_format = content_format;
      token.platform_envelope = std::move(sign1);
    } else {
      token.realm_content_format = content_format;
      token.realm_envelope = std::move(sign1);
    }
  }
  BASE_ASSIGN_OR_RETURN(
      token.platform,
      DecodePlatformClaims(token.platform_envelope.payload, options));
  BASE_ASSIGN_OR_RETURN(
      token.realm, DecodeRealmClaims(token.realm_envelope.payload, options));
  return token;
}

absl::StatusOr<std::vector<uint8_t>> EncodeRealmClaims(const RealmClaims& c) {
  CborValue::Map m;
  auto put = [&m](uint64_t key, CborValue v) {
    m.emplace_back(CborValue::Uint(key), std::move(v));
  };
  put(kRealmChallenge, CborValue::Bytes(c.challenge));
  if (c.instance_id) put(kRealmInstanceId, CborValue::Bytes(*c.instance_id));
  put(kRealmPersonalizationValue, CborValue::Bytes(c.personalization_value));
  put(kRealmPublicKey, CborValue::Bytes(c.public_key));
  put(kRealmHashAlgorithm, CborValue::Text(c.hash_algorithm));
  put(kRealmPublicKeyHashAlgorithm,
      CborValue::Text(c.public_key_hash_algorithm));
  if (c.mec_policy) {
    const uint64_t key =
        c.mec_policy_key != 0 ? c.mec_policy_key : uint64_t{kRealmMecPolicy};
    if (const uint64_t* u = std::get_if<uint64_t>(&*c.mec_policy)) {
      put(key, CborValue::Uint(*u));
    } else {
      put(key, CborValue::Text(std::get<std::string>(*c.mec_policy)));
    }
  }
  std::optional<std::string> profile = c.profile_text;
  if (!profile) {
    if (c.profile == RealmProfile::kV1)
      profile = std::string(kRealmProfile2023);
    if (c.profile == RealmProfile::kV2)
      profile = std::string(kRealmProfile2024);
  }
  if (profile) put(kRealmProfile, CborValue::Text(*profile));
  put(kRealmInitialMeasurement, CborValue::Bytes(c.initial_measurement));
  CborValue::Array rems;
  for (const auto& rem : c.extensible_measurements) {
    rems.push_back(CborValue::Bytes(rem));
  }
  put(kRealmExtensibleMeasurements, CborValue::MakeArray(std::move(rems)));
  return EncodeCbor(CborValue::MakeMap(std::move(m)));
}

absl::StatusOr<std::vector<uint8_t>> EncodePlatformClaims(
    const PlatformClaims& c) {
  CborValue::Map m;
  auto put = [&m](uint64_t key, CborValue v) {
    m.emplace_back(CborValue::Uint(key), std::move(v));
  };
  std::string profile = c.profile_text;
  if (profile.empty()) {
    profile = std::string(c.profile == PlatformProfile::kLegacy
                              ? kPlatformProfileLegacy
                              : kPlatformProfile2023);
  }
  put(kPlatformProfile, CborValue::Text(profile));
  put(kPlatformChallenge, CborValue::Bytes(c.challenge));
  put(kPlatformImplementationId, CborValue::Bytes(c.implementation_id));
  put(kPlatformInstanceId, CborValue::Bytes(c.instance_id));
  put(kPlatformConfig, CborValue::Bytes(c.config));
  put(kPlatformLifecycle, CborValue::Uint(c.lifecycle));
  CborValue::Array sw;
  for (const SwComponent& s : c.sw_components) {
    CborValue::Map e;
    if (s.type) e.emplace_back(CborValue::Uint(1), CborValue::Text(*s.type));
    if (s.measurement) {
      e.emplace_back(CborValue::Uint(2), CborValue::Bytes(*s.measurement));
    }
    if (s.version)
      e.emplace_back(CborValue::Uint(4), CborValue::Text(*s.version));
    if (s.signer_id) {
      e.emplace_back(CborValue::Uint(5), CborValue::Bytes(*s.signer_id));
    }
    if (s.hash_algorithm) {
      e.emplace_back(CborValue::Uint(6), CborValue::Text(*s.hash_algorithm));
    }
    sw.push_back(CborValue::MakeMap(std::move(e)));
  }
  put(kPlatformSwComponents, CborValue::MakeArray(std::move(sw)));
  if (c.service_indicator) {
    put(kPlatformServiceIndicator, CborValue::Text(*c.service_indicator));
  }
  put(kPlatformHashAlgorithm, CborValue::Text(c.hash_algorithm));
  return EncodeCbor(CborValue::MakeMap(std::move(m)));
}

absl::StatusOr<std::vector<uint8_t>> EncodeCcaToken(
    TopLevelForm form, absl::Span<const uint8_t> platform_cose,
    absl::Span<const uint8_t> realm_cose, uint64_t content_format) {
  auto entry = [&](absl::Span<const uint8_t> cose) {
    if (form == TopLevelForm::kEatCollection) return CborValue::Bytes(cose);
    return CborValue::MakeArray(
        {CborValue::Uint(content_format), CborValue::Bytes(cose)});
  };
  return EncodeCbor(CborValue::Tag(
      form == TopLevelForm::kEatCollection ? kTagCcaEatCollection
                                           : kTagCcaCmwCollection,
      CborValue::MakeMap(
          {{CborValue::Uint(kKeyPlatformToken), entry(platform_cose)},
           {CborValue::Uint(kKeyRealmToken), entry(realm_cose)}})));
}

absl::StatusOr<std::vector<uint8_t>> SignCcaToken(
    TopLevelForm form, PlatformClaims platform, RealmClaims realm,
    const crypto::EcPrivateKey& cpak, const crypto::EcPrivateKey& rak) {
  if (realm.public_key.empty()) {
    BASE_ASSIGN_OR_RETURN(crypto::EcPublicKey pub, rak.PublicKey());
    const bool raw =
        !realm.profile_text && realm.profile == RealmProfile::kNone;
    if (raw) {
      BASE_ASSIGN_OR_RETURN(realm.public_key, pub.ToSec1());
    } else {
      BASE_ASSIGN_OR_RETURN(realm.public_key, EncodeCoseKey(pub));
    }
  }
  if (platform.challenge.empty()) {
    crypto::DigestAlgorithm alg;
    if (realm.public_key_hash_algorithm == "sha-256") {
      alg = crypto::DigestAlgorithm::kSha256;
    } else if (realm.public_key_hash_algorithm == "sha-384") {
      alg = crypto::DigestAlgorithm::kSha384;
    } else if (realm.public_key_hash_algorithm == "sha-512") {
      alg = crypto::DigestAlgorithm::kSha512;
    } else {
      return Invalid("SignCcaToken", "claim 44240",
                     "sha-256, sha-384 or sha-512",
                     realm.public_key_hash_algorithm);
    }
    BASE_ASSIGN_OR_RETURN(platform.challenge,
                          crypto::HashOnce(alg, realm.public_key));
  }
  BASE_ASSIGN_OR_RETURN(std::vector<uint8_t> platform_payload,
                        EncodePlatformClaims(platform));
  BASE_ASSIGN_OR_RETURN(std::vector<uint8_t> realm_payload,
                        EncodeRealmClaims(realm));
  BASE_ASSIGN_OR_RETURN(std::vector<uint8_t> platform_cose,
                        SignCoseSign1(platform_payload, cpak));
  BASE_ASSIGN_OR_RETURN(std::vector<uint8_t> realm_cose,
                        SignCoseSign1(realm_payload, rak));
  return EncodeCcaToken(form, platform_cose, realm_cose);
}

}  // namespace realm_measurements::corim
