#include "corim/appraisal.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "corim/cose.h"
#include "corim/internal/status_macros.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::corim {
namespace {

using Json = nlohmann::json;

// EAR profile and submod names (§5.1, §4.4, §4.5).
constexpr absl::string_view kEarProfile = "tag:github.com,2023:veraison/ear";
constexpr absl::string_view kSubmodPlatform = "CCA_SSD_PLATFORM";
constexpr absl::string_view kSubmodRealm = "CCA_REALM";

std::string Hex(absl::Span<const uint8_t> b) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}
absl::string_view View(absl::Span<const uint8_t> b) {
  return absl::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}
// Veraison's JSON claims carry bytes as standard base64 with padding (§5.2).
std::string B64(absl::Span<const uint8_t> b) {
  return absl::Base64Escape(View(b));
}
std::string B64UrlNoPad(absl::string_view s) {
  return absl::WebSafeBase64Escape(s);
}
std::string B64UrlPadded(absl::Span<const uint8_t> b) {
  std::string s = absl::Base64Escape(View(b));
  std::replace(s.begin(), s.end(), '+', '-');
  std::replace(s.begin(), s.end(), '/', '_');
  return s;
}

FieldMatch CompareBytes(std::string field,
                        const std::optional<std::vector<uint8_t>>& expected,
                        absl::Span<const uint8_t> found) {
  FieldMatch m;
  m.field = std::move(field);
  m.found = Hex(found);
  if (!expected) {
    m.outcome = FieldOutcome::kNotSupplied;
    return m;
  }
  m.expected = Hex(*expected);
  m.outcome = absl::MakeConstSpan(*expected) == found ? FieldOutcome::kMatch
                                                      : FieldOutcome::kMismatch;
  return m;
}

const char* OutcomeName(FieldOutcome o) {
  switch (o) {
    case FieldOutcome::kMatch:
      return "match";
    case FieldOutcome::kMismatch:
      return "mismatch";
    case FieldOutcome::kNotSupplied:
      return "not-supplied";
  }
  return "?";
}

Json VectorJson(const TrustVector& v) {
  return {{"instance-identity", v.instance_identity},
          {"configuration", v.configuration},
          {"executables", v.executables},
          {"file-system", v.file_system},
          {"hardware", v.hardware},
          {"runtime-opaque", v.runtime_opaque},
          {"storage-opaque", v.storage_opaque},
          {"sourced-data", v.sourced_data}};
}

Json PlatformEvidence(const PlatformClaims& p) {
  Json sw = Json::array();
  for (const SwComponent& c : p.sw_components) {
    Json e = Json::object();
    if (c.type) e["measurement-type"] = *c.type;
    if (c.measurement) e["measurement-value"] = B64(*c.measurement);
    if (c.version) e["version"] = *c.version;
    if (c.signer_id) e["signer-id"] = B64(*c.signer_id);
    if (c.hash_algorithm) e["measurement-description"] = *c.hash_algorithm;
    sw.push_back(std::move(e));
  }
  Json j = {{"cca-platform-profile", p.profile_text},
            {"cca-platform-challenge", B64(p.challenge)},
            {"cca-platform-implementation-id", B64(p.implementation_id)},
            {"cca-platform-instance-id", B64(p.instance_id)},
            {"cca-platform-config", B64(p.config)},
            {"cca-platform-lifecycle", p.lifecycle},
            {"cca-platform-sw-components", std::move(sw)},
            {"cca-platform-hash-algo-id", p.hash_algorithm}};
  if (p.service_indicator) {
    j["cca-platform-service-indicator"] = *p.service_indicator;
  }
  return j;
}

Json RealmEvidence(const RealmClaims& r) {
  Json rems = Json::array();
  for (const auto& rem : r.extensible_measurements) rems.push_back(B64(rem));
  Json j = {{"cca-realm-challenge", B64(r.challenge)},
            {"cca-realm-personalization-value", B64(r.personalization_value)},
            {"cca-realm-hash-algo-id", r.hash_algorithm},
            {"cca-realm-public-key", B64(r.public_key)},
            {"cca-realm-initial-measurement", B64(r.initial_measurement)},
            {"cca-realm-extensible-measurements", std::move(rems)},
            {"cca-realm-public-key-hash-algo-id", r.public_key_hash_algorithm}};
  if (r.profile_text) j["cca-realm-profile"] = *r.profile_text;
  return j;
}

Json SubmodJson(const Submod& s, Json evidence) {
  Json j = {{"ear.status", TierName(s.status())},
            {"ear.trustworthiness-vector", VectorJson(s.vector)},
            {"ear.appraisal-policy-id", s.policy_id},
            {"ear.veraison.annotated-evidence", std::move(evidence)}};
  if (s.problem) j["ear.veraison.policy-claims"] = {{"problem", *s.problem}};
  return j;
}

std::string FailedCheck(const VerificationReport& v) {
  if (v.freshness.status == CheckStatus::kFail) {
    return "freshness: " + v.freshness.detail;
  }
  if (!v.realm_key.passed()) return "realm key: " + v.realm_key.detail;
  if (!v.realm_signature.passed()) {
    return "realm signature: " + v.realm_signature.detail;
  }
  return "binding: " + v.binding.detail;
}

}  // namespace

void TrustVector::SetAll(int value) {
  instance_identity = configuration = executables = file_system = hardware =
      runtime_opaque = storage_opaque = sourced_data = value;
}

bool TrustVector::operator==(const TrustVector& o) const {
  return instance_identity == o.instance_identity &&
         configuration == o.configuration && executables == o.executables &&
         file_system == o.file_system && hardware == o.hardware &&
         runtime_opaque == o.runtime_opaque &&
         storage_opaque == o.storage_opaque && sourced_data == o.sourced_data;
}

TrustTier TierOf(int v) {
  // §4.6: none -1..1, affirming 2..31 / -32..-2, warning 32..95 / -96..-33,
  // contraindicated 96..127 / -128..-97.
  if (v >= -1 && v <= 1) return TrustTier::kNone;
  if ((v >= 2 && v <= 31) || (v >= -32 && v <= -2))
    return TrustTier::kAffirming;
  if ((v >= 32 && v <= 95) || (v >= -96 && v <= -33))
    return TrustTier::kWarning;
  return TrustTier::kContraindicated;
}

TrustTier StatusOf(const TrustVector& v) {
  TrustTier worst = TrustTier::kNone;
  for (int c :
       {v.instance_identity, v.configuration, v.executables, v.file_system,
        v.hardware, v.runtime_opaque, v.storage_opaque, v.sourced_data}) {
    worst = std::max(worst, TierOf(c));
  }
  return worst;
}

const char* TierName(TrustTier tier) {
  switch (tier) {
    case TrustTier::kNone:
      return "none";
    case TrustTier::kAffirming:
      return "affirming";
    case TrustTier::kWarning:
      return "warning";
    case TrustTier::kContraindicated:
      return "contraindicated";
  }
  return "?";
}

bool AppraisalResult::affirms() const {
  return platform.status() == TrustTier::kAffirming &&
         realm.status() == TrustTier::kAffirming &&
         !(verification.strict && verification.has_lint_errors());
}

std::vector<RealmReferenceValue> FlattenReferenceValues(
    const ReferenceValues& values) {
  std::vector<RealmReferenceValue> out;
  for (const Comid& comid : values.comids) {
    out.insert(out.end(), comid.realms.begin(), comid.realms.end());
  }
  return out;
}

AppraisalResult AppraiseCcaToken(
    const CcaToken& token, absl::Span<const RealmReferenceValue> references,
    const AppraisalOptions& options) {
  AppraisalResult result;
  result.verification = VerifyCcaToken(token, options.verify);
  const VerificationReport& v = result.verification;

  // Platform (§4.4 without platform reference values: configuration and
  // executables stay "no claim").
  if (!v.platform_verified()) {
    result.platform.vector.SetAll(kTrustCryptoFailed);
    result.platform.problem =
        "integrity validation failed: platform signature: " +
        v.platform_signature.detail;
    result.realm.vector.SetAll(kTrustNoClaim);
    result.realm.problem = "platform token not verified";
    return result;
  }
  result.platform.vector.hardware = kTrustAffirming;
  const int lifecycle_claim = LifecycleTrustworthy(token.platform.lifecycle)
                                  ? kTrustAffirming
                                  : kTrustContraindicated;
  result.platform.vector.instance_identity = lifecycle_claim;
  result.platform.vector.runtime_opaque = lifecycle_claim;
  result.platform.vector.storage_opaque = lifecycle_claim;

  // Realm (§4.5).
  if (!v.realm_verified()) {
    result.realm.vector.SetAll(kTrustCryptoFailed);
    result.realm.problem = "integrity validation failed: " + FailedCheck(v);
    return result;
  }
  const RealmClaims& realm = token.realm;
  result.realm.vector.instance_identity = kTrustAffirming;
  result.realm.vector.executables = kTrustUnrecognizedRuntime;
  bool decided = false;
  for (size_t i = 0; i < references.size(); ++i) {
    const RealmReferenceValue& ref = references[i];
    CandidateReport c;
    c.index = i;
    FieldMatch alg;
    alg.field = "hash-algorithm";
    alg.expected = HashName(ref.algorithm);
    alg.found = realm.hash_algorithm;
    alg.outcome = alg.expected == alg.found ? FieldOutcome::kMatch
                                            : FieldOutcome::kMismatch;
    c.fields.push_back(alg);
    c.fields.push_back(CompareBytes("rim", ref.rim, realm.initial_measurement));
    c.fields.push_back(
        CompareBytes("rpv", ref.rpv, realm.personalization_value));
    bool rems_match = true;
    for (int r = 0; r < kRemCount; ++r) {
      static const std::vector<uint8_t> kAbsent;
      const bool present =
          r < static_cast<int>(realm.extensible_measurements.size());
      FieldMatch m =
          CompareBytes(absl::StrCat("rem", r), ref.rem[r],
                       present ? realm.extensible_measurements[r] : kAbsent);
      if (ref.rem[r] && !present) m.outcome = FieldOutcome::kMismatch;
      rems_match &= m.outcome != FieldOutcome::kMismatch;
      c.fields.push_back(std::move(m));
    }
    const bool rim_match = c.fields[1].outcome == FieldOutcome::kMatch;
    const bool alg_ok = !options.require_hash_algorithm_match ||
                        alg.outcome == FieldOutcome::kMatch;
    if (rim_match && alg_ok) {
      if (c.fields[2].outcome == FieldOutcome::kMismatch) {
        c.executables = kTrustContraindicated;
      } else {
        c.executables = rems_match ? kTrustAffirming : kTrustApprovedBoot;
      }
      if (!decided) {
        // Veraison 2026: an RPV mismatch tries the next candidate; anything
        // else decides.
        result.realm.vector.executables = c.executables;
        if (c.executables != kTrustContraindicated) {
          decided = true;
          result.matched = result.candidates.size();
        }
      }
    }
    result.candidates.push_back(std::move(c));
  }
  return result;
}

std::string EarToJson(const CcaToken& token, const AppraisalResult& result,
                      const EarOptions& options) {
  Json ear = {{"eat_profile", kEarProfile},
              {"iat", options.issued_at},
              {"ear.verifier-id",
               {{"build", options.verifier_build},
                {"developer", options.verifier_developer}}},
              {"submods",
               {{std::string(kSubmodPlatform),
                 SubmodJson(result.platform, PlatformEvidence(token.platform))},
                {std::string(kSubmodRealm),
                 SubmodJson(result.realm, RealmEvidence(token.realm))}}}};
  if (options.nonce) ear["eat_nonce"] = B64UrlPadded(*options.nonce);
  return ear.dump(-1, ' ', false, Json::error_handler_t::replace);
}

absl::StatusOr<std::string> SignEarJwt(absl::string_view ear_json,
                                       const crypto::EcPrivateKey& key) {
  if (key.curve() != crypto::Curve::kP256) {
    return absl::InvalidArgumentError(
        absl::StrCat("EAR signing key: expected P-256 (ES256), found ",
                     CurveName(key.curve())));
  }
  const std::string signing_input =
      absl::StrCat(B64UrlNoPad(R"({"alg":"ES256","typ":"JWT"})"), ".",
                   B64UrlNoPad(ear_json));
  CORIM_ASSIGN_OR_RETURN(
      std::vector<uint8_t> sig,
      key.SignRaw(crypto::DigestAlgorithm::kSha256,
                  absl::Span<const uint8_t>(
                      reinterpret_cast<const uint8_t*>(signing_input.data()),
                      signing_input.size())));
  return absl::StrCat(signing_input, ".", B64UrlNoPad(View(sig)));
}

std::string AppraisalToText(const AppraisalResult& result) {
  std::string out = VerificationReportToText(result.verification);
  for (const CandidateReport& c : result.candidates) {
    absl::StrAppend(
        &out, "reference value ", c.index,
        result.matched && result.candidates[*result.matched].index == c.index
            ? " (decides)"
            : "",
        ":\n");
    for (const FieldMatch& f : c.fields) {
      absl::StrAppend(&out, "  ", f.field, ": ", OutcomeName(f.outcome));
      if (f.outcome == FieldOutcome::kMismatch) {
        absl::StrAppend(&out, " (expected ", f.expected, ", found ", f.found,
                        ")");
      }
      absl::StrAppend(&out, "\n");
    }
  }
  if (result.candidates.empty()) absl::StrAppend(&out, "no reference values\n");
  auto vec = [&out](const char* name, const Submod& s) {
    const TrustVector& v = s.vector;
    absl::StrAppend(
        &out, name, ": ", TierName(s.status()), " (instance-identity ",
        v.instance_identity, ", configuration ", v.configuration,
        ", executables ", v.executables, ", hardware ", v.hardware,
        ", runtime-opaque ", v.runtime_opaque, ", storage-opaque ",
        v.storage_opaque, ")", s.problem ? " " + *s.problem : "", "\n");
  };
  vec(kSubmodPlatform.data(), result.platform);
  vec(kSubmodRealm.data(), result.realm);
  absl::StrAppend(&out, "appraisal: ",
                  result.affirms() ? "AFFIRMING" : "NOT AFFIRMING", "\n");
  return out;
}

std::string AppraisalToJson(const CcaToken& token,
                            const AppraisalResult& result,
                            const EarOptions& options) {
  Json candidates = Json::array();
  for (const CandidateReport& c : result.candidates) {
    Json fields = Json::array();
    for (const FieldMatch& f : c.fields) {
      Json fj = {{"field", f.field},
                 {"outcome", OutcomeName(f.outcome)},
                 {"found", f.found}};
      if (f.outcome != FieldOutcome::kNotSupplied) fj["expected"] = f.expected;
      fields.push_back(std::move(fj));
    }
    candidates.push_back({{"index", c.index},
                          {"executables", c.executables},
                          {"fields", fields}});
  }
  Json j = {{"verification",
             Json::parse(VerificationReportToJson(result.verification))},
            {"candidates", candidates},
            {"affirms", result.affirms()},
            {"ear", Json::parse(EarToJson(token, result, options))}};
  // Token text claims are not UTF-8 checked by the CBOR layer: replace bad
  // sequences instead of throwing.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace realm_measurements::corim
