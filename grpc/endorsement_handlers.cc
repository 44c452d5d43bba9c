// File: grpc/endorsement_handlers.cc
//
// ExportEndorsements: proto <-> corim:: encoders (conversions in
// grpc/internal/convert.h).
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "corim/comid.h"
#include "corim/reference_values.h"
#include "grpc/internal/convert.h"
#include "grpc/internal/corim_signing.h"
#include "grpc/internal/handler_support.h"
#include "grpc/service.h"

namespace realm_measurements::service {
namespace {

using internal::Admit;
using internal::Bytes;
using internal::CheckRequest;
using internal::FromProto;
using internal::Invalid;
using internal::LoadStoredSet;
using internal::ToGrpc;

}  // namespace

::grpc::Status RealmMeasurementsServiceImpl::ExportEndorsements(
    ::grpc::ServerContext* context,
    const v1::ExportEndorsementsRequest* request,
    v1::ExportEndorsementsResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  corim::ReferenceValues values;
  switch (request->source_case()) {
    case v1::ExportEndorsementsRequest::kInlineSet: {
      absl::StatusOr<corim::ReferenceValues> v =
          FromProto(request->inline_set(), "realm-measurements");
      if (!v.ok()) return ToGrpc(v.status());
      values = std::move(*v);
      break;
    }
    case v1::ExportEndorsementsRequest::kStoredSet: {
      ::grpc::Status st =
          LoadStoredSet(options_.store, request->stored_set(), &values);
      if (!st.ok()) return st;
      break;
    }
    default:
      return Invalid("source: expected inline_set or stored_set");
  }
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(cheap_, context, &ticket); !s.ok()) return s;

  auto single_comid = [&]() -> absl::StatusOr<const corim::Comid*> {
    if (values.comids.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "format: a CoMID format needs a set with exactly one CoMID, found ",
          values.comids.size(), " (export a CoRIM instead)"));
    }
    return &values.comids[0];
  };
  absl::StatusOr<corim::EncodedObject> out =
      absl::InvalidArgumentError("format: expected an EndorsementFormat");
  const v1::EndorsementFormat f = request->format();
  const corim::Profile profile =
      (f == v1::ENDORSEMENT_FORMAT_COMID_LEGACY ||
       f == v1::ENDORSEMENT_FORMAT_CORIM_LEGACY_UNSIGNED ||
       f == v1::ENDORSEMENT_FORMAT_COCLI_JSON_2024)
          ? corim::Profile::kCcaRealmLegacy
          : corim::Profile::kCcaRealm2025;
  switch (f) {
    case v1::ENDORSEMENT_FORMAT_COMID_2025:
    case v1::ENDORSEMENT_FORMAT_COMID_LEGACY:
    case v1::ENDORSEMENT_FORMAT_CORIM_JSON_2026:
    case v1::ENDORSEMENT_FORMAT_COCLI_JSON_2024: {
      absl::StatusOr<const corim::Comid*> c = single_comid();
      if (!c.ok()) return ToGrpc(c.status());
      const bool json = f == v1::ENDORSEMENT_FORMAT_CORIM_JSON_2026 ||
                        f == v1::ENDORSEMENT_FORMAT_COCLI_JSON_2024;
      out = json ? corim::EncodeComidJson(**c, profile)
                 : corim::EncodeComid(**c, profile);
      break;
    }
    case v1::ENDORSEMENT_FORMAT_CORIM_2025_UNSIGNED:
    case v1::ENDORSEMENT_FORMAT_CORIM_LEGACY_UNSIGNED:
      out = corim::EncodeCorim(values, profile);
      break;
    case v1::ENDORSEMENT_FORMAT_CORIM_2025_SIGNED: {
      const v1::CorimSigner& s = request->signer();
      if (s.key_pem().empty() || s.chain_pem().empty()) {
        return Invalid("signer: a signed CoRIM needs key_pem and chain_pem");
      }
      out = internal::SignCorimWithPem(
          values, profile, s.key_pem(), s.chain_pem(),
          s.signer_name().empty() ? "realm-measurements" : s.signer_name());
      break;
    }
    default:
      break;
  }
  if (!out.ok()) return ToGrpc(out.status());
  response->set_content(Bytes(out->bytes));
  response->set_media_type(out->media_type);
  return ::grpc::Status::OK;
}

}  // namespace realm_measurements::service
