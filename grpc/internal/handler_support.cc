#include "grpc/internal/handler_support.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "corim/comid.h"
#include "grpc/internal/convert.h"
#include "grpc/internal/reference_index_cache.h"
#include "grpc/internal/request_check.h"

namespace realm_measurements::service::internal {
namespace {

// How long a call without a deadline waits for an admission slot.
constexpr absl::Duration kDefaultSlotWait = absl::Seconds(30);

}  // namespace

// The first check of every request (grpc/internal/request_check.h): enum
// fields hold defined values.
::grpc::Status CheckRequest(const google::protobuf::Message& request) {
  return ToGrpc(CheckEnumValues(request));
}

// The reference values of a stored set (errors name "stored_set"; a stored
// CoRIM that no longer decodes is DATA_LOSS).
::grpc::Status LoadStoredSet(Store* store, const std::string& name,
                             corim::ReferenceValues* out) {
  if (store == nullptr) return NoStore();
  absl::StatusOr<ReferenceSetRecord> r = store->GetReferenceSet(name);
  if (!r.ok()) return ToGrpc(r.status(), "stored_set");
  if (IsPlatformProfile(r->profile)) {
    return ::grpc::Status(
        ::grpc::StatusCode::FAILED_PRECONDITION,
        absl::StrCat("stored_set: reference-value set '", name,
                     "': expected a realm reference-value set, found a "
                     "platform endorsement set"));
  }
  absl::StatusOr<corim::DecodedCorim> d = corim::DecodeCorim(r->corim);
  if (!d.ok()) {
    return ToGrpc(absl::DataLossError(d.status().message()), "stored_set");
  }
  *out = std::move(d->values);
  // Appended parts: their CoMIDs follow, in order.
  for (size_t i = 0; i < r->more_parts.size(); ++i) {
    absl::StatusOr<corim::DecodedCorim> p =
        corim::DecodeCorim(r->more_parts[i].corim);
    if (!p.ok()) {
      return ToGrpc(absl::DataLossError(absl::StrCat("part ", i + 1, ": ",
                                                     p.status().message())),
                    "stored_set");
    }
    for (corim::Comid& c : p->values.comids) {
      out->comids.push_back(std::move(c));
    }
  }
  return ::grpc::Status::OK;
}

// The call's cancellation as a measure::CancelCheck: DEADLINE_EXCEEDED once
// its deadline has passed, CANCELLED once the client has gone. Measurement
// work polls it (about every millisecond) and stops.
measure::CancelCheck CallCancel(::grpc::ServerContext* ctx) {
  const auto deadline = ctx->deadline();
  return [ctx, deadline]() -> absl::Status {
    if (deadline != std::chrono::system_clock::time_point::max() &&
        std::chrono::system_clock::now() >= deadline) {
      return absl::DeadlineExceededError(
          "deadline exceeded; the work was stopped");
    }
    if (ctx->IsCancelled()) {
      return absl::CancelledError("call cancelled; the work was stopped");
    }
    return absl::OkStatus();
  };
}

// Admits the call to `c` (grpc/internal/admission.h): the wait for a slot is
// bounded by the call's deadline (kDefaultSlotWait without one) and ends
// when the client leaves.
::grpc::Status Admit(AdmissionClass& c, ::grpc::ServerContext* ctx,
                     std::optional<AdmissionClass::Ticket>* out) {
  absl::Time deadline = absl::Now() + kDefaultSlotWait;
  const auto d = ctx->deadline();
  if (d != std::chrono::system_clock::time_point::max()) {
    deadline = std::min(deadline, absl::FromChrono(d));
  }
  absl::StatusOr<AdmissionClass::Ticket> t = c.Admit(deadline, CallCancel(ctx));
  if (!t.ok()) return ToGrpc(t.status());
  out->emplace(*std::move(t));
  return ::grpc::Status::OK;
}

}  // namespace realm_measurements::service::internal
