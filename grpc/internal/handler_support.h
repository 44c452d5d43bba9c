// File: grpc/internal/handler_support.h
//
// What several handlers of RealmMeasurementsServiceImpl share: the first
// check of every request, the call's cancellation, admission to a call
// class, and loading a stored reference-value set.
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_HANDLER_SUPPORT_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_HANDLER_SUPPORT_H_

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>

#include "base/cancellation.h"
#include "corim/reference_values.h"
#include "grpc/internal/admission.h"
#include "grpc/store.h"

namespace realm_measurements::service::internal {

// The first check of every request (grpc/internal/request_check.h): enum
// fields hold defined values.
::grpc::Status CheckRequest(const google::protobuf::Message& request);

// The call's cancellation as a measure::CancelCheck: DEADLINE_EXCEEDED once
// its deadline has passed, CANCELLED once the client has gone.
measure::CancelCheck CallCancel(::grpc::ServerContext* ctx);

// Admits the call to `c`; the wait for a slot is bounded by the call's
// deadline (30 s without one) and ends when the client leaves.
::grpc::Status Admit(AdmissionClass& c, ::grpc::ServerContext* ctx,
                     std::optional<AdmissionClass::Ticket>* out);

// The reference values of a stored set, every part's CoMIDs in order
// (errors name "stored_set"; a stored CoRIM that no longer decodes is
// DATA_LOSS; no store: FAILED_PRECONDITION).
::grpc::Status LoadStoredSet(Store* store, const std::string& name,
                             corim::ReferenceValues* out);

}  // namespace realm_measurements::service::internal

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_HANDLER_SUPPORT_H_
