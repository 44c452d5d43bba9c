// File: grpc/reference_store_handlers.cc
//
// ProvisionReferenceValues, ListReferenceValues, DeleteReferenceValues:
// proto <-> Store (grpc/store.h) adapters (conversions in
// grpc/internal/convert.h). Provisioning verifies signed CoRIMs against the
// configured trust anchors (unsigned ones only with allow_unsigned_corim),
// decodes and indexes the values once (grpc/internal/
// reference_index_cache.h) and stores them as one part of the set.
#include <algorithm>
#include <ctime>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "corim/comid.h"
#include "corim/reference_values.h"
#include "grpc/internal/convert.h"
#include "grpc/internal/corim_signing.h"
#include "grpc/internal/handler_support.h"
#include "grpc/internal/reference_index_cache.h"
#include "grpc/service.h"
#include "grpc/store.h"

namespace realm_measurements::service {
namespace {

using internal::Admit;
using internal::CheckRequest;
using internal::FromProto;
using internal::Invalid;
using internal::NoStore;
using internal::Span;
using internal::ToGrpc;
using internal::ToProto;
using internal::Vec;

// Values per CoMID when an inline set is stored: each CoMID is decoded with
// the CoRIM decoder's item limit (200,000 items, about 3,000 values), so a
// large inline set is stored as several CoMIDs that always decode again.
constexpr size_t kInlineValuesPerComid = 1000;

corim::ReferenceValues SplitComids(corim::ReferenceValues values) {
  if (values.comids.size() != 1 ||
      values.comids[0].realms.size() <= kInlineValuesPerComid) {
    return values;
  }
  corim::Comid all = std::move(values.comids[0]);
  values.comids.clear();
  for (size_t i = 0; i < all.realms.size(); i += kInlineValuesPerComid) {
    corim::Comid c;
    c.tag_identity = all.tag_identity;
    if (i > 0) {
      c.tag_identity.id =
          absl::StrCat(std::get<std::string>(all.tag_identity.id), "-",
                       i / kInlineValuesPerComid);
    }
    const size_t end = std::min(all.realms.size(), i + kInlineValuesPerComid);
    c.realms.assign(std::make_move_iterator(all.realms.begin() + i),
                    std::make_move_iterator(all.realms.begin() + end));
    values.comids.push_back(std::move(c));
  }
  return values;
}

}  // namespace

::grpc::Status RealmMeasurementsServiceImpl::ProvisionReferenceValues(
    ::grpc::ServerContext* context,
    const v1::ProvisionReferenceValuesRequest* request,
    v1::ProvisionReferenceValuesResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  if (options_.store == nullptr) return NoStore();
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(cheap_, context, &ticket); !s.ok()) return s;
  if (request->append() && request->replace()) {
    return Invalid("append: expected append or replace, found both");
  }
  std::vector<uint8_t> unsigned_corim;
  std::string signer;
  switch (request->source_case()) {
    case v1::ProvisionReferenceValuesRequest::kCorim: {
      const std::string& c = request->corim();
      // Tag 18 (COSE_Sign1, 0xd2): a signed CoRIM (spec-token-corim §3.12).
      if (!c.empty() && static_cast<uint8_t>(c[0]) == 0xd2) {
        absl::StatusOr<internal::VerifiedProvisioning> v =
            internal::VerifySignedCorimForProvisioning(
                Span(c), options_.corim_trust_anchors);
        if (!v.ok()) return ToGrpc(v.status(), "corim");
        unsigned_corim = std::move(v->unsigned_corim);
        signer = std::move(v->signer_subject);
      } else {
        if (!options_.allow_unsigned_corim) {
          return ::grpc::Status(
              ::grpc::StatusCode::FAILED_PRECONDITION,
              "corim: expected a signed CoRIM (COSE_Sign1 with x5chain, tag "
              "18), found an unsigned one; this server accepts unsigned "
              "CoRIMs only with --allow_unsigned_corim");
        }
        unsigned_corim = Vec(c);
      }
      break;
    }
    case v1::ProvisionReferenceValuesRequest::kInlineSet: {
      if (!options_.allow_unsigned_corim) {
        return ::grpc::Status(
            ::grpc::StatusCode::FAILED_PRECONDITION,
            "inline_set: expected a signed CoRIM in `corim`, found an inline "
            "set; this server accepts inline sets only with "
            "--allow_unsigned_corim");
      }
      absl::StatusOr<corim::ReferenceValues> v =
          FromProto(request->inline_set(), request->name());
      if (!v.ok()) return ToGrpc(v.status());
      absl::StatusOr<corim::EncodedObject> e = corim::EncodeCorim(
          SplitComids(*std::move(v)), corim::Profile::kCcaRealm2025);
      if (!e.ok()) return ToGrpc(e.status(), "inline_set");
      unsigned_corim = std::move(e->bytes);
      break;
    }
    default:
      return Invalid("source: expected corim or inline_set");
  }
  // What is stored is decoded here exactly as appraisal will read it back:
  // a set that could not be used is never accepted.
  absl::StatusOr<internal::DecodedPart> part =
      internal::DecodePart(std::move(unsigned_corim));
  if (!part.ok()) {
    return ToGrpc(part.status(),
                  request->has_inline_set() ? "inline_set" : "corim");
  }
  absl::StatusOr<ReferenceSetRecord> r;
  if (request->append()) {
    r = reference_cache_->Append(request->name(), *std::move(part),
                                 std::move(signer));
  } else {
    ReferenceSetRecord record;
    record.name = request->name();
    record.signer = std::move(signer);
    r = reference_cache_->Provision(std::move(record), *std::move(part),
                                    request->replace());
  }
  if (!r.ok()) return ToGrpc(r.status());
  ToProto(*r, response->mutable_set());
  AddValidity(response->mutable_set());
  return ::grpc::Status::OK;
}

void RealmMeasurementsServiceImpl::AddValidity(
    v1::ReferenceValueSetInfo* info) const {
  const std::optional<internal::ReferenceIndexCache::Snapshot> snapshot =
      reference_cache_->Peek(info->name());
  if (!snapshot.has_value()) return;
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  internal::ReferenceIndexCache::ValidityStats stats;
  for (const auto& v : snapshot->PartValidity()) stats.Add(v, now);
  info->set_validity_known(true);
  info->set_parts_with_validity(stats.parts_with_validity);
  info->set_parts_outside_validity(stats.parts_outside_validity);
  info->set_next_not_after_unix(stats.earliest_not_after.value_or(0));
}

::grpc::Status RealmMeasurementsServiceImpl::ListReferenceValues(
    ::grpc::ServerContext* context,
    const v1::ListReferenceValuesRequest* request,
    v1::ListReferenceValuesResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  if (options_.store == nullptr) return NoStore();
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(cheap_, context, &ticket); !s.ok()) return s;
  absl::StatusOr<std::vector<ReferenceSetRecord>> all =
      options_.store->ListReferenceSets();
  if (!all.ok()) return ToGrpc(all.status());
  for (const ReferenceSetRecord& r : *all) {
    v1::ReferenceValueSetInfo* info = response->add_sets();
    ToProto(r, info);
    AddValidity(info);
  }
  return ::grpc::Status::OK;
}

::grpc::Status RealmMeasurementsServiceImpl::DeleteReferenceValues(
    ::grpc::ServerContext* context,
    const v1::DeleteReferenceValuesRequest* request,
    v1::DeleteReferenceValuesResponse* /*response*/) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  if (options_.store == nullptr) return NoStore();
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(cheap_, context, &ticket); !s.ok()) return s;
  return ToGrpc(reference_cache_->Delete(request->name()));
}

}  // namespace realm_measurements::service
