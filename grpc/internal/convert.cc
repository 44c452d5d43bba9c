#include "grpc/internal/convert.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace realm_measurements::service::internal {

::grpc::Status ToGrpc(const absl::Status& s, absl::string_view what) {
  if (s.ok()) return ::grpc::Status::OK;
  // absl::StatusCode uses the gRPC numbering (absl/status/status.h).
  std::string msg = what.empty() ? std::string(s.message())
                                 : absl::StrCat(what, ": ", s.message());
  return ::grpc::Status(static_cast<::grpc::StatusCode>(s.code()), msg);
}

::grpc::Status Invalid(absl::string_view msg) {
  return ::grpc::Status(::grpc::StatusCode::INVALID_ARGUMENT, std::string(msg));
}

::grpc::Status NoStore() {
  return ::grpc::Status(::grpc::StatusCode::FAILED_PRECONDITION,
                        "this server runs without a data directory");
}

std::string Bytes(absl::Span<const uint8_t> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

absl::Span<const uint8_t> Span(const std::string& s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()),
                                   s.size());
}

std::vector<uint8_t> Vec(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

v1::HashAlgorithm ToProto(measure::HashAlgorithm a) {
  switch (a) {
    case measure::HashAlgorithm::kSha256:
      return v1::HASH_ALGORITHM_SHA256;
    case measure::HashAlgorithm::kSha384:
      return v1::HASH_ALGORITHM_SHA384;
    case measure::HashAlgorithm::kSha512:
      return v1::HASH_ALGORITHM_SHA512;
  }
  return v1::HASH_ALGORITHM_UNSPECIFIED;
}

v1::RmmVersion ToProto(measure::RmmVersion v) {
  return v == measure::RmmVersion::k2_0 ? v1::RMM_VERSION_2_0
                                        : v1::RMM_VERSION_1_0;
}

std::optional<measure::RmmVersion> FromProto(v1::RmmVersion v) {
  switch (v) {
    case v1::RMM_VERSION_1_0:
      return measure::RmmVersion::k1_0;
    case v1::RMM_VERSION_2_0:
      return measure::RmmVersion::k2_0;
    default:  // UNSPECIFIED (undefined numbers never get here, see header)
      return std::nullopt;
  }
}

std::optional<measure::HashAlgorithm> MeasureHashFromProto(
    v1::HashAlgorithm a) {
  switch (a) {
    case v1::HASH_ALGORITHM_SHA256:
      return measure::HashAlgorithm::kSha256;
    case v1::HASH_ALGORITHM_SHA384:
      return measure::HashAlgorithm::kSha384;
    case v1::HASH_ALGORITHM_SHA512:
      return measure::HashAlgorithm::kSha512;
    default:  // UNSPECIFIED (undefined numbers never get here, see header)
      return std::nullopt;
  }
}

v1::HashAlgorithm ToProto(corim::RealmHashAlgorithm a) {
  switch (a) {
    case corim::RealmHashAlgorithm::kSha256:
      return v1::HASH_ALGORITHM_SHA256;
    case corim::RealmHashAlgorithm::kSha384:
      return v1::HASH_ALGORITHM_SHA384;
    case corim::RealmHashAlgorithm::kSha512:
      return v1::HASH_ALGORITHM_SHA512;
  }
  return v1::HASH_ALGORITHM_UNSPECIFIED;
}

absl::StatusOr<corim::RealmHashAlgorithm> FromProto(v1::HashAlgorithm a,
                                                    absl::string_view field) {
  switch (a) {
    case v1::HASH_ALGORITHM_SHA256:
      return corim::RealmHashAlgorithm::kSha256;
    case v1::HASH_ALGORITHM_SHA384:
      return corim::RealmHashAlgorithm::kSha384;
    case v1::HASH_ALGORITHM_SHA512:
      return corim::RealmHashAlgorithm::kSha512;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": expected SHA256, SHA384 or SHA512, found ",
                       static_cast<int>(a)));
  }
}

// An inline set as a CoRIM model: one CoMID tagged with the CoRIM id.
absl::StatusOr<corim::ReferenceValues> FromProto(
    const v1::ReferenceValueSet& set, absl::string_view default_id) {
  corim::ReferenceValues values;
  const std::string id =
      set.corim_id().empty() ? std::string(default_id) : set.corim_id();
  values.corim_id = id;
  corim::Comid comid;
  comid.tag_identity.id = id;
  for (int i = 0; i < set.realms_size(); ++i) {
    const v1::RealmReferenceValue& r = set.realms(i);
    const std::string field = absl::StrCat("inline_set.realms[", i, "]");
    corim::RealmReferenceValue v;
    absl::StatusOr<corim::RealmHashAlgorithm> a =
        FromProto(r.hash_algorithm(), field + ".hash_algorithm");
    if (!a.ok()) return a.status();
    v.algorithm = *a;
    v.rim = Vec(r.rim());
    if (r.rems_size() != 0 && r.rems_size() != corim::kRemCount) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".rems: expected 0 or 4 entries, found ", r.rems_size()));
    }
    // An empty entry leaves that REM unconstrained (e.g. REM0 of a firmware
    // boot the tool does not model) while the others are compared.
    for (int k = 0; k < r.rems_size(); ++k) {
      if (!r.rems(k).empty()) v.rem[k] = Vec(r.rems(k));
    }
    if (!r.rpv().empty()) v.rpv = Vec(r.rpv());
    if (absl::Status s = corim::ValidateRealm(v); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": ", s.message()));
    }
    comid.realms.push_back(std::move(v));
  }
  if (comid.realms.empty()) {
    return absl::InvalidArgumentError(
        "inline_set.realms: expected at least one realm, found none");
  }
  for (int64_t t : {set.not_before_unix(), set.not_after_unix()}) {
    if (t < 0 || t > corim::kMaxRfc3339Seconds) {
      return absl::InvalidArgumentError(absl::StrCat(
          "inline_set: expected not_before_unix and not_after_unix from 0 to ",
          corim::kMaxRfc3339Seconds, " (9999-12-31T23:59:59Z), found ",
          set.not_before_unix(), " and ", set.not_after_unix()));
    }
  }
  if (set.not_before_unix() != 0 && set.not_after_unix() == 0) {
    return absl::InvalidArgumentError(
        "inline_set.not_before_unix: expected with not_after_unix (a CoRIM "
        "validity always has a not-after), found it alone");
  }
  if (set.not_after_unix() != 0) {
    corim::Validity v;
    v.not_after = set.not_after_unix();
    if (set.not_before_unix() != 0) v.not_before = set.not_before_unix();
    if (absl::Status s = corim::CheckValidity(v, "inline_set validity");
        !s.ok()) {
      return s;
    }
    values.validity = v;
  }
  values.comids.push_back(std::move(comid));
  return values;
}

v1::CorimProfile ToProto(corim::Profile p) {
  return p == corim::Profile::kCcaRealmLegacy
             ? v1::CORIM_PROFILE_CCA_REALM_LEGACY
             : v1::CORIM_PROFILE_CCA_REALM_2025;
}

void ToProto(const ReferenceSetRecord& r, v1::ReferenceValueSetInfo* out) {
  out->set_name(r.name);
  out->set_profile(static_cast<v1::CorimProfile>(r.profile));
  out->set_realm_count(r.realm_count);
  out->set_corim_sha256(Bytes(r.corim_sha256));
  out->set_created_unix(r.created_unix);
  out->set_signer_subject(r.signer);
  out->set_part_count(r.part_count);
  for (const std::string& s : r.more_signers) {
    out->add_appended_signer_subjects(s);
  }
}

v1::Register ToProto(eventlog::Register r) {
  switch (r) {
    case eventlog::Register::kRim:
      return v1::REGISTER_RIM;
    case eventlog::Register::kRem0:
      return v1::REGISTER_REM0;
    case eventlog::Register::kRem1:
      return v1::REGISTER_REM1;
    case eventlog::Register::kRem2:
      return v1::REGISTER_REM2;
    case eventlog::Register::kRem3:
      return v1::REGISTER_REM3;
    default:
      return v1::REGISTER_UNSPECIFIED;
  }
}

void ToProto(const corim::FieldMatch& f, v1::FieldMatch* out) {
  out->set_field(f.field);
  out->set_outcome(ToProto(f.outcome));
  out->set_expected(f.expected);
  out->set_found(f.found);
}

void ToProto(const corim::TrustVector& t, v1::TrustVector* out) {
  out->set_instance_identity(t.instance_identity);
  out->set_configuration(t.configuration);
  out->set_executables(t.executables);
  out->set_file_system(t.file_system);
  out->set_hardware(t.hardware);
  out->set_runtime_opaque(t.runtime_opaque);
  out->set_storage_opaque(t.storage_opaque);
  out->set_sourced_data(t.sourced_data);
}

v1::CheckStatus ToProto(corim::CheckStatus s) {
  switch (s) {
    case corim::CheckStatus::kSkipped:
      return v1::CHECK_STATUS_SKIPPED;
    case corim::CheckStatus::kPass:
      return v1::CHECK_STATUS_PASS;
    case corim::CheckStatus::kFail:
      return v1::CHECK_STATUS_FAIL;
  }
  return v1::CHECK_STATUS_UNSPECIFIED;
}

void ToProto(const corim::VerificationReport& r, v1::VerifyTokenResponse* out) {
  ToProto(r, out, corim::VerificationReportToJson(r));
}

void ToProto(const corim::VerificationReport& r, v1::VerifyTokenResponse* out,
             std::string report_json) {
  out->set_ok(r.ok());
  const std::pair<const char*, const corim::Check*> checks[] = {
      {"freshness", &r.freshness},
      {"platform_signature", &r.platform_signature},
      {"realm_key", &r.realm_key},
      {"realm_signature", &r.realm_signature},
      {"binding", &r.binding},
  };
  for (const auto& [name, check] : checks) {
    v1::CheckResult* c = out->add_checks();
    c->set_name(name);
    c->set_status(ToProto(check->status));
    c->set_detail(check->detail);
  }
  for (const corim::LintFinding& l : r.lints) {
    v1::LintFinding* f = out->add_lints();
    f->set_id(l.id);
    f->set_warning(l.warning);
    f->set_message(l.message);
  }
  out->set_report_json(std::move(report_json));
}

v1::CatalogueMatch ToProto(eventlog::CatalogueMatch m) {
  switch (m) {
    case eventlog::CatalogueMatch::kNotApplicable:
      return v1::CATALOGUE_MATCH_NOT_APPLICABLE;
    case eventlog::CatalogueMatch::kVerified:
      return v1::CATALOGUE_MATCH_VERIFIED;
    case eventlog::CatalogueMatch::kUnverified:
      return v1::CATALOGUE_MATCH_UNVERIFIED;
  }
  return v1::CATALOGUE_MATCH_UNSPECIFIED;
}

v1::FieldOutcome ToProto(corim::FieldOutcome o) {
  switch (o) {
    case corim::FieldOutcome::kMatch:
      return v1::FIELD_OUTCOME_MATCH;
    case corim::FieldOutcome::kMismatch:
      return v1::FIELD_OUTCOME_MISMATCH;
    case corim::FieldOutcome::kNotSupplied:
      return v1::FIELD_OUTCOME_NOT_SUPPLIED;
  }
  return v1::FIELD_OUTCOME_UNSPECIFIED;
}

}  // namespace realm_measurements::service::internal
