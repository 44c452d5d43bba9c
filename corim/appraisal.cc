#include "corim/appraisal.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/hex.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "corim/cose.h"

namespace realm_measurements::corim {
namespace {

// EAR profile and submod names (§5.1, §4.4, §4.5).
constexpr absl::string_view kEarProfile = "tag:github.com,2023:veraison/ear";
constexpr absl::string_view kSubmodPlatform = "CCA_SSD_PLATFORM";
constexpr absl::string_view kSubmodRealm = "CCA_REALM";

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
  m.found = base::HexOf(found);
  if (!expected) {
    m.outcome = FieldOutcome::kNotSupplied;
    return m;
  }
  m.expected = base::HexOf(*expected);
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

// The JSON documents below are written in nlohmann::json's member order
// (keys in increasing byte order) through base::JsonWriter, without a tree:
// building and dumping trees was ~6% of AppraiseToken's server CPU (issue
// 18). appraisal_test re-parses every document and expects the same bytes
// back from nlohmann's dump.

// §5.2: the eight trust claims.
void WriteVector(base::JsonWriter& w, const TrustVector& v) {
  w.BeginObject();
  w.Key("configuration");
  w.Int(v.configuration);
  w.Key("executables");
  w.Int(v.executables);
  w.Key("file-system");
  w.Int(v.file_system);
  w.Key("hardware");
  w.Int(v.hardware);
  w.Key("instance-identity");
  w.Int(v.instance_identity);
  w.Key("runtime-opaque");
  w.Int(v.runtime_opaque);
  w.Key("sourced-data");
  w.Int(v.sourced_data);
  w.Key("storage-opaque");
  w.Int(v.storage_opaque);
  w.EndObject();
}

void WritePlatformEvidence(base::JsonWriter& w, const PlatformClaims& p) {
  w.BeginObject();
  w.Key("cca-platform-challenge");
  w.String(B64(p.challenge));
  w.Key("cca-platform-config");
  w.String(B64(p.config));
  w.Key("cca-platform-hash-algo-id");
  w.String(p.hash_algorithm);
  w.Key("cca-platform-implementation-id");
  w.String(B64(p.implementation_id));
  w.Key("cca-platform-instance-id");
  w.String(B64(p.instance_id));
  w.Key("cca-platform-lifecycle");
  w.Uint(p.lifecycle);
  w.Key("cca-platform-profile");
  w.String(p.profile_text);
  if (p.service_indicator) {
    w.Key("cca-platform-service-indicator");
    w.String(*p.service_indicator);
  }
  w.Key("cca-platform-sw-components");
  w.BeginArray();
  for (const SwComponent& c : p.sw_components) {
    w.BeginObject();
    if (c.hash_algorithm) {
      w.Key("measurement-description");
      w.String(*c.hash_algorithm);
    }
    if (c.type) {
      w.Key("measurement-type");
      w.String(*c.type);
    }
    if (c.measurement) {
      w.Key("measurement-value");
      w.String(B64(*c.measurement));
    }
    if (c.signer_id) {
      w.Key("signer-id");
      w.String(B64(*c.signer_id));
    }
    if (c.version) {
      w.Key("version");
      w.String(*c.version);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void WriteRealmEvidence(base::JsonWriter& w, const RealmClaims& r) {
  w.BeginObject();
  w.Key("cca-realm-challenge");
  w.String(B64(r.challenge));
  w.Key("cca-realm-extensible-measurements");
  w.BeginArray();
  for (const auto& rem : r.extensible_measurements) w.String(B64(rem));
  w.EndArray();
  w.Key("cca-realm-hash-algo-id");
  w.String(r.hash_algorithm);
  w.Key("cca-realm-initial-measurement");
  w.String(B64(r.initial_measurement));
  w.Key("cca-realm-personalization-value");
  w.String(B64(r.personalization_value));
  if (r.profile_text) {
    w.Key("cca-realm-profile");
    w.String(*r.profile_text);
  }
  w.Key("cca-realm-public-key");
  w.String(B64(r.public_key));
  w.Key("cca-realm-public-key-hash-algo-id");
  w.String(r.public_key_hash_algorithm);
  w.EndObject();
}

// One submod (§5.1) with its annotated evidence.
template <typename WriteEvidence>
void WriteSubmod(base::JsonWriter& w, const Submod& s,
                 WriteEvidence write_evidence) {
  w.BeginObject();
  w.Key("ear.appraisal-policy-id");
  w.String(s.policy_id);
  w.Key("ear.status");
  w.String(TierName(s.status()));
  w.Key("ear.trustworthiness-vector");
  WriteVector(w, s.vector);
  w.Key("ear.veraison.annotated-evidence");
  write_evidence();
  if (s.problem) {
    w.Key("ear.veraison.policy-claims");
    w.BeginObject();
    w.Key("problem");
    w.String(*s.problem);
    w.EndObject();
  }
  w.EndObject();
}

// The first failed integrity check in Veraison's order (§4.1 step 7,
// §4.3), or empty.
std::string FirstFailure(const VerificationReport& v) {
  const std::pair<const char*, const Check*> checks[] = {
      {"freshness", &v.freshness},
      {"platform signature", &v.platform_signature},
      {"realm key", &v.realm_key},
      {"realm signature", &v.realm_signature},
      {"binding", &v.binding}};
  for (const auto& [name, check] : checks) {
    if (check->status == CheckStatus::kFail) {
      return absl::StrCat(name, ": ", check->detail);
    }
  }
  return "";
}

std::string RealmFailure(const VerificationReport& v) {
  if (v.freshness.status == CheckStatus::kFail) {
    return "freshness: " + v.freshness.detail;
  }
  if (!v.realm_key.passed()) return "realm key: " + v.realm_key.detail;
  if (!v.realm_signature.passed()) {
    return "realm signature: " + v.realm_signature.detail;
  }
  return "binding: " + v.binding.detail;
}

std::string ComponentText(const std::optional<std::string>& type,
                          const std::optional<std::string>& version,
                          absl::Span<const uint8_t> measurement) {
  return absl::StrCat(type.value_or(""), version ? " " + *version : "",
                      type || version ? " " : "", base::HexOf(measurement));
}

// §4.4 configuration and executables over the triples of the token's
// implementation-id, exactly as Veraison's
// matchPlatformClaimsToReferenceValues: one map digest -> (type, version) over
// every component (a later triple overrides), the last config; every token
// component's measurement must be in the map and its type/version equal where
// the reference gives them.
void AppraisePlatformFirmware(const PlatformClaims& p,
                              const std::vector<PlatformReferenceValue>& refs,
                              AppraisalResult& result) {
  PlatformReport& report = result.platform_report;
  std::map<std::vector<uint8_t>, std::pair<std::string, std::string>> known;
  std::optional<std::vector<uint8_t>> config;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (refs[i].implementation_id != p.implementation_id) continue;
    report.references.push_back(i);
    for (const PlatformComponentReference& c : refs[i].components) {
      known[c.measurement] = {c.type.value_or(""), c.version.value_or("")};
    }
    if (refs[i].config) config = refs[i].config;
  }
  FieldMatch cfg = CompareBytes("config", config, p.config);
  // Veraison compares against an empty reference when none is given, so a
  // missing config never matches a non-empty token config.
  if (!config) {
    cfg.outcome =
        p.config.empty() ? FieldOutcome::kMatch : FieldOutcome::kMismatch;
  }
  report.fields.push_back(cfg);
  result.platform.vector.configuration = cfg.outcome == FieldOutcome::kMatch
                                             ? kTrustAffirming
                                             : kTrustUnsafeConfig;
  bool all = true;
  for (size_t i = 0; i < p.sw_components.size(); ++i) {
    const SwComponent& c = p.sw_components[i];
    static const std::vector<uint8_t> kNone;
    const std::vector<uint8_t>& m = c.measurement ? *c.measurement : kNone;
    FieldMatch f;
    f.field = absl::StrCat("sw-component[", i, "]");
    f.found = ComponentText(c.type, c.version, m);
    auto it = known.find(m);
    if (it == known.end()) {
      f.outcome = FieldOutcome::kMismatch;
      f.expected = "a known measurement";
    } else {
      const auto& [type, version] = it->second;
      const bool type_ok = type.empty() || c.type.value_or("") == type;
      const bool version_ok =
          version.empty() || c.version.value_or("") == version;
      f.outcome = type_ok && version_ok ? FieldOutcome::kMatch
                                        : FieldOutcome::kMismatch;
      f.expected = ComponentText(
          type.empty() ? std::nullopt : std::optional<std::string>(type),
          version.empty() ? std::nullopt : std::optional<std::string>(version),
          m);
    }
    all &= f.outcome == FieldOutcome::kMatch;
    report.fields.push_back(std::move(f));
  }
  result.platform.vector.executables =
      all ? kTrustAffirming : kTrustUnrecognizedRuntime;
}

// The parsed CPAK of a trust anchor, through the options' key cache.
absl::StatusOr<PublicKeyCache::Key> CpakOfAnchor(
    const PlatformTrustAnchor& ta, const AppraisalOptions& options) {
  if (options.verify.key_cache != nullptr) {
    return options.verify.key_cache->Get(
        "EcPublicKey::FromPem", {},
        absl::Span<const uint8_t>(
            reinterpret_cast<const uint8_t*>(ta.public_key_pem.data()),
            ta.public_key_pem.size()),
        [&] { return crypto::EcPublicKey::FromPem(ta.public_key_pem); });
  }
  BASE_ASSIGN_OR_RETURN(crypto::EcPublicKey key,
                        crypto::EcPublicKey::FromPem(ta.public_key_pem));
  return std::make_shared<const crypto::EcPublicKey>(std::move(key));
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
  result.validity = options.validity;
  VerifyOptions verify = options.verify;
  PublicKeyCache::Key anchor_key;
  bool no_anchor = false;
  std::string anchor_problem;
  if (verify.cpak != nullptr) {
    result.cpak_source = "given";
  } else if (options.trust_anchors != nullptr) {
    // §4.2: CPAK by implementation-id + instance-id.
    const std::vector<PlatformTrustAnchor>& tas = *options.trust_anchors;
    const PlatformTrustAnchor* ta = FindPlatformTrustAnchor(
        tas, token.platform.implementation_id, token.platform.instance_id);
    if (ta == nullptr) {
      no_anchor = true;
      anchor_problem = NoTrustAnchorProblem(token, options.validity);
    } else {
      absl::StatusOr<PublicKeyCache::Key> key = CpakOfAnchor(*ta, options);
      if (!key.ok()) {
        no_anchor = true;
        anchor_problem = absl::StrCat("trust anchor ", ta - tas.data(),
                                      ": CPAK: ", key.status().message());
      } else {
        anchor_key = *std::move(key);
        verify.cpak = anchor_key.get();
        result.cpak_source = absl::StrCat("trust anchor ", ta - tas.data());
      }
    }
  }
  result.verification = VerifyCcaToken(token, verify);
  const VerificationReport& v = result.verification;
  result.platform_report.appraised = options.platform_references != nullptr;

  if (no_anchor) {
    // §4.1 step 3: nothing can be verified.
    result.first_failure = absl::StrCat("trust anchor: ", anchor_problem);
    result.platform.vector.SetAll(kTrustCryptoFailed);
    result.realm.vector.SetAll(kTrustCryptoFailed);
    result.platform.problem = anchor_problem;
    result.realm.problem = anchor_problem;
    return result;
  }
  result.first_failure = FirstFailure(v);
  if (options.integrity_failures == IntegrityFailureMode::kVeraison2026 &&
      !result.first_failure.empty()) {
    // §4.1 step 7: any failed check taints both submods.
    const std::string problem =
        "integrity validation failed: " + result.first_failure;
    result.platform.vector.SetAll(kTrustCryptoFailed);
    result.realm.vector.SetAll(kTrustCryptoFailed);
    result.platform.problem = problem;
    result.realm.problem = problem;
    return result;
  }

  // Platform (§4.4).
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
  {
    FieldMatch lc;
    lc.field = "lifecycle";
    lc.expected = "secured or non-cca-platform-rot-debug";
    lc.found = absl::StrCat(
        "0x", absl::Hex(token.platform.lifecycle, absl::kZeroPad4), " (",
        LifecycleStateName(token.platform.lifecycle).value_or("invalid"), ")");
    lc.outcome = lifecycle_claim == kTrustAffirming ? FieldOutcome::kMatch
                                                    : FieldOutcome::kMismatch;
    result.platform_report.fields.push_back(std::move(lc));
  }
  if (options.platform_references != nullptr) {
    AppraisePlatformFirmware(token.platform, *options.platform_references,
                             result);
    if (result.platform_report.references.empty() && options.validity &&
        options.validity->platform_references > 0) {
      result.platform.problem = absl::StrCat(
          options.validity->platform_references,
          " platform reference triple(s) of this implementation-id not used: "
          "outside their CoRIM validity at ",
          EpochToRfc3339(options.validity->time));
    }
  }

  // Realm (§4.5).
  if (!v.realm_verified()) {
    result.realm.vector.SetAll(kTrustCryptoFailed);
    result.realm.problem = "integrity validation failed: " + RealmFailure(v);
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
  if (!decided && options.validity && options.validity->realm_values > 0) {
    result.realm.problem = absl::StrCat(
        options.validity->realm_values,
        " reference value(s) with this RIM not used: outside their CoRIM "
        "validity at ",
        EpochToRfc3339(options.validity->time));
  }
  if (!decided && !result.realm.problem) {
    // Why nothing matched (veraison/services#265: a bare "warning" leaves
    // the relying party guessing).
    size_t same_rim = 0, same_rim_and_algorithm = 0;
    for (const CandidateReport& c : result.candidates) {
      if (c.fields[1].outcome != FieldOutcome::kMatch) continue;
      ++same_rim;
      if (c.fields[0].outcome == FieldOutcome::kMatch) ++same_rim_and_algorithm;
    }
    if (same_rim == 0) {
      result.realm.problem =
          absl::StrCat("no reference value has the realm's RIM ",
                       base::HexOf(realm.initial_measurement), " (",
                       realm.hash_algorithm, ")");
    } else if (result.realm.vector.executables == kTrustContraindicated) {
      result.realm.problem =
          absl::StrCat("the realm's personalization value matches none of the ",
                       same_rim, " reference value(s) with its RIM");
    } else if (same_rim_and_algorithm == 0) {
      result.realm.problem =
          absl::StrCat(same_rim,
                       " reference value(s) with the realm's RIM name another "
                       "hash algorithm than its ",
                       realm.hash_algorithm);
    }
  }
  return result;
}

std::string NoTrustAnchorProblem(const CcaToken& token,
                                 const std::optional<ValidityCheck>& validity) {
  std::string out =
      absl::StrCat("no trust anchor for evidence (implementation-id ",
                   base::HexOf(token.platform.implementation_id),
                   ", instance-id ", base::HexOf(token.platform.instance_id));
  if (validity && validity->trust_anchors > 0) {
    absl::StrAppend(&out, "; ", validity->trust_anchors,
                    " outside their CoRIM validity at ",
                    EpochToRfc3339(validity->time));
  }
  return out + ")";
}

namespace {

// The EAR claims set (§5.1).
void WriteEar(base::JsonWriter& w, const CcaToken& token,
              const AppraisalResult& result, const EarOptions& options) {
  w.BeginObject();
  w.Key("ear.verifier-id");
  w.BeginObject();
  w.Key("build");
  w.String(options.verifier_build);
  w.Key("developer");
  w.String(options.verifier_developer);
  w.EndObject();
  if (options.nonce) {
    w.Key("eat_nonce");
    w.String(B64UrlPadded(*options.nonce));
  }
  w.Key("eat_profile");
  w.String(kEarProfile);
  w.Key("iat");
  w.Int(options.issued_at);
  w.Key("submods");
  w.BeginObject();
  w.Key(kSubmodRealm);
  WriteSubmod(w, result.realm, [&] { WriteRealmEvidence(w, token.realm); });
  w.Key(kSubmodPlatform);
  WriteSubmod(w, result.platform,
              [&] { WritePlatformEvidence(w, token.platform); });
  w.EndObject();
  w.EndObject();
}

void WriteFieldMatch(base::JsonWriter& w, const FieldMatch& f,
                     bool with_expected) {
  w.BeginObject();
  if (with_expected) {
    w.Key("expected");
    w.String(f.expected);
  }
  w.Key("field");
  w.String(f.field);
  w.Key("found");
  w.String(f.found);
  w.Key("outcome");
  w.String(OutcomeName(f.outcome));
  w.EndObject();
}

// The report of AppraisalToJson: the verification report, the comparisons
// and the EAR.
void WriteReport(base::JsonWriter& w, const CcaToken& token,
                 const AppraisalResult& result, const EarOptions& options) {
  w.BeginObject();
  w.Key("affirms");
  w.Bool(result.affirms());
  w.Key("candidates");
  w.BeginArray();
  for (const CandidateReport& c : result.candidates) {
    w.BeginObject();
    w.Key("executables");
    w.Int(c.executables);
    w.Key("fields");
    w.BeginArray();
    for (const FieldMatch& f : c.fields) {
      WriteFieldMatch(w, f, f.outcome != FieldOutcome::kNotSupplied);
    }
    w.EndArray();
    w.Key("index");
    w.Uint(c.index);
    w.EndObject();
  }
  w.EndArray();
  w.Key("cpak-source");
  w.String(result.cpak_source);
  w.Key("deciding-reference");
  if (result.matched) {
    w.Uint(result.candidates[*result.matched].index);
  } else {
    w.Null();
  }
  w.Key("ear");
  WriteEar(w, token, result, options);
  w.Key("first-failure");
  if (result.first_failure.empty()) {
    w.Null();
  } else {
    w.String(result.first_failure);
  }
  w.Key("platform");
  w.BeginObject();
  w.Key("appraised");
  w.Bool(result.platform_report.appraised);
  w.Key("fields");
  w.BeginArray();
  for (const FieldMatch& f : result.platform_report.fields) {
    WriteFieldMatch(w, f, !f.expected.empty());
  }
  w.EndArray();
  w.Key("references");
  w.BeginArray();
  for (size_t i : result.platform_report.references) w.Uint(i);
  w.EndArray();
  w.EndObject();
  if (result.validity) {
    const ValidityCheck& v = *result.validity;
    w.Key("validity");
    w.BeginObject();
    w.Key("excluded-platform-references");
    w.Uint(v.platform_references);
    w.Key("excluded-realm-values");
    w.Uint(v.realm_values);
    w.Key("excluded-trust-anchors");
    w.Uint(v.trust_anchors);
    w.Key("time");
    w.String(EpochToRfc3339(v.time));
    w.EndObject();
  }
  w.Key("verification");
  WriteVerificationReport(w, result.verification);
  w.EndObject();
}

}  // namespace

std::string EarToJson(const CcaToken& token, const AppraisalResult& result,
                      const EarOptions& options) {
  base::JsonWriter w(-1);
  WriteEar(w, token, result, options);
  return w.Take();
}

absl::StatusOr<std::string> EarKeyId(const crypto::EcPrivateKey& key) {
  if (key.curve() != crypto::Curve::kP256) {
    return absl::InvalidArgumentError(
        absl::StrCat("EAR signing key: expected P-256 (ES256), found ",
                     CurveName(key.curve())));
  }
  BASE_ASSIGN_OR_RETURN(crypto::EcPublicKey pub, key.PublicKey());
  BASE_ASSIGN_OR_RETURN(std::vector<uint8_t> sec1, pub.ToSec1());
  constexpr size_t kField = 32;  // P-256 coordinates
  if (sec1.size() != 1 + 2 * kField) {
    return absl::InternalError("EAR key: unexpected SEC1 point size");
  }
  const std::string x(reinterpret_cast<const char*>(sec1.data()) + 1, kField);
  const std::string y(reinterpret_cast<const char*>(sec1.data()) + 1 + kField,
                      kField);
  // RFC 7638 §3.2: required members only, lexicographic order, no spaces.
  const std::string canonical =
      absl::StrCat(R"({"crv":"P-256","kty":"EC","x":")", B64UrlNoPad(x),
                   R"(","y":")", B64UrlNoPad(y), R"("})");
  BASE_ASSIGN_OR_RETURN(
      std::vector<uint8_t> h,
      crypto::HashOnce(crypto::DigestAlgorithm::kSha256,
                       absl::Span<const uint8_t>(
                           reinterpret_cast<const uint8_t*>(canonical.data()),
                           canonical.size())));
  return B64UrlNoPad(View(h));
}

namespace {

// base64url of the JWS protected header naming `kid` (RFC 7515 §7.1).
std::string EncodedJwsHeader(absl::string_view kid) {
  return B64UrlNoPad(
      absl::StrCat(R"({"alg":"ES256","kid":")", kid, R"(","typ":"JWT"})"));
}

absl::StatusOr<std::string> SignJws(absl::string_view encoded_header,
                                    absl::string_view ear_json,
                                    const crypto::EcPrivateKey& key) {
  const std::string signing_input =
      absl::StrCat(encoded_header, ".", B64UrlNoPad(ear_json));
  BASE_ASSIGN_OR_RETURN(
      std::vector<uint8_t> sig,
      key.SignRaw(crypto::DigestAlgorithm::kSha256,
                  absl::Span<const uint8_t>(
                      reinterpret_cast<const uint8_t*>(signing_input.data()),
                      signing_input.size())));
  return absl::StrCat(signing_input, ".", B64UrlNoPad(View(sig)));
}

}  // namespace

absl::StatusOr<std::string> SignEarJwt(absl::string_view ear_json,
                                       const crypto::EcPrivateKey& key) {
  BASE_ASSIGN_OR_RETURN(std::string kid, EarKeyId(key));
  return SignJws(EncodedJwsHeader(kid), ear_json, key);
}

absl::StatusOr<EarSigner> EarSigner::Create(
    std::shared_ptr<const crypto::EcPrivateKey> key) {
  if (key == nullptr) {
    return absl::InvalidArgumentError("EAR signing key: expected a key");
  }
  BASE_ASSIGN_OR_RETURN(std::string kid, EarKeyId(*key));
  EarSigner s;
  s.encoded_header_ = EncodedJwsHeader(kid);
  s.kid_ = std::move(kid);
  s.key_ = std::move(key);
  return s;
}

absl::StatusOr<std::string> EarSigner::Sign(absl::string_view ear_json) const {
  return SignJws(encoded_header_, ear_json, *key_);
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
  if (!result.cpak_source.empty()) {
    absl::StrAppend(&out, "CPAK: ", result.cpak_source, "\n");
  }
  const PlatformReport& pr = result.platform_report;
  if (pr.appraised || !pr.fields.empty()) {
    absl::StrAppend(&out, "platform",
                    pr.appraised ? absl::StrCat(" (", pr.references.size(),
                                                " reference triples)")
                                 : std::string(" (no platform endorsements)"),
                    ":\n");
    for (const FieldMatch& f : pr.fields) {
      absl::StrAppend(&out, "  ", f.field, ": ", OutcomeName(f.outcome));
      if (f.outcome == FieldOutcome::kMismatch) {
        absl::StrAppend(&out, " (expected ", f.expected, ", found ", f.found,
                        ")");
      }
      absl::StrAppend(&out, "\n");
    }
  }
  if (!result.first_failure.empty()) {
    absl::StrAppend(&out, "first failing check: ", result.first_failure, "\n");
  }
  if (result.validity && (result.validity->realm_values > 0 ||
                          result.validity->platform_references > 0 ||
                          result.validity->trust_anchors > 0)) {
    const ValidityCheck& v = *result.validity;
    absl::StrAppend(&out, "CoRIM validity at ", EpochToRfc3339(v.time),
                    ": left out ", v.realm_values,
                    " realm value(s) with the token's RIM, ",
                    v.platform_references, " platform reference triple(s), ",
                    v.trust_anchors, " trust anchor(s)\n");
  }
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
  base::JsonWriter w(2);
  WriteReport(w, token, result, options);
  return w.Take();
}

AppraisalDocuments AppraisalToDocuments(const CcaToken& token,
                                        const AppraisalResult& result,
                                        const EarOptions& options) {
  AppraisalDocuments d;
  d.ear_json = EarToJson(token, result, options);
  d.verification_json = VerificationReportToJson(result.verification);
  d.report_json = AppraisalToJson(token, result, options);
  return d;
}

}  // namespace realm_measurements::corim
