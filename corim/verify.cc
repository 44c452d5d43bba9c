#include "corim/verify.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "base/hex.h"
#include "base/json_limits.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "corim/cose.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::corim {
namespace {

using crypto::Curve;
using crypto::EcPublicKey;

// nlohmann::json recurses per nesting level (base/json_limits.h); a JWK
// is one object, a trust-anchor store an array of objects holding one.
constexpr measure::JsonLimits kJwkLimits{64 << 10, 4};
constexpr measure::JsonLimits kTrustAnchorLimits{4 << 20, 8};

// SEC1 uncompressed point lengths per curve (§1.5: 97 for P-384).
absl::StatusOr<Curve> CurveForSec1Length(size_t n) {
  for (Curve c : {Curve::kP256, Curve::kP384, Curve::kP521}) {
    if (n == 1 + 2 * crypto::CurveFieldSize(c)) return c;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "realm token: claim 44237 (RAK, raw): expected a SEC1 point of 65, 97 "
      "or 133 bytes, found ",
      n));
}

absl::StatusOr<std::vector<uint8_t>> Base64Url(absl::string_view what,
                                               absl::string_view text) {
  std::string out;
  // JWKs use base64url without padding (RFC 7517); tolerate padding.
  std::string trimmed(absl::StripSuffix(absl::StripSuffix(text, "="), "="));
  if (!absl::WebSafeBase64Unescape(trimmed, &out)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "JWK ", what, ": expected base64url, found \"", text, "\""));
  }
  return std::vector<uint8_t>(out.begin(), out.end());
}

Check Pass(std::string detail) {
  return {CheckStatus::kPass, std::move(detail)};
}
Check Fail(std::string detail) {
  return {CheckStatus::kFail, std::move(detail)};
}
Check Skip(std::string detail) {
  return {CheckStatus::kSkipped, std::move(detail)};
}

// RealmAttestationKey, through `cache` when given (the parse depends on
// the bytes and on whether a realm profile is present).
absl::StatusOr<PublicKeyCache::Key> RakOf(const RealmClaims& realm,
                                          PublicKeyCache* cache) {
  if (cache == nullptr) {
    BASE_ASSIGN_OR_RETURN(EcPublicKey key, RealmAttestationKey(realm));
    return std::make_shared<const EcPublicKey>(std::move(key));
  }
  return cache->Get(
      realm.profile == RealmProfile::kNone ? "RAK raw SEC1" : "RAK COSE_Key",
      {}, realm.public_key, [&] { return RealmAttestationKey(realm); });
}

// The platform COSE_Sign1 signature, through `cache` when given.
absl::Status VerifyPlatformSignature(const CoseSign1& platform,
                                     const EcPublicKey& cpak,
                                     PlatformTokenCache* cache) {
  if (cache == nullptr) return VerifyCoseSign1(platform, cpak);
  absl::StatusOr<PlatformTokenCache::Key> key =
      PlatformTokenCache::KeyFor(platform, cpak);
  // A key that cannot be computed (library failure) only skips the cache.
  if (key.ok() && cache->Contains(*key)) return absl::OkStatus();
  absl::Status s = VerifyCoseSign1(platform, cpak);
  if (s.ok() && key.ok()) cache->Insert(*key);
  return s;
}

}  // namespace

std::optional<absl::string_view> LifecycleStateName(uint64_t lifecycle) {
  // §1.6 lifecycle table: the high byte selects the state.
  if (lifecycle > 0x60ff) return std::nullopt;
  switch (lifecycle >> 8) {
    case 0x00:
      return "unknown";
    case 0x10:
      return "assembly-and-test";
    case 0x20:
      return "cca-platform-rot-provisioning";
    case 0x30:
      return "secured";
    case 0x40:
      return "non-cca-platform-rot-debug";
    case 0x50:
      return "recoverable-cca-platform-rot-debug";
    case 0x60:
      return "decommissioned";
    default:
      return std::nullopt;
  }
}

bool LifecycleTrustworthy(uint64_t lifecycle) {
  const uint64_t state = lifecycle >> 8;
  return lifecycle <= 0x60ff && (state == 0x30 || state == 0x40);
}

absl::StatusOr<crypto::DigestAlgorithm> TokenHashAlgorithm(
    absl::string_view name) {
  if (name == "sha-256") return crypto::DigestAlgorithm::kSha256;
  if (name == "sha-384") return crypto::DigestAlgorithm::kSha384;
  if (name == "sha-512") return crypto::DigestAlgorithm::kSha512;
  return absl::InvalidArgumentError(absl::StrCat(
      "hash algorithm: expected sha-256, sha-384 or sha-512, found \"", name,
      "\""));
}

absl::StatusOr<EcPublicKey> PublicKeyFromJwk(absl::string_view json_text) {
  if (absl::Status s = measure::CheckJsonLimits(json_text, kJwkLimits);
      !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("JWK: ", s.message()));
  }
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("JWK: expected a JSON object");
  }
  auto str = [&j](const char* name) -> std::optional<std::string> {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  if (str("kty") != std::optional<std::string>("EC")) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK kty: expected \"EC\", found ",
                     j.contains("kty") ? j["kty"].dump() : "none"));
  }
  const std::optional<std::string> crv = str("crv");
  Curve curve;
  if (crv == std::optional<std::string>("P-256")) {
    curve = Curve::kP256;
  } else if (crv == std::optional<std::string>("P-384")) {
    curve = Curve::kP384;
  } else if (crv == std::optional<std::string>("P-521")) {
    curve = Curve::kP521;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK crv: expected P-256, P-384 or P-521, found ",
                     j.contains("crv") ? j["crv"].dump() : "none"));
  }
  const std::optional<std::string> x = str("x"), y = str("y");
  if (!x || !y) {
    return absl::InvalidArgumentError("JWK: expected x and y, found none");
  }
  BASE_ASSIGN_OR_RETURN(std::vector<uint8_t> xb, Base64Url("x", *x));
  BASE_ASSIGN_OR_RETURN(std::vector<uint8_t> yb, Base64Url("y", *y));
  auto key = EcPublicKey::FromCoordinates(curve, xb, yb);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK: ", key.status().message()));
  }
  return key;
}

absl::StatusOr<EcPublicKey> LoadPublicKey(
    absl::string_view contents, absl::Span<const uint8_t> instance_id) {
  absl::string_view text = absl::StripLeadingAsciiWhitespace(contents);
  if (absl::StartsWith(text, "-----BEGIN")) return EcPublicKey::FromPem(text);
  // JSON: the size limits count the whole text, leading whitespace too
  // (JSON allows it), so whitespace cannot carry a document past them.
  if (absl::StartsWith(text, "{")) return PublicKeyFromJwk(contents);
  if (absl::StartsWith(text, "[")) {
    // Trust-anchor store (rust-ccatoken ta.json, §4.2): lookup by instance-id.
    if (absl::Status s = measure::CheckJsonLimits(contents, kTrustAnchorLimits);
        !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("trust-anchor store: ", s.message()));
    }
    nlohmann::json j = nlohmann::json::parse(contents, nullptr, false);
    if (j.is_discarded() || !j.is_array()) {
      return absl::InvalidArgumentError(
          "trust-anchor store: expected a JSON array");
    }
    const std::string want = base::HexOf(instance_id);
    for (const auto& entry : j) {
      if (!entry.is_object() || !entry.contains("pkey")) continue;
      auto it = entry.find("instance-id");
      if (it == entry.end() || !it->is_string() ||
          absl::AsciiStrToLower(it->get<std::string>()) != want) {
        continue;
      }
      return PublicKeyFromJwk(entry["pkey"].dump());
    }
    return absl::NotFoundError(
        absl::StrCat("trust-anchor store: expected an entry for instance-id ",
                     want, ", found none"));
  }
  const std::vector<uint8_t> bytes(contents.begin(), contents.end());
  return DecodeCoseKey(bytes, "COSE_Key");
}

absl::StatusOr<PublicKeyCache::Key> LoadPublicKey(
    PublicKeyCache& cache, absl::string_view contents,
    absl::Span<const uint8_t> instance_id) {
  return cache.Get(
      "LoadPublicKey", instance_id,
      absl::Span<const uint8_t>(
          reinterpret_cast<const uint8_t*>(contents.data()), contents.size()),
      [&] { return LoadPublicKey(contents, instance_id); });
}

absl::StatusOr<EcPublicKey> RealmAttestationKey(const RealmClaims& realm) {
  if (realm.profile == RealmProfile::kNone) {
    BASE_ASSIGN_OR_RETURN(Curve curve,
                          CurveForSec1Length(realm.public_key.size()));
    auto key = EcPublicKey::FromSec1(curve, realm.public_key);
    if (!key.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "realm token: claim 44237 (RAK, raw): ", key.status().message()));
    }
    return key;
  }
  return DecodeCoseKey(realm.public_key,
                       "realm token: claim 44237 (RAK, COSE_Key)");
}

absl::StatusOr<std::vector<uint8_t>> PadNonce(absl::Span<const uint8_t> nonce) {
  if (nonce.empty() || nonce.size() > kRealmChallengeSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("nonce: expected 1..64 bytes, found ", nonce.size()));
  }
  std::vector<uint8_t> out(nonce.begin(), nonce.end());
  out.resize(kRealmChallengeSize, 0);
  return out;
}

const char* CheckStatusName(CheckStatus status) {
  switch (status) {
    case CheckStatus::kSkipped:
      return "skipped";
    case CheckStatus::kPass:
      return "pass";
    case CheckStatus::kFail:
      return "fail";
  }
  return "?";
}

bool VerificationReport::realm_verified() const {
  return freshness.status != CheckStatus::kFail && realm_key.passed() &&
         realm_signature.passed() && binding.passed();
}

bool VerificationReport::has_lint_errors() const {
  for (const LintFinding& l : lints) {
    if (!l.warning) return true;
  }
  return false;
}

bool VerificationReport::ok() const {
  return platform_verified() && realm_verified() &&
         !(strict && has_lint_errors());
}

VerificationReport VerifyCcaToken(const CcaToken& token,
                                  const VerifyOptions& options) {
  VerificationReport r;
  r.strict = options.strict;
  // 1. Freshness (§1.8).
  if (!options.nonce) {
    r.freshness = Skip("no verifier nonce supplied");
  } else {
    auto padded = PadNonce(*options.nonce);
    if (!padded.ok()) {
      r.freshness = Fail(std::string(padded.status().message()));
    } else if (*padded != token.realm.challenge) {
      r.freshness = Fail(absl::StrCat(
          "realm challenge ", base::HexOf(token.realm.challenge),
          " does not match nonce (zero-padded to 64) ", base::HexOf(*padded)));
    } else {
      r.freshness = Pass("realm challenge equals the zero-padded nonce");
    }
  }
  // 2. Platform signature with the CPAK.
  if (options.cpak == nullptr) {
    r.platform_signature = Fail("no CPAK supplied");
  } else {
    absl::Status s = VerifyPlatformSignature(
        token.platform_envelope, *options.cpak, options.platform_cache);
    r.platform_signature =
        s.ok() ? Pass(absl::StrCat("platform COSE_Sign1 verifies with the ",
                                   CurveName(options.cpak->curve()), " CPAK"))
               : Fail(absl::StrCat("platform token: ", s.message()));
  }
  // 3. RAK, 4. realm signature.
  absl::StatusOr<PublicKeyCache::Key> rak =
      RakOf(token.realm, options.key_cache);
  if (!rak.ok()) {
    r.realm_key = Fail(std::string(rak.status().message()));
    r.realm_signature = Skip("no realm attestation key");
  } else {
    r.realm_key = Pass(absl::StrCat(
        CurveName((*rak)->curve()), " RAK from claim 44237 (",
        token.realm.profile == RealmProfile::kNone ? "raw SEC1" : "COSE_Key",
        ")"));
    absl::Status s = VerifyCoseSign1(token.realm_envelope, **rak);
    r.realm_signature = s.ok()
                            ? Pass("realm COSE_Sign1 verifies with the RAK")
                            : Fail(absl::StrCat("realm token: ", s.message()));
  }
  // 5. Binding (§1.7): hash of the RAK bytes as carried.
  auto alg = TokenHashAlgorithm(token.realm.public_key_hash_algorithm);
  if (!alg.ok()) {
    r.binding =
        Fail(absl::StrCat("realm token: claim 44240 (RAK hash algorithm): ",
                          alg.status().message()));
  } else {
    auto binder = crypto::HashOnce(*alg, token.realm.public_key);
    if (!binder.ok()) {
      r.binding = Fail(std::string(binder.status().message()));
    } else if (*binder != token.platform.challenge) {
      r.binding = Fail(absl::StrCat(
          "platform nonce ", base::HexOf(token.platform.challenge),
          " does not match RAK hash (", token.realm.public_key_hash_algorithm,
          ") ", base::HexOf(*binder)));
    } else {
      r.binding = Pass(absl::StrCat(token.realm.public_key_hash_algorithm,
                                    "(RAK) equals the platform nonce"));
    }
  }
  if (options.strict) r.lints = LintCcaToken(token, options.cpak);
  return r;
}

std::vector<LintFinding> LintCcaToken(const CcaToken& token,
                                      const EcPublicKey* cpak) {
  std::vector<LintFinding> out;
  auto error = [&out](const char* id, std::string msg) {
    out.push_back({id, false, std::move(msg)});
  };
  auto warn = [&out](const char* id, std::string msg) {
    out.push_back({id, true, std::move(msg)});
  };
  const RealmClaims& realm = token.realm;
  const PlatformClaims& platform = token.platform;

  // L1: RIM/REM sizes equal the digest size of 44236.
  auto realm_alg = TokenHashAlgorithm(realm.hash_algorithm);
  if (!realm_alg.ok()) {
    error("L1", absl::StrCat("claim 44236 (realm hash algorithm): ",
                             realm_alg.status().message()));
  } else {
    const size_t want = crypto::DigestSize(*realm_alg);
    if (realm.initial_measurement.size() != want) {
      error("L1", absl::StrCat("claim 44238 (RIM): expected ", want,
                               " bytes for ", realm.hash_algorithm, ", found ",
                               realm.initial_measurement.size()));
    }
    for (size_t i = 0; i < realm.extensible_measurements.size(); ++i) {
      if (realm.extensible_measurements[i].size() != want) {
        error("L1",
              absl::StrCat("claim 44239 (REM", i, "): expected ", want,
                           " bytes for ", realm.hash_algorithm, ", found ",
                           realm.extensible_measurements[i].size()));
      }
    }
  }
  // L2: exactly four REMs.
  if (realm.extensible_measurements.size() != 4) {
    error("L2", absl::StrCat("claim 44239 (REMs): expected 4 entries, found ",
                             realm.extensible_measurements.size()));
  }
  // L3: RPV and challenge 64 bytes.
  if (realm.personalization_value.size() != 64) {
    error("L3", absl::StrCat("claim 44235 (RPV): expected 64 bytes, found ",
                             realm.personalization_value.size()));
  }
  if (realm.challenge.size() != 64) {
    error("L3", absl::StrCat("claim 10 (realm challenge): expected 64 bytes, "
                             "found ",
                             realm.challenge.size()));
  }
  // L4: RAK encoding matches the profile; EC2 P-384.
  auto rak = RealmAttestationKey(realm);
  if (realm.profile == RealmProfile::kNone) {
    if (realm.public_key.size() != 97 || realm.public_key[0] != 0x04) {
      error("L4", absl::StrCat("claim 44237 (RAK): expected a raw 97-byte "
                               "SEC1 P-384 point (no realm profile), found ",
                               realm.public_key.size(), " bytes"));
    }
  }
  if (!rak.ok()) {
    error("L4", std::string(rak.status().message()));
  } else if (rak->curve() != Curve::kP384) {
    error("L4", absl::StrCat("claim 44237 (RAK): expected a P-384 key, found ",
                             CurveName(rak->curve())));
  }
  // L5: COSE alg agrees with the key; realm alg ES384.
  auto realm_cose_alg = token.realm_envelope.Algorithm();
  if (!realm_cose_alg.ok()) {
    error("L5",
          absl::StrCat("realm token: ", realm_cose_alg.status().message()));
  } else {
    if (*realm_cose_alg != CoseAlgorithm::kEs384) {
      error("L5", absl::StrCat("realm token alg: expected ES384, found ",
                               CoseAlgorithmName(*realm_cose_alg)));
    }
    if (rak.ok() && CoseAlgorithmCurve(*realm_cose_alg) != rak->curve()) {
      error("L5",
            absl::StrCat("realm token alg ", CoseAlgorithmName(*realm_cose_alg),
                         " does not agree with the ", CurveName(rak->curve()),
                         " RAK"));
    }
  }
  auto platform_cose_alg = token.platform_envelope.Algorithm();
  if (!platform_cose_alg.ok()) {
    error("L5", absl::StrCat("platform token: ",
                             platform_cose_alg.status().message()));
  } else if (cpak != nullptr &&
             CoseAlgorithmCurve(*platform_cose_alg) != cpak->curve()) {
    error("L5", absl::StrCat("platform token alg ",
                             CoseAlgorithmName(*platform_cose_alg),
                             " does not agree with the ",
                             CurveName(cpak->curve()), " CPAK"));
  }
  // L6: platform nonce size equals the digest size of 44240.
  auto rak_alg = TokenHashAlgorithm(realm.public_key_hash_algorithm);
  if (!rak_alg.ok()) {
    error("L6", absl::StrCat("claim 44240 (RAK hash algorithm): ",
                             rak_alg.status().message()));
  } else if (platform.challenge.size() != crypto::DigestSize(*rak_alg)) {
    error("L6", absl::StrCat("platform claim 10: expected ",
                             crypto::DigestSize(*rak_alg), " bytes for ",
                             realm.public_key_hash_algorithm, ", found ",
                             platform.challenge.size()));
  }
  // L7: realm#2.0.0 has 256 and integer 44243; older profiles neither.
  const bool mec_is_uint =
      realm.mec_policy && std::holds_alternative<uint64_t>(*realm.mec_policy);
  if (realm.profile == RealmProfile::kV2) {
    if (!realm.instance_id) {
      error("L7",
            "realm#2.0.0: expected claim 256 (realm instance id), found "
            "none");
    } else if (realm.instance_id->size() != 33 ||
               (*realm.instance_id)[0] != 0x01) {
      error("L7", absl::StrCat("claim 256 (realm instance id): expected 33 "
                               "bytes starting 0x01, found ",
                               realm.instance_id->size(), " bytes starting 0x",
                               realm.instance_id->empty()
                                   ? std::string("--")
                                   : base::HexOf(absl::MakeConstSpan(
                                         realm.instance_id->data(), 1))));
    }
    if (!mec_is_uint || realm.mec_policy_key != kRealmMecPolicy) {
      error("L7",
            absl::StrCat("realm#2.0.0: expected integer MEC policy at 44243, "
                         "found ",
                         !realm.mec_policy
                             ? std::string("none")
                             : absl::StrCat(mec_is_uint ? "integer" : "text",
                                            " at ", realm.mec_policy_key)));
    } else if (std::get<uint64_t>(*realm.mec_policy) > 1) {
      error("L7", absl::StrCat("claim 44243 (MEC policy): expected 0 or 1, "
                               "found ",
                               std::get<uint64_t>(*realm.mec_policy)));
    }
  } else {
    if (realm.instance_id) {
      error("L7", "claim 256 (realm instance id) present without realm#2.0.0");
    }
    if (realm.mec_policy && !mec_is_uint) {
      warn("L7", absl::StrCat("text MEC policy at ", realm.mec_policy_key,
                              " (TF-RMM before realm#2.0.0)"));
    } else if (mec_is_uint) {
      error("L7", "integer MEC policy present without realm#2.0.0");
    }
  }
  // L8: platform/realm profile pairing (warning).
  const bool realm_has_profile = realm.profile != RealmProfile::kNone;
  if (platform.profile == PlatformProfile::kV1 && !realm_has_profile) {
    warn("L8",
         "platform profile 2023 paired with a realm token without "
         "profile");
  } else if (platform.profile == PlatformProfile::kLegacy &&
             realm_has_profile) {
    warn("L8", "legacy platform profile paired with realm profile " +
                   realm.profile_text.value_or(""));
  } else if (platform.profile == PlatformProfile::kUnknown) {
    warn("L8", "unknown platform profile \"" + platform.profile_text + "\"");
  }
  if (realm.profile == RealmProfile::kUnknown) {
    warn("L8",
         "unknown realm profile \"" + realm.profile_text.value_or("") + "\"");
  }
  // L9: CMW content-format 263 (warning, §1.2).
  if (token.form == TopLevelForm::kCmwCollection) {
    if (token.platform_content_format != kContentFormatEatCwt) {
      warn("L9", absl::StrCat("platform CMW content-format: expected 263, "
                              "found ",
                              token.platform_content_format));
    }
    if (token.realm_content_format != kContentFormatEatCwt) {
      warn("L9", absl::StrCat("realm CMW content-format: expected 263, found ",
                              token.realm_content_format));
    }
  }
  // L10: platform identity and components.
  if (platform.implementation_id.size() != 32) {
    error("L10", absl::StrCat("claim 2396 (implementation id): expected 32 "
                              "bytes, found ",
                              platform.implementation_id.size()));
  }
  if (platform.instance_id.size() != 33 || platform.instance_id[0] != 0x01) {
    error("L10", absl::StrCat("claim 256 (instance id): expected 33 bytes "
                              "starting 0x01, found ",
                              platform.instance_id.size(), " bytes"));
  }
  if (!LifecycleStateName(platform.lifecycle)) {
    error("L10", absl::StrCat("claim 2395 (lifecycle): expected a defined "
                              "range, found 0x",
                              absl::Hex(platform.lifecycle)));
  }
  if (platform.sw_components.empty()) {
    error("L10", "claim 2399 (sw-components): expected at least one, found 0");
  }
  for (size_t i = 0; i < platform.sw_components.size(); ++i) {
    const SwComponent& c = platform.sw_components[i];
    if (!c.measurement || !c.signer_id) {
      error("L10", absl::StrCat("sw-component ", i,
                                ": expected measurement value (2) and signer "
                                "id (5), found ",
                                c.measurement ? "no signer id"
                                              : "no measurement value"));
    }
  }
  // L11: unknown claim keys.
  auto keys = [](const std::vector<ClaimKey>& k) {
    std::vector<std::string> s;
    for (const ClaimKey& key : k) s.push_back(ClaimKeyToString(key));
    return absl::StrJoin(s, ", ");
  };
  if (!realm.unknown_keys.empty()) {
    warn("L11", "unknown realm claim keys: " + keys(realm.unknown_keys));
  }
  if (!platform.unknown_keys.empty()) {
    warn("L11", "unknown platform claim keys: " + keys(platform.unknown_keys));
  }
  if (!token.unknown_keys.empty()) {
    warn("L11", "unknown collection keys: " + keys(token.unknown_keys));
  }
  return out;
}

namespace {
void WriteCheck(base::JsonWriter& w, const Check& c) {
  w.BeginObject();
  w.Key("detail");
  w.String(c.detail);
  w.Key("status");
  w.String(CheckStatusName(c.status));
  w.EndObject();
}
}  // namespace

// Members in nlohmann::json's order (increasing keys), as the documents of
// appraisal.cc. Token text claims are not UTF-8 checked by the CBOR layer:
// the writer replaces bad sequences instead of throwing.
void WriteVerificationReport(base::JsonWriter& w, const VerificationReport& r) {
  w.BeginObject();
  w.Key("binding");
  WriteCheck(w, r.binding);
  w.Key("freshness");
  WriteCheck(w, r.freshness);
  w.Key("lints");
  w.BeginArray();
  for (const LintFinding& l : r.lints) {
    w.BeginObject();
    w.Key("id");
    w.String(l.id);
    w.Key("message");
    w.String(l.message);
    w.Key("severity");
    w.String(l.warning ? "warning" : "error");
    w.EndObject();
  }
  w.EndArray();
  w.Key("ok");
  w.Bool(r.ok());
  w.Key("platform-signature");
  WriteCheck(w, r.platform_signature);
  w.Key("realm-key");
  WriteCheck(w, r.realm_key);
  w.Key("realm-signature");
  WriteCheck(w, r.realm_signature);
  w.Key("strict");
  w.Bool(r.strict);
  w.EndObject();
}

std::string VerificationReportToJson(const VerificationReport& r) {
  base::JsonWriter w(2);
  WriteVerificationReport(w, r);
  return w.Take();
}

std::string VerificationReportToText(const VerificationReport& r) {
  std::string out;
  auto line = [&out](const char* name, const Check& c) {
    absl::StrAppend(&out, name, ": ", CheckStatusName(c.status), " (", c.detail,
                    ")\n");
  };
  line("freshness", r.freshness);
  line("platform signature", r.platform_signature);
  line("realm key", r.realm_key);
  line("realm signature", r.realm_signature);
  line("binding", r.binding);
  for (const LintFinding& l : r.lints) {
    absl::StrAppend(&out, l.id, " ", l.warning ? "warning" : "error", ": ",
                    l.message, "\n");
  }
  absl::StrAppend(&out, "verification: ", r.ok() ? "OK" : "FAILED", "\n");
  return out;
}

}  // namespace realm_measurements::corim
