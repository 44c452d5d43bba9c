// File: grpc/internal/convert.h
//
// Every proto <-> library conversion of the gRPC handlers in one place:
// absl::Status -> ::grpc::Status, proto bytes fields <-> byte spans, and
// the enum and message mappings (FromProto: request -> library, ToProto:
// library -> response). Undefined enum numbers never reach FromProto: every
// handler first runs CheckEnumValues (grpc/internal/request_check.h).
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_CONVERT_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_CONVERT_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "corim/appraisal.h"
#include "corim/comid.h"
#include "corim/reference_values.h"
#include "corim/verify.h"
#include "eventlog/replay.h"
#include "grpc/store.h"
#include "measure/engine.h"
#include "proto/realm_measurements/v1/service.pb.h"

namespace realm_measurements::service::internal {

// `s` as a gRPC status of the same code (absl uses the gRPC numbering),
// its message prefixed with "<what>: " when `what` is given.
::grpc::Status ToGrpc(const absl::Status& s, absl::string_view what = "");
// INVALID_ARGUMENT with `msg`.
::grpc::Status Invalid(absl::string_view msg);
// FAILED_PRECONDITION: the call needs the store and the server has none.
::grpc::Status NoStore();

// Proto bytes fields <-> library byte spans.
std::string Bytes(absl::Span<const uint8_t> b);
absl::Span<const uint8_t> Span(const std::string& s);
std::vector<uint8_t> Vec(const std::string& s);

v1::HashAlgorithm ToProto(measure::HashAlgorithm a);
v1::HashAlgorithm ToProto(corim::RealmHashAlgorithm a);
v1::RmmVersion ToProto(measure::RmmVersion v);
v1::CorimProfile ToProto(corim::Profile p);
// REGISTER_UNSPECIFIED for eventlog::Register::kNone.
v1::Register ToProto(eventlog::Register r);
v1::CheckStatus ToProto(corim::CheckStatus s);
v1::CatalogueMatch ToProto(eventlog::CatalogueMatch m);
v1::FieldOutcome ToProto(corim::FieldOutcome o);
void ToProto(const ReferenceSetRecord& r, v1::ReferenceValueSetInfo* out);
void ToProto(const corim::TrustVector& t, v1::TrustVector* out);
void ToProto(const corim::FieldMatch& f, v1::FieldMatch* out);
// Checks, lints and the JSON report.
void ToProto(const corim::VerificationReport& r, v1::VerifyTokenResponse* out);
// The same with report_json already serialised (AppraisalToDocuments).
void ToProto(const corim::VerificationReport& r, v1::VerifyTokenResponse* out,
             std::string report_json);

// A request's RmmVersion: nullopt for UNSPECIFIED (the caller's default).
// Undefined numbers are refused by CheckEnumValues before this runs.
std::optional<measure::RmmVersion> FromProto(v1::RmmVersion v);
// A measurement hash algorithm; nullopt for UNSPECIFIED.
std::optional<measure::HashAlgorithm> MeasureHashFromProto(v1::HashAlgorithm a);

// SHA256/384/512; UNSPECIFIED is INVALID_ARGUMENT naming `field`.
absl::StatusOr<corim::RealmHashAlgorithm> FromProto(v1::HashAlgorithm a,
                                                    absl::string_view field);

// An inline set as a CoRIM model: one CoMID tagged with the CoRIM id
// (`default_id` when the set has none). Each realm is checked
// (corim::ValidateRealm); errors name "inline_set.realms[i]".
absl::StatusOr<corim::ReferenceValues> FromProto(
    const v1::ReferenceValueSet& set, absl::string_view default_id);

}  // namespace realm_measurements::service::internal

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_CONVERT_H_
