// File: grpc/token_handlers.cc
//
// VerifyToken and AppraiseToken: proto <-> corim:: token verification and
// appraisal (conversions in grpc/internal/convert.h).
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/crypto.h"
#include "corim/appraisal.h"
#include "corim/comid.h"
#include "corim/platform_endorsements.h"
#include "corim/platform_index.h"
#include "corim/platform_token_cache.h"
#include "corim/public_key_cache.h"
#include "corim/realm_index.h"
#include "corim/reference_values.h"
#include "corim/token.h"
#include "corim/verify.h"
#include "grpc/internal/convert.h"
#include "grpc/internal/handler_support.h"
#include "grpc/internal/reference_index_cache.h"
#include "grpc/internal/rem_policy_request.h"
#include "grpc/service.h"

namespace realm_measurements::service {
namespace {

using internal::Admit;
using internal::CheckRequest;
using internal::FromProto;
using internal::Invalid;
using internal::Span;
using internal::ToGrpc;
using internal::ToProto;
using internal::Vec;

constexpr size_t kMaxNonceBytes = 64;  // spec-token-corim §1.8

// Token, CPAK and nonce of VerifyToken / AppraiseToken.
struct TokenInputs {
  corim::CcaToken token;
  corim::PublicKeyCache::Key cpak;  // null when none was sent
  std::optional<std::vector<uint8_t>> nonce;
};

// A CPAK from its text (JWK, PEM, COSE_Key); `keys` (optional) parses each
// distinct text once.
absl::StatusOr<corim::PublicKeyCache::Key> LoadCpak(
    const std::string& text, absl::Span<const uint8_t> instance_id,
    corim::PublicKeyCache* keys) {
  if (keys != nullptr) return corim::LoadPublicKey(*keys, text, instance_id);
  absl::StatusOr<crypto::EcPublicKey> k =
      corim::LoadPublicKey(text, instance_id);
  if (!k.ok()) return k.status();
  return std::make_shared<const crypto::EcPublicKey>(*std::move(k));
}

// `keys` (optional) parses each distinct CPAK text once.
absl::StatusOr<TokenInputs> DecodeTokenInputs(const std::string& token,
                                              const std::string& cpak,
                                              const std::string& nonce,
                                              bool strict,
                                              corim::PublicKeyCache* keys) {
  if (token.empty()) {
    return absl::InvalidArgumentError("token: expected CCA token bytes");
  }
  if (nonce.size() > kMaxNonceBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("nonce: expected at most ", kMaxNonceBytes,
                     " bytes, found ", nonce.size()));
  }
  corim::TokenDecodeOptions opts;
  opts.strict = strict;
  absl::StatusOr<corim::CcaToken> t = corim::DecodeCcaToken(Span(token), opts);
  if (!t.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("token: ", t.status().message()));
  }
  TokenInputs in{std::move(*t), nullptr, std::nullopt};
  if (!cpak.empty()) {
    absl::StatusOr<corim::PublicKeyCache::Key> k =
        LoadCpak(cpak, in.token.platform.instance_id, keys);
    if (!k.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cpak: ", k.status().message()));
    }
    in.cpak = *std::move(k);
  }
  if (!nonce.empty()) in.nonce = Vec(nonce);
  return in;
}

// The time CoRIM validity is checked at (the request's validity_time, or
// now when it is 0).
template <typename Request>
absl::StatusOr<int64_t> ValidityTime(const Request& request) {
  if (request.validity_time() < 0 ||
      request.validity_time() > corim::kMaxRfc3339Seconds) {
    return absl::InvalidArgumentError(absl::StrCat(
        "validity_time: expected Unix seconds from 0 (the server's clock) to ",
        corim::kMaxRfc3339Seconds, " (9999-12-31T23:59:59Z), found ",
        request.validity_time()));
  }
  return request.validity_time() != 0
             ? request.validity_time()
             : static_cast<int64_t>(std::time(nullptr));
}

}  // namespace

template <typename Request>
::grpc::Status RealmMeasurementsServiceImpl::PlatformEndorsementsOf(
    const Request& request, std::shared_ptr<const corim::PlatformIndex>* out) {
  const std::string* set =
      request.has_platform_set() ? &request.platform_set() : nullptr;
  const std::string* corim_bytes =
      request.has_platform_corim() ? &request.platform_corim() : nullptr;
  if (set != nullptr) {
    if (options_.store == nullptr) return internal::NoStore();
    absl::StatusOr<std::shared_ptr<const corim::PlatformIndex>> stored =
        reference_cache_->GetPlatform(*set);
    if (!stored.ok()) return ToGrpc(stored.status(), "platform_set");
    *out = *std::move(stored);
  } else if (corim_bytes != nullptr) {
    absl::StatusOr<corim::PlatformEndorsements> e =
        corim::DecodePlatformCorim(Span(*corim_bytes));
    if (!e.ok()) return ToGrpc(e.status(), "platform_corim");
    absl::StatusOr<std::shared_ptr<const corim::PlatformIndex>> built =
        corim::PlatformIndex::Build({*e});
    if (!built.ok()) return ToGrpc(built.status(), "platform_corim");
    *out = *std::move(built);
  }
  return ::grpc::Status::OK;
}

std::vector<std::pair<std::string, double>>
RealmMeasurementsServiceImpl::ValidityGauges(int64_t now) const {
  const internal::ReferenceIndexCache::ValidityStats s =
      reference_cache_->validity_stats(now);
  std::vector<std::pair<std::string, double>> out = {
      {"reference_parts_with_validity",
       static_cast<double>(s.parts_with_validity)},
      {"reference_parts_outside_validity",
       static_cast<double>(s.parts_outside_validity)}};
  if (s.earliest_not_after) {
    out.emplace_back("reference_parts_next_expiry_seconds",
                     static_cast<double>(*s.earliest_not_after - now));
  }
  return out;
}

std::vector<std::pair<std::string, double>>
RealmMeasurementsServiceImpl::TokenCacheCounters() const {
  std::vector<std::pair<std::string, double>> out;
  auto add = [&out](const std::string& name,
                    const corim::PlatformTokenCache::Stats& s) {
    out.emplace_back(name + "_hits_total", static_cast<double>(s.hits));
    out.emplace_back(name + "_misses_total", static_cast<double>(s.misses));
    out.emplace_back(name + "_evictions_total",
                     static_cast<double>(s.evictions));
  };
  if (platform_token_cache_ != nullptr) {
    add("platform_token_cache", platform_token_cache_->stats());
  }
  if (key_cache_ != nullptr) add("public_key_cache", key_cache_->stats());
  return out;
}

::grpc::Status RealmMeasurementsServiceImpl::VerifyToken(
    ::grpc::ServerContext* context, const v1::VerifyTokenRequest* request,
    v1::VerifyTokenResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  absl::StatusOr<TokenInputs> in =
      DecodeTokenInputs(request->token(), request->cpak(), request->nonce(),
                        request->strict(), key_cache_.get());
  if (!in.ok()) return ToGrpc(in.status());
  absl::StatusOr<int64_t> validity_time = ValidityTime(*request);
  if (!validity_time.ok()) return ToGrpc(validity_time.status());
  std::shared_ptr<const corim::PlatformIndex> platform;
  if (::grpc::Status s = PlatformEndorsementsOf(*request, &platform); !s.ok()) {
    return s;
  }
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(cheap_, context, &ticket); !s.ok()) return s;
  std::string cpak_source = in->cpak != nullptr ? "given" : "";
  std::optional<std::string> no_anchor;
  if (in->cpak == nullptr && platform != nullptr) {
    // §4.2: the CPAK by implementation-id + instance-id.
    corim::PlatformIndex::Lookup l =
        platform->Find(in->token.platform.implementation_id,
                       in->token.platform.instance_id, *validity_time);
    if (l.trust_anchors->empty()) {
      corim::ValidityCheck checked;
      checked.time = *validity_time;
      checked.trust_anchors = l.excluded_trust_anchors;
      no_anchor = corim::NoTrustAnchorProblem(in->token, checked);
    } else {
      absl::StatusOr<corim::PublicKeyCache::Key> k =
          LoadCpak(l.trust_anchors->front().public_key_pem,
                   in->token.platform.instance_id, key_cache_.get());
      if (!k.ok()) {
        no_anchor = absl::StrCat("trust anchor ", l.trust_anchor_position,
                                 ": CPAK: ", k.status().message());
      } else {
        in->cpak = *std::move(k);
        cpak_source = absl::StrCat("trust anchor ", l.trust_anchor_position);
      }
    }
  }
  corim::VerifyOptions opts;
  opts.cpak = in->cpak.get();
  opts.nonce = in->nonce;
  opts.strict = request->strict();
  opts.platform_cache = platform_token_cache_.get();
  opts.key_cache = key_cache_.get();
  corim::VerificationReport report = corim::VerifyCcaToken(in->token, opts);
  if (no_anchor.has_value()) {
    // Nothing could verify the platform token (§4.1 step 3).
    report.platform_signature.status = corim::CheckStatus::kFail;
    report.platform_signature.detail = *no_anchor;
  }
  ToProto(report, response);
  response->set_cpak_source(cpak_source);
  return ::grpc::Status::OK;
}

::grpc::Status RealmMeasurementsServiceImpl::AppraiseToken(
    ::grpc::ServerContext* context, const v1::AppraiseTokenRequest* request,
    v1::AppraiseTokenResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  absl::StatusOr<TokenInputs> in =
      DecodeTokenInputs(request->token(), request->cpak(), request->nonce(),
                        request->strict(), key_cache_.get());
  if (!in.ok()) return ToGrpc(in.status());
  if (request->max_near_misses() > corim::kMaxNearMisses) {
    return Invalid(absl::StrCat("max_near_misses: expected at most ",
                                corim::kMaxNearMisses, ", found ",
                                request->max_near_misses()));
  }
  absl::StatusOr<int64_t> validity_time = ValidityTime(*request);
  if (!validity_time.ok()) return ToGrpc(validity_time.status());
  // Reference values indexed by RIM (corim/realm_index.h): a stored set's
  // index is built once and shared; inline sets and CoRIMs are indexed here.
  std::shared_ptr<const corim::RealmIndex> index;
  auto index_of = [&index](const corim::ReferenceValues& v,
                           absl::string_view field) -> ::grpc::Status {
    absl::StatusOr<std::shared_ptr<const corim::RealmIndexSegment>> seg =
        corim::RealmIndexSegment::Build(corim::FlattenReferenceValues(v),
                                        v.validity);
    if (!seg.ok()) return ToGrpc(seg.status(), field);
    index = std::make_shared<const corim::RealmIndex>(
        std::vector<std::shared_ptr<const corim::RealmIndexSegment>>{*seg});
    return ::grpc::Status::OK;
  };
  switch (request->reference_values_case()) {
    case v1::AppraiseTokenRequest::kInlineSet: {
      absl::StatusOr<corim::ReferenceValues> v =
          FromProto(request->inline_set(), "inline");
      if (!v.ok()) return ToGrpc(v.status());
      if (::grpc::Status s = index_of(*v, "inline_set"); !s.ok()) return s;
      break;
    }
    case v1::AppraiseTokenRequest::kStoredSet: {
      if (options_.store == nullptr) return internal::NoStore();
      absl::StatusOr<std::shared_ptr<const corim::RealmIndex>> stored =
          reference_cache_->GetRealm(request->stored_set());
      if (!stored.ok()) return ToGrpc(stored.status(), "stored_set");
      index = *std::move(stored);
      break;
    }
    case v1::AppraiseTokenRequest::kCorim: {
      absl::StatusOr<corim::DecodedCorim> d =
          corim::DecodeCorim(Span(request->corim()));
      if (!d.ok()) return ToGrpc(d.status(), "corim");
      if (::grpc::Status s = index_of(d->values, "corim"); !s.ok()) return s;
      break;
    }
    default:
      return Invalid(
          "reference_values: expected inline_set, stored_set or corim");
  }
  // Platform endorsements, indexed by implementation-id / instance-id
  // (corim/platform_index.h): a stored set's index is shared.
  std::shared_ptr<const corim::PlatformIndex> platform;
  if (::grpc::Status s = PlatformEndorsementsOf(*request, &platform); !s.ok()) {
    return s;
  }
  // REM policy from the realm's event logs
  // (grpc/internal/rem_policy_request.h).
  absl::StatusOr<std::optional<internal::RemPolicyRequest>> rem_policy =
      internal::ParseRemPolicyRequest(*request);
  if (!rem_policy.ok()) return ToGrpc(rem_policy.status());
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(cheap_, context, &ticket); !s.ok()) return s;

  corim::AppraisalOptions opts;
  opts.verify.cpak = in->cpak.get();
  opts.verify.nonce = in->nonce;
  opts.verify.strict = request->strict();
  opts.verify.platform_cache = platform_token_cache_.get();
  opts.verify.key_cache = key_cache_.get();
  opts.require_hash_algorithm_match = request->require_hash_algorithm_match();
  opts.integrity_failures = request->separate_integrity_failures()
                                ? corim::IntegrityFailureMode::kSeparate
                                : corim::IntegrityFailureMode::kVeraison2026;
  opts.validity.emplace();
  opts.validity->time = *validity_time;
  corim::PlatformIndex::Lookup platform_lookup;
  if (platform != nullptr) {
    platform_lookup =
        platform->Find(in->token.platform.implementation_id,
                       in->token.platform.instance_id, *validity_time);
    corim::PlatformIndex::Apply(platform_lookup, opts);
  }
  corim::IndexedAppraisal indexed = corim::AppraiseIndexed(
      in->token, *index, std::move(opts), request->max_near_misses());
  corim::AppraisalResult& result = indexed.result;
  if (platform != nullptr) {
    corim::PlatformIndex::ToSetPositions(platform_lookup, result);
  }
  response->set_candidate_count(indexed.candidate_count);
  response->set_reference_count(indexed.reference_count);
  if (rem_policy->has_value() && result.verification.ok()) {
    if (absl::Status s = internal::RunRemPolicy(
            **rem_policy, options_.store, options_.limits.max_payload_bytes,
            internal::CallCancel(context), in->token, result,
            response->mutable_rem_policy());
        !s.ok()) {
      return ToGrpc(s);
    }
  }

  corim::EarOptions ear;
  ear.issued_at = static_cast<int64_t>(std::time(nullptr));
  ear.nonce = in->nonce;
  // Each JSON document serialised once (the report embeds the others).
  corim::AppraisalDocuments docs =
      corim::AppraisalToDocuments(in->token, result, ear);
  if (options_.ear_key != nullptr) {
    absl::StatusOr<std::string> jwt =
        ear_signer_.has_value()
            ? ear_signer_->Sign(docs.ear_json)
            : corim::SignEarJwt(docs.ear_json, *options_.ear_key);
    if (!jwt.ok()) return ToGrpc(jwt.status(), "EAR signing");
    response->set_ear_jwt(*std::move(jwt));
  }
  response->set_ear_json(std::move(docs.ear_json));
  ToProto(result.platform.vector, response->mutable_platform());
  ToProto(result.realm.vector, response->mutable_realm());
  response->set_platform_status(corim::TierName(result.platform.status()));
  response->set_realm_status(corim::TierName(result.realm.status()));
  response->set_affirms(result.affirms());
  for (const corim::CandidateReport& c : result.candidates) {
    v1::CandidateReport* out = response->add_candidates();
    out->set_index(c.index);
    out->set_executables(c.executables);
    for (const corim::FieldMatch& f : c.fields) ToProto(f, out->add_fields());
  }
  if (result.matched.has_value()) {
    response->set_has_matched(true);
    response->set_matched(*result.matched);
  }
  if (result.platform_report.appraised) {
    v1::PlatformAppraisalReport* pr = response->mutable_platform_report();
    pr->set_appraised(true);
    for (size_t i : result.platform_report.references) pr->add_references(i);
    for (const corim::FieldMatch& f : result.platform_report.fields) {
      ToProto(f, pr->add_fields());
    }
  }
  response->set_cpak_source(result.cpak_source);
  response->set_first_failure(result.first_failure);
  ToProto(result.verification, response->mutable_verification(),
          std::move(docs.verification_json));
  response->mutable_verification()->set_cpak_source(result.cpak_source);
  response->set_report_json(std::move(docs.report_json));
  return ::grpc::Status::OK;
}

}  // namespace realm_measurements::service
