// File: grpc/reference_store_handlers.cc
//
// ProvisionReferenceValues, ListReferenceValues, DeleteReferenceValues:
// proto <-> Store (grpc/store.h) adapters (conversions in
// grpc/internal/convert.h).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "corim/comid.h"
#include "corim/reference_values.h"
#include "grpc/internal/convert.h"
#include "grpc/internal/handler_support.h"
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

}  // namespace

::grpc::Status RealmMeasurementsServiceImpl::ProvisionReferenceValues(
    ::grpc::ServerContext* context,
    const v1::ProvisionReferenceValuesRequest* request,
    v1::ProvisionReferenceValuesResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  if (options_.store == nullptr) return NoStore();
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(cheap_, context, &ticket); !s.ok()) return s;
  ReferenceSetRecord record;
  record.name = request->name();
  switch (request->source_case()) {
    case v1::ProvisionReferenceValuesRequest::kCorim: {
      absl::StatusOr<corim::DecodedCorim> d =
          corim::DecodeCorim(Span(request->corim()));
      if (!d.ok()) return ToGrpc(d.status(), "corim");
      record.corim = Vec(request->corim());
      record.profile = ToProto(d->profile);
      record.realm_count = corim::FlattenReferenceValues(d->values).size();
      break;
    }
    case v1::ProvisionReferenceValuesRequest::kInlineSet: {
      absl::StatusOr<corim::ReferenceValues> v =
          FromProto(request->inline_set(), request->name());
      if (!v.ok()) return ToGrpc(v.status());
      absl::StatusOr<corim::EncodedObject> e =
          corim::EncodeCorim(*v, corim::Profile::kCcaRealm2025);
      if (!e.ok()) return ToGrpc(e.status(), "inline_set");
      record.corim = std::move(e->bytes);
      record.profile = v1::CORIM_PROFILE_CCA_REALM_2025;
      record.realm_count = corim::FlattenReferenceValues(*v).size();
      break;
    }
    default:
      return Invalid("source: expected corim or inline_set");
  }
  absl::StatusOr<ReferenceSetRecord> r =
      options_.store->PutReferenceSet(std::move(record), request->replace());
  if (!r.ok()) return ToGrpc(r.status());
  ToProto(*r, response->mutable_set());
  return ::grpc::Status::OK;
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
  for (const ReferenceSetRecord& r : *all) ToProto(r, response->add_sets());
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
  return ToGrpc(options_.store->DeleteReferenceSet(request->name()));
}

}  // namespace realm_measurements::service
